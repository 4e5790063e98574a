//! Test helpers (feature `testing`), shared by the gateway's tests and by the services' tests
//! that go through it: a gateway started as production starts it, on a free port, against real PostgreSQL (a fresh
//! schema), Redis (a key prefix of its own) and RabbitMQ (a virtual host of its own), with one
//! admin in the directory.

use std::{net::SocketAddr, time::Duration};

use sqlx::PgPool;
use switchboard_platform::{
    Shutdown, ShutdownTrigger,
    config::{AmqpConfig, GrpcConfig},
    events::{ConsumerConfig, EventConsumer, EventHandler, HandlerError},
    service::Peer,
    testing::{self, Started},
};
use switchboard_proto::events::v1::EventEnvelope;
use switchboard_proto::gateway::v1::{
    Agent, AgentRole, ApiKey, CreateAgentRequest, CreateApiKeyRequest, CreateGroupRequest, Group,
    UpdateAgentRequest, api_key_service_client::ApiKeyServiceClient,
    directory_service_client::DirectoryServiceClient,
};
use tonic::{Request, metadata::MetadataValue, transport::Channel};

use crate::{Gateway, GatewaySettings, Upstream};

pub const ADMIN: &str = "admin";

pub struct Harness {
    pub addr: SocketAddr,
    pub pool: PgPool,
    pub schema: String,
    pub amqp: AmqpConfig,
    pub test: String,
    pub settings: GatewaySettings,
    service: Started,
}

impl Harness {
    pub async fn start(upstreams: Vec<Upstream>) -> Self {
        Self::start_with(upstreams, |_| {}, GrpcConfig::default()).await
    }

    pub async fn start_with(
        upstreams: Vec<Upstream>,
        tune: impl FnOnce(&mut GatewaySettings),
        grpc: GrpcConfig,
    ) -> Self {
        let test = testing::unique_id();
        let amqp = testing::amqp_config(&test);
        let peers = upstreams
            .into_iter()
            .map(|upstream| Peer {
                name: upstream.service,
                packages: vec![upstream.package],
                url: upstream.url,
            })
            .collect();
        let (mut context, pool) =
            testing::context::<Gateway>("gw", &amqp, peers, GatewaySettings::default()).await;
        let schema = context.schema.clone();
        context.platform.grpc = grpc;
        context.settings.presence.key_prefix = format!("test:{schema}");
        // A secret of the tests' own: the public development one works only in development mode.
        context.settings.auth.local_token.secret =
            "switchboard-test-local-token-secret-0123456789".into();
        tune(&mut context.settings);
        crate::create_admin(
            &context.platform.database,
            &schema,
            ADMIN,
            "관리자",
            "admin@example.com",
        )
        .await
        .expect("the first admin is created");
        let settings = context.settings.clone();
        let service =
            Started::build::<Gateway>(testing::free_listener().await, context, pool.clone()).await;
        Self {
            addr: service.addr,
            pool,
            schema,
            amqp,
            test,
            settings,
            service,
        }
    }

    pub async fn channel(&self) -> Channel {
        testing::connect(self.addr).await
    }

    /// A token of the gateway's own for `login`.
    pub fn token(&self, login: &str) -> String {
        crate::issue_local_token(&self.settings, login, None)
            .unwrap()
            .0
    }

    pub async fn directory(&self) -> DirectoryServiceClient<Channel> {
        DirectoryServiceClient::new(self.channel().await)
    }

    /// Creates an agent through the API as the admin; returns their login.
    pub async fn create_agent(
        &self,
        login: &str,
        role: AgentRole,
        permissions: &[&str],
        groups: &[String],
    ) -> Agent {
        let agent = Agent {
            login: login.into(),
            display_name: format!("상담원 {login}"),
            role: role as i32,
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            group_ids: groups.to_vec(),
            ..Default::default()
        };
        self.directory()
            .await
            .create_agent(bearer(
                CreateAgentRequest {
                    agent: Some(agent),
                    request_id: String::new(),
                },
                &self.token(ADMIN),
            ))
            .await
            .expect("the admin creates an agent")
            .into_inner()
            .agent
            .unwrap()
    }

    pub async fn create_group(&self, name: &str) -> Group {
        self.directory()
            .await
            .create_group(bearer(
                CreateGroupRequest {
                    group: Some(Group {
                        display_name: name.into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &self.token(ADMIN),
            ))
            .await
            .expect("the admin creates a group")
            .into_inner()
            .group
            .unwrap()
    }

    /// Creates an API key with `scopes`; returns (key, secret).
    pub async fn create_api_key(&self, name: &str, scopes: &[&str]) -> (ApiKey, String) {
        let created = ApiKeyServiceClient::new(self.channel().await)
            .create_api_key(bearer(
                CreateApiKeyRequest {
                    api_key: Some(ApiKey {
                        display_name: name.into(),
                        scopes: scopes.iter().map(|s| s.to_string()).collect(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &self.token(ADMIN),
            ))
            .await
            .expect("the admin creates an API key")
            .into_inner();
        (created.api_key.unwrap(), created.secret)
    }

    /// Disables an agent through the API as the admin.
    pub async fn disable_agent(&self, login: &str) {
        self.directory()
            .await
            .update_agent(bearer(
                UpdateAgentRequest {
                    agent: Some(Agent {
                        login: login.into(),
                        disabled: true,
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["disabled".into()],
                    }),
                },
                &self.token(ADMIN),
            ))
            .await
            .expect("the admin disables an agent");
    }

    /// Stops the gateway, drops its schema and deletes the test's virtual host.
    pub async fn stop(self) {
        let stopped = self.service.stop().await;
        testing::delete_amqp(&self.test);
        stopped.unwrap_or_else(|failure| panic!("gateway: {failure}"));
    }
}

/// `message` with `authorization: Bearer <credential>`.
pub fn bearer<T>(message: T, credential: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {credential}")).unwrap(),
    );
    request
}

/// A test consumer of the gateway's events, through the platform's own consumer (a queue of
/// this test's virtual host bound to `bindings`).
pub struct EventTap {
    seen: std::sync::Arc<std::sync::Mutex<Vec<EventEnvelope>>>,
    stop: ShutdownTrigger,
}

struct Collect(std::sync::Arc<std::sync::Mutex<Vec<EventEnvelope>>>);

impl EventHandler for Collect {
    async fn handle(
        &self,
        _tx: &mut sqlx::PgConnection,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

impl EventTap {
    pub async fn start(harness: &Harness, bindings: &[&str]) -> Self {
        testing::require_rabbitmq(&harness.amqp).await;
        let seen = std::sync::Arc::default();
        let consumer = EventConsumer::new(
            harness.pool.clone(),
            harness.amqp.clone(),
            ConsumerConfig::new("test.tap", bindings),
            Collect(std::sync::Arc::clone(&seen)),
        );
        consumer
            .declare()
            .await
            .expect("the tap's queue is declared");
        let (stop, shutdown) = Shutdown::new();
        tokio::spawn(consumer.run(shutdown));
        Self { seen, stop }
    }

    /// The events received so far, in arrival order.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `predicate` holds for a received event; returns it.
    pub async fn wait_for(
        &self,
        what: &str,
        predicate: impl Fn(&EventEnvelope) -> bool,
    ) -> EventEnvelope {
        let found = testing::eventually(Duration::from_secs(15), || async {
            self.events().iter().any(&predicate)
        })
        .await;
        assert!(
            found,
            "no event {what}; received: {:?}",
            self.events()
                .iter()
                .map(|e| &e.event_type)
                .collect::<Vec<_>>()
        );
        self.events().into_iter().find(|e| predicate(e)).unwrap()
    }
}

impl Drop for EventTap {
    fn drop(&mut self) {
        self.stop.trigger();
    }
}
