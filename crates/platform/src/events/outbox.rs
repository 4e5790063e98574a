//! Writing events: in the same transaction as the change they announce.

use prost::Message;
use sqlx::PgConnection;
use switchboard_proto::{
    common::v1::Actor,
    events::{Event, v1::EventEnvelope},
};
use tonic::Status;
use uuid::Uuid;

use crate::telemetry::current_trace_context;

/// An event about to be written to the outbox.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `<aggregate>.<event>`, also the routing key, e.g. `callback.assigned`.
    pub event_type: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The aggregate's version after this event (1 for its first event).
    pub aggregate_version: i64,
    pub actor: Option<Actor>,
    pub correlation_id: String,
    pub causation_id: String,
    pub payload: prost_types::Any,
}

impl NewEvent {
    /// The event announcing `payload`: its event type and aggregate type are the payload's
    /// (see [`Event`]), so a producer cannot pair a payload with another event's routing key.
    pub fn new<E: Event>(payload: &E, aggregate_id: &str, aggregate_version: i64) -> Self {
        Self::packed(
            E::EVENT_TYPE,
            E::AGGREGATE_TYPE,
            aggregate_id,
            aggregate_version,
            payload,
        )
    }

    /// An event of a type outside the table of [`Event`]s, with any message as its payload: for
    /// the platform's probe and tests, which make up event types of their own.
    #[cfg(feature = "testing")]
    pub fn untyped<M: prost::Name>(
        event_type: &str,
        aggregate_type: &str,
        aggregate_id: &str,
        aggregate_version: i64,
        payload: &M,
    ) -> Self {
        Self::packed(
            event_type,
            aggregate_type,
            aggregate_id,
            aggregate_version,
            payload,
        )
    }

    fn packed<M: prost::Name>(
        event_type: &str,
        aggregate_type: &str,
        aggregate_id: &str,
        aggregate_version: i64,
        payload: &M,
    ) -> Self {
        Self {
            event_type: event_type.to_owned(),
            aggregate_type: aggregate_type.to_owned(),
            aggregate_id: aggregate_id.to_owned(),
            aggregate_version,
            actor: None,
            correlation_id: String::new(),
            causation_id: String::new(),
            // Encoding into a growable buffer cannot fail.
            payload: prost_types::Any::from_msg(payload).expect("a message encodes into a Vec"),
        }
    }

    pub fn with_actor(mut self, actor: Actor) -> Self {
        self.actor = Some(actor);
        self
    }

    pub fn with_correlation(mut self, correlation_id: &str, causation_id: &str) -> Self {
        self.correlation_id = correlation_id.to_owned();
        self.causation_id = causation_id.to_owned();
        self
    }
}

/// [`enqueue`] for request handlers: a failure becomes a status, its cause logged.
pub async fn publish(tx: &mut PgConnection, source: &str, event: NewEvent) -> Result<(), Status> {
    enqueue(tx, source, event)
        .await
        .map(|_| ())
        .map_err(|e| crate::error::sql_status("enqueue event", &e))
}

/// The columns of an event's outbox row, built but not written: for a writer that inserts the
/// row itself, inside a statement of its own (one round trip for a change and its event).
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub event_id: Uuid,
    pub routing_key: String,
    /// The encoded [`EventEnvelope`].
    pub envelope: Vec<u8>,
    pub traceparent: String,
    pub tracestate: String,
}

/// The outbox row of `event`, stamped with a UUIDv7 id, the current time and the current span's
/// trace context. `source` names the writing service.
pub fn outbox_row(source: &str, event: NewEvent) -> OutboxRow {
    let event_id = Uuid::now_v7();
    let (traceparent, tracestate) = current_trace_context();
    let envelope = EventEnvelope {
        event_id: event_id.to_string(),
        event_type: event.event_type.clone(),
        occur_time: Some(prost_types::Timestamp::from(std::time::SystemTime::now())),
        aggregate_type: event.aggregate_type,
        aggregate_id: event.aggregate_id,
        aggregate_version: event.aggregate_version,
        actor: event.actor,
        correlation_id: event.correlation_id,
        causation_id: event.causation_id,
        traceparent: traceparent.clone(),
        tracestate: tracestate.clone(),
        payload: Some(event.payload),
        source: source.to_owned(),
    };
    OutboxRow {
        event_id,
        routing_key: event.event_type,
        envelope: envelope.encode_to_vec(),
        traceparent,
        tracestate,
    }
}

/// Writes `event` to the outbox inside the caller's transaction, as [`outbox_row`] builds it.
/// Returns the event id.
pub async fn enqueue(
    tx: &mut PgConnection,
    source: &str,
    event: NewEvent,
) -> Result<Uuid, sqlx::Error> {
    let row = outbox_row(source, event);
    sqlx::query(
        "INSERT INTO outbox (event_id, routing_key, envelope, traceparent, tracestate)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(row.event_id)
    .bind(&row.routing_key)
    .bind(row.envelope)
    .bind(row.traceparent)
    .bind(row.tracestate)
    .execute(tx)
    .await?;
    Ok(row.event_id)
}
