//! 10,000 events written by concurrent transactions reach the consumer and are applied exactly
//! once, while two relays share the outbox, one of them is stopped, crashed and restarted, and the
//! broker cuts their connections.

use std::{sync::atomic::Ordering, time::Duration};

use sqlx::{PgConnection, PgPool};
use switchboard_platform::{
    Shutdown,
    events::{
        ConsumerConfig, EventConsumer, EventHandler, HandlerError, NewEvent, OutboxRelay,
        RelayConfig, enqueue,
    },
    testing,
};
use switchboard_proto::common::v1::LocalDate;

const EVENTS: usize = 10_000;
const WRITERS: usize = 8;

/// The effect: one row per event, its counter raised on every application.
struct CountEffects;

impl EventHandler for CountEffects {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &switchboard_proto::events::v1::EventEnvelope,
    ) -> Result<(), HandlerError> {
        let event_id: uuid::Uuid = event
            .event_id
            .parse()
            .map_err(|_| HandlerError("id".into()))?;
        sqlx::query(
            "INSERT INTO effects (event_id, applied) VALUES ($1, 1)
             ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1",
        )
        .bind(event_id)
        .execute(tx)
        .await?;
        Ok(())
    }
}

async fn write_events(pool: PgPool, writer: usize, count: usize) {
    let mut written = 0;
    let mut batch = 1;
    while written < count {
        let size = batch.min(count - written);
        let mut tx = pool.begin().await.unwrap();
        for i in 0..size {
            let payload = LocalDate {
                year: 2026,
                month: 11,
                day: ((written + i) % 28 + 1) as i32,
            };
            let event = NewEvent::untyped(
                "probe.written",
                "probe",
                &format!("writer-{writer}"),
                (written + i + 1) as i64,
                &payload,
            );
            enqueue(&mut tx, "probe", event).await.unwrap();
        }
        tx.commit().await.unwrap();
        written += size;
        batch = batch % 17 + 1;
    }
}

async fn outbox_len(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn inbox_has(pool: &PgPool, ids: &[uuid::Uuid]) -> bool {
    let found: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE event_id = ANY($1)")
        .bind(ids)
        .fetch_one(pool)
        .await
        .unwrap();
    found == ids.len() as i64
}

async fn applied(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM effects")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_event_is_applied_exactly_once_across_relay_restarts_and_a_cut_connection() {
    let (pool, schema) = testing::fresh_schema("outbox").await;
    sqlx::query("CREATE TABLE effects (event_id uuid PRIMARY KEY, applied int NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let id = testing::unique_id();
    let amqp = testing::amqp_config(&id);
    testing::require_rabbitmq(&amqp).await;
    let queue = format!("test-{id}.effects");
    let mut consumer_config = ConsumerConfig::new(&queue, &["probe.*"]);
    consumer_config.prefetch = 200;
    let consumer = EventConsumer::new(pool.clone(), amqp.clone(), consumer_config, CountEffects);
    consumer.declare().await.unwrap();
    let consumer_stats = consumer.stats();
    let (stop_consumer, consumer_shutdown) = Shutdown::new();
    let consumer_task = tokio::spawn(consumer.run(consumer_shutdown));

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(write_events(pool.clone(), w, EVENTS / WRITERS)))
        .collect();

    let mut relay_config = RelayConfig::new(&schema);
    relay_config.batch_size = 200;
    relay_config.connection_name = format!("test-{id}.relay");
    let start_relay = || {
        let relay = OutboxRelay::new(pool.clone(), amqp.clone(), relay_config.clone());
        let (stop, shutdown) = Shutdown::new();
        (stop, tokio::spawn(relay.run(shutdown)))
    };

    // Keep 100 published events to replay later, as a relay that crashed after publishing but
    // before deleting would.
    assert!(
        testing::eventually(Duration::from_secs(30), || async {
            outbox_len(&pool).await >= 100
        })
        .await,
        "writers fill the outbox"
    );
    let kept: Vec<(uuid::Uuid, String, Vec<u8>)> =
        sqlx::query_as("SELECT event_id, routing_key, envelope FROM outbox ORDER BY seq LIMIT 100")
            .fetch_all(&pool)
            .await
            .unwrap();

    // A second relay drains the same outbox the whole time: replicas share it (SKIP LOCKED).
    let (stop_companion, companion) = start_relay();

    // Three graceful stops and restarts, one crash (the task aborted mid-work), one cut connection.
    let mut restarts = 0;
    let mut cut = false;
    let (mut stop, mut relay) = start_relay();
    for round in 0..6 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        match round {
            0 | 2 | 4 => {
                stop.trigger();
                relay.await.unwrap();
            }
            1 => {
                relay.abort();
                let _ = relay.await;
            }
            _ => {
                testing::close_broker_connections(&id);
                cut = true;
                continue;
            }
        }
        restarts += 1;
        if round == 2 {
            let kept_ids: Vec<uuid::Uuid> = kept.iter().map(|(id, _, _)| *id).collect();
            assert!(
                testing::eventually(Duration::from_secs(60), || async {
                    inbox_has(&pool, &kept_ids).await
                })
                .await,
                "the kept events were applied before they are replayed"
            );
            for (event_id, routing_key, envelope) in &kept {
                sqlx::query(
                    "INSERT INTO outbox (event_id, routing_key, envelope) VALUES ($1, $2, $3)",
                )
                .bind(event_id)
                .bind(routing_key)
                .bind(envelope)
                .execute(&pool)
                .await
                .unwrap();
            }
        }
        (stop, relay) = start_relay();
    }
    for writer in writers {
        writer.await.unwrap();
    }

    let all_applied = testing::eventually(Duration::from_secs(120), || async {
        applied(&pool).await == EVENTS as i64
    })
    .await;
    stop.trigger();
    relay.await.unwrap();
    stop_companion.trigger();
    companion.await.unwrap();
    stop_consumer.trigger();
    consumer_task.await.unwrap();
    testing::delete_amqp(&id);

    assert!(restarts >= 3 && cut);
    assert!(
        all_applied,
        "all {EVENTS} events applied; got {}",
        applied(&pool).await
    );
    let over_applied: i64 = sqlx::query_scalar("SELECT count(*) FROM effects WHERE applied <> 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(over_applied, 0, "no effect applied twice");
    assert_eq!(outbox_len(&pool).await, 0, "the outbox is drained");
    let stats = consumer_stats;
    eprintln!(
        "deliveries={} applied={} duplicates={} redelivered={} reconnects={}",
        stats.deliveries.load(Ordering::Relaxed),
        stats.applied.load(Ordering::Relaxed),
        stats.duplicates.load(Ordering::Relaxed),
        stats.redelivered.load(Ordering::Relaxed),
        stats.reconnects.load(Ordering::Relaxed),
    );
    assert_eq!(stats.applied.load(Ordering::Relaxed), EVENTS as u64);
    assert!(
        stats.duplicates.load(Ordering::Relaxed) >= 100,
        "the 100 replayed events were recognised as duplicates"
    );
    testing::drop_schema(&pool, &schema).await;
}
