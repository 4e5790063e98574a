//! What a consumer has done (for tests), and the same figures as metrics at `/metrics`, labelled
//! by queue, for as long as the consumer runs.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::metrics::{Collector, Histogram, HistogramNames, Kind, Sample};

/// Batch sizes are counted in powers of two up to the largest prefetch a consumer sensibly has.
const BATCH_SIZE_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// What a consumer has done, for metrics and tests.
#[derive(Debug, Default)]
pub struct ConsumerStats {
    /// Deliveries received, first or not.
    pub deliveries: AtomicU64,
    /// Events whose effect was applied (once each).
    pub applied: AtomicU64,
    /// Deliveries of events already applied (recognised by the inbox) or delivered twice in
    /// one batch; skipped.
    pub duplicates: AtomicU64,
    /// Deliveries the broker marked as redelivered.
    pub redelivered: AtomicU64,
    /// Handler failures that are the event's (each one a retry or, at the limit, a dead letter).
    pub failures: AtomicU64,
    /// Messages that are not an event envelope, dead-lettered at once.
    pub malformed: AtomicU64,
    /// Deliveries dead-lettered: the malformed ones, and failures on an event's last attempt
    /// (as the `x-delivery-count` header tells; see the module's docs).
    pub dead_lettered: AtomicU64,
    /// Failures that were not the event's (the database unreachable, restarting, a lost
    /// serialization race): the events were kept and retried with backoff.
    pub transient_failures: AtomicU64,
    pub reconnects: AtomicU64,
    /// Batches applied (or tried) in one transaction, and the largest so far.
    pub batches: AtomicU64,
    pub largest_batch: AtomicU64,
    batch_sizes: BatchSizes,
    queue_depths: Mutex<Option<QueueDepths>>,
}

/// Messages ready in the queue and in its dead-letter queue, as the broker last said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueDepths {
    pub queue: u32,
    pub dead_letters: u32,
}

#[derive(Debug)]
struct BatchSizes(Mutex<Histogram>);

impl Default for BatchSizes {
    fn default() -> Self {
        Self(Mutex::new(Histogram::new(BATCH_SIZE_BUCKETS)))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ConsumerStats {
    /// Records a batch of `deliveries` taken from the channel together.
    pub(super) fn record_batch(&self, deliveries: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.largest_batch
            .fetch_max(deliveries as u64, Ordering::Relaxed);
        lock(&self.batch_sizes.0).observe(deliveries as f64);
    }

    pub(super) fn record_depths(&self, depths: QueueDepths) {
        *lock(&self.queue_depths) = Some(depths);
    }

    /// The queue depths last read; `None` before the first reading.
    pub fn queue_depths(&self) -> Option<QueueDepths> {
        *lock(&self.queue_depths)
    }

    /// The figures as samples labelled `queue` (the dead-letter queue's depth under its own name).
    pub(super) fn samples(&self, queue: &str, dead_letter_queue: &str) -> Vec<Sample> {
        let labels = vec![("queue", queue.to_owned())];
        let counter = |name, help, value: &AtomicU64| Sample {
            name,
            help,
            kind: Kind::Counter,
            labels: labels.clone(),
            value: value.load(Ordering::Relaxed) as f64,
        };
        let mut samples = vec![
            counter(
                "switchboard_consumer_deliveries_total",
                "Deliveries received from the queue, first or not.",
                &self.deliveries,
            ),
            counter(
                "switchboard_consumer_applied_total",
                "Events whose effect was applied (once each).",
                &self.applied,
            ),
            counter(
                "switchboard_consumer_duplicates_total",
                "Deliveries of events already applied, skipped.",
                &self.duplicates,
            ),
            counter(
                "switchboard_consumer_failures_total",
                "Handler failures that are the event's; each is retried or dead-lettered.",
                &self.failures,
            ),
            counter(
                "switchboard_consumer_dead_lettered_total",
                "Deliveries dead-lettered: malformed ones and failures on their last attempt.",
                &self.dead_lettered,
            ),
            counter(
                "switchboard_consumer_redelivered_total",
                "Deliveries the broker marked as redelivered.",
                &self.redelivered,
            ),
            counter(
                "switchboard_consumer_transient_failures_total",
                "Failures not the event's (database unreachable, lost race), retried with backoff.",
                &self.transient_failures,
            ),
            counter(
                "switchboard_consumer_reconnects_total",
                "Times the consumer lost its connection or a worker and reconnected.",
                &self.reconnects,
            ),
        ];
        samples.extend(lock(&self.batch_sizes.0).samples(
            HistogramNames {
                bucket: "switchboard_consumer_batch_size_bucket",
                sum: "switchboard_consumer_batch_size_sum",
                count: "switchboard_consumer_batch_size_count",
                help: "Deliveries taken from the channel and applied together.",
            },
            &labels,
        ));
        if let Some(depths) = self.queue_depths() {
            for (name, messages) in [
                (queue, depths.queue),
                (dead_letter_queue, depths.dead_letters),
            ] {
                samples.push(Sample {
                    name: "switchboard_queue_messages",
                    help: "Messages ready in a RabbitMQ queue, as its consumer last read.",
                    kind: Kind::Gauge,
                    labels: vec![("queue", name.to_owned())],
                    value: f64::from(messages),
                });
            }
        }
        samples
    }
}

/// A running consumer's figures, scraped at `/metrics`.
pub(super) struct ConsumerMetrics {
    pub queue: String,
    pub dead_letter_queue: String,
    pub stats: std::sync::Arc<ConsumerStats>,
}

impl Collector for ConsumerMetrics {
    fn collect(&self) -> Pin<Box<dyn Future<Output = Vec<Sample>> + Send + '_>> {
        Box::pin(async { self.stats.samples(&self.queue, &self.dead_letter_queue) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_end_in_total_and_every_series_is_labelled_by_queue() {
        let stats = ConsumerStats::default();
        stats.applied.fetch_add(3, Ordering::Relaxed);
        stats.record_batch(3);
        stats.record_depths(QueueDepths {
            queue: 7,
            dead_letters: 1,
        });
        let samples = stats.samples("reporting.callbacks", "reporting.callbacks.dead-letter");
        for sample in &samples {
            assert!(sample.name.starts_with("switchboard_"), "{}", sample.name);
            if sample.kind == Kind::Counter {
                assert!(sample.name.ends_with("_total"), "{}", sample.name);
            }
            assert!(sample.labels.iter().any(|(name, _)| *name == "queue"));
        }
        let value = |name: &str, queue: &str| {
            samples
                .iter()
                .find(|s| s.name == name && s.labels.contains(&("queue", queue.to_owned())))
                .map(|s| s.value)
        };
        assert_eq!(
            value("switchboard_consumer_applied_total", "reporting.callbacks"),
            Some(3.0)
        );
        assert_eq!(
            value(
                "switchboard_consumer_batch_size_count",
                "reporting.callbacks"
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                "switchboard_queue_messages",
                "reporting.callbacks.dead-letter"
            ),
            Some(1.0)
        );
        assert_eq!(stats.largest_batch.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn depths_are_not_reported_before_they_are_read() {
        let samples = ConsumerStats::default().samples("q", "q.dead-letter");
        assert!(
            samples
                .iter()
                .all(|s| s.name != "switchboard_queue_messages")
        );
    }
}
