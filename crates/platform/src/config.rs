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

/// A configuration loaded from every source, with the keys that came from no source at all.
pub struct Loaded<T> {
    pub config: T,
    /// Keys among those asked about that no file or variable set, so their defaults are in use.
    pub defaulted: Vec<&'static str>,
}

/// Loads `T` from the file named by `SWITCHBOARD_CONFIG` (if any) and `SWITCHBOARD_*` variables;
/// fields nobody set keep their serde defaults. `watch` names the keys whose development default
/// should be reported when nobody set them.
pub fn load<T: DeserializeOwned>(watch: &[&'static str]) -> anyhow::Result<Loaded<T>> {
    let mut figment = Figment::new();
    if let Some(file) = std::env::var_os(CONFIG_FILE_VAR) {
        figment = figment.merge(Toml::file_exact(PathBuf::from(file)));
    }
    figment = figment.merge(Env::prefixed("SWITCHBOARD_").split("__"));
    let config = figment.extract()?;
    let defaulted = watch
        .iter()
        .copied()
        .filter(|key| !figment.contains(key))
        .collect();
    Ok(Loaded { config, defaulted })
}

/// The keys of [`PlatformConfig`] whose defaults only make sense on a developer's machine.
pub const DEV_DEFAULT_KEYS: &[&str] = &["database.url", "amqp.url", "redis.url", "principal.key"];

/// What every service process needs, whatever its role.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct PlatformConfig {
    pub database: DatabaseConfig,
    pub amqp: AmqpConfig,
    pub redis: RedisConfig,
    pub principal: PrincipalConfig,
    pub grpc: GrpcConfig,
    pub telemetry: TelemetryConfig,
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
