//! The one table of event types: for every payload of `switchboard.events.v1`, the routing key
//! (`event_type`) and the aggregate its `.proto` comment names, grouped by the binding that
//! covers them. Nothing else in the code spells an event type; `tests.rs` reads the `.proto`
//! files and fails when this table and their comments disagree.

use super::{Event, v1};

/// One row of the table, for code that goes over every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKind {
    /// The payload message's name in `switchboard.events.v1`, e.g. `CallbackAssigned`.
    pub message: &'static str,
    pub event_type: &'static str,
    pub aggregate_type: &'static str,
    pub family_binding: &'static str,
}

impl EventKind {
    const fn of<E: Event>() -> Self {
        Self {
            message: E::NAME,
            event_type: E::EVENT_TYPE,
            aggregate_type: E::AGGREGATE_TYPE,
            family_binding: E::FAMILY_BINDING,
        }
    }
}

macro_rules! events {
    ($($binding:literal {
        $($message:ident => $event_type:literal, aggregate $aggregate:literal;)+
    })+) => {
        $($(
            impl Event for v1::$message {
                const EVENT_TYPE: &'static str = $event_type;
                const AGGREGATE_TYPE: &'static str = $aggregate;
                const FAMILY_BINDING: &'static str = $binding;
            }
        )+)+

        /// Every event of the table, in its order.
        pub const ALL: &[EventKind] = &[$($(EventKind::of::<v1::$message>(),)+)+];
    };
}

events! {
    // callback_events.proto
    "callback.*" {
        CallbackRegistered => "callback.registered", aggregate "callback";
        CallbackRequestRepeated => "callback.request_repeated", aggregate "callback";
        CallbackAssigned => "callback.assigned", aggregate "callback";
        CallbackAssignmentCancelled => "callback.assignment_cancelled", aggregate "callback";
        CallbackConnectRequested => "callback.connect_requested", aggregate "callback";
        CallbackAttemptRecorded => "callback.attempt_recorded", aggregate "callback";
        CallbackCompleted => "callback.completed", aggregate "callback";
    }
    "ivr_route.*" {
        IvrRouteChanged => "ivr_route.changed", aggregate "ivr_route";
        IvrRouteDeleted => "ivr_route.deleted", aggregate "ivr_route";
    }
    // gateway_events.proto
    "presence.*" {
        PresenceChanged => "presence.changed", aggregate "presence";
    }
    "directory.*" {
        AgentChanged => "directory.agent_changed", aggregate "agent";
        AgentDeleted => "directory.agent_deleted", aggregate "agent";
        GroupChanged => "directory.group_changed", aggregate "group";
        GroupDeleted => "directory.group_deleted", aggregate "group";
        ApiKeyCreated => "directory.api_key_created", aggregate "api_key";
        ApiKeyRevoked => "directory.api_key_revoked", aggregate "api_key";
    }
    // ticket_events.proto
    "ticket.*" {
        TicketCreated => "ticket.created", aggregate "ticket";
        TicketUpdated => "ticket.updated", aggregate "ticket";
        TicketAssigned => "ticket.assigned", aggregate "ticket";
        TicketForwarded => "ticket.forwarded", aggregate "ticket";
        TicketStatusChanged => "ticket.status_changed", aggregate "ticket";
        TicketMessageAdded => "ticket.message_added", aggregate "ticket";
        TicketDeleted => "ticket.deleted", aggregate "ticket";
    }
    "ticket_message.*" {
        TicketReplyRequested => "ticket_message.reply_requested", aggregate "ticket_message";
    }
    "mail_account.*" {
        MailAccountChanged => "mail_account.changed", aggregate "mail_account";
        MailAccountDeleted => "mail_account.deleted", aggregate "mail_account";
    }
    // inbound_events.proto
    "mail.*" {
        MailReceived => "mail.received", aggregate "inbound_message";
        MailSent => "mail.sent", aggregate "outbound_message";
        MailFailed => "mail.failed", aggregate "outbound_message";
    }
    "mailbox.*" {
        MailboxFetchFailed => "mailbox.fetch_failed", aggregate "mailbox";
        MailboxRecovered => "mailbox.recovered", aggregate "mailbox";
    }
    "inquiry.*" {
        InquirySubmitted => "inquiry.submitted", aggregate "inquiry";
    }
    "channel.*" {
        ChannelMessageReceived => "channel.message_received", aggregate "channel_message";
    }
}
