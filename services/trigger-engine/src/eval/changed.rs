//! What `CHANGED`, `NOT_CHANGED`, `CHANGED_TO` and `CHANGED_FROM` see: the fields the event
//! changed and those a trigger that fired earlier in this run changed.

use switchboard_proto::{
    ticket::v1::{Ticket, TicketFieldChange},
    trigger::v1::UpdateType,
};

use super::fields::Watched;

/// Which watched fields count as changed, and their values before the event.
#[derive(Clone, Debug)]
pub(super) struct ChangeLog<'a> {
    /// The value before the event, for each field the event changed.
    by_event: [Option<&'a str>; Watched::ALL.len()],
    /// Whether a trigger that fired in this run changed the field (even if a later one changed
    /// it back: the field was changed during the event).
    by_trigger: [bool; Watched::ALL.len()],
}

impl<'a> ChangeLog<'a> {
    /// On a created ticket every field that has a value was changed from unset; on an updated
    /// one, the fields of `changes` were (the first change of a field gives its value before).
    pub fn new(update_type: UpdateType, changes: &'a [TicketFieldChange], ticket: &Ticket) -> Self {
        let mut by_event = [None; Watched::ALL.len()];
        match update_type {
            UpdateType::Created => {
                for field in Watched::ALL {
                    if !field.value(ticket).is_empty() {
                        by_event[field.index()] = Some("");
                    }
                }
            }
            UpdateType::Updated | UpdateType::Unspecified => {
                for change in changes {
                    if let Some(field) = Watched::of(change.field) {
                        by_event[field.index()].get_or_insert(change.before.as_str());
                    }
                }
            }
        }
        Self {
            by_event,
            by_trigger: [false; Watched::ALL.len()],
        }
    }

    /// Notes the changes a trigger made.
    pub fn record(&mut self, changes: &[TicketFieldChange]) {
        for change in changes {
            if let Some(field) = Watched::of(change.field) {
                self.by_trigger[field.index()] = true;
            }
        }
    }

    pub fn changed(&self, field: Watched) -> bool {
        self.by_event[field.index()].is_some() || self.by_trigger[field.index()]
    }

    /// The field's value before the event: the event's own record, else its value in the ticket
    /// as given (before any trigger of this run changed it).
    pub fn before<'t>(&self, field: Watched, original: &'t Ticket) -> &'t str
    where
        'a: 't,
    {
        self.by_event[field.index()].unwrap_or_else(|| field.value(original))
    }
}
