//! `ApplyTriggerRun`: the run checked, then applied in one transaction under the ticket's row
//! lock: once per run id, only at the version it was computed from, never on a closed or spam
//! ticket; its net changes one version with one history entry per trigger, each notification
//! after them, the stopped loop last.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{
        ApplyTriggerRunRequest, ApplyTriggerRunResponse, Ticket, TicketChangeOrigin,
        TicketEventKind, TicketStatus, TriggerRunOutcome, TriggerRunStep,
    },
};
use tonic::Status;
use uuid::Uuid;

use super::{
    apply::{Names, apply, labelled},
    notify::notify,
    runs,
    validate::{self, Run, Target},
};
use switchboard_proto::ticket_changes::diff;

use crate::{
    directory::Directory,
    tickets::{
        AUTOMATE_SCOPE, Change, TicketApi, access, announce, not_found, note_only, notes,
        reply::check_types, save_version, store, system_actor, writes::Writes,
    },
};

pub async fn apply_run(
    api: &TicketApi,
    principal: &Principal,
    request: ApplyTriggerRunRequest,
) -> Result<ApplyTriggerRunResponse, Status> {
    access::require_scope(principal, AUTOMATE_SCOPE)?;
    let run = validate::check(&request)?;
    // Asked before the lock is taken, so that the ticket never waits on the gateway.
    let names = names(&api.directory, &run.target).await?;
    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    let before = store::load(&mut tx, run.ticket_id, true)
        .await?
        .ok_or_else(not_found)?;
    let now = Utc::now();
    if !runs::claim(&mut tx, &run.run_id, run.ticket_id, now).await? {
        return Ok(answer(TriggerRunOutcome::Duplicate, before));
    }
    // Dropping the transaction drops the claim too: the engine evaluates again on this version
    // and retries under the same run id.
    if before.version != run.expected_version {
        return Ok(answer(TriggerRunOutcome::VersionConflict, before));
    }
    if matches!(before.status(), TicketStatus::Closed | TicketStatus::Spam) {
        switchboard_platform::db::commit(tx).await?;
        return Ok(answer(TriggerRunOutcome::NotEvaluable, before));
    }
    let mut ticket = apply_changes(api, &mut tx, before, &run, &names, now).await?;
    for notification in &run.notifications {
        let trigger = trigger_name(&run.steps, &notification.trigger_id);
        ticket = notify(api, &mut tx, ticket, notification, trigger, now).await?;
    }
    if let Some(looping) = &run.looping_triggers {
        let change = run_change(TicketEventKind::TriggerLoopStopped).with_note(loop_note(looping));
        note_only(&mut tx, &ticket, change).await?;
    }
    switchboard_platform::db::commit(tx).await?;
    Ok(answer(TriggerRunOutcome::Applied, ticket))
}

fn answer(outcome: TriggerRunOutcome, ticket: Ticket) -> ApplyTriggerRunResponse {
    ApplyTriggerRunResponse {
        outcome: outcome as i32,
        ticket: Some(ticket),
    }
}

/// The note of a run stopped at its pass bound, naming the triggers that kept changing the
/// ticket.
fn loop_note(looping: &[String]) -> String {
    match looping {
        [] => "stopped at the pass bound".into(),
        names => format!(
            "stopped at the pass bound; still changing the ticket: {}",
            names.join(", ")
        ),
    }
}

fn run_change(kind: TicketEventKind) -> Change {
    Change::new(kind, TicketChangeOrigin::Trigger, system_actor())
}

/// The name of the trigger `id` when it fired in the run; empty when it is not among `steps`.
fn trigger_name<'s>(steps: &'s [TriggerRunStep], id: &str) -> &'s str {
    steps
        .iter()
        .find(|step| step.trigger_id == id)
        .map_or("", |step| step.trigger_name.as_str())
}

/// The directory's group and agent the run gives the ticket.
async fn names(directory: &Directory, target: &Target) -> Result<Names, Status> {
    let group = match target.group_id.as_deref() {
        Some(id) if !id.is_empty() => directory.group(id).await?,
        _ => None,
    };
    let assignee = match target.assignee_login.as_deref() {
        Some(login) if !login.is_empty() => directory.agent_for_run(login).await?,
        _ => None,
    };
    Ok(Names { group, assignee })
}

/// The run's net changes on `before` as one new version announced once, and each step's history
/// entry; only the entries when the steps changed nothing in all (triggers that undid each
/// other).
async fn apply_changes(
    api: &TicketApi,
    tx: &mut PgConnection,
    before: Ticket,
    run: &Run,
    names: &Names,
    now: DateTime<Utc>,
) -> Result<Ticket, Status> {
    let after = apply(&before, &run.target, names)?;
    // Only a newly given type must be active, as with UpdateTicket.
    let newly = |was: &str, is: &str| (is != was).then(|| Uuid::parse_str(is).ok()).flatten();
    check_types(
        tx,
        "ticket_after",
        newly(&before.inquiry_type_id, &after.inquiry_type_id),
        newly(&before.processing_type_id, &after.processing_type_id),
    )
    .await?;
    if diff(&before, &after).is_empty() {
        if !run.steps.is_empty() {
            let mut writes = Writes::new();
            step_entries(&mut writes, &before, &before, &run.steps, now)?;
            writes.execute(tx).await?;
        }
        return Ok(before);
    }
    let change = run_change(TicketEventKind::TriggerApplied);
    let after = save_version(tx, &api.limits, &before, after, now, |writes, after| {
        step_entries(writes, &before, after, &run.steps, now)?;
        announce(writes, &before, after, change)
    })
    .await?;
    Ok(after)
}

/// One `TICKET_EVENT_KIND_TRIGGER_APPLIED` entry per step on `after`: the trigger, what it
/// changed, and the actions it could not apply as the note.
fn step_entries(
    writes: &mut Writes,
    before: &Ticket,
    after: &Ticket,
    steps: &[TriggerRunStep],
    now: DateTime<Utc>,
) -> switchboard_platform::error::Result<()> {
    let entries = steps
        .iter()
        .map(|step| {
            let change = run_change(TicketEventKind::TriggerApplied)
                .by_trigger(step.trigger_id.clone(), step.trigger_name.clone())
                .with_note(step.warnings.join("; "));
            (change, labelled(&step.changes, before, after))
        })
        .collect();
    notes(writes, after, entries, now)
}
