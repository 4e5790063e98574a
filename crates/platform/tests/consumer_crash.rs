//! A consumer that crashes between a commit and its ack: the committed events are redelivered,
//! recognised by the inbox as duplicates, and applied once.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use switchboard_platform::{Shutdown, events::ConsumerConfig};

use crate::consumer_harness::{RecordEffects, Setup, events, within_30s};

const EVENTS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_committed_but_not_acked_are_redelivered_and_skipped_as_duplicates() {
    let setup = Setup::new("crash").await;
    let mut config = ConsumerConfig::new(&setup.queue, &["probe.#"]);
    config.linger = Duration::from_millis(50);
    let handler = Arc::new(RecordEffects::default());
    let consumer = setup.consumer(config, &handler).await;
    let stats = consumer.stats();
    let crash = consumer.crash_after_next_commit();
    setup.publish(&events("crash", EVENTS)).await;

    let (stop, shutdown) = Shutdown::new();
    let consuming = tokio::spawn(consumer.run(shutdown));
    let recovered = within_30s(|| async {
        let redelivered_seen = crash
            .left_unacked()
            .is_some_and(|unacked| stats.duplicates.load(Ordering::Relaxed) >= unacked);
        redelivered_seen && setup.effects().await.0 == EVENTS as i64
    })
    .await;
    stop.trigger();
    consuming.await.unwrap();

    let (effects, over_applied) = setup.effects().await;
    setup.finish().await;
    let unacked = crash.left_unacked().expect("the fail point tripped");
    assert!(
        recovered,
        "all {EVENTS} applied after the crash; {effects} effects"
    );
    assert!(unacked > 0);
    assert_eq!(over_applied, 0, "no event applied twice");
    assert_eq!(
        stats.duplicates.load(Ordering::Relaxed),
        unacked,
        "exactly the committed, unacked events came back as duplicates"
    );
    assert_eq!(stats.applied.load(Ordering::Relaxed), EVENTS as u64);
    assert!(stats.reconnects.load(Ordering::Relaxed) >= 1);
    assert!(stats.redelivered.load(Ordering::Relaxed) >= unacked);
}
