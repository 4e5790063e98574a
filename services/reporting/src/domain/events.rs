//! What an event on the bus means to the reporting service's models.

use prost::Name;
use switchboard_proto::{
    callback::v1::IvrRoute,
    events::v1::{
        CallbackAssigned, CallbackAssignmentCancelled, CallbackAttemptRecorded, CallbackCompleted,
        CallbackConnectRequested, CallbackRegistered, CallbackRequestRepeated, CallbackSnapshot,
        EventEnvelope, IvrRouteChanged, IvrRouteDeleted,
    },
};

/// The routing-key patterns the reporting service consumes.
pub const BINDINGS: [&str; 2] = ["callback.*", "ivr_route.*"];

/// The callback event types whose snapshot the model folds (as [`read`] knows them).
pub const CALLBACK_EVENTS: [&str; 7] = [
    "callback.registered",
    "callback.request_repeated",
    "callback.assigned",
    "callback.assignment_cancelled",
    "callback.connect_requested",
    "callback.attempt_recorded",
    "callback.completed",
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

fn unpack<M: Name + Default>(envelope: &EventEnvelope) -> Result<M, String> {
    let payload = envelope
        .payload
        .as_ref()
        .ok_or_else(|| format!("{} has no payload", envelope.event_type))?;
    payload.to_msg::<M>().map_err(|e| {
        format!(
            "{} payload is not a {} ({e})",
            envelope.event_type,
            M::full_name()
        )
    })
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
        "callback.registered" => snapshot(kind, unpack::<CallbackRegistered>(envelope)?.callback),
        "callback.request_repeated" => {
            snapshot(kind, unpack::<CallbackRequestRepeated>(envelope)?.callback)
        }
        "callback.assigned" => snapshot(kind, unpack::<CallbackAssigned>(envelope)?.callback),
        "callback.assignment_cancelled" => snapshot(
            kind,
            unpack::<CallbackAssignmentCancelled>(envelope)?.callback,
        ),
        "callback.connect_requested" => {
            snapshot(kind, unpack::<CallbackConnectRequested>(envelope)?.callback)
        }
        "callback.attempt_recorded" => {
            snapshot(kind, unpack::<CallbackAttemptRecorded>(envelope)?.callback)
        }
        "callback.completed" => snapshot(kind, unpack::<CallbackCompleted>(envelope)?.callback),
        "ivr_route.changed" => unpack::<IvrRouteChanged>(envelope)?
            .ivr_route
            .map(Change::Route)
            .ok_or_else(|| format!("{kind} carries no route")),
        "ivr_route.deleted" => Ok(Change::RouteDeleted(
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
        let change = read(&envelope("callback.completed", Some(completed))).unwrap();
        assert_eq!(change, Change::Callback(callback));
    }

    #[test]
    fn a_payload_of_the_wrong_type_or_none_is_an_error() {
        let wrong = prost_types::Any::from_msg(&IvrRouteDeleted::default()).unwrap();
        let error = read(&envelope("callback.assigned", Some(wrong))).unwrap_err();
        assert!(error.contains("CallbackAssigned"), "{error}");
        assert!(read(&envelope("callback.assigned", None)).is_err());
        let empty = prost_types::Any::from_msg(&CallbackAssigned::default()).unwrap();
        let error = read(&envelope("callback.assigned", Some(empty))).unwrap_err();
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
    fn unknown_types_are_only_retained() {
        assert_eq!(
            read(&envelope("callback.archived", None)),
            Ok(Change::Retained)
        );
    }
}
