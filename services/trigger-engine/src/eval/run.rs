//! One evaluation of the triggers for a ticket event (trigger.proto, `Trigger`): passes over
//! the triggers in position order, each trigger firing at most once, until a pass changes
//! nothing or 10 passes ran. Pure: everything it may know about the world is in [`Context`].

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use switchboard_proto::{
    ticket::v1::{Ticket, TicketFieldChange},
    ticket_changes::diff,
    trigger::v1::{FiredTrigger, NotFiredTrigger, UpdateType},
};

use super::{
    apply::{Outcome, apply},
    compile::CompiledTrigger,
    explain::explain,
    matching::Failed,
    state::State,
};

/// The bound on passes over the trigger list.
pub const MAX_PASSES: i32 = 10;

/// Whether an instant is within a business-hours schedule.
pub type Schedule = Arc<dyn Fn(DateTime<Utc>) -> bool + Send + Sync>;

/// The ticket event being evaluated.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    /// Created or updated (never unspecified here).
    pub update_type: UpdateType,
    /// The text of the customer message the event added ("" if none).
    pub body: &'a str,
    /// What the event changed (for updated; ignored for created).
    pub changes: &'a [TicketFieldChange],
    /// The event's time, for business hours.
    pub time: DateTime<Utc>,
    /// The customer message was automated mail (auto-reply, bounce, bulk).
    pub automated: bool,
}

/// What evaluation may know about the world, prefetched by the caller.
#[derive(Default, Clone)]
pub struct Context {
    /// Group id → active member logins (any order); a group missing here does not exist.
    pub group_members: HashMap<String, Vec<String>>,
    /// Agent login → group ids, active agents only; missing: unknown or disabled agent.
    pub agent_groups: HashMap<String, Vec<String>>,
    /// Login → open (in progress and on hold) ticket count; missing means 0.
    pub open_tickets: HashMap<String, i32>,
    /// Logins CTI-present at the event time.
    pub present: HashSet<String>,
    /// Group id → login who last received a ticket of the group by round robin.
    pub round_robin: HashMap<String, String>,
    /// Business-hours id → whether an instant is within it. A missing id makes its conditions
    /// fail, both `WITHIN` and `OUTSIDE`.
    pub schedules: HashMap<String, Schedule>,
}

/// What an evaluation is for: the engine's own run on an event (active triggers only, no
/// explanations of the triggers that did not fire: nothing reads them), or a dry run
/// (`TestTriggers`), which explains every trigger that did not fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Live,
    DryRun { include_inactive: bool },
}

impl Purpose {
    pub fn include_inactive(self) -> bool {
        matches!(
            self,
            Purpose::DryRun {
                include_inactive: true
            }
        )
    }

    fn explains(self) -> bool {
        matches!(self, Purpose::DryRun { .. })
    }
}

/// What an evaluation found.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// The triggers that fired, in firing order, each with its own changes.
    pub fired: Vec<FiredTrigger>,
    /// Every evaluated trigger that never fired, in position order, with the first condition
    /// that failed the last time it was checked; empty for a [`Purpose::Live`] run.
    pub not_fired: Vec<NotFiredTrigger>,
    pub ticket_after: Ticket,
    /// The net changes of the run, before → after, in the stable field order; a field changed
    /// and changed back is not listed.
    pub changes: Vec<TicketFieldChange>,
    /// 1 to 10; 0 when no trigger was evaluated.
    pub passes: i32,
    pub pass_limit_reached: bool,
    /// When `pass_limit_reached`: the names of the triggers that would fire in an 11th pass, in
    /// position order.
    pub looping: Vec<String>,
    /// Group id → login picked by round robin in this run (the group's new cursor).
    pub round_robin_used: BTreeMap<String, String>,
}

/// A trigger's last failed check.
struct Miss {
    failed: Failed,
    /// Computed at the check only in the last allowed pass; otherwise the final ticket is the
    /// one it was checked on (the last pass changed nothing) and the reason is computed then.
    reason: Option<(String, String)>,
}

/// Evaluates `triggers` (in increasing `position`, ties by id; inactive ones only for a dry run
/// that includes them) against `ticket` for `event`. Pure and deterministic.
///
/// A pass visits every trigger that has not fired yet; another pass runs only when this one
/// fired a trigger that changed a field (notifications alone do not count). When the 10th pass
/// still changed something, the triggers that would fire on the result are named in `looping`
/// and `pass_limit_reached` is set; if none would, the run had settled and neither is.
pub fn evaluate(
    triggers: &[CompiledTrigger],
    ticket: &Ticket,
    event: &Event<'_>,
    context: &Context,
    purpose: Purpose,
) -> Run {
    let include_inactive = purpose.include_inactive();
    let explains = purpose.explains();
    let mut order: Vec<&CompiledTrigger> = triggers
        .iter()
        .filter(|t| t.active || include_inactive)
        .collect();
    order.sort_by(|a, b| (a.position, &a.id).cmp(&(b.position, &b.id)));

    let mut state = State::new(ticket, event, context);
    let mut has_fired = vec![false; order.len()];
    let mut misses: Vec<Option<Miss>> = order.iter().map(|_| None).collect();
    let mut fired = Vec::new();
    let mut passes = 0;
    let mut still_changing = false;
    while !order.is_empty() && passes < MAX_PASSES {
        passes += 1;
        let last_allowed = passes == MAX_PASSES;
        let mut changed = false;
        for (i, trigger) in order.iter().enumerate() {
            if has_fired[i] {
                continue;
            }
            match trigger.check(&state) {
                Ok(()) => {
                    has_fired[i] = true;
                    misses[i] = None;
                    let record = fire(trigger, passes, &mut state);
                    changed |= !record.changes.is_empty();
                    fired.push(record);
                }
                Err(failed) if explains => {
                    let reason = last_allowed.then(|| explain(trigger, failed, &state));
                    misses[i] = Some(Miss { failed, reason });
                }
                Err(_) => {}
            }
        }
        still_changing = changed;
        if !changed {
            break;
        }
    }

    let looping: Vec<String> = if still_changing {
        order
            .iter()
            .zip(&has_fired)
            .filter(|(trigger, fired)| !**fired && trigger.check(&state).is_ok())
            .map(|(trigger, _)| trigger.name.clone())
            .collect()
    } else {
        Vec::new()
    };
    let not_fired = order
        .iter()
        .zip(misses)
        .filter_map(|(trigger, miss)| {
            let miss = miss?;
            let (failed_condition, reason) = miss
                .reason
                .unwrap_or_else(|| explain(trigger, miss.failed, &state));
            Some(NotFiredTrigger {
                trigger_id: trigger.id.clone(),
                trigger_name: trigger.name.clone(),
                position: trigger.position,
                failed_condition,
                reason,
            })
        })
        .collect();
    let changes = diff(ticket, &state.ticket);
    Run {
        fired,
        not_fired,
        ticket_after: state.ticket,
        changes,
        passes,
        pass_limit_reached: !looping.is_empty(),
        looping,
        round_robin_used: state.round_robin_used,
    }
}

/// Applies the trigger's actions in order and records what it did.
fn fire(trigger: &CompiledTrigger, pass: i32, state: &mut State<'_>) -> FiredTrigger {
    // A whole copy: firing is rare beside evaluating, and the shared diff takes tickets.
    let before = state.ticket.clone();
    let mut outcome = Outcome::default();
    for action in &trigger.actions {
        apply(action, state, &mut outcome);
    }
    let changes = diff(&before, &state.ticket);
    state.changes.record(&changes);
    FiredTrigger {
        trigger_id: trigger.id.clone(),
        trigger_name: trigger.name.clone(),
        position: trigger.position,
        pass,
        changes,
        notifications: outcome.notifications,
        warnings: outcome.warnings,
    }
}
