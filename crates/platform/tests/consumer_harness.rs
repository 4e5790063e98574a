//! What the consumer's tests share: a scratch schema with an effects table, a queue of the test's
//! own, events published straight to the exchange, and a handler that records its effects and
//! can be told to fail (for good on a poison event, or transiently for its first calls).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use lapin::{
    BasicProperties,
    options::{BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions},
    types::ShortString,
};
use prost::Message;
use sqlx::{PgConnection, PgPool};
use switchboard_platform::{
    config::AmqpConfig,
    events::{ConsumerConfig, EventConsumer, EventHandler, HandlerError, amqp},
    testing,
};
use switchboard_proto::events::v1::EventEnvelope;
use uuid::Uuid;

pub const ROUTING_KEY: &str = "probe.written";

pub struct Setup {
    pub pool: PgPool,
    pub schema: String,
    pub id: String,
    pub amqp: AmqpConfig,
    pub queue: String,
}

impl Setup {
    pub async fn new(prefix: &str) -> Self {
        let (pool, schema) = testing::fresh_schema(prefix).await;
        sqlx::query(
            "CREATE TABLE effects (event_id uuid PRIMARY KEY, aggregate_id text NOT NULL,
                                   applied int NOT NULL)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let id = testing::unique_id();
        let amqp = testing::amqp_config(&id);
        testing::require_rabbitmq(&amqp).await;
        let queue = format!("test-{id}.{prefix}");
        Self {
            pool,
            schema,
            id,
            amqp,
            queue,
        }
    }

    /// Publishes `events` to the events exchange, confirmed by the broker.
    pub async fn publish(&self, events: &[EventEnvelope]) {
        let connection = amqp::connect(&self.amqp, "test.publisher").await.unwrap();
        let channel = connection.create_channel().await.unwrap();
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        let mut confirms = Vec::with_capacity(events.len());
        for event in events {
            let confirm = channel
                .basic_publish(
                    ShortString::from(self.amqp.exchange.as_str()),
                    ShortString::from(ROUTING_KEY),
                    BasicPublishOptions::default(),
                    &event.encode_to_vec(),
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await
                .unwrap();
            confirms.push(confirm);
        }
        for confirm in confirms {
            assert!(
                !confirm.await.unwrap().is_nack(),
                "the broker took the event"
            );
        }
        connection.close(200, "published".into()).await.unwrap();
    }

    /// Takes every message now in the dead-letter queue.
    pub async fn take_dead_letters(&self) -> Vec<EventEnvelope> {
        let connection = amqp::connect(&self.amqp, "test.dead-letter-reader")
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        let mut dead = Vec::new();
        while let Some(message) = channel
            .basic_get(
                ShortString::from(amqp::dead_letter_queue(&self.queue)),
                BasicGetOptions::default(),
            )
            .await
            .unwrap()
        {
            message.ack(BasicAckOptions::default()).await.unwrap();
            dead.push(EventEnvelope::decode(message.delivery.data.as_slice()).unwrap());
        }
        connection.close(200, "done".into()).await.unwrap();
        dead
    }

    /// Effects recorded, and how many were applied more than once.
    pub async fn effects(&self) -> (i64, i64) {
        sqlx::query_as("SELECT count(*), count(*) FILTER (WHERE applied <> 1) FROM effects")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn in_inbox(&self, event_id: &str) -> bool {
        sqlx::query_scalar("SELECT count(*) = 1 FROM inbox WHERE event_id::text = $1")
            .bind(event_id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn finish(self) {
        testing::delete_amqp(&self.id);
        testing::drop_schema(&self.pool, &self.schema).await;
    }
}

/// `count` events of distinct aggregates `<prefix>-<i>`.
pub fn events(prefix: &str, count: usize) -> Vec<EventEnvelope> {
    (0..count)
        .map(|i| EventEnvelope {
            event_id: Uuid::now_v7().to_string(),
            event_type: ROUTING_KEY.into(),
            aggregate_type: "probe".into(),
            aggregate_id: format!("{prefix}-{i}"),
            aggregate_version: 1,
            ..Default::default()
        })
        .collect()
}

/// Records each event as a row of `effects` (its counter raised on a second application).
#[derive(Default)]
pub struct RecordEffects {
    /// The aggregate whose events always fail.
    pub poison: Option<String>,
    /// Calls left that fail transiently: the handler's own database connection is terminated,
    /// as a restarting server would.
    pub transient_calls: AtomicU32,
    /// Applications of the poison event alone (through `handle`, not `handle_batch`).
    pub poison_alone: AtomicU32,
    /// The size of every batch `handle_batch` was given.
    pub batches: Mutex<Vec<usize>>,
}

impl RecordEffects {
    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &EventEnvelope,
        alone: bool,
    ) -> Result<(), HandlerError> {
        let transient = self
            .transient_calls
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if transient {
            // `?` classifies the error the server sends as it terminates the connection.
            sqlx::query("SELECT pg_terminate_backend(pg_backend_pid())")
                .execute(&mut *tx)
                .await?;
            unreachable!("the server terminated the connection");
        }
        if self.poison.as_deref() == Some(event.aggregate_id.as_str()) {
            if alone {
                self.poison_alone.fetch_add(1, Ordering::SeqCst);
            }
            // Even a write made before the failure must be rolled back with the inbox rows.
            self.insert(tx, event).await?;
            return Err(HandlerError("this event can never be handled".into()));
        }
        self.insert(tx, event).await
    }

    async fn insert(
        &self,
        tx: &mut PgConnection,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        let event_id: Uuid = event
            .event_id
            .parse()
            .map_err(|_| HandlerError("event id".into()))?;
        sqlx::query(
            "INSERT INTO effects (event_id, aggregate_id, applied) VALUES ($1, $2, 1)
             ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1",
        )
        .bind(event_id)
        .bind(&event.aggregate_id)
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// Shared by the test and the consumer.
impl Setup {
    /// A consumer of the test's queue applying through `handler`, its queue declared.
    pub async fn consumer(
        &self,
        config: ConsumerConfig,
        handler: &Arc<RecordEffects>,
    ) -> EventConsumer<Shared> {
        let consumer = EventConsumer::new(
            self.pool.clone(),
            self.amqp.clone(),
            config,
            Shared(Arc::clone(handler)),
        );
        consumer.declare().await.unwrap();
        consumer
    }
}

pub struct Shared(pub Arc<RecordEffects>);

impl EventHandler for Shared {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        self.0.apply(tx, event, true).await
    }

    async fn handle_batch(
        &self,
        tx: &mut PgConnection,
        events: &[EventEnvelope],
    ) -> Result<(), HandlerError> {
        self.0.batches.lock().unwrap().push(events.len());
        for event in events {
            self.0.apply(tx, event, false).await?;
        }
        Ok(())
    }
}

/// Polls `check` every 50 ms for at most 30 s.
pub async fn within_30s<F, Fut>(check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    testing::eventually(Duration::from_secs(30), check).await
}
