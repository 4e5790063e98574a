//! W3C trace context across hops: gRPC metadata (client interceptor in, server span out), AMQP
//! message headers, and the text kept in outbox rows.

use std::collections::HashMap;

use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use opentelemetry::{
    Context, global,
    propagation::{Extractor, Injector},
    trace::TraceContextExt,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Puts `context` into gRPC metadata (`traceparent`, `tracestate`).
pub fn inject_into_metadata(context: &Context, metadata: &mut tonic::metadata::MetadataMap) {
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(context, &mut MetadataInjector(metadata))
    });
}

/// Puts `context` into HTTP headers, replacing any trace context already there (the gateway's
/// span becomes the parent of the call it forwards).
pub fn inject_into_http(context: &Context, headers: &mut http::HeaderMap) {
    struct HeaderInjector<'a>(&'a mut http::HeaderMap);
    impl Injector for HeaderInjector<'_> {
        fn set(&mut self, key: &str, value: String) {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(key.as_bytes()),
                http::HeaderValue::from_str(&value),
            ) {
                self.0.insert(name, value);
            }
        }
    }
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(context, &mut HeaderInjector(headers))
    });
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            value.parse(),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// The trace context a server span should continue, read from request headers.
pub fn extract_from_http(headers: &http::HeaderMap) -> Context {
    struct HeaderExtractor<'a>(&'a http::HeaderMap);
    impl Extractor for HeaderExtractor<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|k| k.as_str()).collect()
        }
    }
    global::get_text_map_propagator(|propagator| propagator.extract(&HeaderExtractor(headers)))
}

/// The current span's W3C `traceparent` and `tracestate`, as stored in outbox rows and event
/// envelopes. Empty strings when no trace is active.
pub fn current_trace_context() -> (String, String) {
    let context = tracing::Span::current().context();
    let mut fields = HashMap::new();
    global::get_text_map_propagator(|propagator| propagator.inject_context(&context, &mut fields));
    (
        fields.remove("traceparent").unwrap_or_default(),
        fields.remove("tracestate").unwrap_or_default(),
    )
}

/// Adds `traceparent`/`tracestate` (as kept in an outbox row) to AMQP message headers.
pub fn inject_into_amqp(headers: &mut FieldTable, traceparent: &str, tracestate: &str) {
    for (key, value) in [("traceparent", traceparent), ("tracestate", tracestate)] {
        if !value.is_empty() {
            headers.insert(
                ShortString::from(key),
                AMQPValue::LongString(LongString::from(value)),
            );
        }
    }
}

/// The trace context a consumer span should continue, read from AMQP message headers.
pub fn extract_from_amqp(headers: Option<&FieldTable>) -> Context {
    let mut fields = HashMap::new();
    if let Some(headers) = headers {
        for key in ["traceparent", "tracestate"] {
            if let Some(AMQPValue::LongString(value)) = headers.inner().get(key) {
                fields.insert(key.to_owned(), value.to_string());
            }
        }
    }
    global::get_text_map_propagator(|propagator| propagator.extract(&fields))
}

/// The trace id of a span in lowercase hex, or `None` when it is not being traced.
pub fn span_trace_id(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}
