//! The gateway's directory and CTI presence, asked over gRPC as the callback service's own
//! principal (scopes `directory:read` and `presence:read`): the callback service never reads
//! the gateway's tables.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use switchboard_platform::{grpc::MeshInterceptor, principal::PrincipalKey};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    gateway::v1::{
        Agent, ListAgentsRequest, ListGroupsRequest, ListPresentAgentsRequest,
        directory_service_client::DirectoryServiceClient,
        presence_service_client::PresenceServiceClient,
    },
};
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};

type Mesh = InterceptedService<Channel, MeshInterceptor>;

/// The permission an agent needs to work callbacks.
pub const PHONE_PERMISSION: &str = "phone";

#[derive(Clone)]
pub struct Directory {
    agents: DirectoryServiceClient<Mesh>,
    presence: PresenceServiceClient<Mesh>,
}

/// Most rows asked for per page; lists are read to the end.
const PAGE: i32 = 1_000;

fn unreachable_gateway(what: &str, status: Status) -> Status {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Unknown | Code::Cancelled => {
            tracing::warn!(%status, what, "gateway call failed");
            Status::unavailable(format!("the {what} cannot be reached; retry later"))
        }
        _ => switchboard_platform::error::internal(what, &status),
    }
}

impl Directory {
    /// A client of the gateway at `url`, connecting when first used.
    pub fn new(url: &str, key: PrincipalKey) -> anyhow::Result<Self> {
        let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .connect_lazy();
        let principal = Principal {
            subject: "callback".into(),
            kind: PrincipalKind::Service as i32,
            scopes: vec!["directory:read".into(), "presence:read".into()],
            display_name: "callback service".into(),
            ..Default::default()
        };
        let interceptor = MeshInterceptor::with_principal(key, principal, Duration::from_secs(30));
        let channel = InterceptedService::new(channel, interceptor);
        Ok(Self {
            agents: DirectoryServiceClient::new(channel.clone()),
            presence: PresenceServiceClient::new(channel),
        })
    }

    async fn list_agents(&self, mut request: ListAgentsRequest) -> Result<Vec<Agent>, Status> {
        let mut agents = Vec::new();
        request.page_size = PAGE;
        loop {
            let page = self
                .agents
                .clone()
                .list_agents(request.clone())
                .await
                .map_err(|s| unreachable_gateway("directory", s))?
                .into_inner();
            agents.extend(page.agents);
            if page.next_page_token.is_empty() {
                return Ok(agents);
            }
            request.page_token = page.next_page_token;
        }
    }

    /// The agents with these logins, disabled ones included; unknown logins are left out.
    pub async fn agents(&self, logins: &[String]) -> Result<Vec<Agent>, Status> {
        self.list_agents(ListAgentsRequest {
            logins: logins.to_vec(),
            show_disabled: true,
            ..Default::default()
        })
        .await
    }

    /// The active agents with the phone permission, optionally of one group.
    pub async fn phone_agents(&self, group_id: Option<&str>) -> Result<Vec<Agent>, Status> {
        self.list_agents(ListAgentsRequest {
            permission: PHONE_PERMISSION.into(),
            group_id: group_id.unwrap_or_default().into(),
            ..Default::default()
        })
        .await
    }

    /// The logins CTI-logged-in now, optionally of one group.
    pub async fn present_logins(&self, group_id: Option<&str>) -> Result<HashSet<String>, Status> {
        let mut request = ListPresentAgentsRequest {
            group_id: group_id.unwrap_or_default().into(),
            page_size: PAGE,
            ..Default::default()
        };
        let mut present = HashSet::new();
        loop {
            let page = self
                .presence
                .clone()
                .list_present_agents(request.clone())
                .await
                .map_err(|s| unreachable_gateway("CTI presence", s))?
                .into_inner();
            present.extend(page.presences.into_iter().map(|p| p.agent_login));
            if page.next_page_token.is_empty() {
                return Ok(present);
            }
            request.page_token = page.next_page_token;
        }
    }

    /// Group names by id, for the export.
    pub async fn group_names(&self) -> Result<HashMap<String, String>, Status> {
        let mut request = ListGroupsRequest {
            page_size: PAGE,
            ..Default::default()
        };
        let mut names = HashMap::new();
        loop {
            let page = self
                .agents
                .clone()
                .list_groups(request.clone())
                .await
                .map_err(|s| unreachable_gateway("directory", s))?
                .into_inner();
            names.extend(page.groups.into_iter().map(|g| (g.id, g.display_name)));
            if page.next_page_token.is_empty() {
                return Ok(names);
            }
            request.page_token = page.next_page_token;
        }
    }
}
