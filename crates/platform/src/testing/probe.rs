//! The probe service the platform's tests serve: validation, principal, outbox write, delay.

use std::time::Duration;

use sqlx::PgPool;
use switchboard_proto::{
    events::v1::EventEnvelope,
    testing::v1::{
        EchoRequest, EchoResponse,
        probe_service_server::{ProbeService, ProbeServiceServer},
    },
};

use crate::{
    error::{FieldViolations, sql_status},
    events::{NewEvent, publish},
    principal::RequestPrincipal,
    telemetry::span_trace_id,
};

/// Answers `Echo`; with a pool, also writes an event to that pool's outbox.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub pool: Option<PgPool>,
}

/// The probe wrapped as a tonic service, ready for `GrpcServer::add_service`.
pub fn probe_server(probe: Probe, max_message_bytes: usize) -> ProbeServiceServer<Probe> {
    ProbeServiceServer::new(probe)
        .max_decoding_message_size(max_message_bytes)
        .max_encoding_message_size(max_message_bytes)
}

#[tonic::async_trait]
impl ProbeService for Probe {
    async fn echo(
        &self,
        request: tonic::Request<EchoRequest>,
    ) -> Result<tonic::Response<EchoResponse>, tonic::Status> {
        let subject = request.principal()?.subject.clone();
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        violations
            .check(
                request.message.is_empty() || request.message.chars().count() > 1_000,
                "message",
                || "must be 1 to 1,000 characters".into(),
            )
            .check(request.delay_ms > 60_000, "delay_ms", || {
                "must be at most 60,000".into()
            });
        violations.into_result()?;

        tokio::time::sleep(Duration::from_millis(u64::from(request.delay_ms))).await;
        if let (Some(pool), false) = (&self.pool, request.event_type.is_empty()) {
            // The payload is any message; an envelope holding the text keeps the probe small.
            let payload = EventEnvelope {
                event_type: request.message.clone(),
                ..Default::default()
            };
            let event = NewEvent::untyped(&request.event_type, "probe", &subject, 1, &payload);
            let mut tx = pool.begin().await.map_err(|e| sql_status("echo", &e))?;
            publish(&mut tx, "probe", event).await?;
            tx.commit().await.map_err(|e| sql_status("echo", &e))?;
        }
        Ok(tonic::Response::new(EchoResponse {
            message: request.message,
            subject,
            trace_id: span_trace_id(&tracing::Span::current()).unwrap_or_default(),
        }))
    }
}
