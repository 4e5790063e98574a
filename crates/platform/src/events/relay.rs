//! The outbox relay: publishes outbox rows to the events exchange with publisher confirms and
//! deletes them once the broker confirmed. Replicas share the work with `FOR UPDATE SKIP
//! LOCKED`; a crash between publish and delete republishes, which consumers' inboxes absorb
//! (so the delete is committed without waiting for the WAL flush).
//!
//! A busy relay publishes batch after batch, so a batch holds what was written while the last
//! one was confirmed and the outbox does not grow with the intake rate. An idle relay polls: a
//! `NOTIFY` from the writers would serialise their commits (see the platform migration
//! `outbox_without_notify`).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use lapin::{
    BasicProperties, Channel, Connection,
    options::{BasicPublishOptions, ConfirmSelectOptions},
    types::{FieldTable, ShortString},
};
use sqlx::{PgPool, Row};
use tracing::Instrument;
use uuid::Uuid;

use super::{Backoff, OutboxDepth, amqp};
use crate::{config::AmqpConfig, shutdown::Shutdown};

/// How one relay works.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The schema whose outbox this relay drains.
    pub schema: String,
    /// Most events published per transaction.
    pub batch_size: i64,
    /// How long an idle relay waits before it looks for events again: the most an event waits
    /// for a relay that has nothing to do.
    pub idle_poll: Duration,
    /// The RabbitMQ connection's name, as the broker lists it.
    pub connection_name: String,
}

impl RelayConfig {
    pub fn new(schema: &str) -> Self {
        Self {
            schema: schema.to_owned(),
            batch_size: 500,
            idle_poll: Duration::from_millis(50),
            connection_name: format!("{schema}.outbox-relay"),
        }
    }
}

/// What a relay has done, for metrics and tests.
#[derive(Debug, Default)]
pub struct RelayStats {
    pub published: AtomicU64,
    pub batches: AtomicU64,
    pub reconnects: AtomicU64,
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error("rabbitmq: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("the broker refused event {0}")]
    Nacked(Uuid),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
}

pub struct OutboxRelay {
    pool: PgPool,
    amqp: AmqpConfig,
    config: RelayConfig,
    stats: Arc<RelayStats>,
}

struct Publisher {
    connection: Connection,
    channel: Channel,
}

impl OutboxRelay {
    pub fn new(pool: PgPool, amqp: AmqpConfig, config: RelayConfig) -> Self {
        Self {
            pool,
            amqp,
            config,
            stats: Arc::default(),
        }
    }

    pub fn stats(&self) -> Arc<RelayStats> {
        Arc::clone(&self.stats)
    }

    /// Publishes until `shutdown` (its outbox's depth in [`crate::metrics::global`] meanwhile);
    /// reconnects to RabbitMQ and PostgreSQL with backoff.
    pub async fn run(self, mut shutdown: Shutdown) {
        let span = tracing::info_span!("outbox_relay", schema = %self.config.schema);
        // The outbox's depth is scraped for as long as its relay runs.
        let _depth = crate::metrics::global().register_while_held(Arc::new(OutboxDepth::new(
            self.pool.clone(),
            &self.config.schema,
        )));
        async move {
            let mut backoff = Backoff::default();
            while !shutdown.is_triggered() {
                let publisher = match self.open().await {
                    Ok(publisher) => publisher,
                    Err(error) => {
                        tracing::warn!(%error, "cannot open a rabbitmq channel; retrying");
                        sleep_or_shutdown(backoff.next_delay(), &mut shutdown).await;
                        continue;
                    }
                };
                loop {
                    if shutdown.is_triggered() {
                        break;
                    }
                    match self.publish_batch(&publisher.channel).await {
                        Ok(0) => {
                            backoff.reset();
                            sleep_or_shutdown(self.config.idle_poll, &mut shutdown).await;
                        }
                        Ok(_) => backoff.reset(),
                        Err(RelayError::Db(error)) => {
                            tracing::warn!(%error, "outbox batch failed; retrying");
                            sleep_or_shutdown(backoff.next_delay(), &mut shutdown).await;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "publishing failed; reconnecting");
                            self.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                            sleep_or_shutdown(backoff.next_delay(), &mut shutdown).await;
                            break;
                        }
                    }
                }
                let _ = publisher
                    .connection
                    .close(200, "relay stopping".into())
                    .await;
            }
        }
        .instrument(span)
        .await
    }

    async fn open(&self) -> Result<Publisher, lapin::Error> {
        let connection = amqp::connect(&self.amqp, &self.config.connection_name).await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        amqp::declare_exchanges(&channel, &self.amqp).await?;
        Ok(Publisher {
            connection,
            channel,
        })
    }

    /// Publishes one batch and deletes it; returns how many events went out.
    async fn publish_batch(&self, channel: &Channel) -> Result<usize, RelayError> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT seq, event_id, routing_key, envelope, traceparent, tracestate
             FROM outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(self.config.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut confirms = Vec::with_capacity(rows.len());
        let mut published = Vec::with_capacity(rows.len());
        for row in &rows {
            let event_id: Uuid = row.get("event_id");
            let routing_key: &str = row.get("routing_key");
            let envelope: &[u8] = row.get("envelope");
            let mut headers = FieldTable::default();
            crate::telemetry::inject_into_amqp(
                &mut headers,
                row.get("traceparent"),
                row.get("tracestate"),
            );
            let properties = BasicProperties::default()
                .with_delivery_mode(2)
                .with_content_type(ShortString::from("application/x-protobuf"))
                .with_message_id(ShortString::from(event_id.to_string()))
                .with_type(ShortString::from(routing_key))
                .with_headers(headers);
            let confirm = channel
                .basic_publish(
                    ShortString::from(self.amqp.exchange.as_str()),
                    ShortString::from(routing_key),
                    BasicPublishOptions::default(),
                    envelope,
                    properties,
                )
                .await?;
            confirms.push((event_id, confirm));
            published.push(row.get::<i64, _>("seq"));
        }
        for (event_id, confirm) in confirms {
            if confirm.await?.is_nack() {
                return Err(RelayError::Nacked(event_id));
            }
        }
        // The delete need not wait for the WAL flush: lost in a crash of PostgreSQL, it
        // republishes the batch, which the consumers' inboxes absorb as they do after a crash
        // between publish and delete. Every writer's commit waits on fewer flushes.
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM outbox WHERE seq = ANY($1)")
            .bind(&published)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.stats
            .published
            .fetch_add(published.len() as u64, Ordering::Relaxed);
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        Ok(published.len())
    }
}

async fn sleep_or_shutdown(delay: Duration, shutdown: &mut Shutdown) {
    tokio::select! {
        _ = tokio::time::sleep(delay) => {},
        _ = shutdown.wait() => {},
    }
}
