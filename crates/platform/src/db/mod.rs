//! PostgreSQL: one pool per service, each service in its own schema, migrations embedded and run
//! under an advisory lock so that many replicas (or a Helm hook Job) may start at once.

mod migrate;
mod transaction;

use secrecy::ExposeSecret;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

pub use migrate::{PLATFORM_MIGRATOR, migrate};
pub use transaction::{Transaction, acquire, begin, commit};

use crate::config::DatabaseConfig;

/// A pool whose connections see `schema` first (`search_path`), so a service's SQL names its
/// own tables without qualification.
/// The prepared statements a connection keeps (sqlx's default is 100).
const STATEMENT_CACHE: usize = 400;

pub async fn connect(config: &DatabaseConfig, schema: &str) -> anyhow::Result<PgPool> {
    check_schema_name(schema)?;
    let options: PgConnectOptions = config
        .url
        .expose_secret()
        .parse()
        .map_err(|e| anyhow::anyhow!("database.url is not a PostgreSQL URL: {e}"))?;
    let options = options
        .options([("search_path", schema)])
        .application_name(&format!("switchboard-{schema}"))
        // Batched writes make one statement per batch size (up to 64 of each kind): room for
        // them beside the rest, so they stay prepared.
        .statement_cache_capacity(STATEMENT_CACHE);
    let pool = PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout())
        .connect_with(options)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot reach PostgreSQL ({e}); is it running? \
                 start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
            )
        })?;
    Ok(pool)
}

/// Schema names go into SQL text, so only plain lowercase identifiers are allowed.
pub fn check_schema_name(schema: &str) -> anyhow::Result<()> {
    let valid = !schema.is_empty()
        && schema.len() <= 63
        && schema.starts_with(|c: char| c.is_ascii_lowercase())
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    anyhow::ensure!(valid, "{schema:?} is not a valid schema name");
    Ok(())
}
