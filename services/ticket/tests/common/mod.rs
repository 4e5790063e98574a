//! The ticket service and a gateway in front of it, each started as production starts them
//! (fresh schemas, a RabbitMQ virtual host of the test's own). Every call goes through the
//! gateway with a real credential.

#![allow(dead_code, unused_imports)] // each test file uses part of it

mod actions;
pub mod attachment_clients;
pub mod catalog_clients;

use std::time::Duration;

use sqlx::PgPool;
use switchboard_gateway::Upstream;
pub use switchboard_gateway::testing::{ADMIN, EventTap, Harness, bearer};
use switchboard_platform::{
    config::GrpcConfig,
    grpc::MeshInterceptor,
    testing::{self, Started},
};
use switchboard_proto::{
    common::v1::Principal,
    gateway::v1::{AgentRole, Group},
    ticket::v1::{
        CreateTicketRequest, Ticket, TicketRequester,
        ticket_automation_service_client::TicketAutomationServiceClient,
        ticket_ingest_service_client::TicketIngestServiceClient,
        ticket_service_client::TicketServiceClient,
    },
};
use switchboard_ticket::TicketSettings;
use tonic::{Status, service::interceptor::InterceptedService, transport::Channel};

/// A client of `TicketAutomationService` whose calls carry a principal signed with the mesh key.
pub type AutomationClient =
    TicketAutomationServiceClient<InterceptedService<Channel, MeshInterceptor>>;

pub struct Mesh {
    pub gateway: Harness,
    /// The ticket service's own schema.
    pub pool: PgPool,
    pub schema: String,
    /// An API key with `tickets:ingest`, as mail-ingest holds.
    pub ingest_key: String,
    service: Started,
}

impl Mesh {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut TicketSettings)) -> Self {
        let listener = testing::free_listener().await;
        let addr = listener.local_addr().unwrap();
        let upstream = Upstream {
            package: "switchboard.ticket.v1".into(),
            service: "ticket".into(),
            url: format!("http://{addr}"),
        };
        let gateway = Harness::start_with(vec![upstream], |_| {}, GrpcConfig::default()).await;
        let service =
            switchboard_ticket::testing::start(listener, gateway.addr, &gateway.amqp, tune).await;
        let (_, ingest_key) = gateway
            .create_api_key("mail-ingest", &["tickets:ingest"])
            .await;
        Self {
            gateway,
            pool: service.pool.clone(),
            schema: service.schema.clone(),
            ingest_key,
            service,
        }
    }

    /// A second replica of the ticket service over the same schema.
    pub async fn replica(&self, tune: impl FnOnce(&mut TicketSettings)) -> Started {
        let listener = testing::free_listener().await;
        switchboard_ticket::testing::replica(
            listener,
            &self.schema,
            self.pool.clone(),
            self.gateway.addr,
            &self.gateway.amqp,
            tune,
        )
        .await
    }

    pub fn admin(&self) -> String {
        self.gateway.token(ADMIN)
    }

    pub fn token(&self, login: &str) -> String {
        self.gateway.token(login)
    }

    pub async fn tickets(&self) -> TicketServiceClient<Channel> {
        TicketServiceClient::new(self.gateway.channel().await)
    }

    pub async fn ingest(&self) -> TicketIngestServiceClient<Channel> {
        TicketIngestServiceClient::new(self.gateway.channel().await)
    }

    /// `TicketAutomationService` called straight, as the trigger engine calls it, by
    /// `principal` (signed with the mesh key).
    pub async fn automation(&self, principal: Principal) -> AutomationClient {
        let channel = testing::connect(self.service.addr).await;
        TicketAutomationServiceClient::with_interceptor(channel, signing(principal))
    }

    /// `TicketAutomationService` through the gateway, by the mesh service `principal`.
    pub async fn automation_through_gateway(&self, principal: Principal) -> AutomationClient {
        let channel = self.gateway.channel().await;
        TicketAutomationServiceClient::with_interceptor(channel, signing(principal))
    }

    pub async fn group(&self, name: &str) -> Group {
        self.gateway.create_group(name).await
    }

    /// An agent in `groups`; returns their login.
    pub async fn agent(&self, login: &str, groups: &[String]) -> String {
        self.gateway
            .create_agent(login, AgentRole::Agent, &[], groups)
            .await
            .login
    }

    /// Creates a ticket in `group` as `token`, unassigned, with an internal first message.
    pub async fn create(&self, token: &str, group: &str, subject: &str) -> Result<Ticket, Status> {
        self.tickets()
            .await
            .create_ticket(bearer(
                CreateTicketRequest {
                    ticket: Some(Ticket {
                        subject: subject.into(),
                        group_id: group.into(),
                        requester: Some(TicketRequester {
                            name: "김민수".into(),
                            email: "minsu.kim@example.co.kr".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    body: "전화 문의 내용".into(),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().ticket.unwrap())
    }

    pub async fn stop(self) {
        let stopped = self.service.stop().await;
        self.gateway.stop().await;
        stopped.unwrap_or_else(|failure| panic!("ticket: {failure}"));
    }
}

/// Signs `principal` into every call, as a service of the mesh does.
fn signing(principal: Principal) -> MeshInterceptor {
    MeshInterceptor::with_principal(testing::principal_key(), principal, Duration::from_secs(60))
}
