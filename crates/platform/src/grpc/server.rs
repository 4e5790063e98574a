//! The server builder: every service gets health, reflection over the whole API, a span per call
//! that continues the caller's trace, principal verification, and a graceful shutdown (SIGTERM →
//! health NOT_SERVING and new calls refused → calls in flight finish → stop).

use std::{convert::Infallible, net::SocketAddr};

use tokio::net::TcpListener;
use tonic::{
    body::Body,
    server::NamedService,
    service::{Routes, RoutesBuilder},
    transport::server::TcpIncoming,
};
use tonic_health::{ServingStatus, server::HealthReporter};
use tower_service::Service;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{
    Admission, AdmissionLayer, DrainLayer, GrpcMetricsLayer, StringBoundsLayer,
    VerifyPrincipalLayer,
};
use crate::{config::GrpcConfig, principal::PrincipalKey, shutdown::Shutdown};

/// A service that answers every call no registered service owns (the gateway's proxy).
pub type FallbackService =
    tower::util::BoxCloneSyncService<http::Request<Body>, http::Response<Body>, Infallible>;

/// Collects a process's gRPC services before it binds.
pub struct GrpcServer {
    name: String,
    config: GrpcConfig,
    routes: RoutesBuilder,
    services: Vec<&'static str>,
    verify: VerifyPrincipalLayer,
    admission: AdmissionLayer,
    fallback: Option<FallbackService>,
}

impl GrpcServer {
    /// A server for the process role `name` (used in logs).
    pub fn new(name: &str, config: GrpcConfig) -> Self {
        Self {
            name: name.to_owned(),
            config,
            routes: Routes::builder(),
            services: Vec::new(),
            verify: VerifyPrincipalLayer::default(),
            admission: AdmissionLayer::default(),
            fallback: None,
        }
    }

    /// Sends every call that no added service owns to `service` (instead of `UNIMPLEMENTED`).
    pub fn fallback(mut self, service: FallbackService) -> Self {
        self.fallback = Some(service);
        self
    }

    /// Requires a valid signed principal on every call but health and reflection.
    pub fn verify_principals(mut self, key: PrincipalKey) -> Self {
        self.verify = VerifyPrincipalLayer::new(Some(key));
        self
    }

    /// Runs `admission` before principal verification on every call but health and reflection
    /// (the gateway's authentication, authorization and limits).
    pub fn admission(mut self, admission: std::sync::Arc<dyn Admission>) -> Self {
        self.admission = AdmissionLayer::new(Some(admission));
        self
    }

    /// The largest message a service should accept or send; generated servers take it with
    /// `max_decoding_message_size` / `max_encoding_message_size`.
    pub fn max_message_bytes(&self) -> usize {
        self.config.max_message_bytes
    }

    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.services.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Binds `addr` (port 0 picks a free port) and marks every service SERVING.
    pub async fn bind(self, addr: SocketAddr) -> anyhow::Result<RunningServer> {
        let listener = listen(&self.name, addr).await?;
        self.serve_on(listener).await
    }

    /// Takes a listener bound beforehand (when its address must be known before the server is
    /// built, as when two services need each other's address) and marks every service SERVING.
    pub async fn serve_on(mut self, listener: TcpListener) -> anyhow::Result<RunningServer> {
        let local_addr = listener.local_addr()?;

        let (health, health_service) = tonic_health::server::health_reporter();
        for service in &self.services {
            health
                .set_service_status(*service, ServingStatus::Serving)
                .await;
        }
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(switchboard_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(switchboard_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;
        self.routes
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);

        let mut routes = self.routes.routes();
        if let Some(fallback) = self.fallback {
            let fallback = tower::ServiceExt::map_request(
                fallback,
                |request: http::Request<axum::body::Body>| request.map(Body::new),
            );
            routes = Routes::from(routes.into_axum_router().fallback_service(fallback));
        }

        tracing::info!(server = %self.name, %local_addr, services = ?self.services, "grpc server listening");
        Ok(RunningServer {
            name: self.name,
            config: self.config,
            local_addr,
            listener,
            routes,
            services: self.services,
            verify: self.verify,
            admission: self.admission,
            health,
        })
    }
}

/// Binds `addr` for the server of role `name` (port 0 picks a free port), with an error that
/// names both.
pub async fn listen(name: &str, addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("{name}: cannot listen on {addr}: {e}"))
}

/// A bound server, not yet serving.
pub struct RunningServer {
    name: String,
    config: GrpcConfig,
    local_addr: SocketAddr,
    listener: TcpListener,
    routes: Routes,
    services: Vec<&'static str>,
    verify: VerifyPrincipalLayer,
    admission: AdmissionLayer,
    health: HealthReporter,
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// The server's health reporter, for statuses it learns later (the gateway reports the
    /// health of the services it routes to).
    pub fn health(&self) -> HealthReporter {
        self.health.clone()
    }

    /// Serves until `shutdown`, then drains: health turns NOT_SERVING and new calls get
    /// `UNAVAILABLE` at once, calls in flight run to their end (up to the drain timeout), and
    /// the server stops.
    pub async fn run_until_stopped(self, mut shutdown: Shutdown) -> anyhow::Result<()> {
        let drain = DrainLayer::default();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let timeout = self.config.drain_timeout();
        let drainer = {
            let drain = drain.clone();
            let health = self.health.clone();
            let services = self.services.clone();
            let name = self.name.clone();
            tokio::spawn(async move {
                shutdown.wait().await;
                drain.begin();
                health
                    .set_service_status("", ServingStatus::NotServing)
                    .await;
                for service in services {
                    health
                        .set_service_status(service, ServingStatus::NotServing)
                        .await;
                }
                tracing::info!(server = %name, in_flight = drain.in_flight(), "draining");
                if !drain.wait_idle(timeout).await {
                    tracing::warn!(server = %name, in_flight = drain.in_flight(), "drain timed out");
                }
                let _ = stop.send(true);
            })
        };
        let stop_requested = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let incoming = TcpIncoming::from(self.listener).with_nodelay(Some(true));
        let served = tonic::transport::Server::builder()
            .max_concurrent_streams(self.config.max_concurrent_streams)
            .trace_fn(grpc_span)
            .layer(GrpcMetricsLayer::default())
            .layer(drain)
            .layer(self.admission)
            .layer(self.verify)
            .layer(StringBoundsLayer)
            .add_routes(self.routes)
            .serve_with_incoming_shutdown(incoming, stop_requested(stopped.clone()));
        // Streams that never end (a health `Watch`) would hold the graceful stop open forever:
        // once drained, connections get one more drain timeout to close, then are dropped.
        let served = tokio::select! {
            served = served => served,
            _ = async {
                stop_requested(stopped).await;
                tokio::time::sleep(timeout).await;
            } => {
                tracing::warn!(server = %self.name, "connections still open after the drain; closing them");
                Ok(())
            }
        };
        drainer.abort();
        tracing::info!(server = %self.name, "grpc server stopped");
        Ok(served?)
    }
}

/// The span of one incoming call, continuing the trace context the caller sent.
pub fn grpc_span(request: &http::Request<()>) -> tracing::Span {
    let path = request.uri().path();
    let (service, method) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path, ""));
    let span = tracing::info_span!(
        "grpc",
        otel.name = %path.trim_start_matches('/'),
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
    );
    let _ = span.set_parent(crate::telemetry::extract_from_http(request.headers()));
    span
}
