//! The ticket fields triggers watch, as `TicketFieldChange` spells them (ticket_event.proto):
//! enums by their full names, "" for unset. Before → after records come from
//! `switchboard_proto::ticket_changes::diff`.

use switchboard_proto::ticket::v1::{
    Ticket, TicketChannel, TicketField, TicketPriority, TicketStatus,
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
