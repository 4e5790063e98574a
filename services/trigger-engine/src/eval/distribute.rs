//! Picking the agent a `DistributeAction` gives the ticket to (action.proto): candidates are the
//! group's members in login order, narrowed to present agents and by open-ticket load when asked.

use switchboard_proto::trigger::v1::DistributionStrategy;

use super::{action::Distribute, run::Context};

/// What a distribution decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Pick<'c> {
    /// The current assignee is a member and stays.
    Keep,
    /// Give the ticket to this agent.
    Agent(&'c str),
    /// No candidate: the ticket goes to the group unassigned, for this reason.
    Nobody(String),
}

/// Picks among `members` (the group's active members, any order) for a ticket whose assignee is
/// `assignee`; `cursor` is who last received a ticket of this group by round robin.
pub(super) fn pick<'c>(
    distribute: &Distribute,
    members: &'c [String],
    assignee: &str,
    cursor: Option<&str>,
    context: &Context,
) -> Pick<'c> {
    if distribute.keep_current_assignee
        && !assignee.is_empty()
        && members.iter().any(|m| m == assignee)
    {
        return Pick::Keep;
    }
    let group = &distribute.group_id;
    let mut candidates: Vec<&'c str> = members.iter().map(String::as_str).collect();
    candidates.sort_unstable();
    candidates.dedup();
    if candidates.is_empty() {
        return Pick::Nobody(format!("group {group} has no active members"));
    }
    if distribute.only_present_agents {
        candidates.retain(|login| context.present.contains(*login));
        if candidates.is_empty() {
            return Pick::Nobody(format!("no agent of group {group} is present"));
        }
    }
    let open = |login: &str| context.open_tickets.get(login).copied().unwrap_or(0);
    let max = distribute.max_open_tickets;
    if max > 0 {
        candidates.retain(|login| open(login) < max);
        if candidates.is_empty() {
            return Pick::Nobody(format!(
                "every candidate of group {group} has {max} or more open tickets"
            ));
        }
    }
    let chosen = match distribute.strategy {
        DistributionStrategy::LeastLoaded => {
            // Candidates are in login order, so the first of the least loaded wins ties.
            candidates.iter().copied().min_by_key(|login| open(login))
        }
        DistributionStrategy::RoundRobin | DistributionStrategy::Unspecified => {
            let after = cursor.and_then(|cursor| candidates.iter().copied().find(|l| *l > cursor));
            after.or(candidates.first().copied())
        }
    };
    chosen.map_or_else(
        || Pick::Nobody(format!("group {group} has no candidate")),
        Pick::Agent,
    )
}
