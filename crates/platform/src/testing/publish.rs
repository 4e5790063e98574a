//! Publishing envelopes straight onto the events exchange, as a relay would (persistent, with
//! publisher confirms, routing key = event type): for tests that deliver events in an order, or
//! as often, as they choose.

use lapin::{
    BasicProperties,
    options::{BasicPublishOptions, ConfirmSelectOptions},
    types::ShortString,
};
use prost::Message;
use switchboard_proto::events::v1::EventEnvelope;

use crate::{config::AmqpConfig, events::amqp};

/// Publishes `events` in the given order onto `config`'s exchange.
pub async fn publish(config: &AmqpConfig, events: &[EventEnvelope]) {
    let connection = amqp::connect(config, "test-publisher")
        .await
        .expect("RabbitMQ accepts the test publisher");
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    amqp::declare_exchanges(&channel, config).await.unwrap();
    for window in events.chunks(500) {
        let mut confirms = Vec::with_capacity(window.len());
        for event in window {
            let confirm = channel
                .basic_publish(
                    ShortString::from(config.exchange.as_str()),
                    ShortString::from(event.event_type.as_str()),
                    BasicPublishOptions::default(),
                    &event.encode_to_vec(),
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await
                .expect("the broker takes the event");
            confirms.push(confirm);
        }
        for confirm in confirms {
            confirm.await.expect("the broker confirms the event");
        }
    }
    let _ = connection.close(200, "published".into()).await;
}
