//! The gateway's settings (`gateway.*` in the configuration file, `SWITCHBOARD_GATEWAY__*`).

use std::time::Duration;

use jsonwebtoken::Algorithm;
use secrecy::SecretString;
use serde::Deserialize;
use switchboard_platform::config::DEV_LOCAL_TOKEN_SECRET;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct GatewaySettings {
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub presence: PresenceConfig,
    /// How often the health of each routed service is checked, in milliseconds.
    pub upstream_health_interval_ms: u64,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
            presence: PresenceConfig::default(),
            upstream_health_interval_ms: 5_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    pub local_token: LocalTokenConfig,
    /// The company's identity provider; unset (no issuer) means only the gateway's own tokens.
    pub idp: Option<IdpConfig>,
    /// Lifetime of the principal the gateway signs into each forwarded call, in seconds.
    pub principal_lifetime_s: u64,
    /// How long a directory entry or API key read for authentication is reused, in
    /// milliseconds. Changes made through this gateway apply at once; other replicas see them
    /// within this time.
    pub cache_ms: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            local_token: LocalTokenConfig::default(),
            idp: None,
            principal_lifetime_s: 60,
            cache_ms: 2_000,
        }
    }
}

impl AuthConfig {
    pub fn cache_ttl(&self) -> Duration {
        Duration::from_millis(self.cache_ms)
    }
}

/// Tokens the gateway issues itself (`switchboard token`, `AuthService.IssueToken`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LocalTokenConfig {
    /// HS256 secret, at least 32 bytes; known only to the gateway.
    pub secret: SecretString,
    pub issuer: String,
    pub audience: String,
    pub default_ttl_s: u64,
    pub max_ttl_s: u64,
}

impl Default for LocalTokenConfig {
    fn default() -> Self {
        Self {
            secret: SecretString::from(DEV_LOCAL_TOKEN_SECRET),
            issuer: "switchboard".into(),
            audience: "switchboard".into(),
            default_ttl_s: 8 * 3_600,
            max_ttl_s: 24 * 3_600,
        }
    }
}

/// The company's identity provider (OIDC): its tokens name agents by `login_claim`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct IdpConfig {
    pub issuer: String,
    pub audience: String,
    /// Where its signing keys are published (refreshed every `jwks_refresh_s`)...
    pub jwks_url: String,
    /// ...or one PEM public key, when it publishes none.
    pub public_key_pem: String,
    /// Allowed signature algorithms: asymmetric only (RS256, RS384, RS512, PS256, ES256,
    /// ES384, EdDSA).
    pub algorithms: Vec<String>,
    /// The claim holding the agent's login.
    pub login_claim: String,
    pub jwks_refresh_s: u64,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway_s: u64,
}

impl Default for IdpConfig {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            audience: String::new(),
            jwks_url: String::new(),
            public_key_pem: String::new(),
            algorithms: vec!["RS256".into(), "ES256".into(), "EdDSA".into()],
            login_claim: "sub".into(),
            jwks_refresh_s: 300,
            leeway_s: 30,
        }
    }
}

impl IdpConfig {
    /// The allowed algorithms; symmetric ones are refused, so a public key can never serve as
    /// an HMAC secret.
    pub fn allowed_algorithms(&self) -> anyhow::Result<Vec<Algorithm>> {
        anyhow::ensure!(
            !self.issuer.is_empty(),
            "gateway.auth.idp.issuer is required"
        );
        anyhow::ensure!(
            !self.audience.is_empty(),
            "gateway.auth.idp.audience is required"
        );
        self.algorithms
            .iter()
            .map(|name| match name.as_str() {
                "RS256" => Ok(Algorithm::RS256),
                "RS384" => Ok(Algorithm::RS384),
                "RS512" => Ok(Algorithm::RS512),
                "PS256" => Ok(Algorithm::PS256),
                "ES256" => Ok(Algorithm::ES256),
                "ES384" => Ok(Algorithm::ES384),
                "EdDSA" => Ok(Algorithm::EdDSA),
                other => anyhow::bail!(
                    "gateway.auth.idp.algorithms: {other:?} is not allowed (asymmetric algorithms only)"
                ),
            })
            .collect()
    }
}

/// Limits on what callers may send.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LimitsConfig {
    /// Calls per second each principal may make on average...
    pub rate_per_s: f64,
    /// ...and in a burst.
    pub burst: u32,
    /// Calls the gateway runs at once; more are refused with `UNAVAILABLE`.
    pub max_concurrent_calls: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            rate_per_s: 200.0,
            burst: 400,
            max_concurrent_calls: 1_024,
        }
    }
}

/// CTI presence.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PresenceConfig {
    /// Seconds without a heartbeat after which an agent is no longer CTI-logged-in.
    pub ttl_s: u64,
    /// How often expired sessions are looked for, in milliseconds.
    pub sweep_interval_ms: u64,
    /// Prefix of the Redis keys (one per installation sharing a Redis).
    pub key_prefix: String,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self {
            ttl_s: 60,
            sweep_interval_ms: 1_000,
            key_prefix: "switchboard:presence".into(),
        }
    }
}
