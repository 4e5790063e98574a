//! The one gRPC server every service runs, and the layers it puts in front of handlers.

mod admission;
mod client;
mod drain;
mod method_labels;
mod metrics;
mod server;
mod verify;

pub use admission::{Admission, AdmissionGuard, AdmissionLayer};
pub use client::MeshInterceptor;
pub use drain::DrainLayer;
pub use metrics::GrpcMetricsLayer;
pub use server::{FallbackService, GrpcServer, RunningServer, grpc_span, listen};
pub use verify::VerifyPrincipalLayer;

/// Paths that stay open without a principal and during drain: health and reflection.
pub(crate) fn is_infrastructure_path(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.") || path.starts_with("/grpc.reflection.")
}
