//! A ticket change event as the triggers see it: the ticket after the change, whether it was
//! created or updated, what the change did, and the customer message it added.

use chrono::{DateTime, Utc};
use switchboard_platform::time::instant;
use switchboard_proto::{
    events::{
        Event,
        v1::{
            EventEnvelope, TicketAssigned, TicketCreated, TicketForwarded, TicketMessageAdded,
            TicketStatusChanged, TicketUpdated,
        },
    },
    ticket::v1::{
        MessageAutomation, Ticket, TicketChangeOrigin, TicketFieldChange, TicketMessage,
        TicketMessageKind, TicketStatus,
    },
    trigger::v1::UpdateType,
};

/// One evaluable event.
#[derive(Debug, Clone)]
pub struct SourceEvent {
    /// The envelope's event id: the run's id.
    pub event_id: String,
    pub ticket: Ticket,
    pub update_type: UpdateType,
    pub changes: Vec<TicketFieldChange>,
    /// The customer message the event added; empty when none.
    pub body: String,
    /// Whether that message was automated mail (no notification answers it).
    pub automated: bool,
    pub time: DateTime<Utc>,
}

/// The message as triggers see it: its text when it is the customer's, and whether it was
/// automated.
fn customer_message(message: Option<&TicketMessage>) -> (String, bool) {
    match message {
        Some(m) if m.kind() == TicketMessageKind::Customer => {
            let automated = !matches!(
                m.automation(),
                MessageAutomation::Unspecified | MessageAutomation::Human
            );
            (m.body_text.clone(), automated)
        }
        _ => (String::new(), false),
    }
}

/// Whether triggers act on a ticket in this status.
pub fn evaluable(ticket: &Ticket) -> bool {
    !matches!(
        ticket.status(),
        TicketStatus::Closed | TicketStatus::Spam | TicketStatus::Unspecified
    )
}

/// The event, or `None` when triggers do not evaluate it: the triggers' own changes (their run
/// reached its fixed point), deletions, and events of other kinds. An envelope whose payload
/// does not decode is an error.
pub fn read(
    envelope: &EventEnvelope,
) -> Result<Option<SourceEvent>, switchboard_proto::events::UnpackError> {
    let time = envelope
        .occur_time
        .as_ref()
        .and_then(instant)
        .unwrap_or_else(Utc::now);
    let event = |ticket: Option<Ticket>,
                 update_type: UpdateType,
                 changes: Vec<TicketFieldChange>,
                 origin: i32,
                 message: Option<&TicketMessage>| {
        if origin == TicketChangeOrigin::Trigger as i32 {
            return None;
        }
        let (body, automated) = customer_message(message);
        Some(SourceEvent {
            event_id: envelope.event_id.clone(),
            ticket: ticket?,
            update_type,
            changes,
            body,
            automated,
            time,
        })
    };
    let updated = UpdateType::Updated;
    Ok(match envelope.event_type.as_str() {
        TicketCreated::EVENT_TYPE => {
            let e: TicketCreated = envelope.unpack()?;
            event(
                e.ticket,
                UpdateType::Created,
                Vec::new(),
                e.origin,
                e.first_message.as_ref(),
            )
        }
        TicketUpdated::EVENT_TYPE => {
            let e: TicketUpdated = envelope.unpack()?;
            event(e.ticket, updated, e.changes, e.origin, None)
        }
        TicketAssigned::EVENT_TYPE => {
            let e: TicketAssigned = envelope.unpack()?;
            event(e.ticket, updated, e.changes, e.origin, None)
        }
        TicketForwarded::EVENT_TYPE => {
            let e: TicketForwarded = envelope.unpack()?;
            event(e.ticket, updated, e.changes, e.origin, None)
        }
        TicketStatusChanged::EVENT_TYPE => {
            let e: TicketStatusChanged = envelope.unpack()?;
            event(e.ticket, updated, e.changes, e.origin, None)
        }
        TicketMessageAdded::EVENT_TYPE => {
            let e: TicketMessageAdded = envelope.unpack()?;
            event(e.ticket, updated, e.changes, e.origin, e.message.as_ref())
        }
        _ => None,
    })
}
