//! Every change of a ticket is written twice in its transaction: as its history entry (이벤트
//! 탭) and as its change event in the outbox (`ticket.*`, events/v1/ticket_events.proto). One
//! function builds both from the ticket before and after, so they cannot disagree.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use switchboard_platform::{
    error::{Error, Result},
    events::{NewEvent, publish},
    time::timestamp,
};
use switchboard_proto::{
    common::v1::Actor,
    events::v1::{
        TicketAssigned, TicketCreated, TicketDeleted, TicketForwarded, TicketMessageAdded,
        TicketStatusChanged, TicketUpdated,
    },
    ticket::v1::{
        ResolutionReason, Ticket, TicketChangeOrigin, TicketEvent, TicketEventKind, TicketField,
        TicketFieldChange, TicketMessage, TicketStatus,
    },
};
use uuid::Uuid;

use super::{history, writes::Writes};
use switchboard_proto::ticket_changes::diff;

/// The `source` of the events the ticket service writes.
pub const SOURCE: &str = "ticket";

/// One change, as the history and the bus record it.
#[derive(Debug, Clone)]
pub struct Change {
    pub kind: TicketEventKind,
    pub origin: TicketChangeOrigin,
    pub actor: Actor,
    /// The message the change added, if any.
    pub message: Option<TicketMessage>,
    pub note: String,
    pub related_ticket_id: String,
    pub resolution_reason: ResolutionReason,
    /// The message is the ticket's first public reply.
    pub first_reply: bool,
    /// Part of a batch rpc.
    pub batch: bool,
    /// The trigger that made the change (trigger runs), and its name when it fired.
    pub trigger_id: String,
    pub trigger_name: String,
}

impl Change {
    pub fn new(kind: TicketEventKind, origin: TicketChangeOrigin, actor: Actor) -> Self {
        Self {
            kind,
            origin,
            actor,
            message: None,
            note: String::new(),
            related_ticket_id: String::new(),
            resolution_reason: ResolutionReason::Unspecified,
            first_reply: false,
            batch: false,
            trigger_id: String::new(),
            trigger_name: String::new(),
        }
    }

    pub fn with_message(mut self, message: TicketMessage) -> Self {
        self.message = Some(message);
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    pub fn related_to(mut self, ticket_id: impl Into<String>) -> Self {
        self.related_ticket_id = ticket_id.into();
        self
    }

    pub fn by_trigger(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.trigger_id = id.into();
        self.trigger_name = name.into();
        self
    }
}

/// The actor of changes the service makes on its own (the auto-close scheduler, delivery
/// reports).
pub fn system_actor() -> Actor {
    Actor {
        subject: String::new(),
        kind: "system".into(),
        display_name: String::new(),
    }
}

/// The history entry of `change` (which turned `before` into `after`).
fn entry(before: Option<&Ticket>, after: &Ticket, change: &Change) -> TicketEvent {
    TicketEvent {
        id: Uuid::now_v7().to_string(),
        ticket_id: after.id.clone(),
        kind: change.kind as i32,
        actor: Some(change.actor.clone()),
        origin: change.origin as i32,
        create_time: after.update_time.or(Some(timestamp(chrono::Utc::now()))),
        changes: before.map(|before| diff(before, after)).unwrap_or_default(),
        message_id: change
            .message
            .as_ref()
            .map(|m| m.id.clone())
            .unwrap_or_default(),
        trigger_id: change.trigger_id.clone(),
        trigger_name: change.trigger_name.clone(),
        resolution_reason: change.resolution_reason as i32,
        note: change.note.clone(),
        related_ticket_id: change.related_ticket_id.clone(),
    }
}

/// Adds the history entry of `change` and its change event (at `after.version`) to `writes`.
pub fn record(
    writes: &mut Writes,
    before: Option<&Ticket>,
    after: &Ticket,
    change: Change,
) -> Result<TicketEvent> {
    let entry = entry(before, after, &change);
    let ticket_id = Uuid::parse_str(&after.id).map_err(Error::internal)?;
    history::append(writes, ticket_id, &entry)?;
    writes.event(change_event(before, after, entry.changes.clone(), change))?;
    Ok(entry)
}

/// Adds the change event alone of `change`, which turned `before` into `after`, for a change
/// whose history is written entry by entry with [`notes`] (a trigger run: one per trigger).
pub fn announce(
    writes: &mut Writes,
    before: &Ticket,
    after: &Ticket,
    change: Change,
) -> Result<()> {
    writes.event(change_event(
        Some(before),
        after,
        diff(before, after),
        change,
    ))
}

/// Adds history entries on `ticket` at `at`, in order and with no event, each a change with
/// the field changes it lists as given: the steps of a trigger run (what each trigger changed),
/// or entries that change nothing of the ticket.
pub fn notes(
    writes: &mut Writes,
    ticket: &Ticket,
    entries: Vec<(Change, Vec<TicketFieldChange>)>,
    at: DateTime<Utc>,
) -> Result<()> {
    let entries: Vec<TicketEvent> = entries
        .into_iter()
        .map(|(change, changes)| TicketEvent {
            changes,
            create_time: Some(timestamp(at)),
            ..entry(None, ticket, &change)
        })
        .collect();
    let ticket_id = Uuid::parse_str(&ticket.id).map_err(Error::internal)?;
    history::append_all(writes, ticket_id, &entries)
}

/// Writes a history entry that changes nothing of the ticket (its version stays): a delivery
/// failure, or the follow-up made for a closed ticket.
pub async fn note_only(conn: &mut PgConnection, ticket: &Ticket, change: Change) -> Result<()> {
    let mut writes = Writes::new();
    notes(&mut writes, ticket, vec![(change, Vec::new())], Utc::now())?;
    writes.execute(conn).await.map(|_| ())
}

/// Announces that a spam ticket is gone (its history goes with it).
pub async fn deleted(conn: &mut PgConnection, ticket: &Ticket, actor: Actor) -> Result<()> {
    let payload = TicketDeleted {
        ticket: Some(ticket.clone()),
    };
    let event = NewEvent::new(&payload, &ticket.id, ticket.version + 1).with_actor(actor);
    publish(conn, SOURCE, event).await.map_err(Error::from)
}

/// Whether `changes` give the ticket to someone (its group, assignee or status): a trigger
/// run's change is then `ticket.assigned`, else `ticket.updated` (events/v1/ticket_events.proto).
fn assigns(changes: &[TicketFieldChange]) -> bool {
    changes.iter().any(|c| {
        matches!(
            c.field(),
            TicketField::Status | TicketField::Group | TicketField::Assignee
        )
    })
}

fn change_event(
    before: Option<&Ticket>,
    after: &Ticket,
    changes: Vec<TicketFieldChange>,
    change: Change,
) -> NewEvent {
    use TicketEventKind as Kind;
    let ticket = Some(after.clone());
    let assigned = match change.kind {
        Kind::Taken => true,
        Kind::TriggerApplied => assigns(&changes),
        _ => false,
    };
    let origin = change.origin as i32;
    let kind = change.kind as i32;
    let (id, version, actor) = (after.id.as_str(), after.version, change.actor.clone());
    let event = match change.kind {
        Kind::Created => NewEvent::new(
            &TicketCreated {
                ticket,
                first_message: change.message,
                origin,
            },
            id,
            version,
        ),
        _ if assigned => NewEvent::new(
            &TicketAssigned {
                ticket,
                changes,
                origin,
                kind,
            },
            id,
            version,
        ),
        Kind::Forwarded => NewEvent::new(
            &TicketForwarded {
                ticket,
                changes,
                origin,
                note: change.note,
                batch: change.batch,
            },
            id,
            version,
        ),
        Kind::ResolvedInternally | Kind::Restored | Kind::Closed => NewEvent::new(
            &TicketStatusChanged {
                ticket,
                changes,
                origin,
                kind,
                status_before: before.map_or(TicketStatus::Unspecified as i32, |b| b.status),
                resolution_reason: change.resolution_reason as i32,
            },
            id,
            version,
        ),
        Kind::MessageReceived | Kind::Replied | Kind::Commented | Kind::NotificationSent => {
            NewEvent::new(
                &TicketMessageAdded {
                    ticket,
                    changes,
                    origin,
                    kind,
                    message: change.message,
                    first_reply: change.first_reply,
                    batch: change.batch,
                },
                id,
                version,
            )
        }
        _ => NewEvent::new(
            &TicketUpdated {
                ticket,
                changes,
                origin,
                kind,
            },
            id,
            version,
        ),
    };
    event.with_actor(actor)
}
