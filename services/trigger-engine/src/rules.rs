//! What replicas cache of the rules (triggers and business-hours schedules): a change is
//! announced on a PostgreSQL channel of the schema, so every replica reloads before its next
//! evaluation.

use sqlx::PgConnection;

/// The notification channel of the schema `schema`.
pub fn channel(schema: &str) -> String {
    format!("{schema}.rules")
}

/// Announces, at commit of `tx`, that triggers or schedules changed.
pub async fn announce_change(tx: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify(current_schema() || '.rules', '')")
        .execute(tx)
        .await?;
    Ok(())
}
