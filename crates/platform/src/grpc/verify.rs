//! Principal verification in front of every handler: a call without a valid signed principal is
//! `UNAUTHENTICATED` before it reaches service code; a valid one is put in the request's
//! extensions, where handlers read it with `RequestPrincipal::principal`.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::BoxFuture;
use tower_layer::Layer;
use tower_service::Service;

use super::is_infrastructure_path;
use crate::principal::{PrincipalKey, VerifiedPrincipal};

/// Verifies principals with `key`; `None` turns verification off (for the gateway, which
/// authenticates callers itself).
#[derive(Debug, Clone, Default)]
pub struct VerifyPrincipalLayer {
    key: Option<Arc<PrincipalKey>>,
}

impl VerifyPrincipalLayer {
    pub fn new(key: Option<PrincipalKey>) -> Self {
        Self {
            key: key.map(Arc::new),
        }
    }
}

impl<S> Layer<S> for VerifyPrincipalLayer {
    type Service = VerifyPrincipal<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyPrincipal {
            inner,
            key: self.key.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct VerifyPrincipal<S> {
    inner: S,
    key: Option<Arc<PrincipalKey>>,
}

impl<S, B> Service<http::Request<B>> for VerifyPrincipal<S>
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

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let Some(key) = &self.key else {
            return Box::pin(self.inner.call(request));
        };
        if is_infrastructure_path(request.uri().path()) {
            return Box::pin(self.inner.call(request));
        }
        let verified = crate::principal::signed_principal(request.headers())
            .ok_or(crate::principal::PrincipalError::Missing)
            .and_then(|signed| key.verify(&signed));
        match verified {
            Ok(principal) => {
                request
                    .extensions_mut()
                    .insert(VerifiedPrincipal(principal));
                Box::pin(self.inner.call(request))
            }
            Err(error) => {
                tracing::info!(%error, path = request.uri().path(), "call refused: bad principal");
                let refused =
                    tonic::Status::unauthenticated("a valid principal is required").into_http();
                Box::pin(async move { Ok(refused) })
            }
        }
    }
}
