//! One worker: a channel consuming the queue with its own prefetch. It takes the deliveries
//! already buffered behind the first one as a batch, applies the batch in one transaction and
//! acknowledges it; when the batch fails it applies each event alone, so only the event that
//! fails alone is returned to the queue. A transient failure keeps the deliveries unacked and
//! retries with backoff.

use std::sync::{Arc, atomic::Ordering};

use futures_util::{FutureExt, StreamExt};
use lapin::{
    Channel,
    message::Delivery,
    options::{BasicAckOptions, BasicNackOptions},
};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{
    HandlerError, Shared, apply,
    batch::{self, Pending},
};
use crate::{
    events::{Backoff, EventHandler},
    shutdown::Shutdown,
};

pub(super) struct Worker<H> {
    pub shared: Arc<Shared<H>>,
    pub channel: Channel,
    pub deliveries: lapin::Consumer,
    pub backoff: Backoff,
}

/// How a batch applied in one transaction ended.
enum BatchEnd {
    /// Committed, with this many events new to the inbox.
    Applied(usize),
    /// An event's failure (or so it seems): each event is then applied alone.
    Failed(HandlerError),
    /// Shutdown came while a transient failure was being waited out.
    Stopped,
}

impl<H: EventHandler> Worker<H> {
    /// Consumes until `shutdown`; an error is the channel's or the connection's (or the
    /// broker ended the consumer), and the consumer then reconnects every worker.
    pub async fn run(mut self, mut shutdown: Shutdown) -> anyhow::Result<()> {
        loop {
            let first = tokio::select! {
                biased;
                _ = shutdown.wait() => return Ok(()),
                delivery = self.deliveries.next() => delivery,
            };
            let Some(first) = first else {
                anyhow::bail!("the broker ended the consumer");
            };
            let batch = self.gather(first?).await?;
            self.process(batch, &mut shutdown).await?;
        }
    }

    /// `first` and the deliveries buffered behind it (those arriving within the linger, if
    /// one is configured), up to the batch size.
    async fn gather(&mut self, first: Delivery) -> lapin::Result<Vec<Delivery>> {
        let config = &self.shared.config;
        let limit = config.batch_size.max(1);
        let deadline = tokio::time::Instant::now() + config.linger;
        let mut batch = Vec::with_capacity(limit);
        batch.push(first);
        while batch.len() < limit {
            let next = if config.linger.is_zero() {
                self.deliveries.next().now_or_never()
            } else {
                tokio::time::timeout_at(deadline, self.deliveries.next())
                    .await
                    .ok()
            };
            match next {
                Some(Some(delivery)) => batch.push(delivery?),
                // Nothing buffered, or the stream ended (the next wait says so).
                Some(None) | None => break,
            }
        }
        Ok(batch)
    }

    async fn process(
        &mut self,
        batch: Vec<Delivery>,
        shutdown: &mut Shutdown,
    ) -> anyhow::Result<()> {
        let stats = Arc::clone(&self.shared.stats);
        stats
            .deliveries
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        stats.record_batch(batch.len());
        let mut decoded = Vec::with_capacity(batch.len());
        let mut all_acked = true;
        for delivery in batch {
            if delivery.redelivered {
                stats.redelivered.fetch_add(1, Ordering::Relaxed);
            }
            match batch::decode(&delivery.data) {
                Some((event_id, envelope)) => decoded.push((event_id, envelope, delivery)),
                None => {
                    tracing::error!(routing_key = %delivery.routing_key, "not an event envelope; dead-lettering");
                    stats.malformed.fetch_add(1, Ordering::Relaxed);
                    stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                    delivery.nack(requeue(false)).await?;
                    all_acked = false;
                }
            }
        }
        let pending = batch::group_by_event(decoded);
        if pending.len() > 1 {
            match self.apply_batch(&pending, shutdown).await {
                BatchEnd::Applied(new) => {
                    let deliveries: usize = pending.iter().map(|p| p.deliveries.len()).sum();
                    stats.applied.fetch_add(new as u64, Ordering::Relaxed);
                    stats
                        .duplicates
                        .fetch_add((deliveries - new) as u64, Ordering::Relaxed);
                    if new > 0 {
                        self.after_commit(new)?;
                    }
                    return self.ack(pending, all_acked).await;
                }
                BatchEnd::Stopped => return Ok(()),
                BatchEnd::Failed(error) => {
                    tracing::info!(%error, events = pending.len(), "a batch failed; applying its events one by one");
                }
            }
        }
        for event in pending {
            if !self.apply_alone(event, shutdown).await? {
                break;
            }
        }
        Ok(())
    }

    /// Applies the batch in one transaction, waiting out transient failures.
    async fn apply_batch(
        &mut self,
        pending: &[Pending<Delivery>],
        shutdown: &mut Shutdown,
    ) -> BatchEnd {
        let span = tracing::info_span!(
            "consume batch",
            otel.kind = "consumer",
            messaging.system = "rabbitmq",
            messaging.destination = %self.shared.config.queue,
            messaging.batch.message_count = pending.len(),
        );
        // Each event's trace is linked (one span cannot have many parents).
        for event in pending {
            let headers = event.deliveries[0].properties.headers().as_ref();
            let context = crate::telemetry::extract_from_amqp(headers);
            let span_context = opentelemetry::trace::TraceContextExt::span(&context)
                .span_context()
                .clone();
            if span_context.is_valid() {
                span.add_link(span_context);
            }
        }
        let shared = &self.shared;
        loop {
            let applied =
                apply::batch(&shared.pool, &shared.config.queue, &shared.handler, pending)
                    .instrument(span.clone())
                    .await;
            match applied {
                Ok(new) => {
                    self.backoff.reset();
                    return BatchEnd::Applied(new);
                }
                Err(error) if error.is_transient() => {
                    shared
                        .stats
                        .transient_failures
                        .fetch_add(1, Ordering::Relaxed);
                    span.in_scope(
                        || tracing::warn!(%error, "the batch cannot be applied now; retrying it"),
                    );
                    if !pause(&mut self.backoff, shutdown).await {
                        return BatchEnd::Stopped;
                    }
                }
                Err(error) => return BatchEnd::Failed(error),
            }
        }
    }

    /// Applies one event in a transaction of its own and settles its deliveries: acked when
    /// applied (or already), returned to the queue after the retry delay when it fails.
    /// Returns false when shutdown came while a transient failure was being waited out.
    async fn apply_alone(
        &mut self,
        event: Pending<Delivery>,
        shutdown: &mut Shutdown,
    ) -> anyhow::Result<bool> {
        let shared = Arc::clone(&self.shared);
        let stats = &shared.stats;
        let span = tracing::info_span!(
            "consume",
            otel.name = %format!("consume {}", event.envelope.event_type),
            otel.kind = "consumer",
            messaging.system = "rabbitmq",
            messaging.destination = %shared.config.queue,
            event.id = %event.event_id,
            event.r#type = %event.envelope.event_type,
        );
        let headers = event.deliveries[0].properties.headers().as_ref();
        let _ = span.set_parent(crate::telemetry::extract_from_amqp(headers));
        let copies = event.deliveries.len() as u64;
        loop {
            let applied = apply::one(
                &shared.pool,
                &shared.config.queue,
                &shared.handler,
                event.event_id,
                &event.envelope,
            )
            .instrument(span.clone())
            .await;
            match applied {
                Ok(apply::Outcome::Applied) => {
                    self.backoff.reset();
                    stats.applied.fetch_add(1, Ordering::Relaxed);
                    stats.duplicates.fetch_add(copies - 1, Ordering::Relaxed);
                    self.after_commit(1)?;
                    break;
                }
                Ok(apply::Outcome::Duplicate) => {
                    self.backoff.reset();
                    stats.duplicates.fetch_add(copies, Ordering::Relaxed);
                    break;
                }
                Err(error) if error.is_transient() => {
                    stats.transient_failures.fetch_add(1, Ordering::Relaxed);
                    span.in_scope(
                        || tracing::warn!(%error, "the event cannot be applied now; retrying it"),
                    );
                    if !pause(&mut self.backoff, shutdown).await {
                        return Ok(false);
                    }
                }
                Err(error) => {
                    stats.failures.fetch_add(1, Ordering::Relaxed);
                    let last = event.deliveries.iter().any(|delivery| {
                        let earlier =
                            batch::earlier_deliveries(delivery.properties.headers().as_ref());
                        batch::is_last_attempt(earlier, shared.config.max_attempts)
                    });
                    if last {
                        stats.dead_lettered.fetch_add(copies, Ordering::Relaxed);
                    }
                    span.in_scope(|| {
                        tracing::warn!(%error, last_attempt = last, "handling failed; returning the event to the queue");
                    });
                    tokio::time::sleep(shared.config.retry_delay).await;
                    for delivery in &event.deliveries {
                        delivery.nack(requeue(true)).await?;
                    }
                    return Ok(true);
                }
            }
        }
        for delivery in &event.deliveries {
            delivery.ack(BasicAckOptions::default()).await?;
        }
        Ok(true)
    }

    /// Acknowledges a committed batch: with one `multiple` ack of its highest tag when the
    /// batch had no delivery settled otherwise (this channel's earlier deliveries are all
    /// settled, its later ones have higher tags), else one by one.
    async fn ack(&self, pending: Vec<Pending<Delivery>>, all_acked: bool) -> anyhow::Result<()> {
        let deliveries = pending.iter().flat_map(|p| p.deliveries.iter());
        if all_acked {
            if let Some(highest) = deliveries.map(|d| d.delivery_tag).max() {
                self.channel
                    .basic_ack(highest, BasicAckOptions { multiple: true })
                    .await?;
            }
        } else {
            for delivery in deliveries {
                delivery.ack(BasicAckOptions::default()).await?;
            }
        }
        Ok(())
    }

    /// The testing fail point between a commit and its ack: the worker fails as if its process
    /// crashed there, so the consumer drops the connection with `committed` events unacked.
    #[cfg(feature = "testing")]
    fn after_commit(&self, committed: usize) -> anyhow::Result<()> {
        if self.shared.crash_after_commit.trip(committed) {
            anyhow::bail!("fail point: crashed after a commit, before its ack");
        }
        Ok(())
    }

    #[cfg(not(feature = "testing"))]
    fn after_commit(&self, _committed: usize) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Waits the backoff's next delay; false when shutdown came first.
async fn pause(backoff: &mut Backoff, shutdown: &mut Shutdown) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(backoff.next_delay()) => true,
        _ = shutdown.wait() => false,
    }
}

fn requeue(requeue: bool) -> BasicNackOptions {
    BasicNackOptions {
        requeue,
        ..Default::default()
    }
}
