//! The auto-close scheduler: a solved ticket becomes closed once its `auto_close_time` passes
//! (14 days after it was solved by default). Any number of replicas run it: each claims due
//! tickets with `FOR UPDATE SKIP LOCKED`, so every ticket is closed once, by the system actor,
//! with its history entry and `ticket.status_changed` event.

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
        while !shutdown.is_triggered() {
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
