//! The gateway's directory, asked over gRPC as the ticket service's own principal (scope
//! `directory:read`): the names of groups and agents a ticket records, and whether an agent is a
//! member of a group. The ticket service never reads the gateway's tables. Group names are kept
//! for a few seconds: they only label tickets, and creates must not wait on the gateway.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use switchboard_platform::{grpc::MeshInterceptor, principal::PrincipalKey};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    gateway::v1::{
        Agent, GetAgentRequest, GetGroupRequest, Group,
        directory_service_client::DirectoryServiceClient,
    },
};
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};

type Mesh = InterceptedService<Channel, MeshInterceptor>;

/// Groups by id, with when they were asked for (`None`: there is no such group).
type GroupCache = HashMap<String, (Instant, Option<Group>)>;

/// How long a group's name is reused.
const GROUP_TTL: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Directory {
    client: DirectoryServiceClient<Mesh>,
    groups: Arc<Mutex<GroupCache>>,
}

fn unreachable_gateway(status: Status) -> Status {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Unknown | Code::Cancelled => {
            tracing::warn!(%status, "gateway call failed");
            Status::unavailable("the directory cannot be reached; retry later")
        }
        _ => switchboard_platform::error::internal("directory", &status),
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
            subject: "ticket".into(),
            kind: PrincipalKind::Service as i32,
            scopes: vec!["directory:read".into()],
            display_name: "ticket service".into(),
            ..Default::default()
        };
        let interceptor = MeshInterceptor::with_principal(key, principal, Duration::from_secs(30));
        Ok(Self {
            client: DirectoryServiceClient::new(InterceptedService::new(channel, interceptor)),
            groups: Arc::default(),
        })
    }

    /// The group with this id; `None` when there is none.
    pub async fn group(&self, id: &str) -> Result<Option<Group>, Status> {
        if let Some((at, group)) = self.groups.lock().unwrap().get(id)
            && at.elapsed() < GROUP_TTL
        {
            return Ok(group.clone());
        }
        let group = match self
            .client
            .clone()
            .get_group(GetGroupRequest { id: id.into() })
            .await
        {
            Ok(response) => response.into_inner().group,
            Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => None,
            Err(status) => return Err(unreachable_gateway(status)),
        };
        let mut groups = self.groups.lock().unwrap();
        if groups.len() > 10_000 {
            groups.clear();
        }
        groups.insert(id.to_owned(), (Instant::now(), group.clone()));
        Ok(group)
    }

    /// The enabled agent with this login; `None` when there is none (or it is disabled).
    pub async fn agent(&self, login: &str) -> Result<Option<Agent>, Status> {
        match self
            .client
            .clone()
            .get_agent(GetAgentRequest {
                login: login.into(),
            })
            .await
        {
            Ok(response) => Ok(response.into_inner().agent.filter(|a| !a.disabled)),
            Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                Ok(None)
            }
            Err(status) => Err(unreachable_gateway(status)),
        }
    }
}
