//! The ticket's state machine (docs/product.md §3.2): which action each status allows and the
//! status it leads to. Pure: who may act is decided in `access`, what is stored in the handlers.

use std::fmt;

use switchboard_proto::ticket::v1::{ReplyDisposition, ResolutionReason, TicketStatus};

/// What is done to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// 가져오기: an agent becomes the assignee of an unassigned ticket.
    Take,
    /// 전달: an admin gives the ticket to a group and, optionally, an agent.
    Forward { to_agent: bool },
    /// A public reply that solves (해결) or holds (보류) the ticket.
    Reply(ReplyDisposition),
    /// 코멘트: an internal comment.
    Comment,
    /// 내부해결 with its reason.
    ResolveInternally(ResolutionReason),
    /// Back from the spam box.
    Restore,
    /// Deleted for good from the spam box.
    Delete,
    /// 완료, by an admin or the auto-close scheduler.
    Close,
    /// Priority, tags, inquiry or processing type changed.
    Update,
    /// A customer wrote (ingest).
    CustomerMessage,
}

impl Action {
    /// The action's name in refusals.
    pub fn name(self) -> &'static str {
        match self {
            Self::Take => "take",
            Self::Forward { .. } => "forward",
            Self::Reply(_) => "reply to",
            Self::Comment => "comment on",
            Self::ResolveInternally(_) => "resolve internally",
            Self::Restore => "restore",
            Self::Delete => "delete",
            Self::Close => "close",
            Self::Update => "update",
            Self::CustomerMessage => "add a customer message to",
        }
    }
}

/// An action the status does not allow: FAILED_PRECONDITION naming both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: TicketStatus,
    pub action: Action,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hint = match (self.status, self.action) {
            (TicketStatus::Spam, _) => "; restore it first",
            (TicketStatus::Unassigned, Action::Reply(_)) => "; take it first",
            (TicketStatus::Closed, _) => "; a closed ticket is finished for good",
            (_, Action::Restore | Action::Delete) => "; only tickets in the spam box can be",
            (_, Action::Take) => "; someone took it already",
            _ => "",
        };
        write!(
            f,
            "cannot {} a ticket that is {}{hint}",
            self.action.name(),
            self.status.as_str_name()
        )
    }
}

/// What a customer message does to the ticket it threads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerEffect {
    /// Added to the ticket, which takes this status (the same or re-opened).
    Added(TicketStatus),
    /// The ticket is closed: a new ticket linked to it holds the message.
    FollowUp,
}

/// The status after `action` on a ticket in `status` (with an assignee or not), or the refusal.
/// `before_spam` is the status a spam ticket returns to.
pub fn next_status(
    status: TicketStatus,
    action: Action,
    has_assignee: bool,
    before_spam: TicketStatus,
) -> Result<TicketStatus, Refused> {
    use TicketStatus::*;
    let refused = || Refused { status, action };
    let open = matches!(status, Unassigned | InProgress | OnHold | Solved);
    match action {
        Action::Take if status == Unassigned => Ok(InProgress),
        Action::Forward { to_agent } if open => Ok(match (to_agent, status) {
            (false, _) => Unassigned,
            (true, OnHold | Solved) => status,
            (true, _) => InProgress,
        }),
        Action::Reply(disposition) if matches!(status, InProgress | OnHold | Solved) => {
            match disposition {
                ReplyDisposition::Solve => Ok(Solved),
                ReplyDisposition::Hold => Ok(OnHold),
                ReplyDisposition::Unspecified => Err(refused()),
            }
        }
        Action::Comment => Ok(status),
        Action::ResolveInternally(reason) if matches!(status, Unassigned | InProgress | OnHold) => {
            match reason {
                ResolutionReason::Spam => Ok(Spam),
                ResolutionReason::Unspecified => Err(refused()),
                _ => Ok(Solved),
            }
        }
        Action::Restore if status == Spam => Ok(before_spam),
        Action::Delete if status == Spam => Ok(Spam),
        Action::Close if open => Ok(Closed),
        Action::Update if status != Spam && status != Closed => Ok(status),
        Action::CustomerMessage => match customer_effect(status, has_assignee) {
            CustomerEffect::Added(next) => Ok(next),
            CustomerEffect::FollowUp => Err(refused()),
        },
        _ => Err(refused()),
    }
}

/// What a customer message does to a ticket in `status`: solved and held tickets re-open (to
/// their assignee, or unassigned without one), closed ones get a follow-up, the rest keep theirs.
pub fn customer_effect(status: TicketStatus, has_assignee: bool) -> CustomerEffect {
    use TicketStatus::*;
    match status {
        Closed => CustomerEffect::FollowUp,
        Solved | OnHold if has_assignee => CustomerEffect::Added(InProgress),
        Solved | OnHold => CustomerEffect::Added(Unassigned),
        other => CustomerEffect::Added(other),
    }
}

/// The status of a ticket created by an agent: unassigned without an assignee, else in
/// progress, unless its first message is a reply with a disposition.
pub fn created_status(has_assignee: bool, disposition: ReplyDisposition) -> TicketStatus {
    match (has_assignee, disposition) {
        (false, _) => TicketStatus::Unassigned,
        (true, ReplyDisposition::Solve) => TicketStatus::Solved,
        (true, ReplyDisposition::Hold) => TicketStatus::OnHold,
        (true, ReplyDisposition::Unspecified) => TicketStatus::InProgress,
    }
}

#[cfg(test)]
#[path = "workflow_tests.rs"]
mod tests;
