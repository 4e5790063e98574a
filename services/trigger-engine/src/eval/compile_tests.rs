//! Validation names the exact field path of each problem, all at once; a valid trigger
//! compiles with what callers prefetch by.

use switchboard_platform::error::FieldViolations;
use switchboard_proto::{
    ticket::v1::{TicketPriority, TicketStatus},
    trigger::v1::{
        Action, Condition, ConditionField as F, ConditionOperator as O, DistributeAction,
        DistributionStrategy, NotificationRecipient, SendNotificationAction, Trigger,
        action::Action as Kind,
    },
};

use super::{compile_trigger, test_support::*};

const HOURS: &str = "0191d3b4-1111-7000-8000-000000000001";

/// A valid trigger to break one part of.
fn valid() -> TriggerBuilder {
    trigger("valid")
        .all(statuses(O::Is, &[TicketStatus::Unassigned]))
        .then(add_tags(&["x"]))
}

fn with_condition(condition: Condition) -> Trigger {
    valid().all(condition).proto()
}

fn with_action(action: Action) -> Trigger {
    valid().then(action).proto()
}

#[test]
fn a_valid_trigger_compiles_with_its_id_position_and_state() {
    let trigger = Trigger {
        id: "0191d3b4-2222-7000-8000-000000000001".into(),
        name: "  Route refunds  ".into(),
        position: 7,
        active: false,
        ..valid().proto()
    };
    let mut violations = FieldViolations::new();
    let compiled = compile_trigger(&trigger, "trigger", &mut violations).expect("valid");
    assert!(violations.is_empty());
    assert_eq!(compiled.id, trigger.id);
    assert_eq!(compiled.name, "Route refunds");
    assert_eq!(compiled.position, 7);
    assert!(!compiled.active);
}

#[test]
fn violations_collected_before_do_not_fail_a_valid_trigger() {
    let mut violations = FieldViolations::new();
    violations.add("request_id", "must be a UUID");
    assert!(compile_trigger(&valid().proto(), "trigger", &mut violations).is_some());
}

#[test]
fn the_name_description_and_list_sizes_are_bounded() {
    let nameless = Trigger {
        name: "   ".into(),
        ..valid().proto()
    };
    assert_eq!(violations(nameless), ["trigger.name"]);
    let long = Trigger {
        name: "n".repeat(101),
        description: "d".repeat(1_001),
        ..valid().proto()
    };
    assert_eq!(violations(long), ["trigger.name", "trigger.description"]);
    let at_bounds = Trigger {
        name: "n".repeat(100),
        description: "d".repeat(1_000),
        ..valid().proto()
    };
    assert!(violations(at_bounds).is_empty());

    let empty = trigger("empty").proto();
    assert_eq!(
        violations(empty),
        ["trigger.all_conditions", "trigger.actions"]
    );

    let untagged = || values(F::Tags, O::ContainsNone, &["x"]);
    let mut crowded = valid().proto();
    crowded.all_conditions = vec![untagged(); 51];
    crowded.any_conditions = vec![untagged(); 51];
    crowded.actions = vec![add_tags(&["x"]); 21];
    assert_eq!(
        violations(crowded),
        [
            "trigger.all_conditions",
            "trigger.any_conditions",
            "trigger.actions"
        ]
    );
}

#[test]
fn a_condition_needs_a_known_field_and_an_operator_for_it() {
    assert_eq!(
        violations(with_condition(when(F::Unspecified, O::Is))),
        ["trigger.all_conditions[1].field"]
    );
    assert_eq!(
        violations(with_condition(values(F::Group, O::Unspecified, &["g"]))),
        ["trigger.all_conditions[1].operator"]
    );
    let unknown = Condition {
        operator: 99,
        ..values(F::Group, O::Is, &["g"])
    };
    assert_eq!(
        violations(with_condition(unknown)),
        ["trigger.all_conditions[1].operator"]
    );
    assert_eq!(
        violations(with_condition(values(F::Subject, O::Is, &["refund"]))),
        ["trigger.all_conditions[1].operator"]
    );
    assert_eq!(
        violations(with_condition(statuses(O::IsSet, &[]))),
        ["trigger.all_conditions[1].operator"]
    );
    assert_eq!(
        violations(with_condition(when(F::Tags, O::Changed))),
        ["trigger.all_conditions[1].operator"]
    );
}

#[test]
fn value_fields_a_condition_does_not_use_must_be_empty() {
    let mut trigger = valid().proto();
    trigger.all_conditions.push(values(F::Group, O::IsSet, &[]));
    trigger.all_conditions.push(Condition {
        values: strings(&["solved"]),
        ..statuses(O::Is, &[TicketStatus::Solved])
    });
    trigger.any_conditions.push(Condition {
        statuses: vec![TicketStatus::Solved as i32],
        priorities: vec![TicketPriority::High as i32],
        update_type: 1,
        field_key: "plan".into(),
        business_hours_id: HOURS.into(),
        ..values(F::Group, O::Is, &["g"])
    });
    assert_eq!(
        violations(trigger),
        [
            "trigger.all_conditions[2].values",
            "trigger.any_conditions[0].statuses",
            "trigger.any_conditions[0].priorities",
            "trigger.any_conditions[0].update_type",
            "trigger.any_conditions[0].business_hours_id",
            "trigger.any_conditions[0].field_key",
        ]
    );
}

#[test]
fn operators_take_the_values_they_need() {
    let cases = [
        (statuses(O::Is, &[]), "trigger.all_conditions[1].statuses"),
        (
            statuses(O::Changed, &[TicketStatus::Solved]),
            "trigger.all_conditions[1].statuses",
        ),
        (
            values(F::Group, O::ChangedTo, &[]),
            "trigger.all_conditions[1].values",
        ),
        (
            values(F::Group, O::IsNotSet, &["g"]),
            "trigger.all_conditions[1].values",
        ),
        (
            values(F::Subject, O::ContainsAll, &[]),
            "trigger.all_conditions[1].values",
        ),
        (
            priorities(O::LessThan, &[TicketPriority::Low, TicketPriority::High]),
            "trigger.all_conditions[1].priorities",
        ),
        (
            priorities(O::GreaterThan, &[]),
            "trigger.all_conditions[1].priorities",
        ),
        (
            channels(O::IsNot, &[]),
            "trigger.all_conditions[1].channels",
        ),
        (
            when(F::UpdateType, O::Is),
            "trigger.all_conditions[1].update_type",
        ),
        (
            hours("", O::Within),
            "trigger.all_conditions[1].business_hours_id",
        ),
        (
            hours("not-a-uuid", O::Outside),
            "trigger.all_conditions[1].business_hours_id",
        ),
        (
            customer("", O::IsSet, &[]),
            "trigger.all_conditions[1].field_key",
        ),
        (
            customer(&"k".repeat(101), O::IsSet, &[]),
            "trigger.all_conditions[1].field_key",
        ),
    ];
    for (condition, path) in cases {
        assert_eq!(
            violations(with_condition(condition.clone())),
            [path],
            "{condition:?}"
        );
    }
}

#[test]
fn values_and_enum_values_are_each_checked() {
    let long = "v".repeat(201);
    assert_eq!(
        violations(with_condition(values(F::Group, O::Is, &["ok", "", &long]))),
        [
            "trigger.all_conditions[1].values[1]",
            "trigger.all_conditions[1].values[2]"
        ]
    );
    assert_eq!(
        violations(with_condition(values(F::Subject, O::ContainsAny, &["  "]))),
        ["trigger.all_conditions[1].values[0]"]
    );
    let many: Vec<String> = (0..101).map(|i| format!("g{i}")).collect();
    let crowded = Condition {
        values: many,
        ..when(F::Group, O::Is)
    };
    assert_eq!(
        violations(with_condition(crowded)),
        ["trigger.all_conditions[1].values"]
    );
    let unspecified = Condition {
        statuses: vec![TicketStatus::Solved as i32, 0, 42],
        ..when(F::Status, O::Is)
    };
    assert_eq!(
        violations(with_condition(unspecified)),
        [
            "trigger.all_conditions[1].statuses[1]",
            "trigger.all_conditions[1].statuses[2]"
        ]
    );
}

#[test]
fn actions_are_checked_field_by_field() {
    let distribute_bad = DistributeAction {
        group_id: String::new(),
        strategy: DistributionStrategy::Unspecified as i32,
        max_open_tickets: -1,
        ..Default::default()
    };
    let cases: Vec<(Action, Vec<&str>)> = vec![
        (Action { action: None }, vec!["trigger.actions[1]"]),
        (
            assign_group(""),
            vec!["trigger.actions[1].assign_group.group_id"],
        ),
        (
            assign_agent("", ""),
            vec!["trigger.actions[1].assign_agent.agent_login"],
        ),
        (
            assign_agent("kim", &"g".repeat(201)),
            vec!["trigger.actions[1].assign_agent.group_id"],
        ),
        (
            distribute(distribute_bad),
            vec![
                "trigger.actions[1].distribute.group_id",
                "trigger.actions[1].distribute.strategy",
                "trigger.actions[1].distribute.max_open_tickets",
            ],
        ),
        (
            set_priority(TicketPriority::Unspecified),
            vec!["trigger.actions[1].set_priority.priority"],
        ),
        (
            set_inquiry_type(""),
            vec!["trigger.actions[1].set_inquiry_type.inquiry_type_id"],
        ),
        (
            set_processing_type(""),
            vec!["trigger.actions[1].set_processing_type.processing_type_id"],
        ),
        (add_tags(&[]), vec!["trigger.actions[1].add_tags.tags"]),
        (
            add_tags(&["ok", "two words", &"t".repeat(51)]),
            vec![
                "trigger.actions[1].add_tags.tags[1]",
                "trigger.actions[1].add_tags.tags[2]",
            ],
        ),
        (
            remove_tags(&["x"; 21]),
            vec!["trigger.actions[1].remove_tags.tags"],
        ),
        (
            notify_requester(""),
            vec!["trigger.actions[1].send_notification.template_id"],
        ),
        (
            notify("tpl", &[]),
            vec!["trigger.actions[1].send_notification.email_addresses"],
        ),
        (
            notify(
                "tpl",
                &[
                    "ok@example.com",
                    "no-at",
                    "a@b@c",
                    "a b@c",
                    "x@y\r\nBcc: z@w",
                ],
            ),
            vec![
                "trigger.actions[1].send_notification.email_addresses[1]",
                "trigger.actions[1].send_notification.email_addresses[2]",
                "trigger.actions[1].send_notification.email_addresses[3]",
                "trigger.actions[1].send_notification.email_addresses[4]",
            ],
        ),
        (
            notify("tpl", &["a@b.c"; 11]),
            vec!["trigger.actions[1].send_notification.email_addresses"],
        ),
        (
            Action {
                action: Some(Kind::SendNotification(SendNotificationAction {
                    template_id: "tpl".into(),
                    recipient: NotificationRecipient::Unspecified as i32,
                    email_addresses: Vec::new(),
                })),
            },
            vec!["trigger.actions[1].send_notification.recipient"],
        ),
        (
            Action {
                action: Some(Kind::SendNotification(SendNotificationAction {
                    template_id: "tpl".into(),
                    recipient: NotificationRecipient::Requester as i32,
                    email_addresses: strings(&["a@b.c"]),
                })),
            },
            vec!["trigger.actions[1].send_notification.email_addresses"],
        ),
    ];
    for (action, paths) in cases {
        assert_eq!(violations(with_action(action.clone())), paths, "{action:?}");
    }
}

#[test]
fn every_problem_is_named_at_once() {
    let trigger = Trigger {
        name: String::new(),
        ..trigger("bad")
            .all(statuses(O::Is, &[]))
            .all(values(F::Subject, O::Is, &["x"]))
            .any(when(F::Unspecified, O::IsSet))
            .then(assign_group(""))
            .then(Action { action: None })
            .proto()
    };
    assert_eq!(
        violations(trigger),
        [
            "trigger.name",
            "trigger.all_conditions[0].statuses",
            "trigger.all_conditions[1].operator",
            "trigger.any_conditions[0].field",
            "trigger.actions[0].assign_group.group_id",
            "trigger.actions[1]",
        ]
    );
}

#[test]
fn the_prefix_is_the_callers() {
    let mut violations = FieldViolations::new();
    let bad = Trigger {
        name: String::new(),
        ..valid().proto()
    };
    assert!(compile_trigger(&bad, "triggers[3]", &mut violations).is_none());
    let status = violations.into_result().unwrap_err();
    assert_eq!(
        switchboard_platform::error::violated_fields(&status),
        ["triggers[3].name"]
    );
}

#[test]
fn a_compiled_trigger_lists_what_callers_prefetch() {
    let other_hours = "0191D3B4-1111-7000-8000-00000000000A";
    let compiled = valid()
        .all(hours(HOURS, O::Within))
        .any(hours(other_hours, O::Outside))
        .any(hours(HOURS, O::Outside))
        .then(assign_group("sales"))
        .then(assign_agent("kim", "billing"))
        .then(assign_agent("lee", ""))
        .then(distribute(distribution(
            "night",
            DistributionStrategy::LeastLoaded,
        )))
        .then(assign_group("sales"))
        .build();
    assert_eq!(
        compiled.business_hours_ids(),
        [HOURS, "0191d3b4-1111-7000-8000-00000000000a"]
    );
    assert_eq!(compiled.groups(), ["billing", "night", "sales"]);
    assert_eq!(compiled.agents(), ["kim", "lee"]);
    assert_eq!(
        compiled.load_groups(),
        ["night"],
        "only the least-loaded distribution reads loads"
    );
    assert!(!compiled.needs_presence());
    let present_only = valid()
        .then(distribute(DistributeAction {
            only_present_agents: true,
            ..distribution("night", DistributionStrategy::RoundRobin)
        }))
        .build();
    assert!(present_only.needs_presence());
    assert!(
        present_only.load_groups().is_empty(),
        "round robin reads no loads"
    );
    let bounded = valid()
        .then(distribute(DistributeAction {
            max_open_tickets: 3,
            ..distribution("night", DistributionStrategy::RoundRobin)
        }))
        .build();
    assert_eq!(bounded.load_groups(), ["night"], "a bound reads the loads");
}
