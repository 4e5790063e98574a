//! The event consumer: a durable quorum queue, manual acks, a prefetch window, and an inbox row
//! written in the same transaction as the handler's effect, so each event is applied once however
//! often it is delivered. A handler that keeps failing sends its event to the dead-letter queue
//! (by the broker's delivery limit) without holding up the events behind it.
//!
//! **Batches.** A worker takes the first delivery and those lapin already holds behind it (up
//! to [`ConsumerConfig::batch_size`]; no waiting unless [`ConsumerConfig::linger`] is set),
//! records them in the inbox with one statement and applies the new ones with one
//! [`EventHandler::handle_batch`], in one transaction, then acks them all with one `multiple`
//! ack. An event delivered twice in one batch is applied once. Malformed messages are
//! dead-lettered at once.
//!
//! **A failing batch.** The transaction is rolled back and each event is applied alone in a
//! transaction of its own: the others are applied and acked; the one that fails alone is
//! returned to the queue after [`ConsumerConfig::retry_delay`], and the queue's delivery limit
//! dead-letters it after [`ConsumerConfig::max_attempts`] deliveries.
//!
//! **Transient failures** (the database unreachable or restarting, a serialization failure or
//! deadlock; see [`HandlerError::transient`]) are not the event's fault: returning the events
//! would spend their attempts and an outage of a few seconds would dead-letter every event in
//! flight. The worker keeps them unacked and retries with backoff until it works or shutdown.
//!
//! **Workers.** [`ConsumerConfig::workers`] channels (on one connection) consume the queue
//! concurrently, each with its own prefetch. The order of events is then not kept, neither
//! between workers nor after a retry: handlers must not depend on it (a fold keyed by version,
//! as the reporting model is, does not). A worker that fails makes the consumer drop the
//! connection and reconnect all of them with backoff.
//!
//! **Metrics**, labelled `queue`, at `/metrics` while the consumer runs:
//! `switchboard_consumer_{deliveries,applied,duplicates,failures,dead_lettered,redelivered,
//! transient_failures,reconnects}_total`, the histogram `switchboard_consumer_batch_size`, and
//! `switchboard_queue_messages` for the queue and its dead-letter queue (a passive declare
//! every [`ConsumerConfig::depth_refresh`]). `dead_lettered` is the consumer's own count: the
//! malformed messages, and failures of a delivery whose `x-delivery-count` (failed deliveries
//! before it, as a quorum queue counts them) says it was the last attempt. It is an
//! approximation: the broker also counts deliveries returned by a lost connection (RabbitMQ
//! 3.x), and it dead-letters by the queue's own limit, declared when the queue was first made;
//! the dead-letter queue's depth is the broker's own figure.

mod apply;
mod batch;
#[cfg(feature = "testing")]
mod fail_point;
mod handler;
mod queue_depth;
mod stats;
mod transient;
mod worker;

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use lapin::{
    Channel,
    options::{BasicConsumeOptions, BasicQosOptions},
    types::{FieldTable, ShortString},
};
use sqlx::PgPool;
use tokio::task::JoinSet;
use tracing::Instrument;
use uuid::Uuid;

#[cfg(feature = "testing")]
pub use fail_point::CrashAfterCommit;
pub use handler::{EventHandler, HandlerError};
pub use stats::{ConsumerStats, QueueDepths};

use super::{Backoff, amqp};
use crate::{config::AmqpConfig, shutdown::Shutdown};

/// How one consumer works.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// The queue, named `<service>.<purpose>`; also the consumer's name in the inbox.
    pub queue: String,
    /// Routing-key patterns bound to the queue, e.g. `callback.*`.
    pub bindings: Vec<String>,
    /// Unacknowledged deliveries the broker may send ahead, per worker.
    pub prefetch: u16,
    /// Most deliveries applied in one transaction.
    pub batch_size: usize,
    /// How long a worker waits for more deliveries after the first of a batch; zero (the
    /// default) takes only those already received.
    pub linger: Duration,
    /// Channels consuming the queue concurrently; with more than one, events are applied in
    /// no particular order.
    pub workers: usize,
    /// Deliveries of one event before it is dead-lettered.
    pub max_attempts: u32,
    /// Pause before returning a failed event to the queue.
    pub retry_delay: Duration,
    /// How often the queue's depth is read for the metrics.
    pub depth_refresh: Duration,
}

impl ConsumerConfig {
    pub fn new(queue: &str, bindings: &[&str]) -> Self {
        Self {
            queue: queue.to_owned(),
            bindings: bindings.iter().map(|b| (*b).to_owned()).collect(),
            prefetch: 256,
            batch_size: 128,
            linger: Duration::ZERO,
            workers: 1,
            max_attempts: 5,
            retry_delay: Duration::from_millis(200),
            depth_refresh: Duration::from_secs(5),
        }
    }
}

pub struct EventConsumer<H> {
    shared: Arc<Shared<H>>,
    amqp: AmqpConfig,
}

/// What every worker of a consumer uses.
struct Shared<H> {
    pool: PgPool,
    config: ConsumerConfig,
    handler: H,
    stats: Arc<ConsumerStats>,
    #[cfg(feature = "testing")]
    crash_after_commit: Arc<CrashAfterCommit>,
}

impl<H: EventHandler> EventConsumer<H> {
    pub fn new(pool: PgPool, amqp: AmqpConfig, config: ConsumerConfig, handler: H) -> Self {
        Self {
            shared: Arc::new(Shared {
                pool,
                config,
                handler,
                stats: Arc::default(),
                #[cfg(feature = "testing")]
                crash_after_commit: Arc::default(),
            }),
            amqp,
        }
    }

    pub fn stats(&self) -> Arc<ConsumerStats> {
        Arc::clone(&self.shared.stats)
    }

    /// Arms the testing fail point: the next commit is followed by a crash instead of its ack.
    #[cfg(feature = "testing")]
    pub fn crash_after_next_commit(&self) -> Arc<CrashAfterCommit> {
        self.shared.crash_after_commit.arm();
        Arc::clone(&self.shared.crash_after_commit)
    }

    /// Declares the queue (and its dead-letter queue) so that events published from now on are
    /// kept even before the consumer runs.
    pub async fn declare(&self) -> lapin::Result<()> {
        let connection = amqp::connect(&self.amqp, &self.shared.config.queue).await?;
        let channel = connection.create_channel().await?;
        self.declare_on(&channel).await?;
        connection.close(200, "declared".into()).await
    }

    async fn declare_on(&self, channel: &Channel) -> lapin::Result<()> {
        let config = &self.shared.config;
        amqp::declare_consumer_queue(
            channel,
            &self.amqp,
            &config.queue,
            &config.bindings,
            config.max_attempts,
        )
        .await
    }

    /// Consumes until `shutdown` (its figures in [`crate::metrics::global`] meanwhile),
    /// reconnecting with backoff whenever the connection or a worker is lost.
    pub async fn run(self, mut shutdown: Shutdown) {
        let config = &self.shared.config;
        let span = tracing::info_span!("event_consumer", queue = %config.queue);
        let _metrics =
            crate::metrics::global().register_while_held(Arc::new(stats::ConsumerMetrics {
                queue: config.queue.clone(),
                dead_letter_queue: amqp::dead_letter_queue(&config.queue),
                stats: self.stats(),
            }));
        async move {
            let mut backoff = Backoff::default();
            while !shutdown.is_triggered() {
                if let Err(error) = self.consume(&shutdown, &mut backoff).await {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "consumer lost its connection or a worker; reconnecting"
                    );
                    self.shared.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                    tokio::select! {
                        _ = tokio::time::sleep(backoff.next_delay()) => {},
                        _ = shutdown.wait() => {},
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    /// One connection: its workers and the depth reader, until shutdown or the first of them
    /// fails (then all stop and the connection is closed, unacked deliveries returning).
    async fn consume(&self, shutdown: &Shutdown, backoff: &mut Backoff) -> anyhow::Result<()> {
        let config = &self.shared.config;
        let connection = amqp::connect(&self.amqp, &format!("{}.consumer", config.queue)).await?;
        let mut tasks = JoinSet::new();
        let started = self.start(&connection, &mut tasks, shutdown).await;
        let ended = match started {
            Ok(()) => {
                backoff.reset();
                first_failure(&mut tasks).await
            }
            Err(error) => Err(error),
        };
        tasks.shutdown().await;
        let _ = connection.close(200, "consumer stopping".into()).await;
        ended
    }

    async fn start(
        &self,
        connection: &lapin::Connection,
        tasks: &mut JoinSet<anyhow::Result<()>>,
        shutdown: &Shutdown,
    ) -> anyhow::Result<()> {
        let config = &self.shared.config;
        let channel = connection.create_channel().await?;
        self.declare_on(&channel).await?;
        tasks.spawn(queue_depth::refresh(
            channel,
            config.queue.clone(),
            amqp::dead_letter_queue(&config.queue),
            self.stats(),
            config.depth_refresh,
            shutdown.clone(),
        ));
        for _ in 0..config.workers.max(1) {
            let channel = connection.create_channel().await?;
            channel
                .basic_qos(config.prefetch, BasicQosOptions::default())
                .await?;
            let deliveries = channel
                .basic_consume(
                    ShortString::from(config.queue.as_str()),
                    ShortString::from(format!("{}.{}", config.queue, Uuid::new_v4())),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            let worker = worker::Worker {
                shared: Arc::clone(&self.shared),
                channel,
                deliveries,
                backoff: Backoff::default(),
            };
            tasks.spawn(worker.run(shutdown.clone()).in_current_span());
        }
        Ok(())
    }
}

/// Waits until every task ended well (shutdown), or one failed.
async fn first_failure(tasks: &mut JoinSet<anyhow::Result<()>>) -> anyhow::Result<()> {
    while let Some(ended) = tasks.join_next().await {
        match ended {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(error),
            Err(error) => anyhow::bail!("a consumer task panicked or was cancelled: {error}"),
        }
    }
    Ok(())
}
