//! The ticket fields triggers change, as `TicketFieldChange` spells them (ticket_event.proto):
//! enums by their full names, "" for unset, and before → after records in the stable order
//! status, group, assignee, priority, inquiry type, processing type, tags.

use std::collections::BTreeSet;

use switchboard_proto::ticket::v1::{
    Ticket, TicketChannel, TicketField, TicketFieldChange, TicketPriority, TicketStatus,
};

/// The fields `CHANGED` operators watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Watched {
    Status,
    Group,
    Assignee,
    Priority,
    InquiryType,
    ProcessingType,
}

impl Watched {
    pub const ALL: [Self; 6] = [
        Self::Status,
        Self::Group,
        Self::Assignee,
        Self::Priority,
        Self::InquiryType,
        Self::ProcessingType,
    ];

    pub fn of(field: i32) -> Option<Self> {
        match TicketField::try_from(field).ok()? {
            TicketField::Status => Some(Self::Status),
            TicketField::Group => Some(Self::Group),
            TicketField::Assignee => Some(Self::Assignee),
            TicketField::Priority => Some(Self::Priority),
            TicketField::InquiryType => Some(Self::InquiryType),
            TicketField::ProcessingType => Some(Self::ProcessingType),
            _ => None,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The field's value in `ticket`, as a change record writes it.
    pub fn value(self, ticket: &Ticket) -> &str {
        match self {
            Self::Status => status_name(ticket.status),
            Self::Group => &ticket.group_id,
            Self::Assignee => &ticket.assignee_login,
            Self::Priority => priority_name(ticket.priority),
            Self::InquiryType => &ticket.inquiry_type_id,
            Self::ProcessingType => &ticket.processing_type_id,
        }
    }
}

/// A status's full name; "" when unspecified or unknown.
pub(super) fn status_name(status: i32) -> &'static str {
    match TicketStatus::try_from(status) {
        Ok(TicketStatus::Unspecified) | Err(_) => "",
        Ok(known) => known.as_str_name(),
    }
}

/// A priority's full name; "" when unspecified or unknown.
pub(super) fn priority_name(priority: i32) -> &'static str {
    match TicketPriority::try_from(priority) {
        Ok(TicketPriority::Unspecified) | Err(_) => "",
        Ok(known) => known.as_str_name(),
    }
}

/// A channel's full name; "" when unspecified or unknown.
pub(super) fn channel_name(channel: i32) -> &'static str {
    match TicketChannel::try_from(channel) {
        Ok(TicketChannel::Unspecified) | Err(_) => "",
        Ok(known) => known.as_str_name(),
    }
}

/// The fields triggers change, copied before a trigger's actions so its own changes can be told.
#[derive(Clone, Debug)]
pub(super) struct Snapshot {
    status: i32,
    group_id: String,
    group_display_name: String,
    assignee_login: String,
    assignee_display_name: String,
    priority: i32,
    inquiry_type_id: String,
    processing_type_id: String,
    tags: Vec<String>,
}

impl Snapshot {
    pub fn of(ticket: &Ticket) -> Self {
        Self {
            status: ticket.status,
            group_id: ticket.group_id.clone(),
            group_display_name: ticket.group_display_name.clone(),
            assignee_login: ticket.assignee_login.clone(),
            assignee_display_name: ticket.assignee_display_name.clone(),
            priority: ticket.priority,
            inquiry_type_id: ticket.inquiry_type_id.clone(),
            processing_type_id: ticket.processing_type_id.clone(),
            tags: ticket.tags.clone(),
        }
    }
}

/// What differs between `before` and `after`, in the stable order; tags compare as sets.
pub(super) fn diff(before: &Snapshot, after: &Ticket) -> Vec<TicketFieldChange> {
    let mut changes = Vec::new();
    let mut plain = |field: TicketField, old: &str, new: &str| {
        if old != new {
            changes.push(TicketFieldChange {
                field: field as i32,
                before: old.to_owned(),
                after: new.to_owned(),
                ..Default::default()
            });
        }
    };
    plain(
        TicketField::Status,
        status_name(before.status),
        status_name(after.status),
    );
    if before.group_id != after.group_id {
        changes.push(TicketFieldChange {
            field: TicketField::Group as i32,
            before: before.group_id.clone(),
            after: after.group_id.clone(),
            before_display: before.group_display_name.clone(),
            after_display: after.group_display_name.clone(),
            ..Default::default()
        });
    }
    if before.assignee_login != after.assignee_login {
        changes.push(TicketFieldChange {
            field: TicketField::Assignee as i32,
            before: before.assignee_login.clone(),
            after: after.assignee_login.clone(),
            before_display: before.assignee_display_name.clone(),
            after_display: after.assignee_display_name.clone(),
            ..Default::default()
        });
    }
    let mut plain = |field: TicketField, old: &str, new: &str| {
        if old != new {
            changes.push(TicketFieldChange {
                field: field as i32,
                before: old.to_owned(),
                after: new.to_owned(),
                ..Default::default()
            });
        }
    };
    plain(
        TicketField::Priority,
        priority_name(before.priority),
        priority_name(after.priority),
    );
    plain(
        TicketField::InquiryType,
        &before.inquiry_type_id,
        &after.inquiry_type_id,
    );
    plain(
        TicketField::ProcessingType,
        &before.processing_type_id,
        &after.processing_type_id,
    );
    let old: BTreeSet<&str> = before.tags.iter().map(String::as_str).collect();
    let new: BTreeSet<&str> = after.tags.iter().map(String::as_str).collect();
    if old != new {
        changes.push(TicketFieldChange {
            field: TicketField::Tags as i32,
            before: old.iter().copied().collect::<Vec<_>>().join(" "),
            after: new.iter().copied().collect::<Vec<_>>().join(" "),
            added_tags: new.difference(&old).map(|t| t.to_string()).collect(),
            removed_tags: old.difference(&new).map(|t| t.to_string()).collect(),
            ..Default::default()
        });
    }
    changes
}
