//! The gateway's directory and CTI presence, asked over gRPC as the calling service's own
//! principal (scopes `directory:read` and `presence:read`): services never read the gateway's
//! tables.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    gateway::v1::{
        Agent, GetGroupRequest, Group, ListAgentsRequest, ListGroupsRequest,
        ListPresentAgentsRequest, directory_service_client::DirectoryServiceClient,
        presence_service_client::PresenceServiceClient,
    },
};
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};

use crate::{grpc::MeshInterceptor, principal::PrincipalKey};

type Mesh = InterceptedService<Channel, MeshInterceptor>;

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
        _ => crate::error::internal(what, &status),
    }
}

impl Directory {
    /// A client of the gateway at `url`, connecting when first used, calling as the service
    /// `subject` (`display_name` in the gateway's logs).
    pub fn new(
        url: &str,
        key: PrincipalKey,
        subject: &str,
        display_name: &str,
    ) -> anyhow::Result<Self> {
        let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .connect_lazy();
        let principal = Principal {
            subject: subject.into(),
            kind: PrincipalKind::Service as i32,
            scopes: vec!["directory:read".into(), "presence:read".into()],
            display_name: display_name.into(),
            ..Default::default()
        };
        let interceptor = MeshInterceptor::with_principal(key, principal, Duration::from_secs(30));
        let channel = InterceptedService::new(channel, interceptor);
        Ok(Self {
            agents: DirectoryServiceClient::new(channel.clone()),
            presence: PresenceServiceClient::new(channel),
        })
    }

    /// Every agent `request` selects (all pages).
    pub async fn list_agents(&self, mut request: ListAgentsRequest) -> Result<Vec<Agent>, Status> {
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

    /// The group with this id; `None` when there is none (or the id is not one).
    pub async fn group(&self, id: &str) -> Result<Option<Group>, Status> {
        match self
            .agents
            .clone()
            .get_group(GetGroupRequest { id: id.into() })
            .await
        {
            Ok(response) => Ok(response.into_inner().group),
            Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                Ok(None)
            }
            Err(status) => Err(unreachable_gateway("directory", status)),
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
