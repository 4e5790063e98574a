//! The interceptor every outgoing call of the mesh goes through: it carries the current trace
//! on and, for calls made on someone's behalf (the gateway) or as a service, a signed principal.

use std::{sync::Arc, time::Duration};

use switchboard_proto::common::v1::Principal;
use tonic::metadata::MetadataValue;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::principal::{PRINCIPAL_METADATA_KEY, PrincipalKey};

/// Injects W3C trace context, and a freshly signed principal when one is set.
#[derive(Debug, Clone, Default)]
pub struct MeshInterceptor {
    signer: Option<Arc<(PrincipalKey, Principal, Duration)>>,
}

impl MeshInterceptor {
    /// Trace context only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also signs `principal` into every call, valid for `lifetime`.
    pub fn with_principal(key: PrincipalKey, principal: Principal, lifetime: Duration) -> Self {
        Self {
            signer: Some(Arc::new((key, principal, lifetime))),
        }
    }
}

impl tonic::service::Interceptor for MeshInterceptor {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let context = tracing::Span::current().context();
        crate::telemetry::inject_into_metadata(&context, request.metadata_mut());
        if let Some(signer) = &self.signer {
            let (key, principal, lifetime) = signer.as_ref();
            let signed = key.sign(principal.clone(), *lifetime);
            request
                .metadata_mut()
                .insert_bin(PRINCIPAL_METADATA_KEY, MetadataValue::from_bytes(&signed));
        }
        Ok(request)
    }
}
