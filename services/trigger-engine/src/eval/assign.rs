//! The assignment actions and the ticket rules they follow (action.proto): giving an unassigned
//! ticket an assignee makes it in progress; a group whose members do not include the assignee
//! clears the assignee (and an in-progress ticket becomes unassigned).

use switchboard_proto::{
    ticket::v1::{Ticket, TicketStatus},
    trigger::v1::DistributionStrategy,
};

use super::{
    action::Distribute,
    distribute::{Pick, pick},
    state::State,
};

/// Gives the ticket to `group_id`, which exists (its active members are `members`).
fn move_to_group(ticket: &mut Ticket, group_id: &str, members: &[String]) {
    set_group(ticket, group_id);
    if !ticket.assignee_login.is_empty() && !members.contains(&ticket.assignee_login) {
        unassign(ticket);
    }
}

/// Gives the ticket to `login` within `group_id` (the agent is a member of it).
fn give_to(ticket: &mut Ticket, group_id: &str, login: &str) {
    set_group(ticket, group_id);
    if ticket.assignee_login != login {
        ticket.assignee_login = login.to_owned();
        // The display name belongs to the previous assignee; the caller fills the new one.
        ticket.assignee_display_name.clear();
    }
    if ticket.status == TicketStatus::Unassigned as i32 {
        ticket.status = TicketStatus::InProgress as i32;
    }
}

fn set_group(ticket: &mut Ticket, group_id: &str) {
    if ticket.group_id != group_id {
        ticket.group_id = group_id.to_owned();
        ticket.group_display_name.clear();
    }
}

fn unassign(ticket: &mut Ticket) {
    ticket.assignee_login.clear();
    ticket.assignee_display_name.clear();
    if ticket.status == TicketStatus::InProgress as i32 {
        ticket.status = TicketStatus::Unassigned as i32;
    }
}

/// `AssignGroupAction`; a warning when the group does not exist.
pub(super) fn assign_group(state: &mut State<'_>, group_id: &str, warnings: &mut Vec<String>) {
    match state.context.group_members.get(group_id) {
        None => warnings.push(format!("group {group_id} does not exist; not assigned")),
        Some(members) => move_to_group(&mut state.ticket, group_id, members),
    }
}

/// `AssignAgentAction`; a warning, and nothing assigned, when the agent or group does not fit.
pub(super) fn assign_agent(
    state: &mut State<'_>,
    login: &str,
    group_id: &str,
    warnings: &mut Vec<String>,
) {
    let Some(groups) = state.context.agent_groups.get(login) else {
        warnings.push(format!(
            "agent {login} is unknown or disabled; not assigned"
        ));
        return;
    };
    let member_of = |group: &str| groups.iter().any(|g| g == group);
    let ticket_group = state.ticket.group_id.as_str();
    let group = if !group_id.is_empty() {
        if !member_of(group_id) {
            warnings.push(format!(
                "agent {login} is not a member of group {group_id}; not assigned"
            ));
            return;
        }
        group_id
    } else if !ticket_group.is_empty() && member_of(ticket_group) {
        ticket_group
    } else {
        match groups.as_slice() {
            [only] => only.as_str(),
            [] => {
                warnings.push(format!("agent {login} is in no group; not assigned"));
                return;
            }
            _ => {
                warnings.push(format!(
                    "agent {login} is in several groups and none is the ticket's; not assigned"
                ));
                return;
            }
        }
    };
    let group = group.to_owned();
    give_to(&mut state.ticket, &group, login);
}

/// `DistributeAction`: picks an agent of the group, or leaves the ticket unassigned in the
/// group (with a warning saying why).
pub(super) fn distribute(
    state: &mut State<'_>,
    distribute: &Distribute,
    warnings: &mut Vec<String>,
) {
    let group_id = distribute.group_id.as_str();
    let context = state.context;
    let Some(members) = context.group_members.get(group_id) else {
        warnings.push(format!("group {group_id} does not exist; not distributed"));
        return;
    };
    let cursor = state
        .round_robin_used
        .get(group_id)
        .or_else(|| context.round_robin.get(group_id))
        .map(String::as_str);
    match pick(
        distribute,
        members,
        &state.ticket.assignee_login,
        cursor,
        context,
    ) {
        Pick::Keep => move_to_group(&mut state.ticket, group_id, members),
        Pick::Agent(login) => {
            if distribute.strategy == DistributionStrategy::RoundRobin {
                state
                    .round_robin_used
                    .insert(group_id.to_owned(), login.to_owned());
            }
            give_to(&mut state.ticket, group_id, login);
        }
        Pick::Nobody(why) => {
            set_group(&mut state.ticket, group_id);
            if !state.ticket.assignee_login.is_empty() {
                unassign(&mut state.ticket);
            }
            warnings.push(format!("{why}; left unassigned in the group"));
        }
    }
}
