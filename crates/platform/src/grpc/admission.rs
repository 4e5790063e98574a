//! Admission at the edge: a hook that runs before principal verification and decides whether a
//! call may enter at all. The gateway plugs its authentication, authorization and limits in
//! here; the hook may rewrite the call's metadata (attach the principal it signed) and extensions.

use std::{
    any::Any,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::BoxFuture;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

use super::is_infrastructure_path;

/// Something held for as long as an admitted call runs, response stream included (a concurrency
/// permit, say).
pub type AdmissionGuard = Box<dyn Any + Send + Sync>;

/// Decides whether a call may enter. Health and reflection never reach it.
pub trait Admission: Send + Sync + 'static {
    /// `Ok` admits the call (with what it holds while it runs); `Err` is the status to answer.
    fn admit<'a>(
        &'a self,
        parts: &'a mut http::request::Parts,
    ) -> BoxFuture<'a, Result<Option<AdmissionGuard>, tonic::Status>>;
}

/// Runs an [`Admission`] in front of every call; without one it passes everything through.
#[derive(Clone, Default)]
pub struct AdmissionLayer {
    admission: Option<Arc<dyn Admission>>,
}

impl AdmissionLayer {
    pub fn new(admission: Option<Arc<dyn Admission>>) -> Self {
        Self { admission }
    }
}

impl<S> Layer<S> for AdmissionLayer {
    type Service = Admit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Admit {
            inner,
            admission: self.admission.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Admit<S> {
    inner: S,
    admission: Option<Arc<dyn Admission>>,
}

impl<S, B> Service<http::Request<B>> for Admit<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let Some(admission) = self.admission.clone() else {
            return Box::pin(self.inner.call(request));
        };
        if is_infrastructure_path(request.uri().path()) {
            return Box::pin(self.inner.call(request));
        }
        // The service that was made ready stays with this call; the clone serves the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            match admission.admit(&mut parts).await {
                Ok(guard) => {
                    let response = inner.call(http::Request::from_parts(parts, body)).await?;
                    Ok(match guard {
                        Some(guard) => response.map(|body| Body::new(Guarded { body, guard })),
                        None => response,
                    })
                }
                Err(status) => Ok(status.into_http()),
            }
        })
    }
}

/// A response body that keeps the call's guard until the body is dropped.
struct Guarded {
    body: Body,
    #[allow(dead_code)] // held, never read
    guard: AdmissionGuard,
}

impl HttpBody for Guarded {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
