//! Logs and traces: JSON logs through `tracing`, OpenTelemetry spans exported by OTLP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and the W3C trace-context propagator set globally so
//! that every hop (gRPC metadata, AMQP headers, outbox rows) carries the trace on.
//!
//! Only Switchboard's own spans are exported ([`EXPORTED_TARGETS`]): the libraries under the
//! server (h2, hyper, tower) make a few hundred frame-level spans per call, which would cost
//! far more to export and store than the three spans of a call's path.

mod propagation;

use opentelemetry::{global, trace::TracerProvider as _};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing::Level;
use tracing_subscriber::{
    EnvFilter, Layer, filter::Targets, layer::SubscriberExt, util::SubscriberInitExt,
};

pub use propagation::{
    current_trace_context, extract_from_amqp, extract_from_http, inject_into_amqp,
    inject_into_http, inject_into_metadata, span_trace_id,
};

use crate::config::{LogFormat, TelemetryConfig};

/// The `tracing` target prefix of the spans (and their events) sent to OpenTelemetry: every
/// Switchboard crate's (`switchboard_platform`, `switchboard_gateway`, ...). Independent of
/// `telemetry.log_filter`, which decides what is logged.
pub const EXPORTED_TARGETS: &str = "switchboard";

/// The OpenTelemetry layer's own filter in production: Switchboard's spans and events at
/// `info` and above.
fn switchboard_spans() -> Targets {
    Targets::new().with_target(EXPORTED_TARGETS, Level::INFO)
}

/// Flushes and stops trace export when the process is done. Keep it alive for the process's life.
#[must_use = "dropping the guard does not flush; call `shutdown` at the end of the process"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Flushes spans still buffered and stops the exporter.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "flushing traces at shutdown failed");
        }
    }
}

/// Installs the global subscriber (logs, and spans to OTLP when configured) and propagator.
/// `service` names the process in traces (`service.name`).
pub fn init(service: &str, config: &TelemetryConfig) -> anyhow::Result<TelemetryGuard> {
    let provider = match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => Some(otlp_provider(service, &endpoint)?),
        _ => None,
    };
    subscribe(config, provider.clone(), switchboard_spans())?;
    Ok(TelemetryGuard { provider })
}

/// Installs the subscriber with the spans of every target going to `provider`; tests pass one
/// with an in-memory exporter and make spans of their own. Also sets the global W3C propagator.
pub fn install(
    config: &TelemetryConfig,
    provider: Option<SdkTracerProvider>,
) -> anyhow::Result<()> {
    subscribe(config, provider, Targets::new().with_default(Level::TRACE))
}

/// Logs as `telemetry.log_filter` says; spans (and their events) to `provider` as `exported`
/// says, whatever is logged.
fn subscribe(
    config: &TelemetryConfig,
    provider: Option<SdkTracerProvider>,
    exported: Targets,
) -> anyhow::Result<()> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_new(&config.log_filter)
        .map_err(|e| anyhow::anyhow!("telemetry.log_filter {:?}: {e}", config.log_filter))?;
    let logs = match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let otel = provider.map(|provider| {
        let tracer = provider.tracer("switchboard");
        global::set_tracer_provider(provider);
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(exported)
    });
    tracing_subscriber::registry()
        .with(otel)
        .with(logs.with_filter(filter))
        .try_init()?;
    Ok(())
}

fn otlp_provider(service: &str, endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(format!("switchboard-{service}"))
                .build(),
        )
        .build())
}
