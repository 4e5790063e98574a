//! The pass loop: position order, earlier changes seen by later triggers, all and any, once per
//! event, the 10-pass bound, the record of what did not fire and the net changes.

use switchboard_proto::{
    ticket::v1::{TicketField, TicketPriority, TicketStatus},
    trigger::v1::{ConditionField as F, ConditionOperator as O},
};

use super::{Context, MAX_PASSES, Purpose, evaluate, test_support::*};

fn tagged(tag: &str) -> switchboard_proto::trigger::v1::Condition {
    values(F::Tags, O::ContainsAny, &[tag])
}

fn untagged(tag: &str) -> switchboard_proto::trigger::v1::Condition {
    values(F::Tags, O::ContainsNone, &[tag])
}

#[test]
fn triggers_run_in_position_order_whatever_order_they_come_in() {
    let first = trigger("first")
        .at(1)
        .all(untagged("x"))
        .then(add_tags(&["a"]))
        .build();
    let second = trigger("second")
        .at(2)
        .all(untagged("x"))
        .then(add_tags(&["b"]))
        .build();
    let third = trigger("third")
        .at(3)
        .all(untagged("x"))
        .then(add_tags(&["c"]))
        .build();
    let run = run(
        &[third, first, second],
        &ticket(),
        &created(),
        &Context::default(),
    );
    assert_eq!(fired_names(&run), ["first", "second", "third"]);
    assert_eq!(run.ticket_after.tags, ["a", "b", "c"]);
}

#[test]
fn a_later_trigger_sees_an_earlier_ones_change_in_the_same_pass() {
    let setter = trigger("setter")
        .at(1)
        .all(untagged("x"))
        .then(set_inquiry_type("refund"))
        .build();
    let reader = trigger("reader")
        .at(2)
        .all(values(F::InquiryType, O::Is, &["refund"]))
        .then(add_tags(&["refund"]))
        .build();
    let run = run(
        &[setter, reader],
        &ticket(),
        &created(),
        &Context::default(),
    );
    assert_eq!(fired_names(&run), ["setter", "reader"]);
    assert!(run.fired.iter().all(|f| f.pass == 1));
    assert_eq!(
        run.passes, 2,
        "a pass that changed something is followed by one more"
    );
}

#[test]
fn an_earlier_trigger_sees_a_later_ones_change_in_the_next_pass() {
    let reader = trigger("reader")
        .at(1)
        .all(values(F::InquiryType, O::Is, &["refund"]))
        .then(add_tags(&["refund"]))
        .build();
    let setter = trigger("setter")
        .at(2)
        .all(untagged("x"))
        .then(set_inquiry_type("refund"))
        .build();
    let run = run(
        &[reader, setter],
        &ticket(),
        &created(),
        &Context::default(),
    );
    assert_eq!(fired_names(&run), ["setter", "reader"]);
    let passes: Vec<i32> = run.fired.iter().map(|f| f.pass).collect();
    assert_eq!(passes, [1, 2]);
    assert_eq!(run.passes, 3);
    assert!(run.not_fired.is_empty());
}

#[test]
fn all_conditions_must_all_hold() {
    let both = trigger("both")
        .all(values(F::Subject, O::ContainsAny, &["refund"]))
        .all(statuses(O::Is, &[TicketStatus::Solved]))
        .then(add_tags(&["x"]))
        .build();
    let run = run(&[both], &ticket(), &created(), &Context::default());
    assert!(run.fired.is_empty());
    assert_eq!(run.not_fired[0].failed_condition, "all_conditions[1]");
    assert_eq!(
        run.not_fired[0].reason,
        "the status is TICKET_STATUS_UNASSIGNED, not one of TICKET_STATUS_SOLVED"
    );
}

#[test]
fn one_of_the_any_conditions_must_hold_as_well() {
    let build = |any: &[&str]| {
        let mut builder = trigger("any").all(untagged("x")).then(add_tags(&["x"]));
        for word in any {
            builder = builder.any(values(F::Subject, O::ContainsAny, &[word]));
        }
        builder.build()
    };
    let ticket = ticket();
    let event = created();
    let context = Context::default();
    assert_eq!(
        run(&[build(&[])], &ticket, &event, &context).fired.len(),
        1,
        "no any-conditions"
    );
    assert_eq!(
        run(&[build(&["cancel", "refund"])], &ticket, &event, &context)
            .fired
            .len(),
        1
    );
    let none = run(&[build(&["cancel", "delivery"])], &ticket, &event, &context);
    assert!(none.fired.is_empty());
    assert_eq!(none.not_fired[0].failed_condition, "any_conditions");
    assert!(
        none.not_fired[0].reason.contains("\"cancel\""),
        "{}",
        none.not_fired[0].reason
    );
    // A failing all-condition is named before the any-conditions.
    let mut ticket = ticket.clone();
    ticket.tags = vec!["x".into()];
    let all_first = run(&[build(&["cancel"])], &ticket, &event, &context);
    assert_eq!(all_first.not_fired[0].failed_condition, "all_conditions[0]");
}

#[test]
fn inactive_triggers_run_only_when_included() {
    let off = trigger("off")
        .inactive()
        .all(untagged("x"))
        .then(add_tags(&["x"]))
        .build();
    let ticket = ticket();
    let skipped = evaluate(
        std::slice::from_ref(&off),
        &ticket,
        &created(),
        &Context::default(),
        Purpose::DryRun {
            include_inactive: false,
        },
    );
    assert!(skipped.fired.is_empty() && skipped.not_fired.is_empty());
    assert_eq!(skipped.passes, 0);
    let live = evaluate(
        std::slice::from_ref(&off),
        &ticket,
        &created(),
        &Context::default(),
        Purpose::Live,
    );
    assert_eq!(live.passes, 0);
    let tried = evaluate(
        &[off],
        &ticket,
        &created(),
        &Context::default(),
        Purpose::DryRun {
            include_inactive: true,
        },
    );
    assert_eq!(fired_names(&tried), ["off"]);
}

#[test]
fn a_live_run_explains_nothing_and_fires_what_a_dry_run_fires() {
    let tag = trigger("tag")
        .at(1)
        .all(untagged("x"))
        .then(add_tags(&["x"]))
        .build();
    let never = trigger("never")
        .at(2)
        .all(tagged("absent"))
        .then(add_tags(&["y"]))
        .build();
    let triggers = [tag, never];
    let ticket = ticket();
    let live = evaluate(
        &triggers,
        &ticket,
        &created(),
        &Context::default(),
        Purpose::Live,
    );
    let dry = run(&triggers, &ticket, &created(), &Context::default());
    assert!(live.not_fired.is_empty());
    assert_eq!(dry.not_fired.len(), 1);
    assert_eq!(dry.not_fired[0].trigger_name, "never");
    assert_eq!(fired_names(&live), fired_names(&dry));
    assert_eq!(live.ticket_after, dry.ticket_after);
    assert_eq!(live.changes, dry.changes);
    assert_eq!(live.passes, dry.passes);
}

#[test]
fn triggers_that_undo_each_other_settle_each_firing_once() {
    let raise = trigger("raise")
        .at(1)
        .all(priorities(O::Is, &[TicketPriority::Normal]))
        .then(set_priority(TicketPriority::High))
        .build();
    let lower = trigger("lower")
        .at(2)
        .all(priorities(O::Is, &[TicketPriority::High]))
        .then(set_priority(TicketPriority::Normal))
        .build();
    let run = run(&[raise, lower], &ticket(), &created(), &Context::default());
    assert_eq!(fired_names(&run), ["raise", "lower"]);
    assert_eq!(run.passes, 2);
    assert!(!run.pass_limit_reached);
    assert!(
        run.changes.is_empty(),
        "changed and changed back: {:?}",
        run.changes
    );
    assert_eq!(run.ticket_after.priority, TicketPriority::Normal as i32);
    assert_eq!(run.fired[1].changes[0].before, "TICKET_PRIORITY_HIGH");
    assert_eq!(run.fired[1].changes[0].after, "TICKET_PRIORITY_NORMAL");
}

/// Twelve triggers, each enabled only by the tag the previous one adds, in reverse position
/// order: each pass fires exactly one.
#[test]
fn a_chain_stops_at_ten_passes_and_names_the_trigger_that_would_fire_next() {
    let mut triggers: Vec<_> = (1..=12)
        .map(|k| {
            let mut builder = trigger(&format!("step {k}"))
                .at(13 - k)
                .all(untagged(&format!("t{k}")))
                .then(add_tags(&[&format!("t{k}")]));
            if k > 1 {
                builder = builder.all(tagged(&format!("t{}", k - 1)));
            }
            builder.build()
        })
        .collect();
    // Checked first in every pass, so in the 10th before step 10 added "t10".
    triggers.push(
        trigger("watcher")
            .at(0)
            .all(values(F::Tags, O::ContainsAll, &["t10", "zzz"]))
            .then(add_tags(&["seen"]))
            .build(),
    );
    let run = run(&triggers, &ticket(), &created(), &Context::default());
    assert_eq!(run.passes, MAX_PASSES);
    assert_eq!(run.fired.len(), 10);
    for (i, fired) in run.fired.iter().enumerate() {
        assert_eq!(fired.trigger_name, format!("step {}", i + 1));
        assert_eq!(fired.pass, i as i32 + 1);
    }
    assert!(run.pass_limit_reached);
    assert_eq!(run.looping, ["step 11"]);
    // The triggers that never fired, with their reasons as of their check in the 10th pass.
    let not_fired: Vec<&str> = run
        .not_fired
        .iter()
        .map(|n| n.trigger_name.as_str())
        .collect();
    assert_eq!(not_fired, ["watcher", "step 12", "step 11"]);
    assert_eq!(
        run.not_fired[0].reason,
        "the tag list does not contain \"t10\", \"zzz\""
    );
    assert_eq!(run.not_fired[2].failed_condition, "all_conditions[1]");
    assert_eq!(run.ticket_after.tags.len(), 10);
}

#[test]
fn a_tenth_pass_that_enables_nothing_has_not_reached_the_limit() {
    let chain: Vec<_> = (1..=10)
        .map(|k| {
            let mut builder = trigger(&format!("step {k}"))
                .at(11 - k)
                .all(untagged(&format!("t{k}")))
                .then(add_tags(&[&format!("t{k}")]));
            if k > 1 {
                builder = builder.all(tagged(&format!("t{}", k - 1)));
            }
            builder.build()
        })
        .collect();
    let run = run(&chain, &ticket(), &created(), &Context::default());
    assert_eq!(run.passes, MAX_PASSES);
    assert_eq!(run.fired.len(), 10);
    assert!(!run.pass_limit_reached);
    assert!(run.looping.is_empty());
}

#[test]
fn notifications_alone_do_not_start_another_pass() {
    let ack = trigger("ack")
        .all(untagged("x"))
        .then(notify_requester("tpl-ack"))
        .build();
    let run = run(&[ack], &ticket(), &created(), &Context::default());
    assert_eq!(run.passes, 1);
    assert!(run.fired[0].changes.is_empty());
    assert_eq!(run.fired[0].notifications.len(), 1);
}

#[test]
fn no_trigger_means_no_pass() {
    let run = run(&[], &ticket(), &created(), &Context::default());
    assert_eq!(run.passes, 0);
    assert_eq!(run.ticket_after, ticket());
}

#[test]
fn a_reason_is_from_the_last_time_the_trigger_was_checked() {
    // "billing only" fails on an unset group in pass 1 and on the group set by "route" in pass 2.
    let billing_only = trigger("billing only")
        .at(1)
        .all(values(F::Group, O::Is, &["billing"]))
        .then(add_tags(&["billing"]))
        .build();
    let route = trigger("route")
        .at(2)
        .all(untagged("x"))
        .then(assign_group("sales"))
        .build();
    let context = groups(&[("sales", &["lee"])]);
    let run = run(&[billing_only, route], &ticket(), &created(), &context);
    assert_eq!(run.passes, 2);
    assert_eq!(run.not_fired.len(), 1);
    assert_eq!(run.not_fired[0].trigger_id, "billing only");
    assert_eq!(run.not_fired[0].position, 1);
    assert_eq!(
        run.not_fired[0].reason,
        "the group is \"sales\", not one of \"billing\""
    );
}

#[test]
fn reasons_say_what_was_found() {
    let mut ticket = ticket();
    ticket.tags = vec!["spam".into()];
    let cases = [
        (
            values(F::Subject, O::ContainsAll, &["refund", "cancel"]),
            "the subject does not contain \"cancel\"",
        ),
        (
            values(F::Tags, O::ContainsNone, &["spam", "vip"]),
            "the tag list contains \"spam\"",
        ),
        (when(F::Group, O::IsSet), "the group is not set"),
        (when(F::Status, O::Changed), "the status was not changed"),
        (
            priorities(O::GreaterThan, &[TicketPriority::High]),
            "the priority is TICKET_PRIORITY_NORMAL, not higher than TICKET_PRIORITY_HIGH",
        ),
        (
            customer("plan", O::Is, &["gold"]),
            "the customer field plan is not set, not one of \"gold\"",
        ),
        (
            hours("0191d3b4-1111-7000-8000-000000000009", O::Within),
            "business hours 0191d3b4-1111-7000-8000-000000000009 are not known",
        ),
    ];
    for (condition, reason) in cases {
        let probe = trigger("probe")
            .all(condition)
            .then(add_tags(&["x"]))
            .build();
        let run = run(&[probe], &ticket, &updated(&[]), &Context::default());
        assert_eq!(run.not_fired[0].reason, reason);
    }
}

#[test]
fn a_fired_trigger_records_its_own_changes_and_the_run_the_net_ones_in_field_order() {
    let context = groups(&[("billing", &["kim"])]);
    let tag = trigger("tag")
        .at(1)
        .all(untagged("x"))
        .then(add_tags(&["vip", "a"]))
        .build();
    let route = trigger("route")
        .at(2)
        .all(untagged("x"))
        .then(set_processing_type("callback"))
        .then(set_inquiry_type("refund"))
        .then(set_priority(TicketPriority::Urgent))
        .then(assign_agent("kim", ""))
        .build();
    let run = run(&[tag, route], &ticket(), &created(), &context);
    let fields = |changes: &[switchboard_proto::ticket::v1::TicketFieldChange]| -> Vec<i32> {
        changes.iter().map(|c| c.field).collect()
    };
    assert_eq!(fields(&run.fired[0].changes), [TicketField::Tags as i32]);
    assert_eq!(run.fired[0].changes[0].added_tags, ["a", "vip"]);
    assert_eq!(run.fired[0].changes[0].after, "a vip");
    let expected = [
        TicketField::Status,
        TicketField::Group,
        TicketField::Assignee,
        TicketField::Priority,
        TicketField::InquiryType,
        TicketField::ProcessingType,
    ]
    .map(|f| f as i32);
    assert_eq!(fields(&run.fired[1].changes), expected);
    assert_eq!(
        fields(&run.changes),
        [expected.as_slice(), &[TicketField::Tags as i32]].concat()
    );
    assert_eq!(run.changes[0].before, "TICKET_STATUS_UNASSIGNED");
    assert_eq!(run.changes[0].after, "TICKET_STATUS_IN_PROGRESS");
    assert_eq!(run.changes[2].after, "kim");
}

#[test]
fn evaluation_is_deterministic() {
    let context = groups(&[("billing", &["b", "a", "c"])]);
    let triggers = [
        trigger("route")
            .all(untagged("x"))
            .then(distribute(distribution(
                "billing",
                switchboard_proto::trigger::v1::DistributionStrategy::RoundRobin,
            )))
            .build(),
        trigger("never")
            .at(2)
            .all(tagged("nope"))
            .then(add_tags(&["x"]))
            .build(),
    ];
    let first = run(&triggers, &ticket(), &created(), &context);
    let second = run(&triggers, &ticket(), &created(), &context);
    assert_eq!(first.fired, second.fired);
    assert_eq!(first.not_fired, second.not_fired);
    assert_eq!(first.changes, second.changes);
    assert_eq!(first.round_robin_used, second.round_robin_used);
}
