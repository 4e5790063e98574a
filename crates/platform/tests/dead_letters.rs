//! A poison event — one whose handling always fails — in the middle of a batch ends in the
//! dead-letter queue after the configured number of attempts; the rest of its batch is applied
//! once, neither blocked nor rolled back by it.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use switchboard_platform::{Shutdown, events::ConsumerConfig};

use crate::consumer_harness::{RecordEffects, Setup, events, within_30s};

const MAX_ATTEMPTS: u32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_event_in_a_batch_is_dead_lettered_after_its_attempts_and_the_rest_applied_once() {
    let setup = Setup::new("poison").await;
    let mut config = ConsumerConfig::new(&setup.queue, &["probe.#"]);
    config.max_attempts = MAX_ATTEMPTS;
    config.retry_delay = Duration::from_millis(50);
    // The events are all queued before the consumer starts; a short linger makes sure the
    // first batch holds many of them.
    config.linger = Duration::from_millis(100);
    let mut published = events("good", 100);
    published[50].aggregate_id = "poison".into();
    let poison_id = published[50].event_id.clone();
    let handler = Arc::new(RecordEffects {
        poison: Some("poison".into()),
        ..Default::default()
    });
    let consumer = setup.consumer(config, &handler).await;
    let stats = consumer.stats();
    setup.publish(&published).await;

    let (stop, shutdown) = Shutdown::new();
    let consuming = tokio::spawn(consumer.run(shutdown));
    let good_applied = within_30s(|| async { setup.effects().await.0 == 99 }).await;
    let mut dead = Vec::new();
    for _ in 0..600 {
        dead.extend(setup.take_dead_letters().await);
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dead_lettered = !dead.is_empty();
    stop.trigger();
    consuming.await.unwrap();

    let (effects, over_applied) = setup.effects().await;
    let poison_in_inbox = setup.in_inbox(&poison_id).await;
    let largest_batch = handler.batches.lock().unwrap().iter().copied().max();
    setup.finish().await;
    assert!(
        good_applied,
        "the 99 good events were applied; {effects} effects"
    );
    assert_eq!(effects, 99, "the poison event left no effect");
    assert_eq!(over_applied, 0, "no event applied twice");
    assert!(
        dead_lettered,
        "the poison event reached the dead-letter queue"
    );
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].event_id, poison_id);
    assert!(
        !poison_in_inbox,
        "a dead-lettered event is not marked applied"
    );
    assert_eq!(
        handler.poison_alone.load(Ordering::SeqCst),
        MAX_ATTEMPTS,
        "each of its deliveries was tried alone once"
    );
    assert_eq!(
        stats.failures.load(Ordering::Relaxed),
        u64::from(MAX_ATTEMPTS)
    );
    assert_eq!(
        stats.dead_lettered.load(Ordering::Relaxed),
        1,
        "the last attempt was recognised by its x-delivery-count"
    );
    assert_eq!(stats.applied.load(Ordering::Relaxed), 99);
    assert!(
        largest_batch.is_some_and(|size| size > 1),
        "handle_batch was given batches: {largest_batch:?}"
    );
    assert!(stats.largest_batch.load(Ordering::Relaxed) > 1);
}
