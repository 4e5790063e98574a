//! The one gRPC server every service runs, and the layers it puts in front of handlers.

mod admission;
mod client;
mod drain;
mod method_labels;
mod metrics;
mod server;
mod string_bounds;
mod verify;

pub use admission::{Admission, AdmissionGuard, AdmissionLayer};
pub use client::MeshInterceptor;
pub use drain::DrainLayer;
pub use metrics::GrpcMetricsLayer;
pub use server::{FallbackService, GrpcServer, RunningServer, grpc_span, listen};
pub use string_bounds::{MAX_STRING_CHARS, StringBoundsLayer, max_chars_of};
pub use verify::VerifyPrincipalLayer;

/// Paths that stay open without a principal and during drain: health and reflection.
pub(crate) fn is_infrastructure_path(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.") || path.starts_with("/grpc.reflection.")
}

/// Adds generated tonic servers to a [`GrpcServer`], each with the configured message limit
/// (`grpc.max_message_bytes`) for requests and responses alike:
/// `add_grpc_services!(server, CallbackServiceServer::new(api), IvrRouteServiceServer::new(routes))`.
#[macro_export]
macro_rules! add_grpc_services {
    ($server:expr, $($service:expr),+ $(,)?) => {{
        let server = $server;
        let max = server.max_message_bytes();
        server$(.add_service(
            $service
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        ))+
    }};
}
