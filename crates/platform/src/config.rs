//! Typed configuration: serde defaults, then an optional TOML file (`SWITCHBOARD_CONFIG`), then
//! `SWITCHBOARD_*` environment variables with `__` between nested names
//! (`SWITCHBOARD_DATABASE__URL` sets `database.url`).

use std::{path::PathBuf, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, de::DeserializeOwned};

/// The environment variable naming an optional TOML configuration file.
pub const CONFIG_FILE_VAR: &str = "SWITCHBOARD_CONFIG";

/// Local development defaults: the servers this machine runs on loopback. Logged as such.
pub const DEV_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const DEV_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
pub const DEV_REDIS_URL: &str = "redis://127.0.0.1:6379/0";
pub const DEV_PRINCIPAL_KEY: &str = "switchboard-development-principal-key-do-not-use";

/// The variable that turns on development mode (`1` or `true`): only then do the
/// development defaults of [`DEV_DEFAULTS`] apply. `scripts/dev` and `scripts/test` set it.
pub const DEV_MODE_VAR: &str = "SWITCHBOARD_DEV";

/// Keys whose defaults only make sense on a developer's machine. Outside development mode such
/// a key must be set.
pub const DEV_DEFAULTS: &[&str] = &[
    "database.url",
    "amqp.url",
    "redis.url",
    "principal.key",
    "gateway.auth.local_token.secret",
];

/// The development secrets: public in this repository, so outside development mode they are
/// refused even when set explicitly.
pub const DEV_SECRETS: &[(&str, &str)] = &[
    ("principal.key", DEV_PRINCIPAL_KEY),
    ("gateway.auth.local_token.secret", DEV_LOCAL_TOKEN_SECRET),
];

/// Development default of `gateway.auth.local_token.secret` (the gateway's own tokens).
pub const DEV_LOCAL_TOKEN_SECRET: &str = "switchboard-development-token-secret-do-not-use";

/// The platform keys every service process needs set outside development mode.
pub const SERVICE_KEYS: &[&str] = &["database.url", "amqp.url", "principal.key"];

/// Whether `SWITCHBOARD_DEV` asks for development mode.
pub fn dev_mode() -> bool {
    std::env::var(DEV_MODE_VAR).is_ok_and(|value| {
        matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes"
        )
    })
}

/// Refuses `value` for `key` when it is that key's public development secret, unless in
/// development mode: the last line of defence for code that builds its configuration without
/// [`Loaded::require`].
pub fn refuse_public_secret(key: &str, value: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !is_public_secret(key, value) || dev_mode(),
        "{} is the public development value, which works only with {DEV_MODE_VAR}=1",
        env_var(key)
    );
    Ok(())
}

fn is_public_secret(key: &str, value: &str) -> bool {
    DEV_SECRETS
        .iter()
        .any(|(secret, dev_value)| *secret == key && value == *dev_value)
}

/// The environment variable that sets `key` (`principal.key` → `SWITCHBOARD_PRINCIPAL__KEY`).
pub fn env_var(key: &str) -> String {
    format!(
        "SWITCHBOARD_{}",
        key.to_ascii_uppercase().replace('.', "__")
    )
}

/// A configuration loaded from every source, which can still be asked for other sections.
#[derive(Debug, Clone)]
pub struct Loaded<T> {
    pub config: T,
    /// Development-default keys that no file or variable set, so their defaults are in use.
    pub defaulted: Vec<&'static str>,
    pub dev_mode: bool,
    figment: Figment,
}

impl<T> std::ops::Deref for Loaded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.config
    }
}

impl<T> Loaded<T> {
    /// Section `key` of the configuration (e.g. a role's, `callback`), its defaults where unset.
    pub fn section<S: DeserializeOwned + Default>(&self, key: &str) -> anyhow::Result<S> {
        if !self.figment.contains(key) {
            return Ok(S::default());
        }
        self.figment
            .extract_inner(key)
            .map_err(|e| anyhow::anyhow!("configuration section {key}: {e}"))
    }

    /// Refuses to go on with a development default outside development mode: each of `keys`
    /// that has one must be set, and not to the development value. Names every such variable.
    pub fn require(&self, keys: &[&str]) -> anyhow::Result<()> {
        if self.dev_mode {
            return Ok(());
        }
        let mut missing = Vec::new();
        let mut public = Vec::new();
        for key in keys.iter().filter(|key| DEV_DEFAULTS.contains(key)) {
            let Ok(value) = self.figment.find_value(key) else {
                missing.push(env_var(key));
                continue;
            };
            if value
                .as_str()
                .is_some_and(|value| is_public_secret(key, value))
            {
                public.push(env_var(key));
            }
        }
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!(
                "{} not set; outside development mode ({DEV_MODE_VAR}=1) there is no default",
                missing.join(", ")
            ));
        }
        if !public.is_empty() {
            problems.push(format!(
                "{} set to the public development value; choose a secret of your own",
                public.join(", ")
            ));
        }
        anyhow::ensure!(problems.is_empty(), "{}", problems.join("; "));
        Ok(())
    }
}

/// Loads `T` from the file named by `SWITCHBOARD_CONFIG` (if any) and `SWITCHBOARD_*` variables;
/// fields nobody set keep their serde defaults.
pub fn load<T: DeserializeOwned>() -> anyhow::Result<Loaded<T>> {
    let mut figment = Figment::new();
    if let Some(file) = std::env::var_os(CONFIG_FILE_VAR) {
        figment = figment.merge(Toml::file_exact(PathBuf::from(file)));
    }
    figment = figment.merge(Env::prefixed("SWITCHBOARD_").split("__"));
    let config = figment.extract()?;
    let defaulted = DEV_DEFAULTS
        .iter()
        .copied()
        .filter(|key| !figment.contains(key))
        .collect();
    Ok(Loaded {
        config,
        defaulted,
        dev_mode: dev_mode(),
        figment,
    })
}

/// What every service process needs, whatever its role.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PlatformConfig {
    pub database: DatabaseConfig,
    pub amqp: AmqpConfig,
    pub redis: RedisConfig,
    pub principal: PrincipalConfig,
    pub grpc: GrpcConfig,
    pub telemetry: TelemetryConfig,
    /// The contact center's time zone (IANA name): local days and months.
    pub time_zone: String,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        Self {
            database: DatabaseConfig::default(),
            amqp: AmqpConfig::default(),
            redis: RedisConfig::default(),
            principal: PrincipalConfig::default(),
            grpc: GrpcConfig::default(),
            telemetry: TelemetryConfig::default(),
            time_zone: "Asia/Seoul".into(),
        }
    }
}

/// PostgreSQL.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// Connection URL; may hold a password, so it is kept secret.
    pub url: SecretString,
    /// Most connections one service keeps open.
    pub max_connections: u32,
    /// How long a caller waits for a free connection, in milliseconds.
    pub acquire_timeout_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from(DEV_DATABASE_URL),
            max_connections: 16,
            acquire_timeout_ms: 5_000,
        }
    }
}

impl DatabaseConfig {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.acquire_timeout_ms)
    }
}

/// RabbitMQ.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AmqpConfig {
    /// Connection URL; may hold a password, so it is kept secret.
    pub url: SecretString,
    /// The durable topic exchange every event is published to.
    pub exchange: String,
    /// The exchange dead letters go to; each queue's dead letters land in `<queue>.dead-letter`.
    pub dead_letter_exchange: String,
}

impl Default for AmqpConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from(DEV_AMQP_URL),
            exchange: "switchboard.events".into(),
            dead_letter_exchange: "switchboard.dead-letter".into(),
        }
    }
}

/// Redis.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RedisConfig {
    pub url: SecretString,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from(DEV_REDIS_URL),
        }
    }
}

/// The key the gateway signs principals with and every service verifies them with.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PrincipalConfig {
    /// Shared secret of at least 32 bytes.
    pub key: SecretString,
    /// Longest lifetime a signed principal may claim, in seconds.
    pub max_lifetime_s: u64,
}

impl Default for PrincipalConfig {
    fn default() -> Self {
        Self {
            key: SecretString::from(DEV_PRINCIPAL_KEY),
            max_lifetime_s: 300,
        }
    }
}

/// The gRPC server every service runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct GrpcConfig {
    /// Largest request or response message, in bytes.
    pub max_message_bytes: usize,
    /// How long in-flight calls may take to finish after SIGTERM, in milliseconds.
    pub drain_timeout_ms: u64,
    /// Most calls one connection may have in flight at once.
    pub max_concurrent_streams: u32,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 4 * 1024 * 1024,
            drain_timeout_ms: 30_000,
            max_concurrent_streams: 1_024,
        }
    }
}

impl GrpcConfig {
    pub fn drain_timeout(&self) -> Duration {
        Duration::from_millis(self.drain_timeout_ms)
    }
}

/// Logs and traces. Traces are exported by OTLP only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TelemetryConfig {
    /// A `tracing` filter such as `info` or `info,switchboard_platform=debug`.
    pub log_filter: String,
    /// `json` (default, for log collectors) or `pretty` (for a terminal).
    pub log_format: LogFormat,
    /// Where the process serves its metrics (Prometheus text at `/metrics`); not served when
    /// unset.
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_filter: "info".into(),
            log_format: LogFormat::Json,
            metrics_listen: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_public_values_of_the_secrets_count_as_public() {
        assert!(is_public_secret("principal.key", DEV_PRINCIPAL_KEY));
        assert!(is_public_secret(
            "gateway.auth.local_token.secret",
            DEV_LOCAL_TOKEN_SECRET
        ));
        assert!(!is_public_secret(
            "principal.key",
            "a-key-of-this-deployment-only-0123"
        ));
        assert!(!is_public_secret("database.url", DEV_DATABASE_URL));
    }

    #[test]
    fn variables_are_named_as_the_environment_spells_them() {
        assert_eq!(env_var("principal.key"), "SWITCHBOARD_PRINCIPAL__KEY");
        assert_eq!(
            env_var("gateway.auth.local_token.secret"),
            "SWITCHBOARD_GATEWAY__AUTH__LOCAL_TOKEN__SECRET"
        );
    }
}
