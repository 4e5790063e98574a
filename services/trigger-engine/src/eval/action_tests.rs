//! The actions other than distribution: assignment rules, field and tag changes, and
//! notifications with their suppression.

use switchboard_proto::{
    ticket::v1::{Ticket, TicketPriority, TicketRequester, TicketStatus},
    trigger::v1::{Action, ConditionField as F, ConditionOperator as O, FiredTrigger},
};

use super::{Context, Event, test_support::*};

/// Fires one trigger with `actions` on `ticket` and returns the ticket after and its record.
fn act(
    actions: &[Action],
    ticket: &Ticket,
    event: &Event<'_>,
    context: &Context,
) -> (Ticket, FiredTrigger) {
    let mut builder = trigger("act").all(values(F::Tags, O::ContainsNone, &["never"]));
    for action in actions {
        builder = builder.then(action.clone());
    }
    let mut run = run(&[builder.build()], ticket, event, context);
    (run.ticket_after, run.fired.remove(0))
}

fn teams() -> Context {
    groups(&[("billing", &["kim", "park"]), ("sales", &["lee", "park"])])
}

fn in_progress(group: &str, assignee: &str) -> Ticket {
    Ticket {
        group_id: group.into(),
        group_display_name: "Display".into(),
        assignee_login: assignee.into(),
        assignee_display_name: "Agent".into(),
        status: TicketStatus::InProgress as i32,
        ..ticket()
    }
}

#[test]
fn assigning_an_unassigned_ticket_makes_it_in_progress() {
    let (after, fired) = act(&[assign_agent("kim", "")], &ticket(), &created(), &teams());
    assert_eq!(after.assignee_login, "kim");
    assert_eq!(after.group_id, "billing", "the agent's only group");
    assert_eq!(after.status, TicketStatus::InProgress as i32);
    assert!(fired.warnings.is_empty());
}

#[test]
fn assigning_keeps_other_statuses() {
    let ticket = Ticket {
        status: TicketStatus::OnHold as i32,
        ..in_progress("billing", "park")
    };
    let (after, _) = act(&[assign_agent("kim", "")], &ticket, &updated(&[]), &teams());
    assert_eq!(after.assignee_login, "kim");
    assert_eq!(after.status, TicketStatus::OnHold as i32);
}

#[test]
fn a_group_without_the_assignee_clears_the_assignee() {
    let (after, fired) = act(
        &[assign_group("sales")],
        &in_progress("billing", "kim"),
        &updated(&[]),
        &teams(),
    );
    assert_eq!(after.group_id, "sales");
    assert_eq!(
        after.group_display_name, "",
        "the old group's name does not apply"
    );
    assert_eq!(after.assignee_login, "");
    assert_eq!(after.status, TicketStatus::Unassigned as i32);
    assert_eq!(fired.changes.len(), 3);
    assert_eq!(fired.changes[1].before_display, "Display");
}

#[test]
fn a_group_with_the_assignee_keeps_them() {
    let (after, _) = act(
        &[assign_group("sales")],
        &in_progress("billing", "park"),
        &updated(&[]),
        &teams(),
    );
    assert_eq!(after.group_id, "sales");
    assert_eq!(after.assignee_login, "park");
    assert_eq!(after.status, TicketStatus::InProgress as i32);
}

#[test]
fn a_missing_group_is_skipped_with_a_warning() {
    let (after, fired) = act(&[assign_group("gone")], &ticket(), &created(), &teams());
    assert_eq!(after, ticket());
    assert_eq!(fired.warnings, ["group gone does not exist; not assigned"]);
}

#[test]
fn an_unknown_agent_is_not_assigned() {
    let (after, fired) = act(
        &[assign_agent("ghost", "")],
        &ticket(),
        &created(),
        &teams(),
    );
    assert_eq!(after, ticket());
    assert_eq!(
        fired.warnings,
        ["agent ghost is unknown or disabled; not assigned"]
    );
}

#[test]
fn a_named_group_must_have_the_agent() {
    let (after, fired) = act(
        &[assign_agent("kim", "sales")],
        &ticket(),
        &created(),
        &teams(),
    );
    assert_eq!(after, ticket());
    assert_eq!(
        fired.warnings,
        ["agent kim is not a member of group sales; not assigned"]
    );
    let (after, fired) = act(
        &[assign_agent("park", "sales")],
        &ticket(),
        &created(),
        &teams(),
    );
    assert_eq!(
        (after.group_id.as_str(), after.assignee_login.as_str()),
        ("sales", "park")
    );
    assert!(fired.warnings.is_empty());
}

#[test]
fn an_agent_in_several_groups_keeps_the_tickets_group_when_in_it() {
    let ticket = Ticket {
        group_id: "sales".into(),
        ..ticket()
    };
    let (after, _) = act(&[assign_agent("park", "")], &ticket, &created(), &teams());
    assert_eq!(
        (after.group_id.as_str(), after.assignee_login.as_str()),
        ("sales", "park")
    );
}

#[test]
fn an_agent_in_several_groups_none_the_tickets_is_not_assigned() {
    let (after, fired) = act(&[assign_agent("park", "")], &ticket(), &created(), &teams());
    assert_eq!(after, ticket());
    assert_eq!(
        fired.warnings,
        ["agent park is in several groups and none is the ticket's; not assigned"]
    );
}

#[test]
fn field_actions_set_priority_and_types() {
    let (after, fired) = act(
        &[
            set_priority(TicketPriority::Urgent),
            set_inquiry_type("refund"),
            set_processing_type("callback"),
        ],
        &ticket(),
        &created(),
        &Context::default(),
    );
    assert_eq!(after.priority, TicketPriority::Urgent as i32);
    assert_eq!(after.inquiry_type_id, "refund");
    assert_eq!(after.processing_type_id, "callback");
    assert_eq!(fired.changes.len(), 3);
}

#[test]
fn tags_are_added_once_sorted_and_removed_when_there() {
    let ticket = Ticket {
        tags: vec!["old".into(), "vip".into()],
        ..ticket()
    };
    let (after, fired) = act(
        &[
            add_tags(&["VIP", "new", "환불"]),
            remove_tags(&["old", "absent"]),
        ],
        &ticket,
        &created(),
        &Context::default(),
    );
    assert_eq!(after.tags, ["new", "vip", "환불"]);
    let change = &fired.changes[0];
    assert_eq!(
        (change.before.as_str(), change.after.as_str()),
        ("old vip", "new vip 환불")
    );
    assert_eq!(change.added_tags, ["new", "환불"]);
    assert_eq!(change.removed_tags, ["old"]);
}

#[test]
fn an_action_that_changes_nothing_records_no_change() {
    let ticket = Ticket {
        tags: vec!["vip".into()],
        ..ticket()
    };
    let (_, fired) = act(
        &[
            add_tags(&["vip"]),
            remove_tags(&["absent"]),
            set_priority(TicketPriority::Normal),
        ],
        &ticket,
        &created(),
        &Context::default(),
    );
    assert!(fired.changes.is_empty());
}

#[test]
fn a_notification_goes_to_the_requester_or_the_given_addresses() {
    let (_, fired) = act(
        &[
            notify_requester("ack"),
            notify("alert", &["team@example.com"]),
        ],
        &ticket(),
        &created(),
        &Context::default(),
    );
    let [to_requester, to_team] = fired.notifications.as_slice() else {
        panic!("two notifications: {:?}", fired.notifications);
    };
    assert_eq!(to_requester.template_id, "ack");
    assert_eq!(to_requester.to_addresses, ["kim@example.com"]);
    assert!(!to_requester.suppressed);
    assert_eq!(to_team.to_addresses, ["team@example.com"]);
    assert!(!to_team.suppressed && to_team.suppress_reason.is_empty());
}

#[test]
fn no_notification_answers_automated_mail() {
    let event = Event {
        automated: true,
        ..created()
    };
    let (_, fired) = act(
        &[
            notify_requester("ack"),
            notify("alert", &["team@example.com"]),
        ],
        &ticket(),
        &event,
        &Context::default(),
    );
    for notification in &fired.notifications {
        assert!(notification.suppressed);
        assert_eq!(notification.suppress_reason, "AUTOMATED_MESSAGE");
    }
}

#[test]
fn a_requester_without_an_address_is_reached_only_through_an_external_channel() {
    let mut ticket = Ticket {
        requester: Some(TicketRequester {
            name: "chat user".into(),
            ..Default::default()
        }),
        ..ticket()
    };
    let (_, fired) = act(
        &[notify_requester("ack")],
        &ticket,
        &created(),
        &Context::default(),
    );
    assert!(fired.notifications[0].to_addresses.is_empty());
    assert!(fired.notifications[0].suppressed);
    assert_eq!(fired.notifications[0].suppress_reason, "NO_ADDRESS");

    ticket.external_channel = "kakaotalk".into();
    let (_, fired) = act(
        &[notify_requester("ack")],
        &ticket,
        &created(),
        &Context::default(),
    );
    assert!(fired.notifications[0].to_addresses.is_empty());
    assert!(!fired.notifications[0].suppressed);
}
