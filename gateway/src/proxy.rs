//! The routing proxy: forwards a call, body and trailers unchanged (unary and streaming alike),
//! to the service owning its package. The caller's `grpc-timeout` travels with it, so deadlines
//! hold end to end; an unreachable service is `UNAVAILABLE` naming it, and a request message
//! over the size limit is `RESOURCE_EXHAUSTED`.

use std::{
    convert::Infallible,
    task::{Context, Poll},
};

use futures_util::future::BoxFuture;
use switchboard_platform::{grpc::FallbackService, telemetry};
use tonic::{Status, body::Body};
use tower::ServiceExt;
use tower_service::Service;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use tokio::sync::oneshot;

use crate::{message_limit::LimitedBody, routing::RouteTable};

#[derive(Debug, Clone)]
pub struct RoutingProxy {
    table: RouteTable,
    max_message_bytes: usize,
}

impl RoutingProxy {
    pub fn new(table: RouteTable, max_message_bytes: usize) -> Self {
        Self {
            table,
            max_message_bytes,
        }
    }

    /// The proxy as the server builder's fallback service.
    pub fn boxed(self) -> FallbackService {
        FallbackService::new(self)
    }
}

impl Service<http::Request<Body>> for RoutingProxy {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let Some((service, channel)) = self.table.route(&path) else {
            let status = Status::unimplemented(format!("no Switchboard service serves {path}"));
            return Box::pin(async move { Ok(status.into_http()) });
        };
        // The gateway's span (made by the server builder) is the parent of the forwarded call.
        let context = tracing::Span::current().context();
        telemetry::inject_into_http(&context, request.headers_mut());
        let (service, channel) = (service.to_owned(), channel.clone());
        let (violation, violated) = oneshot::channel();
        let max = self.max_message_bytes;
        let request = request.map(|body| Body::new(LimitedBody::new(body, max, violation)));
        Box::pin(async move {
            let forwarded = tokio::select! {
                biased;
                Ok(length) = violated => {
                    let status = Status::resource_exhausted(format!(
                        "a request message of {length} bytes exceeds the gateway's limit of {max} bytes"
                    ));
                    return Ok(status.into_http());
                }
                forwarded = channel.oneshot(request) => forwarded,
            };
            match forwarded {
                Ok(response) => Ok(response),
                Err(error) => {
                    tracing::warn!(%service, %path, %error, "upstream call failed");
                    let status =
                        Status::unavailable(format!("the {service} service is unavailable"));
                    Ok(status.into_http())
                }
            }
        })
    }
}
