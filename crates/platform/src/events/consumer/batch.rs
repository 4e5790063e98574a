//! A batch's deliveries as events: decoding, grouping the deliveries of one event (an event
//! delivered twice in one batch is applied once), and what the broker says about attempts.

use lapin::types::{AMQPValue, FieldTable};
use prost::Message;
use switchboard_proto::events::v1::EventEnvelope;
use uuid::Uuid;

/// One event of a batch with every delivery of it in the batch (the first one's envelope).
pub(super) struct Pending<D> {
    pub event_id: Uuid,
    pub envelope: EventEnvelope,
    pub deliveries: Vec<D>,
}

/// The event in a delivery's body; `None` when it is not an envelope with a UUID.
pub(super) fn decode(data: &[u8]) -> Option<(Uuid, EventEnvelope)> {
    let envelope = EventEnvelope::decode(data).ok()?;
    let event_id = envelope.event_id.parse().ok()?;
    Some((event_id, envelope))
}

/// Groups deliveries by event, in the order each event was first delivered.
pub(super) fn group_by_event<D>(
    decoded: impl IntoIterator<Item = (Uuid, EventEnvelope, D)>,
) -> Vec<Pending<D>> {
    let mut pending: Vec<Pending<D>> = Vec::new();
    let mut index: std::collections::HashMap<Uuid, usize> = std::collections::HashMap::new();
    for (event_id, envelope, delivery) in decoded {
        match index.get(&event_id) {
            Some(&at) => pending[at].deliveries.push(delivery),
            None => {
                index.insert(event_id, pending.len());
                pending.push(Pending {
                    event_id,
                    envelope,
                    deliveries: vec![delivery],
                });
            }
        }
    }
    pending
}

/// Failed deliveries before this one, as a quorum queue counts them in `x-delivery-count`
/// (absent on a first delivery).
pub(super) fn earlier_deliveries(headers: Option<&FieldTable>) -> u64 {
    let value = headers.and_then(|headers| headers.inner().get("x-delivery-count"));
    match value {
        Some(AMQPValue::LongLongInt(n)) => u64::try_from(*n).unwrap_or(0),
        Some(AMQPValue::LongInt(n)) => u64::try_from(*n).unwrap_or(0),
        Some(AMQPValue::ShortInt(n)) => u64::try_from(*n).unwrap_or(0),
        Some(AMQPValue::LongUInt(n)) => u64::from(*n),
        Some(AMQPValue::ShortShortInt(n)) => u64::try_from(*n).unwrap_or(0),
        Some(AMQPValue::ShortShortUInt(n)) => u64::from(*n),
        Some(AMQPValue::ShortUInt(n)) => u64::from(*n),
        _ => 0,
    }
}

/// Whether a failure of this delivery makes the broker dead-letter it (its delivery limit is
/// `max_attempts - 1` returns).
pub(super) fn is_last_attempt(earlier_deliveries: u64, max_attempts: u32) -> bool {
    earlier_deliveries + 1 >= u64::from(max_attempts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(id: Uuid) -> EventEnvelope {
        EventEnvelope {
            event_id: id.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn an_event_delivered_twice_in_a_batch_is_one_pending_event_in_first_delivery_order() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let decoded =
            [(b, 1), (a, 2), (b, 3), (c, 4), (a, 5)].map(|(id, tag)| (id, envelope(id), tag));
        let pending = group_by_event(decoded);
        let grouped: Vec<(Uuid, Vec<i32>)> = pending
            .into_iter()
            .map(|p| (p.event_id, p.deliveries))
            .collect();
        assert_eq!(grouped, [(b, vec![1, 3]), (a, vec![2, 5]), (c, vec![4])]);
    }

    #[test]
    fn only_an_envelope_with_a_uuid_is_an_event() {
        let id = Uuid::new_v4();
        let (decoded, _) = decode(&envelope(id).encode_to_vec()).unwrap();
        assert_eq!(decoded, id);
        let no_uuid = EventEnvelope {
            event_id: "42".into(),
            ..Default::default()
        };
        assert!(decode(&no_uuid.encode_to_vec()).is_none());
        assert!(decode(b"\xff\xff not protobuf").is_none());
    }

    #[test]
    fn the_last_attempt_is_the_one_after_max_attempts_minus_one_failures() {
        let mut headers = FieldTable::default();
        assert_eq!(earlier_deliveries(None), 0);
        assert!(!is_last_attempt(earlier_deliveries(Some(&headers)), 3));
        headers.insert("x-delivery-count".into(), AMQPValue::LongLongInt(1));
        assert!(!is_last_attempt(earlier_deliveries(Some(&headers)), 3));
        headers.insert("x-delivery-count".into(), AMQPValue::LongInt(2));
        assert!(is_last_attempt(earlier_deliveries(Some(&headers)), 3));
        assert!(is_last_attempt(0, 1));
    }
}
