//! The rules every replica evaluates with (triggers and business-hours schedules), compiled
//! once per change: each change raises `rules_version` in its transaction, and a replica reads
//! that counter before each batch of events and recompiles when it moved, so a change takes
//! effect for the next event on every replica.

mod cache;

pub use cache::{Rules, RulesCache};

use sqlx::PgConnection;

/// Records, in `tx`, that triggers or schedules changed.
pub async fn announce_change(tx: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("UPDATE rules_version SET version = version + 1")
        .execute(tx)
        .await?;
    Ok(())
}

/// The current version of the rules.
pub async fn version(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT version FROM rules_version")
        .fetch_one(conn)
        .await
}
