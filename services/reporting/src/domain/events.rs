//! What an event on the bus means to the reporting service's models.

use switchboard_proto::{
    callback::v1::IvrRoute,
    events::{
        Event,
        v1::{
            CallbackAssigned, CallbackAssignmentCancelled, CallbackAttemptRecorded,
            CallbackCompleted, CallbackConnectRequested, CallbackRegistered,
            CallbackRequestRepeated, CallbackSnapshot, EventEnvelope, IvrRouteChanged,
            IvrRouteDeleted,
        },
    },
};

/// The routing-key patterns the reporting service consumes.
pub const BINDINGS: [&str; 2] = [
    CallbackRegistered::FAMILY_BINDING,
    IvrRouteChanged::FAMILY_BINDING,
];

/// The routing-key pattern of the ticket model's queue.
pub const TICKET_BINDINGS: [&str; 1] =
    [switchboard_proto::events::v1::TicketCreated::FAMILY_BINDING];

/// The aggregate type of the callback events.
pub const CALLBACK_AGGREGATE: &str = CallbackRegistered::AGGREGATE_TYPE;

/// The aggregate type of the IVR route events.
pub const ROUTE_AGGREGATE: &str = IvrRouteChanged::AGGREGATE_TYPE;

/// The callback event types whose snapshot the model folds (as [`read`] knows them).
pub const CALLBACK_EVENTS: [&str; 7] = [
    CallbackRegistered::EVENT_TYPE,
    CallbackRequestRepeated::EVENT_TYPE,
    CallbackAssigned::EVENT_TYPE,
    CallbackAssignmentCancelled::EVENT_TYPE,
    CallbackConnectRequested::EVENT_TYPE,
    CallbackAttemptRecorded::EVENT_TYPE,
    CallbackCompleted::EVENT_TYPE,
];

/// An event's effect on the models.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A callback's state after a change.
    Callback(CallbackSnapshot),
    /// An IVR route was created or changed.
    Route(IvrRoute),
    /// An IVR route was deleted.
    RouteDeleted(String),
    /// An event no model uses yet: only retained, for a later model to rebuild from.
    Retained,
}

fn unpack<E: Event>(envelope: &EventEnvelope) -> Result<E, String> {
    envelope.unpack::<E>().map_err(|e| e.to_string())
}

fn snapshot(event_type: &str, snapshot: Option<CallbackSnapshot>) -> Result<Change, String> {
    snapshot
        .map(Change::Callback)
        .ok_or_else(|| format!("{event_type} carries no callback snapshot"))
}

/// Reads `envelope` by its event type. An event that cannot be read is an error (retried, then
/// dead-lettered); an event of a type no model knows is [`Change::Retained`].
pub fn read(envelope: &EventEnvelope) -> Result<Change, String> {
    let kind = envelope.event_type.as_str();
    match kind {
        CallbackRegistered::EVENT_TYPE => {
            snapshot(kind, unpack::<CallbackRegistered>(envelope)?.callback)
        }
        CallbackRequestRepeated::EVENT_TYPE => {
            snapshot(kind, unpack::<CallbackRequestRepeated>(envelope)?.callback)
        }
        CallbackAssigned::EVENT_TYPE => {
            snapshot(kind, unpack::<CallbackAssigned>(envelope)?.callback)
        }
        CallbackAssignmentCancelled::EVENT_TYPE => snapshot(
            kind,
            unpack::<CallbackAssignmentCancelled>(envelope)?.callback,
        ),
        CallbackConnectRequested::EVENT_TYPE => {
            snapshot(kind, unpack::<CallbackConnectRequested>(envelope)?.callback)
        }
        CallbackAttemptRecorded::EVENT_TYPE => {
            snapshot(kind, unpack::<CallbackAttemptRecorded>(envelope)?.callback)
        }
        CallbackCompleted::EVENT_TYPE => {
            snapshot(kind, unpack::<CallbackCompleted>(envelope)?.callback)
        }
        IvrRouteChanged::EVENT_TYPE => unpack::<IvrRouteChanged>(envelope)?
            .ivr_route
            .map(Change::Route)
            .ok_or_else(|| format!("{kind} carries no route")),
        IvrRouteDeleted::EVENT_TYPE => Ok(Change::RouteDeleted(
            unpack::<IvrRouteDeleted>(envelope)?.ivr_route_id,
        )),
        _ => Ok(Change::Retained),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(event_type: &str, payload: Option<prost_types::Any>) -> EventEnvelope {
        EventEnvelope {
            event_type: event_type.into(),
            payload,
            ..Default::default()
        }
    }

    #[test]
    fn every_callback_event_yields_its_snapshot() {
        let callback = CallbackSnapshot {
            callback_id: "c1".into(),
            ..Default::default()
        };
        let completed = prost_types::Any::from_msg(&CallbackCompleted {
            callback: Some(callback.clone()),
            ..Default::default()
        })
        .unwrap();
        let change = read(&envelope(CallbackCompleted::EVENT_TYPE, Some(completed))).unwrap();
        assert_eq!(change, Change::Callback(callback));
    }

    #[test]
    fn a_payload_of_the_wrong_type_or_none_is_an_error() {
        let wrong = prost_types::Any::from_msg(&IvrRouteDeleted::default()).unwrap();
        let assigned = CallbackAssigned::EVENT_TYPE;
        let error = read(&envelope(assigned, Some(wrong))).unwrap_err();
        assert!(error.contains("CallbackAssigned"), "{error}");
        assert!(read(&envelope(assigned, None)).is_err());
        let empty = prost_types::Any::from_msg(&CallbackAssigned::default()).unwrap();
        let error = read(&envelope(assigned, Some(empty))).unwrap_err();
        assert!(error.contains("no callback snapshot"), "{error}");
    }

    #[test]
    fn every_listed_callback_event_is_read() {
        for kind in CALLBACK_EVENTS {
            let error = read(&envelope(kind, None)).unwrap_err();
            assert!(error.contains("no payload"), "{kind}: {error}");
        }
    }

    #[test]
    fn every_callback_event_of_the_table_is_listed() {
        let table: Vec<_> = switchboard_proto::events::ALL
            .iter()
            .filter(|kind| kind.aggregate_type == CALLBACK_AGGREGATE)
            .map(|kind| kind.event_type)
            .collect();
        assert_eq!(table, CALLBACK_EVENTS);
    }

    #[test]
    fn unknown_types_are_only_retained() {
        assert_eq!(
            read(&envelope("callback.archived", None)),
            Ok(Change::Retained)
        );
    }
}
