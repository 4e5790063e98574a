//! `DistributeAction`: round robin (wrapping, and advancing across runs when the caller stores
//! the cursor), least loaded, present agents only, the open-ticket bound, keeping the current
//! assignee, and no candidate.

use switchboard_proto::{
    ticket::v1::{Ticket, TicketStatus},
    trigger::v1::{
        ConditionField as F, ConditionOperator as O, DistributeAction, DistributionStrategy,
    },
};

use super::{Context, Run, test_support::*};

fn distributing(action: DistributeAction) -> super::CompiledTrigger {
    trigger("distribute")
        .all(values(F::Tags, O::ContainsNone, &["never"]))
        .then(distribute(action))
        .build()
}

fn run_one(action: DistributeAction, ticket: &Ticket, context: &Context) -> Run {
    run(&[distributing(action)], ticket, &created(), context)
}

fn billing() -> Context {
    // Members in no particular order: candidates go in login order.
    groups(&[("billing", &["choi", "ahn", "baek"])])
}

#[test]
fn round_robin_starts_with_the_first_login_and_wraps() {
    let mut context = billing();
    let action = distribution("billing", DistributionStrategy::RoundRobin);
    let mut picked = Vec::new();
    for _ in 0..4 {
        let run = run_one(action.clone(), &ticket(), &context);
        let login = run.ticket_after.assignee_login.clone();
        assert_eq!(run.round_robin_used.get("billing"), Some(&login));
        // The caller stores the pick as the group's new cursor.
        context.round_robin.extend(run.round_robin_used);
        picked.push(login);
    }
    assert_eq!(picked, ["ahn", "baek", "choi", "ahn"]);
}

#[test]
fn round_robin_continues_after_a_cursor_that_left_the_group() {
    let mut context = billing();
    context.round_robin.insert("billing".into(), "bae".into());
    let run = run_one(
        distribution("billing", DistributionStrategy::RoundRobin),
        &ticket(),
        &context,
    );
    assert_eq!(run.ticket_after.assignee_login, "baek");
}

#[test]
fn round_robin_picks_in_one_run_advance_the_cursor() {
    // Two distributing triggers in one run: the second continues after the first's pick.
    let context = billing();
    let first = trigger("first")
        .at(1)
        .all(values(F::Tags, O::ContainsNone, &["never"]))
        .then(distribute(distribution(
            "billing",
            DistributionStrategy::RoundRobin,
        )))
        .build();
    let second = trigger("second")
        .at(2)
        .all(values(F::Assignee, O::Is, &["ahn"]))
        .then(distribute(distribution(
            "billing",
            DistributionStrategy::RoundRobin,
        )))
        .build();
    let run = run(&[first, second], &ticket(), &created(), &context);
    assert_eq!(fired_names(&run), ["first", "second"]);
    assert_eq!(run.ticket_after.assignee_login, "baek");
    assert_eq!(
        run.round_robin_used.get("billing").map(String::as_str),
        Some("baek")
    );
}

#[test]
fn least_loaded_picks_the_fewest_open_tickets_ties_by_login() {
    let mut context = billing();
    context.open_tickets.insert("ahn".into(), 3);
    context.open_tickets.insert("baek".into(), 1);
    context.open_tickets.insert("choi".into(), 1);
    let action = distribution("billing", DistributionStrategy::LeastLoaded);
    let run = run_one(action.clone(), &ticket(), &context);
    assert_eq!(run.ticket_after.assignee_login, "baek");
    assert!(
        run.round_robin_used.is_empty(),
        "least loaded moves no cursor"
    );
    context.open_tickets.insert("choi".into(), 0);
    assert_eq!(
        run_one(action, &ticket(), &context)
            .ticket_after
            .assignee_login,
        "choi"
    );
}

#[test]
fn only_present_agents_are_candidates_when_asked() {
    let mut context = billing();
    context.present.insert("choi".into());
    let action = DistributeAction {
        only_present_agents: true,
        ..distribution("billing", DistributionStrategy::RoundRobin)
    };
    assert!(distributing(action.clone()).needs_presence());
    assert_eq!(
        run_one(action, &ticket(), &context)
            .ticket_after
            .assignee_login,
        "choi"
    );
}

#[test]
fn agents_at_the_open_ticket_bound_are_not_candidates() {
    let mut context = billing();
    context.open_tickets.insert("ahn".into(), 5);
    context.open_tickets.insert("baek".into(), 4);
    let action = DistributeAction {
        max_open_tickets: 4,
        ..distribution("billing", DistributionStrategy::RoundRobin)
    };
    assert_eq!(
        run_one(action, &ticket(), &context)
            .ticket_after
            .assignee_login,
        "choi"
    );
}

#[test]
fn keep_current_assignee_keeps_a_member_and_only_sets_the_group() {
    let context = billing();
    let mut ticket = ticket();
    ticket.assignee_login = "choi".into();
    ticket.status = TicketStatus::InProgress as i32;
    let action = DistributeAction {
        keep_current_assignee: true,
        ..distribution("billing", DistributionStrategy::RoundRobin)
    };
    let run = run_one(action.clone(), &ticket, &context);
    assert_eq!(run.ticket_after.assignee_login, "choi");
    assert_eq!(run.ticket_after.group_id, "billing");
    assert!(run.round_robin_used.is_empty());
    // An assignee outside the group is replaced.
    ticket.assignee_login = "outsider".into();
    let run = run_one(action, &ticket, &context);
    assert_eq!(run.ticket_after.assignee_login, "ahn");
}

#[test]
fn without_keep_current_assignee_a_member_assignee_is_redistributed() {
    let context = billing();
    let mut ticket = ticket();
    ticket.assignee_login = "choi".into();
    ticket.status = TicketStatus::InProgress as i32;
    let run = run_one(
        distribution("billing", DistributionStrategy::RoundRobin),
        &ticket,
        &context,
    );
    assert_eq!(run.ticket_after.assignee_login, "ahn");
}

#[test]
fn no_candidate_leaves_the_ticket_unassigned_in_the_group_and_says_why() {
    let context = billing();
    let mut ticket = ticket();
    ticket.group_id = "sales".into();
    ticket.assignee_login = "lee".into();
    ticket.status = TicketStatus::InProgress as i32;
    let action = DistributeAction {
        only_present_agents: true,
        ..distribution("billing", DistributionStrategy::LeastLoaded)
    };
    let run = run_one(action, &ticket, &context);
    assert_eq!(run.ticket_after.group_id, "billing");
    assert_eq!(run.ticket_after.assignee_login, "");
    assert_eq!(run.ticket_after.status, TicketStatus::Unassigned as i32);
    assert_eq!(
        run.fired[0].warnings,
        ["no agent of group billing is present; left unassigned in the group"]
    );
}

#[test]
fn an_empty_group_gets_the_ticket_unassigned() {
    let context = groups(&[("night", &[])]);
    let run = run_one(
        distribution("night", DistributionStrategy::RoundRobin),
        &ticket(),
        &context,
    );
    assert_eq!(run.ticket_after.group_id, "night");
    assert_eq!(run.ticket_after.status, TicketStatus::Unassigned as i32);
    assert_eq!(
        run.fired[0].warnings,
        ["group night has no active members; left unassigned in the group"]
    );
}

#[test]
fn a_missing_group_is_skipped_with_a_warning() {
    let run = run_one(
        distribution("gone", DistributionStrategy::RoundRobin),
        &ticket(),
        &billing(),
    );
    assert!(run.fired[0].changes.is_empty());
    assert_eq!(
        run.fired[0].warnings,
        ["group gone does not exist; not distributed"]
    );
    assert_eq!(run.passes, 1);
}
