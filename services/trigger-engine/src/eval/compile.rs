//! A trigger as a client sent it (trigger.proto), checked and compiled into the form evaluation
//! reads. Every problem is named by its field path, all of them at once.

use std::collections::BTreeSet;

use switchboard_platform::error::FieldViolations;
use switchboard_proto::trigger::v1::Trigger;

use super::{
    action::{self, Action},
    checks::Checks,
    condition::{self, Condition},
};

const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 1_000;
const MAX_CONDITIONS: usize = 50;
const MAX_ACTIONS: usize = 20;

/// A trigger checked and ready to evaluate.
#[derive(Clone, Debug)]
pub struct CompiledTrigger {
    pub id: String,
    /// Trimmed.
    pub name: String,
    pub position: i32,
    pub active: bool,
    pub(super) all_conditions: Vec<Condition>,
    pub(super) any_conditions: Vec<Condition>,
    pub(super) actions: Vec<Action>,
}

impl CompiledTrigger {
    /// Business-hours schedule ids its conditions name (for "IN_USE" and for loading
    /// schedules), sorted, each once.
    pub fn business_hours_ids(&self) -> Vec<String> {
        let ids = self
            .all_conditions
            .iter()
            .chain(&self.any_conditions)
            .map(|c| c.business_hours_id.as_str());
        sorted_unique(ids)
    }

    /// Group ids of its distribute and assign-group actions and the assign-agent actions'
    /// `group_id` (to prefetch members, loads, presence), sorted, each once.
    pub fn groups(&self) -> Vec<String> {
        sorted_unique(self.actions.iter().map(|action| match action {
            Action::AssignGroup { group_id } | Action::AssignAgent { group_id, .. } => {
                group_id.as_str()
            }
            Action::Distribute(distribute) => distribute.group_id.as_str(),
            _ => "",
        }))
    }

    /// Group ids of its distributions that weigh the agents' open tickets (least loaded, or
    /// bounded by `max_open_tickets`), sorted, each once: only these need the loads read.
    pub fn load_groups(&self) -> Vec<String> {
        sorted_unique(self.actions.iter().map(|action| match action {
            Action::Distribute(distribute) if distribute.weighs_load() => {
                distribute.group_id.as_str()
            }
            _ => "",
        }))
    }

    /// Agent logins of its assign-agent actions (to prefetch their groups), sorted, each once.
    pub fn agents(&self) -> Vec<String> {
        sorted_unique(self.actions.iter().map(|action| match action {
            Action::AssignAgent { login, .. } => login.as_str(),
            _ => "",
        }))
    }

    /// Whether any action distributes among present agents only.
    pub fn needs_presence(&self) -> bool {
        self.actions.iter().any(|action| {
            matches!(action, Action::Distribute(distribute) if distribute.only_present_agents)
        })
    }
}

/// The non-empty ones of `items`, sorted, each once.
fn sorted_unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
    let set: BTreeSet<&str> = items.filter(|s| !s.is_empty()).collect();
    set.into_iter().map(str::to_owned).collect()
}

/// Validates `trigger` (output-only fields ignored) and compiles it. Every problem goes into
/// `violations` with its field path under `prefix` ("trigger.name",
/// "trigger.all_conditions[1].operator", "trigger.actions[0].assign_group.group_id", …).
/// `None` when there was any. `id`, `position` and `active` are copied as they are.
pub fn compile_trigger(
    trigger: &Trigger,
    prefix: &str,
    violations: &mut FieldViolations,
) -> Option<CompiledTrigger> {
    let mut checks = Checks::new(violations);
    let name = trigger.name.trim();
    checks.chars(&format!("{prefix}.name"), name, 1, MAX_NAME);
    checks.chars(
        &format!("{prefix}.description"),
        &trigger.description,
        0,
        MAX_DESCRIPTION,
    );

    let all_path = format!("{prefix}.all_conditions");
    if trigger.all_conditions.is_empty() {
        checks.add(&all_path, "a trigger needs at least one condition in all");
    } else {
        checks.entries(
            &all_path,
            trigger.all_conditions.len(),
            1,
            MAX_CONDITIONS,
            "conditions",
        );
    }
    let any_path = format!("{prefix}.any_conditions");
    checks.entries(
        &any_path,
        trigger.any_conditions.len(),
        0,
        MAX_CONDITIONS,
        "conditions",
    );
    let all_conditions = compile_each(
        &trigger.all_conditions,
        &all_path,
        &mut checks,
        condition::compile,
    );
    let any_conditions = compile_each(
        &trigger.any_conditions,
        &any_path,
        &mut checks,
        condition::compile,
    );

    let actions_path = format!("{prefix}.actions");
    checks.entries(
        &actions_path,
        trigger.actions.len(),
        1,
        MAX_ACTIONS,
        "actions",
    );
    let actions = compile_each(
        &trigger.actions,
        &actions_path,
        &mut checks,
        action::compile,
    );

    Some(CompiledTrigger {
        id: trigger.id.clone(),
        name: name.to_owned(),
        position: trigger.position,
        active: trigger.active,
        all_conditions: all_conditions?,
        any_conditions: any_conditions?,
        actions: actions?,
    })
    .filter(|_| checks.count() == 0)
}

/// Compiles every item at `path[i]`; `None` when any of them failed (all are still checked).
fn compile_each<P, C>(
    items: &[P],
    path: &str,
    checks: &mut Checks<'_>,
    compile: fn(&P, &str, &mut Checks<'_>) -> Option<C>,
) -> Option<Vec<C>> {
    let compiled: Vec<Option<C>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| compile(item, &format!("{path}[{i}]"), checks))
        .collect();
    compiled.into_iter().collect()
}
