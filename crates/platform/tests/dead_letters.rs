//! A poison event — one whose handling always fails — ends in the dead-letter queue after the
//! configured number of attempts, and the events behind it are applied meanwhile.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use lapin::{
    options::{BasicAckOptions, BasicGetOptions},
    types::ShortString,
};
use prost::Message;
use sqlx::PgConnection;
use switchboard_platform::{
    Shutdown,
    events::{
        ConsumerConfig, EventConsumer, EventHandler, HandlerError, NewEvent, OutboxRelay,
        RelayConfig, amqp, enqueue,
    },
    testing,
};
use switchboard_proto::{common::v1::LocalDate, events::v1::EventEnvelope};

const MAX_ATTEMPTS: u32 = 3;

/// Fails every event whose aggregate is "poison"; records the others.
struct FailOnPoison {
    poison_attempts: Arc<AtomicU32>,
}

impl EventHandler for FailOnPoison {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        if event.aggregate_id == "poison" {
            self.poison_attempts.fetch_add(1, Ordering::SeqCst);
            // Even a write made before the failure must be rolled back with the inbox row.
            sqlx::query("INSERT INTO effects (aggregate_id) VALUES ('poison')")
                .execute(&mut *tx)
                .await?;
            return Err(HandlerError("this event can never be handled".into()));
        }
        sqlx::query("INSERT INTO effects (aggregate_id) VALUES ($1)")
            .bind(&event.aggregate_id)
            .execute(tx)
            .await?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_event_is_dead_lettered_after_its_attempts_without_blocking_the_rest() {
    let (pool, schema) = testing::fresh_schema("poison").await;
    sqlx::query("CREATE TABLE effects (aggregate_id text NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let id = testing::unique_id();
    let amqp_config = testing::amqp_config(&id);
    testing::require_rabbitmq(&amqp_config).await;
    let queue = format!("test-{id}.poison");
    let mut config = ConsumerConfig::new(&queue, &["probe.#"]);
    config.max_attempts = MAX_ATTEMPTS;
    config.retry_delay = Duration::from_millis(50);
    let poison_attempts = Arc::new(AtomicU32::new(0));
    let consumer = EventConsumer::new(
        pool.clone(),
        amqp_config.clone(),
        config,
        FailOnPoison {
            poison_attempts: Arc::clone(&poison_attempts),
        },
    );
    consumer.declare().await.unwrap();

    // The poison event goes first, 50 good ones right behind it.
    let mut tx = pool.begin().await.unwrap();
    for aggregate in
        std::iter::once("poison".to_owned()).chain((0..50).map(|i| format!("good-{i}")))
    {
        let payload = LocalDate::default();
        let event = NewEvent::untyped("probe.written", "probe", &aggregate, 1, &payload);
        enqueue(&mut tx, "probe", event).await.unwrap();
    }
    tx.commit().await.unwrap();

    let relay = OutboxRelay::new(pool.clone(), amqp_config.clone(), RelayConfig::new(&schema));
    let (stop, shutdown) = Shutdown::new();
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    let consumer_task = tokio::spawn(consumer.run(shutdown));

    let good_applied = testing::eventually(Duration::from_secs(30), || async {
        let good: i64 =
            sqlx::query_scalar("SELECT count(*) FROM effects WHERE aggregate_id <> 'poison'")
                .fetch_one(&pool)
                .await
                .unwrap();
        good == 50
    })
    .await;

    // The dead letter arrives in `<queue>.dead-letter`.
    let connection = amqp::connect(&amqp_config, "test.dead-letter-reader")
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let mut dead = None;
    for _ in 0..200 {
        if let Some(message) = channel
            .basic_get(
                ShortString::from(amqp::dead_letter_queue(&queue)),
                BasicGetOptions::default(),
            )
            .await
            .unwrap()
        {
            message.ack(BasicAckOptions::default()).await.unwrap();
            dead = Some(EventEnvelope::decode(message.delivery.data.as_slice()).unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.trigger();
    relay_task.await.unwrap();
    consumer_task.await.unwrap();
    connection.close(200, "done".into()).await.unwrap();
    testing::delete_amqp(&id);

    assert!(
        good_applied,
        "the 50 events behind the poison one were applied"
    );
    let dead = dead.expect("the poison event is in the dead-letter queue");
    assert_eq!(dead.aggregate_id, "poison");
    assert_eq!(poison_attempts.load(Ordering::SeqCst), MAX_ATTEMPTS);
    let poison_effects: i64 =
        sqlx::query_scalar("SELECT count(*) FROM effects WHERE aggregate_id = 'poison'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        poison_effects, 0,
        "failed attempts left nothing half-written"
    );
    let poison_in_inbox: i64 =
        sqlx::query_scalar("SELECT count(*) FROM inbox i WHERE event_id::text = $1")
            .bind(&dead.event_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        poison_in_inbox, 0,
        "a dead-lettered event is not marked applied"
    );
    testing::drop_schema(&pool, &schema).await;
}
