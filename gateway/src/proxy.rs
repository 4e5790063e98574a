//! The routing proxy: forwards a call, body and trailers unchanged (unary and streaming alike),
//! to the service owning its package. The caller's `grpc-timeout` travels with it, so deadlines
//! hold end to end; an unreachable service is `UNAVAILABLE` naming it, and a request message
//! over the size limit is `RESOURCE_EXHAUSTED`.
//!
//! A call whose deadline passes while the service works on it is `DEADLINE_EXCEEDED`.
//! An answer that reached the gateway but cannot be read (headers or trailers over the limit,
//! a protocol error) is `INTERNAL` "the service's answer could not be relayed", never
//! `UNAVAILABLE`: clients retry `UNAVAILABLE`, and such a request would be retried for ever
//! (docs/architecture.md §3). A connection that broke mid-call (the service died or was killed)
//! is `UNAVAILABLE`, as gRPC's own clients report it: the call may have taken effect, and trying
//! again is how a client finds out (the writes that matter are idempotent by a key).

use std::{
    convert::Infallible,
    task::{Context, Poll},
};

use futures_util::future::BoxFuture;
use switchboard_platform::{error::quote, grpc::FallbackService, telemetry};
use tonic::{Status, body::Body};
use tower::ServiceExt;
use tower_service::Service;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use tokio::sync::oneshot;

use crate::{
    message_limit::{self, LimitedBody},
    routing::RouteTable,
};

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
            let status =
                Status::unimplemented(format!("no Switchboard service serves {}", quote(&path)));
            return Box::pin(async move { Ok(status.into_http()) });
        };
        // The gateway's span (made by the server builder) is the parent of the forwarded call.
        let context = tracing::Span::current().context();
        telemetry::inject_into_http(&context, request.headers_mut());
        let (service, channel) = (service.to_owned(), channel.clone());
        let (violation, violated) = oneshot::channel();
        let max = message_limit::limit_for(&path, self.max_message_bytes);
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
                Ok(response) => Ok(response.map(|body| {
                    Body::new(RelayedBody {
                        inner: body,
                        service: service.clone(),
                        failed: false,
                    })
                })),
                // The caller's `grpc-timeout`, which the forwarding channel enforces, ran out.
                Err(error) if deadline_passed(&error) => {
                    Ok(Status::deadline_exceeded("the call's deadline passed").into_http())
                }
                Err(error) if never_reached(&error) || connection_lost(&error) => {
                    tracing::warn!(%service, %path, %error, "upstream call failed");
                    Ok(unavailable(&service).into_http())
                }
                Err(error) => {
                    let error = causes(&error);
                    tracing::warn!(%service, %path, %error, "upstream answer cannot be relayed");
                    Ok(not_relayed(&service).into_http())
                }
            }
        })
    }
}

/// Whether a forwarding error happened before the service could see the call (no connection,
/// the stream refused unprocessed, or a connection going away — a service draining for a
/// deploy), so that trying again may succeed and the caller is told `UNAVAILABLE`.
fn never_reached(error: &(dyn std::error::Error + 'static)) -> bool {
    chain(error).any(|error| {
        error.is::<tonic::ConnectError>()
            // Refused by the service itself. (h2 also refuses, locally, an answer whose headers
            // are over the limit: that one reached the service.)
            || error.downcast_ref::<h2::Error>().is_some_and(|h2| {
                (h2.reason() == Some(h2::Reason::REFUSED_STREAM) && h2.is_remote())
                    || h2.is_go_away()
            })
            // hyper's "connection closed before the message completed" and "request not sent".
            || error
                .downcast_ref::<hyper::Error>()
                .is_some_and(|hyper| hyper.is_incomplete_message() || hyper.is_canceled())
    })
}

/// Whether the forwarding channel gave up because the caller's deadline passed.
fn deadline_passed(error: &(dyn std::error::Error + 'static)) -> bool {
    chain(error).any(|cause| cause.is::<tonic::TimeoutExpired>())
}

/// `error` and its sources, outermost first.
fn chain<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |error| error.source())
}

/// Whether the connection to the service broke under the call: an I/O error anywhere in the
/// chain, or hyper or h2 saying the connection closed.
fn connection_lost(error: &(dyn std::error::Error + 'static)) -> bool {
    chain(error).any(|error| {
        error.is::<std::io::Error>()
            || error
                .downcast_ref::<h2::Error>()
                .is_some_and(h2::Error::is_io)
            || error
                .downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_closed)
    })
}

/// The error and its sources, "outer: inner: …" (tonic's own text is only "transport error").
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    chain(error)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

fn unavailable(service: &str) -> Status {
    Status::unavailable(format!("the {service} service is unavailable"))
}

fn not_relayed(service: &str) -> Status {
    Status::internal(format!(
        "the {service} service's answer could not be relayed"
    ))
}

/// A service's response body whose failure mid-stream ends the call with trailers instead of a
/// reset stream: `UNAVAILABLE` for a lost connection, `INTERNAL` for an answer that cannot be
/// read (trailers too large).
struct RelayedBody {
    inner: Body,
    service: String,
    failed: bool,
}

impl http_body::Body for RelayedBody {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if self.failed {
            return Poll::Ready(None);
        }
        match std::pin::Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Err(error))) => {
                let causes = causes(&error);
                tracing::warn!(service = %self.service, error = %causes, "upstream answer cannot be relayed");
                self.failed = true;
                let status = if connection_lost(&error) {
                    unavailable(&self.service)
                } else {
                    not_relayed(&self.service)
                };
                let (mut trailers, _) = status.into_http::<Body>().into_parts();
                trailers.headers.remove(http::header::CONTENT_TYPE);
                let trailers = trailers.headers;
                Poll::Ready(Some(Ok(http_body::Frame::trailers(trailers))))
            }
            polled => polled,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error as tonic's channel gives it: a transport error whose source says why.
    #[derive(Debug)]
    struct Transport(Box<dyn std::error::Error + Send + Sync>);

    impl std::fmt::Display for Transport {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("transport error")
        }
    }

    impl std::error::Error for Transport {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.0)
        }
    }

    #[test]
    fn an_expired_deadline_is_told_from_other_failures_and_every_cause_is_logged() {
        let expired = Transport(Box::new(tonic::TimeoutExpired(())));
        assert!(deadline_passed(&expired));
        assert_eq!(causes(&expired), "transport error: Timeout expired");
        let other = Transport("stream error".into());
        assert!(!deadline_passed(&other));
        assert!(!connection_lost(&expired) && !never_reached(&expired));
        assert_eq!(causes(&other), "transport error: stream error");
    }
}
