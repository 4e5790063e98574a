//! `CHANGED`, `NOT_CHANGED`, `CHANGED_TO` and `CHANGED_FROM`: on updated events (the event's
//! changes), on created events (every field with a value, from unset) and after triggers.

use switchboard_proto::{
    ticket::v1::{Ticket, TicketField, TicketPriority, TicketStatus},
    trigger::v1::{ConditionField as F, ConditionOperator as O},
};

use super::{Context, test_support::*};

/// The id fields `CHANGED` operators watch, with how to set them.
/// Sets a field of a ticket to a value.
type Setter = fn(&mut Ticket, &str);

const ID_FIELDS: [(F, TicketField, Setter); 4] = [
    (F::Group, TicketField::Group, |t, v| t.group_id = v.into()),
    (F::Assignee, TicketField::Assignee, |t, v| {
        t.assignee_login = v.into();
    }),
    (F::InquiryType, TicketField::InquiryType, |t, v| {
        t.inquiry_type_id = v.into();
    }),
    (F::ProcessingType, TicketField::ProcessingType, |t, v| {
        t.processing_type_id = v.into();
    }),
];

#[test]
fn id_fields_changed_by_the_event() {
    for (field, ticket_field, set) in ID_FIELDS {
        let mut ticket = ticket();
        set(&mut ticket, "new");
        let changes = [change(ticket_field, "old", "new")];
        let changed = updated(&changes);
        let unchanged = updated(&[]);
        let name = field.as_str_name();
        assert!(holds(when(field, O::Changed), &ticket, &changed), "{name}");
        assert!(
            !holds(when(field, O::Changed), &ticket, &unchanged),
            "{name}"
        );
        assert!(
            holds(when(field, O::NotChanged), &ticket, &unchanged),
            "{name}"
        );
        assert!(
            !holds(when(field, O::NotChanged), &ticket, &changed),
            "{name}"
        );
        assert!(
            holds(values(field, O::ChangedTo, &["new"]), &ticket, &changed),
            "{name}"
        );
        assert!(
            !holds(values(field, O::ChangedTo, &["old"]), &ticket, &changed),
            "{name}"
        );
        assert!(
            !holds(values(field, O::ChangedTo, &["new"]), &ticket, &unchanged),
            "{name}"
        );
        assert!(
            holds(values(field, O::ChangedFrom, &["old"]), &ticket, &changed),
            "{name}"
        );
        assert!(
            !holds(values(field, O::ChangedFrom, &["new"]), &ticket, &changed),
            "{name}"
        );
        assert!(
            !holds(values(field, O::ChangedFrom, &["new"]), &ticket, &unchanged),
            "{name}"
        );
    }
}

#[test]
fn other_fields_changes_do_not_count() {
    let ticket = ticket();
    let changes = [change(TicketField::Tags, "", "vip")];
    let event = updated(&changes);
    assert!(!holds(when(F::Group, O::Changed), &ticket, &event));
    assert!(holds(when(F::Status, O::NotChanged), &ticket, &event));
}

#[test]
fn status_changed_by_the_event() {
    let mut ticket = ticket();
    ticket.status = TicketStatus::Unassigned as i32;
    let changes = [change(
        TicketField::Status,
        "TICKET_STATUS_SOLVED",
        "TICKET_STATUS_UNASSIGNED",
    )];
    let event = updated(&changes);
    use TicketStatus::{Solved, Unassigned};
    assert!(holds(when(F::Status, O::Changed), &ticket, &event));
    assert!(!holds(when(F::Status, O::NotChanged), &ticket, &event));
    assert!(holds(
        statuses(O::ChangedTo, &[Unassigned]),
        &ticket,
        &event
    ));
    assert!(!holds(statuses(O::ChangedTo, &[Solved]), &ticket, &event));
    assert!(holds(statuses(O::ChangedFrom, &[Solved]), &ticket, &event));
    assert!(!holds(
        statuses(O::ChangedFrom, &[Unassigned]),
        &ticket,
        &event
    ));
}

#[test]
fn priority_changed_by_the_event() {
    let mut ticket = ticket();
    ticket.priority = TicketPriority::Urgent as i32;
    let changes = [change(
        TicketField::Priority,
        "TICKET_PRIORITY_NORMAL",
        "TICKET_PRIORITY_URGENT",
    )];
    let event = updated(&changes);
    use TicketPriority::{Normal, Urgent};
    assert!(holds(when(F::Priority, O::Changed), &ticket, &event));
    assert!(!holds(when(F::Priority, O::NotChanged), &ticket, &event));
    assert!(holds(priorities(O::ChangedTo, &[Urgent]), &ticket, &event));
    assert!(!holds(priorities(O::ChangedTo, &[Normal]), &ticket, &event));
    assert!(holds(
        priorities(O::ChangedFrom, &[Normal]),
        &ticket,
        &event
    ));
    assert!(!holds(
        priorities(O::ChangedFrom, &[Urgent]),
        &ticket,
        &event
    ));
    assert!(!holds(
        priorities(O::ChangedTo, &[Urgent]),
        &ticket,
        &updated(&[])
    ));
}

#[test]
fn on_a_created_ticket_every_field_with_a_value_changed_from_unset() {
    let mut ticket = ticket();
    ticket.group_id = "billing".into();
    let event = created();
    assert!(holds(when(F::Group, O::Changed), &ticket, &event));
    assert!(holds(
        values(F::Group, O::ChangedTo, &["billing"]),
        &ticket,
        &event
    ));
    assert!(
        !holds(
            values(F::Group, O::ChangedFrom, &["billing"]),
            &ticket,
            &event
        ),
        "from unset"
    );
    assert!(holds(
        statuses(O::ChangedTo, &[TicketStatus::Unassigned]),
        &ticket,
        &event
    ));
    assert!(holds(
        priorities(O::ChangedTo, &[TicketPriority::Normal]),
        &ticket,
        &event
    ));
    // Fields without a value did not change.
    assert!(!holds(when(F::Assignee, O::Changed), &ticket, &event));
    assert!(holds(when(F::Assignee, O::NotChanged), &ticket, &event));
    assert!(holds(when(F::InquiryType, O::NotChanged), &ticket, &event));
}

#[test]
fn changes_of_earlier_triggers_count_with_the_value_before_the_event() {
    let ticket = ticket();
    let raise = trigger("raise")
        .at(1)
        .all(priorities(O::Is, &[TicketPriority::Normal]))
        .then(set_priority(TicketPriority::High))
        .build();
    let to_high = trigger("to high")
        .at(2)
        .all(priorities(O::ChangedTo, &[TicketPriority::High]))
        .then(add_tags(&["to-high"]))
        .build();
    let from_normal = trigger("from normal")
        .at(3)
        .all(priorities(O::ChangedFrom, &[TicketPriority::Normal]))
        .then(add_tags(&["from-normal"]))
        .build();
    let group_unchanged = trigger("group unchanged")
        .at(4)
        .all(when(F::Group, O::NotChanged))
        .then(add_tags(&["same-group"]))
        .build();
    let run = run(
        &[raise, to_high, from_normal, group_unchanged],
        &ticket,
        &updated(&[]),
        &Context::default(),
    );
    assert_eq!(
        fired_names(&run),
        ["raise", "to high", "from normal", "group unchanged"]
    );
    assert!(run.fired.iter().all(|f| f.pass == 1));
}

#[test]
fn changed_from_prefers_the_events_before_value() {
    // The event raised the priority from low; a trigger then raised it again.
    let mut ticket = ticket();
    ticket.priority = TicketPriority::Normal as i32;
    let changes = [change(
        TicketField::Priority,
        "TICKET_PRIORITY_LOW",
        "TICKET_PRIORITY_NORMAL",
    )];
    let raise = trigger("raise")
        .at(1)
        .all(priorities(O::Is, &[TicketPriority::Normal]))
        .then(set_priority(TicketPriority::High))
        .build();
    let from_low = trigger("from low")
        .at(2)
        .all(priorities(O::ChangedFrom, &[TicketPriority::Low]))
        .then(add_tags(&["from-low"]))
        .build();
    let from_normal = trigger("from normal")
        .at(3)
        .all(priorities(O::ChangedFrom, &[TicketPriority::Normal]))
        .then(add_tags(&["from-normal"]))
        .build();
    let run = run(
        &[raise, from_low, from_normal],
        &ticket,
        &updated(&changes),
        &Context::default(),
    );
    assert_eq!(fired_names(&run), ["raise", "from low"]);
}
