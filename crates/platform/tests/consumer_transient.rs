//! A database that fails for a while (the handler's connection terminated, as a restart does)
//! is waited out: nothing is returned to the queue or dead-lettered, and every event is applied
//! once when it recovers.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use switchboard_platform::{Shutdown, events::ConsumerConfig};

use crate::consumer_harness::{RecordEffects, Setup, events, within_30s};

const EVENTS: usize = 100;
const FAILING_CALLS: u32 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_database_failure_is_retried_without_spending_attempts() {
    let setup = Setup::new("transient").await;
    let mut config = ConsumerConfig::new(&setup.queue, &["probe.#"]);
    // One attempt only: a single nack would dead-letter an event.
    config.max_attempts = 1;
    config.linger = Duration::from_millis(50);
    let handler = Arc::new(RecordEffects {
        transient_calls: FAILING_CALLS.into(),
        ..Default::default()
    });
    let consumer = setup.consumer(config, &handler).await;
    let stats = consumer.stats();
    setup.publish(&events("transient", EVENTS)).await;

    let (stop, shutdown) = Shutdown::new();
    let consuming = tokio::spawn(consumer.run(shutdown));
    let applied = within_30s(|| async { setup.effects().await.0 == EVENTS as i64 }).await;
    stop.trigger();
    consuming.await.unwrap();

    let (effects, over_applied) = setup.effects().await;
    let dead = setup.take_dead_letters().await;
    setup.finish().await;
    assert!(
        applied,
        "all {EVENTS} applied after the failures; {effects} effects"
    );
    assert_eq!(over_applied, 0, "no event applied twice");
    assert!(
        dead.is_empty(),
        "nothing dead-lettered: {} were",
        dead.len()
    );
    assert_eq!(handler.transient_calls.load(Ordering::SeqCst), 0);
    assert_eq!(
        stats.transient_failures.load(Ordering::Relaxed),
        u64::from(FAILING_CALLS)
    );
    assert_eq!(stats.failures.load(Ordering::Relaxed), 0);
    assert_eq!(stats.dead_lettered.load(Ordering::Relaxed), 0);
    assert_eq!(stats.applied.load(Ordering::Relaxed), EVENTS as u64);
}
