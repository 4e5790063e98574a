//! Per-method call metrics under the names Prometheus users know from go-grpc-prometheus:
//! `grpc_server_started_total`, `grpc_server_handled_total` (by `grpc_code`) and the
//! `grpc_server_handling_seconds` histogram, labelled `grpc_type`, `grpc_service`,
//! `grpc_method`. A call is handled when its response ends: the `grpc-status` of a
//! trailers-only response, else of the trailers after the last message (a stream's end), else
//! `Canceled` when the response is dropped before it ends.
//!
//! Health and reflection are not counted (probes would drown the API's figures). Labels come
//! only from the API's descriptor set (`method_labels`), so the series stay bounded.

use std::{
    collections::BTreeMap,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, OnceLock},
    task::{Context, Poll},
    time::Instant,
};

use futures_util::future::BoxFuture;
use http_body::{Body, Frame, SizeHint};
use tonic::Code;
use tower_layer::Layer;
use tower_service::Service;

use super::{
    is_infrastructure_path,
    method_labels::{Method, method_table},
};
use crate::metrics::{self, Collector, Histogram, HistogramNames, Kind, LATENCY_BUCKETS, Sample};

#[derive(Debug)]
struct MethodSeries {
    started: u64,
    handled: BTreeMap<&'static str, u64>,
    latency: Histogram,
}

/// The figures of every method called in this process, shared by all its servers.
#[derive(Debug, Default)]
struct Recorder {
    series: Mutex<BTreeMap<Method, MethodSeries>>,
}

impl Recorder {
    /// The process's recorder, registered with [`metrics::global`] on first use.
    fn global() -> Arc<Recorder> {
        static RECORDER: OnceLock<Arc<Recorder>> = OnceLock::new();
        Arc::clone(RECORDER.get_or_init(|| {
            let recorder = Arc::new(Recorder::default());
            metrics::global().register(Arc::clone(&recorder) as Arc<dyn Collector>);
            recorder
        }))
    }

    fn with_series(&self, method: Method, update: impl FnOnce(&mut MethodSeries)) {
        let mut series = self
            .series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        update(series.entry(method).or_insert_with(|| MethodSeries {
            started: 0,
            handled: BTreeMap::new(),
            latency: Histogram::new(LATENCY_BUCKETS),
        }));
    }

    fn started(&self, method: Method) {
        self.with_series(method, |series| series.started += 1);
    }

    fn handled(&self, method: Method, code: Code, started: Instant) {
        let seconds = started.elapsed().as_secs_f64();
        self.with_series(method, |series| {
            *series.handled.entry(code_name(code)).or_default() += 1;
            series.latency.observe(seconds);
        });
    }

    fn samples(&self) -> Vec<Sample> {
        let series = self
            .series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut samples = Vec::new();
        for (method, series) in series.iter() {
            let labels = vec![
                ("grpc_type", method.kind.to_owned()),
                ("grpc_service", method.service.to_owned()),
                ("grpc_method", method.name.to_owned()),
            ];
            samples.push(Sample {
                name: "grpc_server_started_total",
                help: "Total number of RPCs started on the server.",
                kind: Kind::Counter,
                labels: labels.clone(),
                value: series.started as f64,
            });
            for (code, count) in &series.handled {
                let mut labels = labels.clone();
                labels.push(("grpc_code", (*code).to_owned()));
                samples.push(Sample {
                    name: "grpc_server_handled_total",
                    help: "Total number of RPCs completed on the server, regardless of success or failure.",
                    kind: Kind::Counter,
                    labels,
                    value: *count as f64,
                });
            }
            samples.extend(series.latency.samples(HANDLING_SECONDS, &labels));
        }
        samples
    }
}

const HANDLING_SECONDS: HistogramNames = HistogramNames {
    bucket: "grpc_server_handling_seconds_bucket",
    sum: "grpc_server_handling_seconds_sum",
    count: "grpc_server_handling_seconds_count",
    help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
};

impl Collector for Recorder {
    fn collect(&self) -> Pin<Box<dyn Future<Output = Vec<Sample>> + Send + '_>> {
        Box::pin(async move { self.samples() })
    }
}

/// The names go-grpc-prometheus gives the codes (Go's `codes.Code.String()`).
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

fn grpc_status(headers: &http::HeaderMap) -> Option<Code> {
    let value = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .parse::<i32>()
        .ok()?;
    Some(Code::from_i32(value))
}

/// Records every call of the server it wraps into the process's registry.
#[derive(Debug, Clone)]
pub struct GrpcMetricsLayer {
    recorder: Arc<Recorder>,
}

impl Default for GrpcMetricsLayer {
    fn default() -> Self {
        Self {
            recorder: Recorder::global(),
        }
    }
}

impl<S> Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics {
            inner,
            recorder: Arc::clone(&self.recorder),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
    recorder: Arc<Recorder>,
}

impl<S, B, ResBody> Service<http::Request<B>> for GrpcMetrics<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = http::Response<MeteredBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        let call = if is_infrastructure_path(path) {
            None
        } else {
            let method = method_table().method(path);
            self.recorder.started(method);
            Some(Call {
                recorder: Arc::clone(&self.recorder),
                method,
                started: Instant::now(),
            })
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            // A trailers-only response (every error a handler returns) is done with its headers.
            let call = match (call, grpc_status(response.headers())) {
                (Some(call), Some(code)) => {
                    call.end(code);
                    None
                }
                (call, _) => call,
            };
            Ok(response.map(|inner| MeteredBody { inner, call }))
        })
    }
}

/// A call not yet handled.
#[derive(Debug)]
struct Call {
    recorder: Arc<Recorder>,
    method: Method,
    started: Instant,
}

impl Call {
    fn end(self, code: Code) {
        self.recorder.handled(self.method, code, self.started);
    }
}

/// A response body that records its call's status when the trailers pass, the body ends, or
/// it is dropped unfinished.
#[derive(Debug)]
pub struct MeteredBody<B> {
    inner: B,
    call: Option<Call>,
}

impl<B> Drop for MeteredBody<B> {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call.end(Code::Cancelled);
        }
    }
}

impl<B: Body + Unpin> Body for MeteredBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let code = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame
                .trailers_ref()
                .map(|trailers| grpc_status(trailers).unwrap_or(Code::Unknown)),
            Poll::Ready(Some(Err(_))) => Some(Code::Unknown),
            // Ended without trailers: not a gRPC response.
            Poll::Ready(None) => Some(Code::Unknown),
            Poll::Pending => None,
        };
        if let Some(code) = code
            && let Some(call) = self.call.take()
        {
            call.end(code);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
