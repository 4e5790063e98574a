//! `read_models`: how fresh each model is, and the time zone its local days were computed in.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::Result;

/// The callback model's name.
pub const CALLBACKS: &str = "callbacks";
/// The ticket model's name.
pub const TICKETS: &str = "tickets";
/// Every model, by name.
pub const MODELS: [&str; 2] = [CALLBACKS, TICKETS];

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ModelStatus {
    pub name: String,
    pub time_zone: String,
    pub newest_event_time: Option<DateTime<Utc>>,
    pub last_apply_time: Option<DateTime<Utc>>,
    pub applied_event_count: i64,
}

/// Registers the models with `time_zone` when they are new. A model built in another zone
/// would put callbacks in the wrong local days, so that is an error until it is rebuilt.
pub async fn ensure(pool: &PgPool, time_zone: &str) -> anyhow::Result<()> {
    for name in MODELS {
        sqlx::query(
            "INSERT INTO read_models (name, time_zone) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .bind(time_zone)
        .execute(pool)
        .await?;
    }
    let other: Option<(String, String)> = sqlx::query_as(
        "SELECT name, time_zone FROM read_models WHERE time_zone <> $1 ORDER BY name LIMIT 1",
    )
    .bind(time_zone)
    .fetch_optional(pool)
    .await?;
    if let Some((name, built_in)) = other {
        anyhow::bail!(
            "the {name} read model was built in time zone {built_in}, but time_zone is \
             {time_zone}; run `switchboard reporting rebuild` to rebuild it in {time_zone}"
        );
    }
    Ok(())
}

/// Counts `count` more applied events of `name`; `occur_time` (the newest of their callback
/// events) advances the model's freshness. Runs last in the applying transaction: the row is
/// shared by every consumer, so it is held briefly.
pub async fn record_applied(
    tx: &mut PgConnection,
    name: &str,
    count: usize,
    occur_time: Option<DateTime<Utc>>,
) -> Result<()> {
    sqlx::query(
        "UPDATE read_models SET applied_event_count = applied_event_count + $3,
             newest_event_time = greatest(newest_event_time, $2), last_apply_time = now()
         WHERE name = $1",
    )
    .bind(name)
    .bind(occur_time)
    .bind(count as i64)
    .execute(tx)
    .await?;
    Ok(())
}

/// Marks model `name` as freshly built in `time_zone` from `count` events, the newest at
/// `newest`.
pub async fn rebuilt(
    tx: &mut PgConnection,
    name: &str,
    time_zone: &str,
    count: i64,
    newest: Option<DateTime<Utc>>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO read_models (name, time_zone, newest_event_time, last_apply_time,
             applied_event_count, build_time)
         VALUES ($1, $2, $3, CASE WHEN $4 > 0 THEN now() END, $4, now())
         ON CONFLICT (name) DO UPDATE SET time_zone = EXCLUDED.time_zone,
             newest_event_time = EXCLUDED.newest_event_time,
             last_apply_time = EXCLUDED.last_apply_time,
             applied_event_count = EXCLUDED.applied_event_count, build_time = now()",
    )
    .bind(name)
    .bind(time_zone)
    .bind(newest)
    .bind(count)
    .execute(tx)
    .await?;
    Ok(())
}

/// Model `name`'s status, if it exists.
pub async fn get(pool: &PgPool, name: &str) -> Result<Option<ModelStatus>> {
    Ok(sqlx::query_as(
        "SELECT name, time_zone, newest_event_time, last_apply_time, applied_event_count
         FROM read_models WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(pool)
    .await?)
}
