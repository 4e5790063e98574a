//! Condition fields compared as enums, ids or instants, with each of their operators, holding
//! and not holding (text fields in text_condition_tests.rs, the `CHANGED` family in
//! changed_tests.rs).

use std::sync::Arc;

use switchboard_proto::{
    ticket::v1::{TicketChannel, TicketPriority, TicketStatus},
    trigger::v1::{ConditionField as F, ConditionOperator as O, UpdateType},
};

use super::{Context, Event, test_support::*};

#[test]
fn update_type_is_created_or_updated() {
    let ticket = ticket();
    assert!(holds(update_type(UpdateType::Created), &ticket, &created()));
    assert!(!holds(
        update_type(UpdateType::Updated),
        &ticket,
        &created()
    ));
    assert!(holds(
        update_type(UpdateType::Updated),
        &ticket,
        &updated(&[])
    ));
    assert!(!holds(
        update_type(UpdateType::Created),
        &ticket,
        &updated(&[])
    ));
}

#[test]
fn channel_is_and_is_not() {
    let ticket = ticket();
    let event = created();
    let email = [TicketChannel::Email];
    let phone = [TicketChannel::Phone, TicketChannel::Agent];
    assert!(holds(channels(O::Is, &email), &ticket, &event));
    assert!(!holds(channels(O::Is, &phone), &ticket, &event));
    assert!(holds(channels(O::IsNot, &phone), &ticket, &event));
    assert!(!holds(channels(O::IsNot, &email), &ticket, &event));
}

#[test]
fn mail_account_is_is_not_and_presence() {
    let mut ticket = ticket();
    let event = created();
    ticket.mail_account_id = "acct-1".into();
    assert!(holds(
        values(F::MailAccount, O::Is, &["acct-1", "acct-2"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        values(F::MailAccount, O::Is, &["acct-2"]),
        &ticket,
        &event
    ));
    assert!(holds(
        values(F::MailAccount, O::IsNot, &["acct-2"]),
        &ticket,
        &event
    ));
    assert!(!holds(
        values(F::MailAccount, O::IsNot, &["acct-1"]),
        &ticket,
        &event
    ));
    assert!(holds(when(F::MailAccount, O::IsSet), &ticket, &event));
    assert!(!holds(when(F::MailAccount, O::IsNotSet), &ticket, &event));
    ticket.mail_account_id.clear();
    assert!(!holds(when(F::MailAccount, O::IsSet), &ticket, &event));
    assert!(holds(when(F::MailAccount, O::IsNotSet), &ticket, &event));
    assert!(
        holds(
            values(F::MailAccount, O::IsNot, &["acct-1"]),
            &ticket,
            &event
        ),
        "an unset field equals none"
    );
}

#[test]
fn priority_is_is_not_and_order() {
    let mut ticket = ticket();
    let event = created();
    ticket.priority = TicketPriority::High as i32;
    use TicketPriority::{High, Low, Normal, Urgent};
    assert!(holds(priorities(O::Is, &[High, Urgent]), &ticket, &event));
    assert!(!holds(priorities(O::Is, &[Low]), &ticket, &event));
    assert!(holds(priorities(O::IsNot, &[Low, Normal]), &ticket, &event));
    assert!(!holds(priorities(O::IsNot, &[High]), &ticket, &event));
    assert!(holds(priorities(O::LessThan, &[Urgent]), &ticket, &event));
    assert!(!holds(priorities(O::LessThan, &[High]), &ticket, &event));
    assert!(holds(
        priorities(O::GreaterThan, &[Normal]),
        &ticket,
        &event
    ));
    assert!(!holds(priorities(O::GreaterThan, &[High]), &ticket, &event));
    assert!(!holds(
        priorities(O::GreaterThan, &[Urgent]),
        &ticket,
        &event
    ));
    ticket.priority = TicketPriority::Unspecified as i32;
    assert!(
        !holds(priorities(O::LessThan, &[Urgent]), &ticket, &event),
        "no priority is not lower"
    );
}

#[test]
fn status_is_and_is_not() {
    let ticket = ticket();
    let event = created();
    use TicketStatus::{OnHold, Solved, Unassigned};
    assert!(holds(
        statuses(O::Is, &[Unassigned, OnHold]),
        &ticket,
        &event
    ));
    assert!(!holds(statuses(O::Is, &[Solved]), &ticket, &event));
    assert!(holds(statuses(O::IsNot, &[Solved]), &ticket, &event));
    assert!(!holds(statuses(O::IsNot, &[Unassigned]), &ticket, &event));
}

#[test]
fn group_and_assignee_is_is_not_and_presence() {
    let mut ticket = ticket();
    let event = created();
    ticket.group_id = "billing".into();
    ticket.assignee_login = "kim.minsu".into();
    for (field, value) in [(F::Group, "billing"), (F::Assignee, "kim.minsu")] {
        assert!(holds(
            values(field, O::Is, &["other", value]),
            &ticket,
            &event
        ));
        assert!(!holds(values(field, O::Is, &["other"]), &ticket, &event));
        assert!(holds(values(field, O::IsNot, &["other"]), &ticket, &event));
        assert!(!holds(values(field, O::IsNot, &[value]), &ticket, &event));
        assert!(holds(when(field, O::IsSet), &ticket, &event));
        assert!(!holds(when(field, O::IsNotSet), &ticket, &event));
    }
    ticket.group_id.clear();
    ticket.assignee_login.clear();
    for field in [F::Group, F::Assignee] {
        assert!(!holds(when(field, O::IsSet), &ticket, &event));
        assert!(holds(when(field, O::IsNotSet), &ticket, &event));
        assert!(holds(
            values(field, O::IsNot, &["billing"]),
            &ticket,
            &event
        ));
    }
}

#[test]
fn inquiry_and_processing_type_is_is_not_and_presence() {
    let mut ticket = ticket();
    let event = created();
    ticket.inquiry_type_id = "refund".into();
    ticket.processing_type_id = "callback".into();
    for (field, value) in [(F::InquiryType, "refund"), (F::ProcessingType, "callback")] {
        assert!(holds(values(field, O::Is, &[value]), &ticket, &event));
        assert!(!holds(values(field, O::Is, &["other"]), &ticket, &event));
        assert!(holds(values(field, O::IsNot, &["other"]), &ticket, &event));
        assert!(!holds(values(field, O::IsNot, &[value]), &ticket, &event));
        assert!(holds(when(field, O::IsSet), &ticket, &event));
        assert!(!holds(when(field, O::IsNotSet), &ticket, &event));
    }
}

const OPEN: &str = "0191d3b4-1111-7000-8000-000000000001";
const CLOSED: &str = "0191d3b4-1111-7000-8000-000000000002";
const UNKNOWN: &str = "0191d3b4-1111-7000-8000-000000000003";

fn schedules() -> Context {
    let mut context = Context::default();
    let at_ten = event_time();
    context
        .schedules
        .insert(OPEN.into(), Arc::new(move |time| time == at_ten));
    context.schedules.insert(CLOSED.into(), Arc::new(|_| false));
    context
}

#[test]
fn business_hours_within_and_outside_at_the_event_time() {
    let ticket = ticket();
    let context = schedules();
    let event = created();
    assert!(holds_in(hours(OPEN, O::Within), &ticket, &event, &context));
    assert!(!holds_in(
        hours(OPEN, O::Outside),
        &ticket,
        &event,
        &context
    ));
    assert!(holds_in(
        hours(CLOSED, O::Outside),
        &ticket,
        &event,
        &context
    ));
    assert!(!holds_in(
        hours(CLOSED, O::Within),
        &ticket,
        &event,
        &context
    ));
    let later = Event {
        time: event_time() + chrono::Duration::hours(1),
        ..created()
    };
    assert!(holds_in(hours(OPEN, O::Outside), &ticket, &later, &context));
}

#[test]
fn unknown_business_hours_are_neither_within_nor_outside() {
    let ticket = ticket();
    let context = schedules();
    let event = created();
    assert!(!holds_in(
        hours(UNKNOWN, O::Within),
        &ticket,
        &event,
        &context
    ));
    assert!(!holds_in(
        hours(UNKNOWN, O::Outside),
        &ticket,
        &event,
        &context
    ));
}

#[test]
fn business_hours_ids_are_looked_up_in_canonical_form() {
    let ticket = ticket();
    let context = schedules();
    let upper = OPEN.to_uppercase();
    assert!(holds_in(
        hours(&upper, O::Within),
        &ticket,
        &created(),
        &context
    ));
}
