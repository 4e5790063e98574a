use super::*;
use TicketStatus::*;

const STATUSES: [TicketStatus; 6] = [Unassigned, InProgress, OnHold, Solved, Closed, Spam];

fn actions() -> Vec<Action> {
    vec![
        Action::Take,
        Action::Forward { to_agent: true },
        Action::Forward { to_agent: false },
        Action::Reply(ReplyDisposition::Solve),
        Action::Reply(ReplyDisposition::Hold),
        Action::Comment,
        Action::ResolveInternally(ResolutionReason::Spam),
        Action::ResolveInternally(ResolutionReason::Duplicate),
        Action::Restore,
        Action::Delete,
        Action::Close,
        Action::Update,
    ]
}

/// The whole table, written out as the SPEC states it: `None` is a refusal.
fn expected(status: TicketStatus, action: Action) -> Option<TicketStatus> {
    match (status, action) {
        (Unassigned, Action::Take) => Some(InProgress),
        (Unassigned | InProgress | OnHold | Solved, Action::Forward { to_agent: false }) => {
            Some(Unassigned)
        }
        (Unassigned | InProgress, Action::Forward { to_agent: true }) => Some(InProgress),
        (OnHold | Solved, Action::Forward { to_agent: true }) => Some(status),
        (InProgress | OnHold | Solved, Action::Reply(ReplyDisposition::Solve)) => Some(Solved),
        (InProgress | OnHold | Solved, Action::Reply(ReplyDisposition::Hold)) => Some(OnHold),
        (_, Action::Comment) => Some(status),
        (Unassigned | InProgress | OnHold, Action::ResolveInternally(ResolutionReason::Spam)) => {
            Some(Spam)
        }
        (Unassigned | InProgress | OnHold, Action::ResolveInternally(_)) => Some(Solved),
        (Spam, Action::Restore) => Some(OnHold),
        (Spam, Action::Delete) => Some(Spam),
        (Unassigned | InProgress | OnHold | Solved, Action::Close) => Some(Closed),
        (Unassigned | InProgress | OnHold | Solved, Action::Update) => Some(status),
        _ => None,
    }
}

#[test]
fn every_action_from_every_status_matches_the_table() {
    for status in STATUSES {
        for action in actions() {
            let got = next_status(status, action, true, OnHold).ok();
            assert_eq!(got, expected(status, action), "{status:?} × {action:?}");
        }
    }
}

#[test]
fn refusals_name_the_status_and_the_action() {
    let refused = next_status(
        Spam,
        Action::Reply(ReplyDisposition::Solve),
        true,
        Unassigned,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        refused,
        "cannot reply to a ticket that is TICKET_STATUS_SPAM; restore it first"
    );
    let refused = next_status(
        Unassigned,
        Action::Reply(ReplyDisposition::Hold),
        false,
        Unassigned,
    )
    .unwrap_err()
    .to_string();
    assert!(
        refused.contains("TICKET_STATUS_UNASSIGNED; take it first"),
        "{refused}"
    );
}

#[test]
fn a_customer_message_reopens_solved_and_held_tickets_and_follows_up_closed_ones() {
    assert_eq!(
        customer_effect(Solved, true),
        CustomerEffect::Added(InProgress)
    );
    assert_eq!(
        customer_effect(OnHold, false),
        CustomerEffect::Added(Unassigned)
    );
    assert_eq!(customer_effect(Closed, true), CustomerEffect::FollowUp);
    assert_eq!(customer_effect(Spam, true), CustomerEffect::Added(Spam));
    assert_eq!(
        customer_effect(Unassigned, false),
        CustomerEffect::Added(Unassigned)
    );
}

#[test]
fn an_unspecified_disposition_or_reason_is_refused() {
    assert!(
        next_status(
            InProgress,
            Action::Reply(ReplyDisposition::Unspecified),
            true,
            Unassigned
        )
        .is_err()
    );
    assert!(
        next_status(
            InProgress,
            Action::ResolveInternally(ResolutionReason::Unspecified),
            true,
            Unassigned
        )
        .is_err()
    );
}

#[test]
fn a_created_ticket_is_unassigned_without_assignee_else_follows_its_disposition() {
    assert_eq!(created_status(false, ReplyDisposition::Solve), Unassigned);
    assert_eq!(
        created_status(true, ReplyDisposition::Unspecified),
        InProgress
    );
    assert_eq!(created_status(true, ReplyDisposition::Solve), Solved);
    assert_eq!(created_status(true, ReplyDisposition::Hold), OnHold);
}
