//! What the reporting model holds of a run: its callbacks looked up by id (the primary key of
//! `reporting.callback_facts`, so the cost follows the ids asked, not the table), and the
//! count of events it has applied.

use std::collections::HashSet;

use sqlx::PgPool;

/// Ids asked at once (`= ANY($1)`).
pub const CHUNK: usize = 5_000;

/// Which of `ids` the reporting model holds.
pub async fn held(pool: &PgPool, ids: &[uuid::Uuid]) -> anyhow::Result<HashSet<uuid::Uuid>> {
    let mut found = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        found.extend(held_chunk(pool, chunk).await?);
    }
    Ok(found)
}

/// Which of at most [`CHUNK`] `ids` the reporting model holds.
pub async fn held_chunk(pool: &PgPool, ids: &[uuid::Uuid]) -> anyhow::Result<Vec<uuid::Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT callback_id FROM reporting.callback_facts WHERE callback_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?)
}

/// Events the callback model has applied since it was built (`reporting.read_models`).
pub async fn applied_events(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT applied_event_count FROM reporting.read_models WHERE name = 'callbacks'",
    )
    .fetch_optional(pool)
    .await?
    .unwrap_or(0))
}
