//! Bearer tokens: the identity provider's (RS256, ES256 or EdDSA, from a JWKS URL or a configured
//! public key) and the gateway's own (HS256 under a secret only the gateway holds). Each issuer
//! is verified with its own keys and algorithms, so `alg: none` and HS256 signed with a public
//! key never verify.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::jwks::JwksCache;
use crate::config::{IdpConfig, LocalTokenConfig};

/// Why a token was refused; callers see `UNAUTHENTICATED` with this text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the bearer token is malformed")]
    Malformed,
    #[error("the bearer token has expired")]
    Expired,
    #[error("the bearer token is not valid yet")]
    NotYetValid,
    #[error("the bearer token is for another audience")]
    WrongAudience,
    #[error("the bearer token's issuer is not trusted")]
    UntrustedIssuer,
    #[error("the bearer token's algorithm is not allowed")]
    AlgorithmNotAllowed,
    #[error("the bearer token's signature does not verify")]
    BadSignature,
    #[error("the bearer token names no signing key the identity provider publishes")]
    UnknownKey,
    #[error("the bearer token has no {0} claim")]
    MissingClaim(String),
    #[error("the identity provider's keys cannot be fetched")]
    KeysUnavailable,
}

fn token_error(error: &jsonwebtoken::errors::Error) -> TokenError {
    match error.kind() {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::InvalidIssuer => TokenError::UntrustedIssuer,
        ErrorKind::InvalidAlgorithm => TokenError::AlgorithmNotAllowed,
        ErrorKind::InvalidSignature | ErrorKind::InvalidKeyFormat => TokenError::BadSignature,
        ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim.clone()),
        _ => TokenError::Malformed,
    }
}

/// Who a verified token names, and whose token it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSubject {
    pub login: String,
    pub local: bool,
}

/// The claims of the gateway's own tokens.
#[derive(Debug, Serialize, Deserialize)]
struct LocalClaims {
    iss: String,
    aud: String,
    sub: String,
    iat: u64,
    nbf: u64,
    exp: u64,
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Verifies every bearer token the gateway accepts and issues its own.
pub struct TokenVerifier {
    local: LocalTokenConfig,
    local_encoding: EncodingKey,
    local_decoding: DecodingKey,
    idp: Option<(IdpConfig, IdpKeys)>,
}

/// Where the identity provider's keys come from.
enum IdpKeys {
    Pem(Vec<(Algorithm, DecodingKey)>),
    Jwks(JwksCache),
}

impl TokenVerifier {
    pub fn new(local: LocalTokenConfig, idp: Option<IdpConfig>) -> anyhow::Result<Self> {
        switchboard_platform::config::refuse_public_secret(
            "gateway.auth.local_token.secret",
            local.secret.expose_secret(),
        )?;
        let secret = local.secret.expose_secret().as_bytes().to_vec();
        anyhow::ensure!(
            secret.len() >= 32,
            "gateway.auth.local_token.secret must be at least 32 bytes"
        );
        let idp = match idp {
            None => None,
            Some(idp) => {
                let algorithms = idp.allowed_algorithms()?;
                let keys = if !idp.public_key_pem.is_empty() {
                    let pem = idp.public_key_pem.as_bytes();
                    let keys = algorithms
                        .iter()
                        .filter_map(|alg| pem_key(*alg, pem).map(|key| (*alg, key)))
                        .collect::<Vec<_>>();
                    anyhow::ensure!(
                        !keys.is_empty(),
                        "gateway.auth.idp.public_key_pem fits none of the allowed algorithms"
                    );
                    IdpKeys::Pem(keys)
                } else if !idp.jwks_url.is_empty() {
                    IdpKeys::Jwks(JwksCache::new(
                        &idp.jwks_url,
                        Duration::from_secs(idp.jwks_refresh_s),
                    )?)
                } else {
                    anyhow::bail!("gateway.auth.idp needs jwks_url or public_key_pem");
                };
                Some((idp, keys))
            }
        };
        Ok(Self {
            local_encoding: EncodingKey::from_secret(&secret),
            local_decoding: DecodingKey::from_secret(&secret),
            local,
            idp,
        })
    }

    /// Issues a token of the gateway's own for `login`, valid for `ttl` (capped by config).
    /// The longest lifetime an issued token may have (`auth.local_token.max_ttl_s`).
    pub fn max_ttl(&self) -> Duration {
        Duration::from_secs(self.local.max_ttl_s)
    }

    pub fn issue(&self, login: &str, ttl: Option<Duration>) -> (String, SystemTime) {
        let ttl = ttl
            .unwrap_or(Duration::from_secs(self.local.default_ttl_s))
            .min(Duration::from_secs(self.local.max_ttl_s));
        let now = now_s();
        let claims = LocalClaims {
            iss: self.local.issuer.clone(),
            aud: self.local.audience.clone(),
            sub: login.to_owned(),
            iat: now,
            nbf: now,
            exp: now + ttl.as_secs(),
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.local_encoding,
        )
        .expect("HS256 with a secret key always encodes");
        (token, UNIX_EPOCH + Duration::from_secs(claims.exp))
    }

    /// Verifies `token` and returns the login it names (not yet checked against the directory).
    pub async fn verify(&self, token: &str) -> Result<TokenSubject, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
            // `alg: none` (and any unknown algorithm) fails to parse as a header.
            ErrorKind::Json(_) => TokenError::AlgorithmNotAllowed,
            _ => TokenError::Malformed,
        })?;
        #[derive(Deserialize)]
        struct Issuer {
            #[serde(default)]
            iss: String,
        }
        let issuer = jsonwebtoken::dangerous::insecure_decode_claims::<Issuer>(token)
            .map_err(|_| TokenError::Malformed)?
            .iss;
        if issuer == self.local.issuer {
            let mut validation = Validation::new(Algorithm::HS256);
            self.restrict(&mut validation, &self.local.issuer, &self.local.audience, 0);
            let data =
                jsonwebtoken::decode::<LocalClaims>(token, &self.local_decoding, &validation)
                    .map_err(|e| token_error(&e))?;
            return Ok(TokenSubject {
                login: data.claims.sub,
                local: true,
            });
        }
        let Some((idp, keys)) = &self.idp else {
            return Err(TokenError::UntrustedIssuer);
        };
        if issuer != idp.issuer {
            return Err(TokenError::UntrustedIssuer);
        }
        let allowed = idp
            .allowed_algorithms()
            .map_err(|_| TokenError::AlgorithmNotAllowed)?;
        if !allowed.contains(&header.alg) {
            return Err(TokenError::AlgorithmNotAllowed);
        }
        let key = match keys {
            IdpKeys::Pem(keys) => keys
                .iter()
                .find(|(alg, _)| *alg == header.alg)
                .map(|(_, key)| key.clone())
                .ok_or(TokenError::AlgorithmNotAllowed)?,
            IdpKeys::Jwks(cache) => cache.key(header.kid.as_deref()).await?,
        };
        let mut validation = Validation::new(header.alg);
        self.restrict(&mut validation, &idp.issuer, &idp.audience, idp.leeway_s);
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &key,
            &validation,
        )
        .map_err(|e| token_error(&e))?;
        let login = data
            .claims
            .get(&idp.login_claim)
            .and_then(|v| v.as_str())
            .ok_or_else(|| TokenError::MissingClaim(idp.login_claim.clone()))?;
        Ok(TokenSubject {
            login: login.to_owned(),
            local: false,
        })
    }

    fn restrict(&self, validation: &mut Validation, issuer: &str, audience: &str, leeway_s: u64) {
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = leeway_s;
    }
}

/// The key in `pem` for `alg`, when the PEM holds a key of that algorithm's family.
fn pem_key(alg: Algorithm, pem: &[u8]) -> Option<DecodingKey> {
    match alg {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256 => {
            DecodingKey::from_rsa_pem(pem).ok()
        }
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem).ok(),
        Algorithm::EdDSA => DecodingKey::from_ed_pem(pem).ok(),
        _ => None,
    }
}
