//! The gateway's directory, asked over gRPC as the ticket service's own principal (scope
//! `directory:read`): the names of groups and agents a ticket records, and whether an agent is a
//! member of a group. The ticket service never reads the gateway's tables. Group names are kept
//! for a few seconds: they only label tickets, and creates must not wait on the gateway. Agents
//! are asked afresh for an agent's own calls; the trigger engine's runs, which it computed from
//! a directory read up to two seconds before, may reuse an answer as old.

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

/// Answers by key, with when they were asked for (`None`: there is no such group or agent).
type Cache<T> = Arc<Mutex<HashMap<String, (Instant, Option<T>)>>>;

/// How long a group's name is reused.
const GROUP_TTL: Duration = Duration::from_secs(10);

/// How long an agent is reused for a trigger run: the engine's own directory reads are as old
/// (its `directory_max_age_ms`).
const RUN_AGENT_TTL: Duration = Duration::from_secs(2);

/// The most answers a cache keeps before it starts afresh.
const CACHE_LIMIT: usize = 10_000;

fn cached<T: Clone>(cache: &Cache<T>, key: &str, ttl: Duration) -> Option<Option<T>> {
    cache
        .lock()
        .unwrap()
        .get(key)
        .filter(|(at, _)| at.elapsed() < ttl)
        .map(|(_, value)| value.clone())
}

fn remember<T>(cache: &Cache<T>, key: &str, value: Option<T>) {
    let mut cache = cache.lock().unwrap();
    if cache.len() > CACHE_LIMIT {
        cache.clear();
    }
    cache.insert(key.to_owned(), (Instant::now(), value));
}

#[derive(Clone)]
pub struct Directory {
    client: DirectoryServiceClient<Mesh>,
    groups: Cache<Group>,
    run_agents: Cache<Agent>,
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
            run_agents: Arc::default(),
        })
    }

    /// The group with this id; `None` when there is none.
    pub async fn group(&self, id: &str) -> Result<Option<Group>, Status> {
        if let Some(group) = cached(&self.groups, id, GROUP_TTL) {
            return Ok(group);
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
        remember(&self.groups, id, group.clone());
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

    /// [`Self::agent`] for a trigger run: an answer up to [`RUN_AGENT_TTL`] old is reused.
    pub async fn agent_for_run(&self, login: &str) -> Result<Option<Agent>, Status> {
        if let Some(agent) = cached(&self.run_agents, login, RUN_AGENT_TTL) {
            return Ok(agent);
        }
        let agent = self.agent(login).await?;
        remember(&self.run_agents, login, agent.clone());
        Ok(agent)
    }
}
