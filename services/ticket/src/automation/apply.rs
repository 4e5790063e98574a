//! A run's values put on the ticket as it is (pure): the fields the run changed, with the
//! display names the directory gives, and the rules a stored ticket keeps (an unassigned ticket
//! has no assignee, one in progress has one; an assignee is a member of the ticket's group).

use switchboard_platform::error::invalid_field;
use switchboard_proto::{
    gateway::v1::{Agent, Group},
    ticket::v1::{Ticket, TicketField, TicketFieldChange, TicketStatus},
};
use tonic::Status;

use super::validate::Target;

/// What the directory says of the run's group and assignee; `None` where it knows none.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub group: Option<Group>,
    pub assignee: Option<Agent>,
}

/// `before` with the run's `target` values; INVALID_ARGUMENT naming the `ticket_after` field
/// that makes a ticket the rules refuse.
pub fn apply(before: &Ticket, target: &Target, names: &Names) -> Result<Ticket, Status> {
    let mut after = before.clone();
    if let Some(status) = target.status {
        after.status = status as i32;
    }
    if let Some(group_id) = target.group_id.as_ref().filter(|g| **g != before.group_id) {
        after.group_display_name = match &names.group {
            _ if group_id.is_empty() => String::new(),
            Some(group) => group.display_name.clone(),
            None => return Err(invalid_field("ticket_after.group_id", "no such group")),
        };
        after.group_id = group_id.clone();
    }
    if let Some(login) = target
        .assignee_login
        .as_ref()
        .filter(|l| **l != before.assignee_login)
    {
        after.assignee_display_name = match &names.assignee {
            _ if login.is_empty() => String::new(),
            Some(agent)
                if after.group_id.is_empty() || agent.group_ids.contains(&after.group_id) =>
            {
                agent.display_name.clone()
            }
            Some(_) => {
                return Err(invalid_field(
                    "ticket_after.assignee_login",
                    "must be a member of the ticket's group",
                ));
            }
            None => {
                return Err(invalid_field(
                    "ticket_after.assignee_login",
                    "no such enabled agent",
                ));
            }
        };
        after.assignee_login = login.clone();
    }
    if let Some(priority) = target.priority {
        after.priority = priority as i32;
    }
    if let Some(id) = &target.inquiry_type_id {
        after.inquiry_type_id = id.clone();
    }
    if let Some(id) = &target.processing_type_id {
        after.processing_type_id = id.clone();
    }
    if let Some(tags) = &target.tags {
        after.tags = tags.clone();
    }
    let assigned = !after.assignee_login.is_empty();
    match after.status() {
        TicketStatus::Unassigned if assigned => Err(invalid_field(
            "ticket_after.status",
            "TICKET_STATUS_UNASSIGNED cannot have an assignee",
        )),
        TicketStatus::InProgress if !assigned => Err(invalid_field(
            "ticket_after.status",
            "TICKET_STATUS_IN_PROGRESS needs an assignee",
        )),
        _ => Ok(after),
    }
}

/// A step's changes with the display names of the groups and agents the ticket had before the
/// run or has after it, where the engine gave none (the history shows names, not ids).
pub fn labelled(
    changes: &[TicketFieldChange],
    before: &Ticket,
    after: &Ticket,
) -> Vec<TicketFieldChange> {
    let name_of = |field: TicketField, id: &str| {
        [before, after]
            .into_iter()
            .find_map(|ticket| match field {
                TicketField::Group if ticket.group_id == id => Some(&ticket.group_display_name),
                TicketField::Assignee if ticket.assignee_login == id => {
                    Some(&ticket.assignee_display_name)
                }
                _ => None,
            })
            .cloned()
            .unwrap_or_default()
    };
    changes
        .iter()
        .map(|change| {
            let mut change = change.clone();
            let field = change.field();
            if matches!(field, TicketField::Group | TicketField::Assignee) {
                if change.before_display.is_empty() && !change.before.is_empty() {
                    change.before_display = name_of(field, &change.before);
                }
                if change.after_display.is_empty() && !change.after.is_empty() {
                    change.after_display = name_of(field, &change.after);
                }
            }
            change
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use switchboard_platform::error::violated_fields;
    use switchboard_proto::ticket::v1::TicketPriority;

    use super::*;

    const SALES: &str = "0191d3b4-2222-7000-8000-000000000002";
    const BILLING: &str = "0191d3b4-3333-7000-8000-000000000003";

    fn unassigned() -> Ticket {
        Ticket {
            status: TicketStatus::Unassigned as i32,
            group_id: SALES.into(),
            group_display_name: "영업".into(),
            priority: TicketPriority::Normal as i32,
            ..Default::default()
        }
    }

    fn kim(groups: &[&str]) -> Agent {
        Agent {
            login: "kim".into(),
            display_name: "김상담".into(),
            group_ids: groups.iter().map(|g| g.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_group_and_its_member_take_the_directorys_names() {
        let target = Target {
            status: Some(TicketStatus::InProgress),
            group_id: Some(BILLING.into()),
            assignee_login: Some("kim".into()),
            priority: Some(TicketPriority::Urgent),
            ..Default::default()
        };
        let names = Names {
            group: Some(Group {
                id: BILLING.into(),
                display_name: "결제".into(),
                ..Default::default()
            }),
            assignee: Some(kim(&[BILLING])),
        };
        let after = apply(&unassigned(), &target, &names).unwrap();
        assert_eq!(after.status(), TicketStatus::InProgress);
        assert_eq!(
            (
                after.group_display_name.as_str(),
                after.assignee_display_name.as_str()
            ),
            ("결제", "김상담")
        );
        assert_eq!(after.priority(), TicketPriority::Urgent);
        assert_eq!(after.tags, unassigned().tags, "tags were not listed");
    }

    #[test]
    fn a_ticket_the_rules_refuse_names_the_field() {
        let to_kim = Target {
            assignee_login: Some("kim".into()),
            ..Default::default()
        };
        let outsider = Names {
            assignee: Some(kim(&[BILLING])),
            ..Default::default()
        };
        let refused = apply(&unassigned(), &to_kim, &outsider).unwrap_err();
        assert_eq!(violated_fields(&refused), ["ticket_after.assignee_login"]);
        let member = Names {
            assignee: Some(kim(&[SALES])),
            ..Default::default()
        };
        // Assigned but left unassigned: the status must change with it.
        let refused = apply(&unassigned(), &to_kim, &member).unwrap_err();
        assert_eq!(violated_fields(&refused), ["ticket_after.status"]);
        let gone = Target {
            group_id: Some(BILLING.into()),
            ..Default::default()
        };
        let refused = apply(&unassigned(), &gone, &Names::default()).unwrap_err();
        assert_eq!(violated_fields(&refused), ["ticket_after.group_id"]);
        let ungrouped = Target {
            group_id: Some(String::new()),
            ..Default::default()
        };
        let after = apply(&unassigned(), &ungrouped, &Names::default()).unwrap();
        assert_eq!(
            (after.group_id.as_str(), after.group_display_name.as_str()),
            ("", "")
        );
    }

    #[test]
    fn step_changes_get_the_names_the_ticket_had_or_has() {
        let before = unassigned();
        let mut after = before.clone();
        after.group_id = BILLING.into();
        after.group_display_name = "결제".into();
        let step = [
            TicketFieldChange {
                field: TicketField::Group as i32,
                before: SALES.into(),
                after: BILLING.into(),
                ..Default::default()
            },
            TicketFieldChange {
                field: TicketField::Group as i32,
                before: BILLING.into(),
                after: "elsewhere".into(),
                after_display: "given".into(),
                ..Default::default()
            },
        ];
        let labelled = labelled(&step, &before, &after);
        assert_eq!(
            (
                labelled[0].before_display.as_str(),
                labelled[0].after_display.as_str()
            ),
            ("영업", "결제")
        );
        assert_eq!(
            (
                labelled[1].before_display.as_str(),
                labelled[1].after_display.as_str()
            ),
            ("결제", "given")
        );
    }
}
