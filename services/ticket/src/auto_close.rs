//! The auto-close scheduler: a solved ticket becomes closed once its `auto_close_time` passes
//! (14 days after it was solved by default). Any number of replicas run it: each claims due
//! tickets with `FOR UPDATE SKIP LOCKED`, so every ticket is closed once, by the system actor,
//! with its history entry and `ticket.status_changed` event. The same loop sweeps uploads
//! older than 24 hours, contents nothing refers to and trigger runs past their retention, every
//! ten minutes.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use sqlx::PgPool;
use switchboard_platform::{error::Result, shutdown::Shutdown};
use switchboard_proto::ticket::v1::{TicketChangeOrigin, TicketEventKind, TicketStatus};

use crate::{
    TicketSettings,
    tickets::{Change, Limits, row, save, system_actor},
};

/// Tickets closed per transaction.
const BATCH: i64 = 100;
/// How often the same loop sweeps expired uploads, unreferenced contents and trigger runs.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

pub struct AutoClose {
    pool: PgPool,
    limits: Arc<Limits>,
    interval: Duration,
}

impl AutoClose {
    pub fn new(pool: PgPool, settings: &TicketSettings) -> Self {
        Self {
            pool,
            limits: Arc::new(Limits::from(settings)),
            interval: settings.auto_close_interval(),
        }
    }

    /// Closes due tickets every interval until `shutdown`. A failed round (PostgreSQL away) is
    /// logged and tried again at the next one.
    pub async fn run(self, mut shutdown: Shutdown) {
        let mut last_sweep: Option<std::time::Instant> = None;
        while !shutdown.is_triggered() {
            if last_sweep.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
                match self.sweep().await {
                    Ok(()) => last_sweep = Some(std::time::Instant::now()),
                    Err(error) => tracing::warn!(%error, "sweep failed; retrying later"),
                }
            }
            loop {
                match self.close_due().await {
                    Ok(closed) if closed as i64 == BATCH => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(%error, "auto-close round failed; retrying later");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = shutdown.wait() => {}
            }
        }
    }

    /// Deletes uploads older than 24 hours and contents nothing refers to any more, then the
    /// trigger runs past their retention.
    async fn sweep(&self) -> std::result::Result<(), tonic::Status> {
        let mut tx = switchboard_platform::db::begin(&self.pool).await?;
        crate::attachments::delete_orphans(&mut tx).await?;
        switchboard_platform::db::commit(tx).await?;
        let mut conn = switchboard_platform::db::acquire(&self.pool).await?;
        let forgotten = crate::automation::runs::forget_expired(&mut conn, Utc::now()).await?;
        if forgotten > 0 {
            tracing::info!(forgotten, "forgot trigger runs past their retention");
        }
        Ok(())
    }

    /// Closes up to [`BATCH`] due tickets in one transaction; returns how many.
    pub async fn close_due(&self) -> Result<usize> {
        let mut tx = switchboard_platform::db::begin(&self.pool).await?;
        let statement = format!(
            "SELECT {} FROM tickets WHERE status = $1 AND auto_close_time <= now()
             ORDER BY auto_close_time LIMIT $2 FOR UPDATE SKIP LOCKED",
            row::COLUMNS
        );
        let rows: Vec<row::TicketRow> = sqlx::query_as(sqlx::AssertSqlSafe(statement.as_str()))
            .bind(TicketStatus::Solved as i16)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
        let now = Utc::now();
        let count = rows.len();
        for row in rows {
            let before = switchboard_proto::ticket::v1::Ticket::from(row);
            let mut after = before.clone();
            after.status = TicketStatus::Closed as i32;
            let change = Change::new(
                TicketEventKind::Closed,
                TicketChangeOrigin::System,
                system_actor(),
            );
            save(&mut tx, &self.limits, &before, after, change, now).await?;
        }
        switchboard_platform::db::commit(tx).await?;
        if count > 0 {
            tracing::info!(count, "closed solved tickets automatically");
        }
        Ok(count)
    }
}
