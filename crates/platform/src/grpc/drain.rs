//! Graceful drain: counts calls in flight, and once shutdown began refuses new calls with
//! `UNAVAILABLE` (health and reflection stay answerable) until the last call in flight is done.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use futures_util::future::BoxFuture;
use tokio::sync::Notify;
use tower_layer::Layer;
use tower_service::Service;

use super::is_infrastructure_path;

#[derive(Debug, Default)]
struct DrainState {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// Shared between the layer (counting) and the server (deciding when to stop).
#[derive(Debug, Clone, Default)]
pub struct DrainLayer {
    state: Arc<DrainState>,
}

impl DrainLayer {
    /// Refuses new calls from now on.
    pub fn begin(&self) {
        self.state.draining.store(true, Ordering::SeqCst);
    }

    pub fn in_flight(&self) -> usize {
        self.state.in_flight.load(Ordering::SeqCst)
    }

    /// Waits until no call is in flight, or `timeout`; returns whether the server is idle.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let idle = async {
            loop {
                let notified = self.state.idle.notified();
                if self.in_flight() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, idle).await.is_ok()
    }
}

impl<S> Layer<S> for DrainLayer {
    type Service = Drain<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Drain {
            inner,
            state: Arc::clone(&self.state),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Drain<S> {
    inner: S,
    state: Arc<DrainState>,
}

/// Decrements the in-flight count when the call's future ends, however it ends.
struct InFlight(Arc<DrainState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl<S, B> Service<http::Request<B>> for Drain<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>> + Send,
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
        if is_infrastructure_path(request.uri().path()) {
            return Box::pin(self.inner.call(request));
        }
        self.state.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(Arc::clone(&self.state));
        if self.state.draining.load(Ordering::SeqCst) {
            drop(guard);
            let refused = tonic::Status::unavailable("the server is shutting down").into_http();
            return Box::pin(async move { Ok(refused) });
        }
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = call.await;
            drop(guard);
            response
        })
    }
}
