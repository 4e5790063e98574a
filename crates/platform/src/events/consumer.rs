//! The event consumer: a durable quorum queue, manual acks, a prefetch window, and an inbox row
//! written in the same transaction as the handler's effect, so each event is applied once however
//! often it is delivered. A handler that keeps failing sends its event to the dead-letter queue
//! (by the broker's delivery limit) without holding up the events behind it.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;
use lapin::{
    Channel, Connection,
    message::Delivery,
    options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions},
    types::{FieldTable, ShortString},
};
use prost::Message;
use sqlx::{PgConnection, PgPool};
use switchboard_proto::events::v1::EventEnvelope;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use uuid::Uuid;

use super::{Backoff, amqp};
use crate::{config::AmqpConfig, shutdown::Shutdown};

/// Why a handler could not apply an event. The transaction is rolled back and the event retried
/// until the queue's delivery limit dead-letters it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HandlerError(pub String);

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        Self(format!("postgres: {error}"))
    }
}

/// Applies events. Both methods run inside the transaction that also records the events in the
/// inbox; they must make their effect only through `tx`.
pub trait EventHandler: Send + Sync + 'static {
    /// Applies one event.
    fn handle(
        &self,
        tx: &mut PgConnection,
        event: &EventEnvelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// Applies `events` (distinct, none applied before, in delivery order) in one transaction:
    /// all or nothing. An error rolls the whole batch back and the consumer then applies each
    /// event alone, so a handler may override this with bulk statements without handling a
    /// poison event itself. By default, `handle` for each in turn.
    fn handle_batch(
        &self,
        tx: &mut PgConnection,
        events: &[EventEnvelope],
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        async move {
            for event in events {
                self.handle(tx, event).await?;
            }
            Ok(())
        }
    }
}

/// How one consumer works.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// The queue, named `<service>.<purpose>`; also the consumer's name in the inbox.
    pub queue: String,
    /// Routing-key patterns bound to the queue, e.g. `callback.*`.
    pub bindings: Vec<String>,
    /// Unacknowledged deliveries the broker may send ahead.
    pub prefetch: u16,
    /// Deliveries of one event before it is dead-lettered.
    pub max_attempts: u32,
    /// Pause before returning a failed event to the queue.
    pub retry_delay: Duration,
}

impl ConsumerConfig {
    pub fn new(queue: &str, bindings: &[&str]) -> Self {
        Self {
            queue: queue.to_owned(),
            bindings: bindings.iter().map(|b| (*b).to_owned()).collect(),
            prefetch: 64,
            max_attempts: 5,
            retry_delay: Duration::from_millis(200),
        }
    }
}

/// What a consumer has done, for metrics and tests.
#[derive(Debug, Default)]
pub struct ConsumerStats {
    /// Deliveries received, first or not.
    pub deliveries: AtomicU64,
    /// Events whose effect was applied (once each).
    pub applied: AtomicU64,
    /// Deliveries of events already applied, recognised by the inbox and skipped.
    pub duplicates: AtomicU64,
    /// Deliveries the broker marked as redelivered.
    pub redelivered: AtomicU64,
    /// Handler failures (each one a retry or, at the limit, a dead letter).
    pub failures: AtomicU64,
    /// Messages that are not an event envelope, dead-lettered at once.
    pub malformed: AtomicU64,
    pub reconnects: AtomicU64,
}

pub struct EventConsumer<H> {
    pool: PgPool,
    amqp: AmqpConfig,
    config: ConsumerConfig,
    handler: Arc<H>,
    stats: Arc<ConsumerStats>,
}

enum Outcome {
    Applied,
    Duplicate,
}

impl<H: EventHandler> EventConsumer<H> {
    pub fn new(pool: PgPool, amqp: AmqpConfig, config: ConsumerConfig, handler: H) -> Self {
        Self {
            pool,
            amqp,
            config,
            handler: Arc::new(handler),
            stats: Arc::default(),
        }
    }

    pub fn stats(&self) -> Arc<ConsumerStats> {
        Arc::clone(&self.stats)
    }

    /// Declares the queue (and its dead-letter queue) so that events published from now on are
    /// kept even before the consumer runs.
    pub async fn declare(&self) -> lapin::Result<()> {
        let connection = amqp::connect(&self.amqp, &self.config.queue).await?;
        let channel = connection.create_channel().await?;
        self.declare_on(&channel).await?;
        connection.close(200, "declared".into()).await
    }

    async fn declare_on(&self, channel: &Channel) -> lapin::Result<()> {
        amqp::declare_consumer_queue(
            channel,
            &self.amqp,
            &self.config.queue,
            &self.config.bindings,
            self.config.max_attempts,
        )
        .await
    }

    /// Consumes until `shutdown`, reconnecting with backoff whenever the connection is lost.
    pub async fn run(self, mut shutdown: Shutdown) {
        let span = tracing::info_span!("event_consumer", queue = %self.config.queue);
        async move {
            let mut backoff = Backoff::default();
            while !shutdown.is_triggered() {
                match self.consume(&mut shutdown, &mut backoff).await {
                    Ok(()) => {}
                    Err(error) => {
                        tracing::warn!(%error, "consumer lost its connection; reconnecting");
                        self.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                        tokio::select! {
                            _ = tokio::time::sleep(backoff.next_delay()) => {},
                            _ = shutdown.wait() => {},
                        }
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn consume(&self, shutdown: &mut Shutdown, backoff: &mut Backoff) -> anyhow::Result<()> {
        let connection: Connection =
            amqp::connect(&self.amqp, &format!("{}.consumer", self.config.queue)).await?;
        let channel = connection.create_channel().await?;
        self.declare_on(&channel).await?;
        channel
            .basic_qos(self.config.prefetch, BasicQosOptions::default())
            .await?;
        let mut deliveries = channel
            .basic_consume(
                ShortString::from(self.config.queue.as_str()),
                ShortString::from(format!("{}.{}", self.config.queue, Uuid::new_v4())),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        backoff.reset();
        loop {
            let delivery = tokio::select! {
                delivery = deliveries.next() => delivery,
                _ = shutdown.wait() => {
                    let _ = connection.close(200, "consumer stopping".into()).await;
                    return Ok(());
                }
            };
            match delivery {
                Some(delivery) => self.process(delivery?).await?,
                None => anyhow::bail!("the broker ended the consumer"),
            }
        }
    }

    async fn process(&self, delivery: Delivery) -> lapin::Result<()> {
        self.stats.deliveries.fetch_add(1, Ordering::Relaxed);
        if delivery.redelivered {
            self.stats.redelivered.fetch_add(1, Ordering::Relaxed);
        }
        let Some((event_id, envelope)) = decode(&delivery.data) else {
            tracing::error!(routing_key = %delivery.routing_key, "not an event envelope; dead-lettering");
            self.stats.malformed.fetch_add(1, Ordering::Relaxed);
            delivery
                .nack(BasicNackOptions {
                    requeue: false,
                    ..Default::default()
                })
                .await?;
            return Ok(());
        };
        let span = tracing::info_span!(
            "consume",
            otel.name = %format!("consume {}", envelope.event_type),
            otel.kind = "consumer",
            messaging.system = "rabbitmq",
            messaging.destination = %self.config.queue,
            event.id = %event_id,
            event.r#type = %envelope.event_type,
        );
        let parent = crate::telemetry::extract_from_amqp(delivery.properties.headers().as_ref());
        let _ = span.set_parent(parent);
        match self
            .apply(event_id, &envelope)
            .instrument(span.clone())
            .await
        {
            Ok(Outcome::Applied) => {
                self.stats.applied.fetch_add(1, Ordering::Relaxed);
                delivery.ack(BasicAckOptions::default()).await?;
            }
            Ok(Outcome::Duplicate) => {
                self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                delivery.ack(BasicAckOptions::default()).await?;
            }
            Err(error) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                span.in_scope(
                    || tracing::warn!(%error, "handling failed; returning the event to the queue"),
                );
                tokio::time::sleep(self.config.retry_delay).await;
                delivery
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    })
                    .await?;
            }
        }
        Ok(())
    }

    /// Records the event in the inbox and applies it, in one transaction.
    async fn apply(
        &self,
        event_id: Uuid,
        envelope: &EventEnvelope,
    ) -> Result<Outcome, HandlerError> {
        let mut tx = self.pool.begin().await?;
        let first = sqlx::query(
            "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(&self.config.queue)
        .bind(event_id)
        .bind(&envelope.event_type)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !first {
            tx.rollback().await?;
            return Ok(Outcome::Duplicate);
        }
        self.handler.handle(&mut tx, envelope).await?;
        tx.commit().await?;
        Ok(Outcome::Applied)
    }
}

fn decode(data: &[u8]) -> Option<(Uuid, EventEnvelope)> {
    let envelope = EventEnvelope::decode(data).ok()?;
    let event_id = envelope.event_id.parse().ok()?;
    Some((event_id, envelope))
}
