//! Folds the appended count changes (table `ticket_count_changes`, written by a trigger on every
//! change of a ticket's group, assignee or status) into `ticket_counts`, so the views' counts
//! read a small table. Counting stays exact without it (a count sums both tables); folding only
//! keeps the appended rows few. Any number of replicas run it; one folds at a time.

use std::time::Duration;

use sqlx::PgPool;
use switchboard_platform::{error::Result, shutdown::Shutdown};

/// How often the changes are folded.
const EVERY: Duration = Duration::from_secs(1);

pub struct CountFolder {
    pool: PgPool,
}

impl CountFolder {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Folds every second until `shutdown`; a failed round is logged and tried again.
    pub async fn run(self, mut shutdown: Shutdown) {
        while !shutdown.is_triggered() {
            if let Err(error) = self.fold().await {
                tracing::warn!(%error, "folding ticket counts failed; retrying");
            }
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = shutdown.wait() => {}
            }
        }
    }

    /// Moves the committed changes into the counts, in one transaction; returns how many.
    pub async fn fold(&self) -> Result<u64> {
        let mut tx = switchboard_platform::db::begin(&self.pool).await?;
        let (mine,): (bool,) = sqlx::query_as(
            "SELECT pg_try_advisory_xact_lock(hashtextextended('ticket_counts', 0))",
        )
        .fetch_one(&mut *tx)
        .await?;
        if !mine {
            return Ok(0);
        }
        let folded = sqlx::query(
            "WITH moved AS (DELETE FROM ticket_count_changes
                            RETURNING group_key, assignee_key, status, n),
                  summed AS (SELECT group_key, assignee_key, status, sum(n)::bigint AS n
                             FROM moved GROUP BY 1, 2, 3)
             INSERT INTO ticket_counts (group_key, assignee_key, status, n)
             SELECT group_key, assignee_key, status, n FROM summed
             ON CONFLICT (group_key, assignee_key, status)
             DO UPDATE SET n = ticket_counts.n + EXCLUDED.n",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        switchboard_platform::db::commit(tx).await?;
        Ok(folded)
    }
}
