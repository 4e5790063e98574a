//! The reporting service behind a gateway, started as production starts them (fresh schemas, a
//! RabbitMQ virtual host of the test's own), optionally with the callback service whose events
//! it reads. Tests may also publish event envelopes straight onto the exchange, as the callback
//! service's relay would, to control duplicates and order.

#![allow(dead_code, unused_imports)] // each test file uses part of it

use std::time::Duration;

use sqlx::PgPool;
use switchboard_gateway::Upstream;
pub use switchboard_gateway::testing::{ADMIN, Harness, bearer};
use switchboard_platform::{
    events::ConsumerStats,
    testing::{self, Started},
};
use switchboard_proto::{
    callback::v1::callback_service_client::CallbackServiceClient,
    events::v1::EventEnvelope,
    reporting::v1::{
        GetCallbackProcessingStatusRequest, GetCallbackProcessingStatusResponse,
        GetReadModelStatusRequest, ListUnfinishedCallbacksPerAgentRequest,
        ListUnfinishedCallbacksPerAgentResponse, ReadModelStatus,
        reporting_service_client::ReportingServiceClient,
    },
};
use tonic::transport::Channel;

pub mod scenario;
pub mod tickets;

pub const ZONE: &str = "Asia/Seoul";

pub fn local_date(date: chrono::NaiveDate) -> switchboard_proto::common::v1::LocalDate {
    use chrono::Datelike;
    switchboard_proto::common::v1::LocalDate {
        year: date.year(),
        month: date.month() as i32,
        day: date.day() as i32,
    }
}

/// The bucket spans of the period, computed here without the service's code.
pub fn spans(
    first: chrono::NaiveDate,
    last: chrono::NaiveDate,
    month: bool,
) -> Vec<(chrono::NaiveDate, chrono::NaiveDate)> {
    use chrono::{Datelike, Months, NaiveDate};
    let mut spans = Vec::new();
    let mut start = first;
    while start <= last {
        let end = if month {
            let next =
                NaiveDate::from_ymd_opt(start.year(), start.month(), 1).unwrap() + Months::new(1);
            (next.pred_opt().unwrap()).min(last)
        } else {
            start
        };
        spans.push((start, end));
        start = end.succ_opt().unwrap();
    }
    spans
}

pub struct Mesh {
    pub gateway: Harness,
    /// The reporting service's schema.
    pub pool: PgPool,
    pub schema: String,
    /// The callback service's schema and pool, when it runs.
    pub callback_schema: Option<(PgPool, String)>,
    pub stats: Vec<std::sync::Arc<ConsumerStats>>,
    /// The ticket consumers' figures, per replica.
    pub ticket_stats: Vec<std::sync::Arc<ConsumerStats>>,
    /// The first reporting replica's own address (behind the gateway).
    pub reporting_addr: std::net::SocketAddr,
    pub lag: switchboard_reporting::ModelLag,
    /// The reporting replicas (the first owns the schema).
    replicas: Vec<Started>,
    callbacks_service: Option<Started>,
    trigger_engine: Option<Started>,
}

impl Mesh {
    /// The gateway and `replicas` reporting services sharing one schema and queue.
    pub async fn start(replicas: usize) -> Self {
        Self::start_inner(replicas, false, false).await
    }

    /// The gateway, the callback service and one reporting service.
    pub async fn start_with_callbacks() -> Self {
        Self::start_inner(1, true, false).await
    }

    /// The gateway, the trigger engine (its business-hours calendars) and one reporting
    /// service.
    pub async fn start_with_trigger_engine() -> Self {
        Self::start_inner(1, false, true).await
    }

    async fn start_inner(replicas: usize, with_callbacks: bool, with_triggers: bool) -> Self {
        let reporting_listener = testing::free_listener().await;
        let callback_listener = testing::free_listener().await;
        let trigger_listener = testing::free_listener().await;
        let trigger_addr = trigger_listener.local_addr().unwrap();
        let mut upstreams = vec![Upstream {
            package: "switchboard.reporting.v1".into(),
            service: "reporting".into(),
            url: format!("http://{}", reporting_listener.local_addr().unwrap()),
        }];
        if with_callbacks {
            upstreams.push(Upstream {
                package: "switchboard.callback.v1".into(),
                service: "callback".into(),
                url: format!("http://{}", callback_listener.local_addr().unwrap()),
            });
        }
        if with_triggers {
            upstreams.push(Upstream {
                package: "switchboard.trigger.v1".into(),
                service: "trigger-engine".into(),
                url: format!("http://{trigger_addr}"),
            });
        }
        let gateway = Harness::start(upstreams).await;
        testing::require_rabbitmq(&gateway.amqp).await;
        let peers = if with_triggers {
            vec![testing::peer(
                "trigger-engine",
                &["switchboard.trigger.v1"],
                trigger_addr,
            )]
        } else {
            Vec::new()
        };
        let (mut context, pool) =
            switchboard_reporting::testing::context_with_peers(&gateway.amqp, peers).await;
        context.platform.time_zone = ZONE.into();
        let mut mesh = Self {
            reporting_addr: reporting_listener.local_addr().unwrap(),
            lag: switchboard_reporting::ModelLag::new(pool.clone()),
            gateway,
            schema: context.schema.clone(),
            pool,
            callback_schema: None,
            stats: Vec::new(),
            ticket_stats: Vec::new(),
            replicas: Vec::new(),
            callbacks_service: None,
            trigger_engine: None,
        };
        let mut listener = Some(reporting_listener);
        for _ in 0..replicas {
            // The gateway routes to the first replica; the others only consume.
            let listener = match listener.take() {
                Some(listener) => listener,
                None => testing::free_listener().await,
            };
            let (replica, stats, ticket_stats) =
                switchboard_reporting::testing::start(listener, context.clone(), mesh.pool.clone())
                    .await;
            mesh.stats.extend(stats);
            mesh.ticket_stats.extend(ticket_stats);
            mesh.replicas.push(replica);
        }
        if with_triggers {
            // No ticket service runs: the engine only answers for its calendars.
            let nowhere = testing::free_listener().await.local_addr().unwrap();
            let engine = switchboard_trigger_engine::testing::start(
                trigger_listener,
                mesh.gateway.addr,
                nowhere,
                &mesh.gateway.amqp,
                |_| {},
            )
            .await;
            mesh.trigger_engine = Some(engine);
        }
        if with_callbacks {
            let service = switchboard_callback::testing::start(
                callback_listener,
                mesh.gateway.addr,
                &mesh.gateway.amqp,
                |_| {},
            )
            .await;
            mesh.callback_schema = Some((service.pool.clone(), service.schema.clone()));
            mesh.callbacks_service = Some(service);
        }
        mesh
    }

    pub fn admin(&self) -> String {
        self.gateway.token(ADMIN)
    }

    pub async fn reports(&self) -> ReportingServiceClient<Channel> {
        ReportingServiceClient::new(self.gateway.channel().await)
    }

    pub async fn callbacks(&self) -> CallbackServiceClient<Channel> {
        CallbackServiceClient::new(self.gateway.channel().await)
    }

    /// A processing-status report, as the admin reads it.
    pub async fn report(
        &self,
        request: GetCallbackProcessingStatusRequest,
    ) -> GetCallbackProcessingStatusResponse {
        self.reports()
            .await
            .get_callback_processing_status(bearer(request, &self.admin()))
            .await
            .unwrap_or_else(|status| panic!("the admin reads the report: {status:?}"))
            .into_inner()
    }

    /// Every agent's unfinished callbacks (of `group_id`'s callbacks when not empty), as the
    /// admin reads them.
    pub async fn unfinished(&self, group_id: &str) -> ListUnfinishedCallbacksPerAgentResponse {
        self.reports()
            .await
            .list_unfinished_callbacks_per_agent(bearer(
                ListUnfinishedCallbacksPerAgentRequest {
                    group_id: group_id.into(),
                    ..Default::default()
                },
                &self.admin(),
            ))
            .await
            .expect("the admin lists unfinished callbacks")
            .into_inner()
    }

    /// The callbacks model's status, as the admin reads it.
    pub async fn model_status(&self) -> ReadModelStatus {
        self.reports()
            .await
            .get_read_model_status(bearer(
                GetReadModelStatusRequest {
                    name: "callbacks".into(),
                },
                &self.admin(),
            ))
            .await
            .expect("the admin reads the model status")
            .into_inner()
            .read_models
            .remove(0)
    }

    /// Waits until the callbacks model has applied `events` distinct events.
    pub async fn wait_applied(&self, events: i64, timeout: Duration) {
        self.wait_model_applied("callbacks", events, timeout).await;
    }

    /// Waits until model `name` has applied `events` distinct events.
    pub async fn wait_model_applied(&self, name: &str, events: i64, timeout: Duration) {
        let applied = || async {
            let (count,): (i64,) =
                sqlx::query_as("SELECT applied_event_count FROM read_models WHERE name = $1")
                    .bind(name)
                    .fetch_one(&self.pool)
                    .await
                    .unwrap();
            count
        };
        let reached = testing::eventually(timeout, || async { applied().await >= events }).await;
        assert!(
            reached,
            "the model applied {} of {events} events in {timeout:?}",
            applied().await
        );
    }

    /// Publishes `events` in the given order onto the events exchange, as a relay would.
    pub async fn publish(&self, events: &[EventEnvelope]) {
        testing::publish(&self.gateway.amqp, events).await;
    }

    /// Stops everything and cleans up, then fails the test if any part failed.
    pub async fn stop(self) {
        let mut failures = Vec::new();
        if let Some(service) = self.callbacks_service {
            failures.extend(service.stop().await.err());
        }
        if let Some(engine) = self.trigger_engine {
            failures.extend(engine.stop().await.err());
        }
        let mut replicas = self.replicas.into_iter();
        let owner = replicas.next();
        for replica in replicas {
            failures.extend(replica.stop_keeping_schema().await.err());
        }
        if let Some(owner) = owner {
            failures.extend(owner.stop().await.err());
        }
        self.gateway.stop().await;
        assert!(failures.is_empty(), "{failures:?}");
    }
}
