//! Storage: plain async functions over a connection (inside the caller's transaction) or the
//! pool, one file per table.

pub mod counts;
pub mod facts;
pub mod log;
pub mod routes;
pub mod status;
pub mod ticket_backlog;
pub mod ticket_dimensions;
pub mod ticket_facts;
pub mod ticket_filter;
pub mod ticket_states;
pub mod ticket_volume;
pub mod unfinished;

use sqlx::PgConnection;
use switchboard_platform::error::Result;
use uuid::Uuid;

/// Takes, until the transaction ends, the advisory locks of `ids` in lock class `class` (the
/// second key is taken from the id). The locks are taken in key order in one statement, so two
/// workers folding overlapping batches wait for each other rather than deadlock.
pub async fn lock_ids(tx: &mut PgConnection, class: i32, ids: &[Uuid]) -> Result<()> {
    let mut keys: Vec<i32> = ids
        .iter()
        .map(|id| {
            let bytes = id.as_bytes();
            i32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]])
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    // The ordered subquery is not flattened into the outer query (it sorts), so the function
    // runs row by row in key order.
    sqlx::query(
        "SELECT pg_advisory_xact_lock($1, key)
         FROM (SELECT key FROM unnest($2::int4[]) AS key ORDER BY key) AS keys",
    )
    .bind(class)
    .bind(keys)
    .execute(tx)
    .await?;
    Ok(())
}
