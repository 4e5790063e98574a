//! One trace across hops: a span started by a gRPC client continues in the server, is written
//! with the event into the outbox, and continues in the consumer on the other side of RabbitMQ.
//! (Its own test binary: it installs the global subscriber with an in-memory exporter.)

use std::time::Duration;

use opentelemetry::trace::SpanId;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use sqlx::PgConnection;
use switchboard_platform::{
    Shutdown,
    config::{GrpcConfig, LogFormat, TelemetryConfig},
    events::{ConsumerConfig, EventConsumer, EventHandler, HandlerError, OutboxRelay, RelayConfig},
    grpc::MeshInterceptor,
    telemetry,
    testing::{self, Probe},
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    events::v1::EventEnvelope,
    testing::v1::{EchoRequest, probe_service_client::ProbeServiceClient},
};
use tonic::transport::Channel;
use tracing::Instrument;

struct Record;

impl EventHandler for Record {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        _event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        tracing::info!("applying the traced event");
        sqlx::query("INSERT INTO effects DEFAULT VALUES")
            .execute(tx)
            .await?;
        Ok(())
    }
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
        panic!(
            "a span named {name:?} among {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_span_continues_in_the_server_and_across_amqp_in_the_consumer() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    telemetry::install(
        &TelemetryConfig {
            log_filter: "warn".into(),
            log_format: LogFormat::Pretty,
            metrics_listen: None,
        },
        Some(provider.clone()),
    )
    .unwrap();

    let (pool, schema) = testing::fresh_schema("trace").await;
    sqlx::query("CREATE TABLE effects (id bigserial PRIMARY KEY)")
        .execute(&pool)
        .await
        .unwrap();
    let id = testing::unique_id();
    let amqp = testing::amqp_config(&id);
    testing::require_rabbitmq(&amqp).await;
    let queue = format!("test-{id}.traced");
    let consumer = EventConsumer::new(
        pool.clone(),
        amqp.clone(),
        ConsumerConfig::new(&queue, &["probe.traced"]),
        Record,
    );
    consumer.declare().await.unwrap();

    let key = testing::principal_key();
    let (addr, stop) = testing::serve_probe(
        Probe {
            pool: Some(pool.clone()),
        },
        GrpcConfig::default(),
    )
    .await;
    let (stop_events, shutdown) = Shutdown::new();
    let relay = tokio::spawn(
        OutboxRelay::new(pool.clone(), amqp.clone(), RelayConfig::new(&schema))
            .run(shutdown.clone()),
    );
    let consuming = tokio::spawn(consumer.run(shutdown));

    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let principal = Principal {
        subject: "ivr".into(),
        kind: PrincipalKind::Service.into(),
        ..Default::default()
    };
    let mut client = ProbeServiceClient::with_interceptor(
        channel,
        MeshInterceptor::with_principal(key, principal, Duration::from_secs(60)),
    );
    let call = async {
        client
            .echo(EchoRequest {
                message: "callback requested".into(),
                event_type: "probe.traced".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    };
    let response = call.instrument(tracing::info_span!("ivr call")).await;

    let applied = testing::eventually(Duration::from_secs(20), || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM effects")
            .fetch_one(&pool)
            .await
            .unwrap()
            == 1
    })
    .await;
    stop.trigger();
    stop_events.trigger();
    relay.await.unwrap();
    consuming.await.unwrap();
    testing::delete_amqp(&id);
    assert!(applied, "the consumer applied the event");

    tokio::time::sleep(Duration::from_millis(100)).await;
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let client_span = named(&spans, "ivr call");
    let server_span = named(&spans, "switchboard.testing.v1.ProbeService/Echo");
    let consumer_span = named(&spans, "consume probe.traced");

    let trace_id = client_span.span_context.trace_id();
    assert_eq!(
        client_span.parent_span_id,
        SpanId::INVALID,
        "the client span starts the trace"
    );
    assert_eq!(server_span.span_context.trace_id(), trace_id);
    assert_eq!(
        server_span.parent_span_id,
        client_span.span_context.span_id()
    );
    assert_eq!(consumer_span.span_context.trace_id(), trace_id);
    assert_eq!(
        consumer_span.parent_span_id,
        server_span.span_context.span_id()
    );
    assert_eq!(response.trace_id, trace_id.to_string());
    testing::drop_schema(&pool, &schema).await;
}
