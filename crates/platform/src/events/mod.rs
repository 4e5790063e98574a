//! Events on the bus: the transactional outbox that writers use, the relay that publishes it to
//! RabbitMQ, and the consumer (with inbox and dead letters) that readers use.

pub mod amqp;
mod backoff;
pub mod consumer;
pub mod outbox;
mod outbox_depth;
pub mod relay;

pub use backoff::Backoff;
pub use consumer::{
    ConsumerConfig, ConsumerStats, EventConsumer, EventHandler, HandlerError, QueueDepths,
};
pub use outbox::{NewEvent, enqueue, publish};
pub use outbox_depth::OutboxDepth;
pub use relay::{OutboxRelay, RelayConfig, RelayStats};
