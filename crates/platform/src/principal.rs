//! The principal: who is calling, as the gateway verified it. The gateway signs it (HMAC-SHA256
//! under the mesh's shared key) into the `x-switchboard-principal-bin` metadata of every call it
//! forwards; every service verifies it before a handler runs and decides row access from it.

use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use prost::Message;
use secrecy::ExposeSecret;
use sha2::Sha256;
use switchboard_proto::common::v1::{Actor, Principal, PrincipalKind, SignedPrincipal};

use crate::config::PrincipalConfig;

/// The metadata key that carries a signed principal (binary, so base64 on the wire).
pub const PRINCIPAL_METADATA_KEY: &str = "x-switchboard-principal-bin";

/// Why a principal was refused. Callers only ever see `UNAUTHENTICATED`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrincipalError {
    #[error("no principal was attached to the call")]
    Missing,
    #[error("the principal is not well formed")]
    Malformed,
    #[error("the principal's signature does not match")]
    BadSignature,
    #[error("the principal has expired")]
    Expired,
    #[error("the principal claims a lifetime longer than allowed")]
    LifetimeTooLong,
    #[error("the principal has no subject or kind")]
    Incomplete,
}

/// Signs and verifies principals with the mesh's shared key.
#[derive(Clone)]
pub struct PrincipalKey {
    key: Vec<u8>,
    max_lifetime: Duration,
}

impl std::fmt::Debug for PrincipalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrincipalKey")
            .field("max_lifetime", &self.max_lifetime)
            .finish_non_exhaustive()
    }
}

impl PrincipalKey {
    /// A key from configuration; refuses keys shorter than 32 bytes.
    pub fn from_config(config: &PrincipalConfig) -> anyhow::Result<Self> {
        crate::config::refuse_public_secret("principal.key", config.key.expose_secret())?;
        let key = config.key.expose_secret().as_bytes().to_vec();
        anyhow::ensure!(key.len() >= 32, "principal.key must be at least 32 bytes");
        Ok(Self {
            key,
            max_lifetime: Duration::from_secs(config.max_lifetime_s),
        })
    }

    /// Signs `principal`, valid for `lifetime` from now, as metadata bytes.
    pub fn sign(&self, mut principal: Principal, lifetime: Duration) -> Vec<u8> {
        principal.expire_time = Some(prost_types::Timestamp::from(SystemTime::now() + lifetime));
        let principal = principal.encode_to_vec();
        let signature = self.mac(&principal).finalize().into_bytes().to_vec();
        SignedPrincipal {
            principal,
            signature,
        }
        .encode_to_vec()
    }

    /// Checks the signature, the expiry and the shape of a signed principal.
    pub fn verify(&self, signed: &[u8]) -> Result<Principal, PrincipalError> {
        let signed = SignedPrincipal::decode(signed).map_err(|_| PrincipalError::Malformed)?;
        self.mac(&signed.principal)
            .verify_slice(&signed.signature)
            .map_err(|_| PrincipalError::BadSignature)?;
        let principal = Principal::decode(signed.principal.as_slice())
            .map_err(|_| PrincipalError::Malformed)?;
        let expires = principal
            .expire_time
            .and_then(|t| SystemTime::try_from(t).ok())
            .ok_or(PrincipalError::Malformed)?;
        let now = SystemTime::now();
        if expires <= now {
            return Err(PrincipalError::Expired);
        }
        if expires > now + self.max_lifetime {
            return Err(PrincipalError::LifetimeTooLong);
        }
        if principal.subject.is_empty() || principal.kind() == PrincipalKind::Unspecified {
            return Err(PrincipalError::Incomplete);
        }
        Ok(principal)
    }

    fn mac(&self, message: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("hmac takes any key length");
        mac.update(message);
        mac
    }
}

/// The signed principal bytes of a call (a `-bin` header: base64, padded or not), if any.
pub fn signed_principal(headers: &http::HeaderMap) -> Option<Vec<u8>> {
    // Only the one header is copied: tonic decodes `-bin` values through a metadata map.
    let mut only = http::HeaderMap::with_capacity(1);
    only.insert(
        PRINCIPAL_METADATA_KEY,
        headers.get(PRINCIPAL_METADATA_KEY)?.clone(),
    );
    let metadata = tonic::metadata::MetadataMap::from_headers(only);
    let bytes = metadata.get_bin(PRINCIPAL_METADATA_KEY)?.to_bytes().ok()?;
    Some(bytes.to_vec())
}

/// The verified principal, put into request extensions by the verify layer.
#[derive(Debug, Clone)]
pub struct VerifiedPrincipal(pub Principal);

/// Reads the verified principal of a call inside a handler.
pub trait RequestPrincipal {
    /// The principal, or `UNAUTHENTICATED` when the server runs without verification.
    fn principal(&self) -> Result<&Principal, tonic::Status>;
}

impl<T> RequestPrincipal for tonic::Request<T> {
    fn principal(&self) -> Result<&Principal, tonic::Status> {
        self.extensions()
            .get::<VerifiedPrincipal>()
            .map(|verified| &verified.0)
            .ok_or_else(|| tonic::Status::unauthenticated("no verified principal"))
    }
}

/// Role checks every handler makes the same way.
pub trait PrincipalExt {
    fn is_admin(&self) -> bool;
    fn has_permission(&self, permission: &str) -> bool;
    fn has_scope(&self, scope: &str) -> bool;
    /// The principal as the actor of a change, for histories and events.
    fn actor(&self) -> Actor;
    /// `PERMISSION_DENIED` unless the principal is an admin.
    fn require_admin(&self) -> Result<(), tonic::Status>;
}

impl PrincipalExt for Principal {
    fn is_admin(&self) -> bool {
        self.kind() == PrincipalKind::Admin
    }

    fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    fn has_scope(&self, scope: &str) -> bool {
        self.kind() == PrincipalKind::Service && self.scopes.iter().any(|s| s == scope)
    }

    fn actor(&self) -> Actor {
        let kind = match self.kind() {
            PrincipalKind::Agent => "agent",
            PrincipalKind::Admin => "admin",
            PrincipalKind::Service => "service",
            PrincipalKind::Unspecified => "system",
        };
        Actor {
            subject: self.subject.clone(),
            kind: kind.to_owned(),
            display_name: self.display_name.clone(),
        }
    }

    fn require_admin(&self) -> Result<(), tonic::Status> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(tonic::Status::permission_denied(
                "this method is for admins only",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    fn key(secret: &str) -> PrincipalKey {
        PrincipalKey::from_config(&PrincipalConfig {
            key: SecretString::from(secret),
            max_lifetime_s: 60,
        })
        .unwrap()
    }

    fn agent() -> Principal {
        Principal {
            subject: "kim".into(),
            kind: PrincipalKind::Agent.into(),
            permissions: vec!["phone".into()],
            ..Default::default()
        }
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_signed_principal_verifies() {
        let key = key(SECRET);
        let verified = key
            .verify(&key.sign(agent(), Duration::from_secs(30)))
            .unwrap();
        assert_eq!(verified.subject, "kim");
        assert!(verified.has_permission("phone"));
        assert!(!verified.is_admin());
    }

    #[test]
    fn another_key_is_refused() {
        let signed = key(SECRET).sign(agent(), Duration::from_secs(30));
        let other = key("another-key-another-key-another-key");
        assert_eq!(other.verify(&signed), Err(PrincipalError::BadSignature));
    }

    #[test]
    fn a_tampered_principal_is_refused() {
        let key = key(SECRET);
        let mut signed =
            SignedPrincipal::decode(key.sign(agent(), Duration::from_secs(30)).as_slice()).unwrap();
        let mut principal = Principal::decode(signed.principal.as_slice()).unwrap();
        principal.kind = PrincipalKind::Admin.into();
        signed.principal = principal.encode_to_vec();
        assert_eq!(
            key.verify(&signed.encode_to_vec()),
            Err(PrincipalError::BadSignature)
        );
    }

    #[test]
    fn expired_and_overlong_principals_are_refused() {
        let key = key(SECRET);
        let mut expired = agent();
        expired.expire_time = Some(prost_types::Timestamp::from(
            SystemTime::now() - Duration::from_secs(1),
        ));
        let signed = SignedPrincipal {
            signature: key
                .mac(&expired.encode_to_vec())
                .finalize()
                .into_bytes()
                .to_vec(),
            principal: expired.encode_to_vec(),
        };
        assert_eq!(
            key.verify(&signed.encode_to_vec()),
            Err(PrincipalError::Expired)
        );
        let long = key.sign(agent(), Duration::from_secs(3_600));
        assert_eq!(key.verify(&long), Err(PrincipalError::LifetimeTooLong));
    }

    #[test]
    fn short_keys_and_garbage_are_refused() {
        assert!(
            PrincipalKey::from_config(&PrincipalConfig {
                key: SecretString::from("short"),
                max_lifetime_s: 60
            })
            .is_err()
        );
        assert_eq!(
            key(SECRET).verify(b"\xff\xff"),
            Err(PrincipalError::Malformed)
        );
    }
}
