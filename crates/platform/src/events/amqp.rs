//! RabbitMQ connections and the topology every service relies on: the durable topic exchange of
//! events, the dead-letter exchange, and per-consumer quorum queues with their dead-letter queues.

use lapin::{
    Channel, Connection, ConnectionProperties, ExchangeKind,
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable, LongString, ShortString},
};
use secrecy::ExposeSecret;

use crate::config::AmqpConfig;

/// Opens a connection named `name` (visible in the broker's connection list).
pub async fn connect(config: &AmqpConfig, name: &str) -> lapin::Result<Connection> {
    Connection::connect(
        config.url.expose_secret(),
        ConnectionProperties::default().with_connection_name(LongString::from(name)),
    )
    .await
}

/// Declares the events exchange and the dead-letter exchange (idempotent).
pub async fn declare_exchanges(channel: &Channel, config: &AmqpConfig) -> lapin::Result<()> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(
            ShortString::from(config.exchange.as_str()),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await?;
    channel
        .exchange_declare(
            ShortString::from(config.dead_letter_exchange.as_str()),
            ExchangeKind::Direct,
            durable,
            FieldTable::default(),
        )
        .await
}

/// The name of the queue that receives `queue`'s dead letters.
pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}.dead-letter")
}

/// Declares the quorum queue `queue` bound to the events exchange with `bindings` (topic
/// patterns such as `callback.*`). A message the consumer fails `max_attempts` times is
/// dead-lettered by the broker into `<queue>.dead-letter`.
pub async fn declare_consumer_queue(
    channel: &Channel,
    config: &AmqpConfig,
    queue: &str,
    bindings: &[String],
    max_attempts: u32,
) -> lapin::Result<()> {
    declare_exchanges(channel, config).await?;
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let dead_letters = dead_letter_queue(queue);
    channel
        .queue_declare(ShortString::from(dead_letters.as_str()), durable, quorum())
        .await?;
    channel
        .queue_bind(
            ShortString::from(dead_letters.as_str()),
            ShortString::from(config.dead_letter_exchange.as_str()),
            ShortString::from(queue),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;

    let mut arguments = quorum();
    arguments.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(config.dead_letter_exchange.as_str().into()),
    );
    arguments.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(queue.into()),
    );
    // The broker counts returns to the queue; after `max_attempts - 1` of them it dead-letters.
    arguments.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongLongInt(i64::from(max_attempts.saturating_sub(1))),
    );
    channel
        .queue_declare(ShortString::from(queue), durable, arguments)
        .await?;
    for pattern in bindings {
        channel
            .queue_bind(
                ShortString::from(queue),
                ShortString::from(config.exchange.as_str()),
                ShortString::from(pattern.as_str()),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(())
}

fn quorum() -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    arguments
}
