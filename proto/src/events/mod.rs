//! The events package: the generated payload messages (`v1`), what each payload knows about
//! itself ([`Event`]: its event type, aggregate and binding, from the one table in `table.rs`),
//! and typed access to an envelope's payload.
//!
//! This module stands in for the generated `switchboard_proto::events` and re-exports its `v1`,
//! so `switchboard_proto::events::v1::CallbackAssigned` keeps its path.

mod envelope;
mod table;
#[cfg(test)]
mod tests;

pub use envelope::UnpackError;
pub use table::{ALL, EventKind};

pub use crate::generated::switchboard::events::v1;

/// A payload of `switchboard.events.v1` that travels in an `EventEnvelope`. Implemented for
/// every payload by the table in `table.rs`, which a test holds to the routing keys and
/// aggregates the `.proto` comments name.
pub trait Event: prost::Name + Default {
    /// The envelope's `event_type`, also the routing key: `<prefix>.<event>`, e.g.
    /// `callback.assigned`.
    const EVENT_TYPE: &'static str;
    /// The envelope's `aggregate_type`, e.g. `callback` (not always the routing key's prefix:
    /// `directory.agent_changed` is about an `agent`).
    const AGGREGATE_TYPE: &'static str;
    /// The routing-key pattern that binds this event and every other of its prefix, e.g.
    /// `callback.*`: what a consumer of the whole family binds its queue to.
    const FAMILY_BINDING: &'static str;
}
