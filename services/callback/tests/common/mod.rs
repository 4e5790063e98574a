//! The callback service and a gateway in front of it, each started as production starts them
//! (fresh schemas, a RabbitMQ virtual host of the test's own, Redis under a test prefix). Every
//! call goes through the gateway with a real credential.

#![allow(dead_code, unused_imports)] // each test file uses part of it

use std::time::Duration;

use sqlx::PgPool;
use switchboard_callback::CallbackSettings;
pub use switchboard_gateway::testing::{ADMIN, EventTap, Harness, bearer};
use switchboard_gateway::{GatewaySettings, Upstream};
use switchboard_platform::{
    config::GrpcConfig,
    testing::{self, Started},
};
use switchboard_proto::callback::v1::{
    AssignManuallyRequest, CreateCallbackRequest, CreateCallbackResponse, CreateIvrRouteRequest,
    IvrRoute, RepeatRequestPolicy, callback_service_client::CallbackServiceClient,
    ivr_route_service_client::IvrRouteServiceClient,
};
use switchboard_proto::gateway::v1::AgentRole;
use tonic::{Status, transport::Channel};

pub struct Mesh {
    pub gateway: Harness,
    /// The callback service's own schema.
    pub pool: PgPool,
    pub schema: String,
    /// An API key with `callbacks:create`, as the IVR holds.
    pub ivr_key: String,
    service: Started,
}

impl Mesh {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut CallbackSettings)) -> Self {
        Self::start_tuned(|_| {}, tune).await
    }

    /// As [`Mesh::start_with`], with the gateway's settings tuned too.
    pub async fn start_tuned(
        tune_gateway: impl FnOnce(&mut GatewaySettings),
        tune: impl FnOnce(&mut CallbackSettings),
    ) -> Self {
        // The service's address must be known to the gateway, and the gateway's to the service.
        let listener = testing::free_listener().await;
        let addr = listener.local_addr().unwrap();
        let upstream = Upstream {
            package: "switchboard.callback.v1".into(),
            service: "callback".into(),
            url: format!("http://{addr}"),
        };
        let gateway =
            Harness::start_with(vec![upstream], tune_gateway, GrpcConfig::default()).await;
        let service =
            switchboard_callback::testing::start(listener, gateway.addr, &gateway.amqp, tune).await;
        let (_, ivr_key) = gateway.create_api_key("ivr", &["callbacks:create"]).await;
        Self {
            gateway,
            pool: service.pool.clone(),
            schema: service.schema.clone(),
            ivr_key,
            service,
        }
    }

    pub fn admin(&self) -> String {
        self.gateway.token(ADMIN)
    }

    pub fn token(&self, login: &str) -> String {
        self.gateway.token(login)
    }

    pub async fn callbacks(&self) -> CallbackServiceClient<Channel> {
        CallbackServiceClient::new(self.gateway.channel().await)
    }

    pub async fn routes(&self) -> IvrRouteServiceClient<Channel> {
        IvrRouteServiceClient::new(self.gateway.channel().await)
    }

    /// An agent with the phone permission (in `groups`); returns their login.
    pub async fn phone_agent(&self, login: &str, groups: &[String]) -> String {
        self.gateway
            .create_agent(login, AgentRole::Agent, &["phone"], groups)
            .await
            .login
    }

    /// Creates a route as the admin.
    pub async fn route(&self, code: &str, policy: RepeatRequestPolicy) -> IvrRoute {
        self.routes()
            .await
            .create_ivr_route(bearer(
                CreateIvrRouteRequest {
                    ivr_route: Some(IvrRoute {
                        code: code.into(),
                        display_name: format!("{code} 상담 콜백"),
                        repeat_request_policy: policy as i32,
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &self.admin(),
            ))
            .await
            .expect("the admin creates a route")
            .into_inner()
            .ivr_route
            .unwrap()
    }

    /// Pushes a callback as the IVR.
    pub async fn push(
        &self,
        ivr_call_id: &str,
        phone: &str,
        route_code: &str,
    ) -> Result<CreateCallbackResponse, Status> {
        self.push_request(CreateCallbackRequest {
            ivr_call_id: ivr_call_id.into(),
            phone_number: phone.into(),
            ivr_route_code: route_code.into(),
            ..Default::default()
        })
        .await
    }

    pub async fn push_request(
        &self,
        request: CreateCallbackRequest,
    ) -> Result<CreateCallbackResponse, Status> {
        self.callbacks()
            .await
            .create_callback(bearer(request, &self.ivr_key))
            .await
            .map(|r| r.into_inner())
    }

    /// Pushes `n` callbacks from distinct numbers on `route_code`; returns their ids in order.
    pub async fn push_many(&self, n: usize, route_code: &str) -> Vec<String> {
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let pushed = self
                .push(
                    &format!("{}-{i}", testing::unique_id()),
                    &format!("010-5{:03}-{:04}", i / 1000, i % 10_000),
                    route_code,
                )
                .await
                .expect("the IVR pushes a callback");
            ids.push(pushed.callback.unwrap().id);
        }
        ids
    }

    /// Assigns `ids` to `agent` as the admin; every row must succeed.
    pub async fn assign(&self, ids: &[String], agent: &str) {
        let response = self
            .callbacks()
            .await
            .assign_manually(bearer(
                AssignManuallyRequest {
                    callback_ids: ids.to_vec(),
                    agent_login: agent.into(),
                    group_id: String::new(),
                    filter: None,
                },
                &self.admin(),
            ))
            .await
            .expect("the admin assigns")
            .into_inner();
        assert!(
            response.results.iter().all(|r| r.ok),
            "{:?}",
            response.results
        );
    }

    pub async fn stop(self) {
        let stopped = self.service.stop().await;
        self.gateway.stop().await;
        stopped.unwrap_or_else(|failure| panic!("callback: {failure}"));
    }
}
