//! Several workers on one queue apply each event once, and the consumer's figures are served
//! at `/metrics` by queue; also a rough throughput figure (printed, not asserted).

use std::{
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use sqlx::PgConnection;
use switchboard_platform::{
    Shutdown,
    events::{ConsumerConfig, EventConsumer, EventHandler, HandlerError, amqp},
    metrics,
};
use switchboard_proto::events::v1::EventEnvelope;

use crate::consumer_harness::{RecordEffects, Setup, events, within_30s};

const EVENTS: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_workers_apply_each_event_once_and_report_by_queue() {
    let setup = Setup::new("workers").await;
    let mut config = ConsumerConfig::new(&setup.queue, &["probe.#"]);
    config.workers = 4;
    config.prefetch = 64;
    config.batch_size = 32;
    config.depth_refresh = Duration::from_millis(100);
    let handler = Arc::new(RecordEffects::default());
    let consumer = setup.consumer(config, &handler).await;
    let stats = consumer.stats();
    let (stop, shutdown) = Shutdown::new();
    let consuming = tokio::spawn(consumer.run(shutdown));
    setup.publish(&events("workers", EVENTS)).await;

    let applied = within_30s(|| async { setup.effects().await.0 == EVENTS as i64 }).await;
    let queue = setup.queue.clone();
    let applied_series =
        format!("switchboard_consumer_applied_total{{queue=\"{queue}\"}} {EVENTS}");
    let empty_queue = format!("switchboard_queue_messages{{queue=\"{queue}\"}} 0");
    let empty_dead_letters = format!(
        "switchboard_queue_messages{{queue=\"{}\"}} 0",
        amqp::dead_letter_queue(&queue)
    );
    let last_scrape = std::sync::Mutex::new(String::new());
    let reported = within_30s(|| async {
        let text = metrics::global().render().await;
        *last_scrape.lock().unwrap() = text.clone();
        [&applied_series, &empty_queue, &empty_dead_letters]
            .iter()
            .all(|series| text.contains(series.as_str()))
    })
    .await;
    let text = last_scrape.into_inner().unwrap();
    stop.trigger();
    consuming.await.unwrap();
    let after_stop = metrics::global().render().await;

    let (effects, over_applied) = setup.effects().await;
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(&setup.pool)
        .await
        .unwrap();
    setup.finish().await;
    assert!(applied, "all {EVENTS} applied; {effects} effects");
    assert_eq!(over_applied, 0, "no event applied twice");
    assert_eq!(inbox, EVENTS as i64);
    assert_eq!(stats.applied.load(Ordering::Relaxed), EVENTS as u64);
    assert_eq!(stats.duplicates.load(Ordering::Relaxed), 0);
    assert!(reported, "the figures are at /metrics by queue:\n{text}");
    for family in [
        "# TYPE switchboard_consumer_deliveries_total counter",
        "# TYPE switchboard_consumer_batch_size histogram",
        "# TYPE switchboard_queue_messages gauge",
    ] {
        assert!(text.contains(family), "{family} in\n{text}");
    }
    assert!(
        !after_stop.contains(&queue),
        "a stopped consumer is no longer reported"
    );
}

/// Applies nothing beyond the inbox row the consumer writes.
struct Nothing;

impl EventHandler for Nothing {
    async fn handle(&self, _: &mut PgConnection, _: &EventEnvelope) -> Result<(), HandlerError> {
        Ok(())
    }
}

/// Events per second drained from a full queue with a trivial handler, by 1 and by 4 workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_with_a_trivial_handler_is_printed() {
    const QUEUED: usize = 20_000;
    for workers in [1, 4] {
        let setup = Setup::new("throughput").await;
        let mut config = ConsumerConfig::new(&setup.queue, &["probe.#"]);
        config.workers = workers;
        let consumer = EventConsumer::new(setup.pool.clone(), setup.amqp.clone(), config, Nothing);
        consumer.declare().await.unwrap();
        let stats = consumer.stats();
        setup.publish(&events("throughput", QUEUED)).await;
        let (stop, shutdown) = Shutdown::new();
        let started = Instant::now();
        let consuming = tokio::spawn(consumer.run(shutdown));
        let drained = crate::consumer_harness::within_30s(|| async {
            stats.applied.load(Ordering::Relaxed) == QUEUED as u64
        })
        .await;
        let elapsed = started.elapsed();
        stop.trigger();
        consuming.await.unwrap();
        setup.finish().await;
        assert!(drained, "the queue was drained");
        let batches = stats.batches.load(Ordering::Relaxed);
        eprintln!(
            "consumer throughput, {workers} worker(s): {QUEUED} events in {:.2} s = {:.0} events/s \
             ({batches} batches, largest {})",
            elapsed.as_secs_f64(),
            QUEUED as f64 / elapsed.as_secs_f64(),
            stats.largest_batch.load(Ordering::Relaxed),
        );
    }
}
