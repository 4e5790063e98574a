//! An `ApplyTriggerRun` request checked field by field (ticket_automation.proto): the values of
//! the changed fields taken from `ticket_after`, the notifications with their recipients.

use switchboard_platform::error::FieldViolations;
use switchboard_proto::ticket::v1::{
    ApplyTriggerRunRequest, Ticket, TicketField, TicketFieldChange, TicketPriority, TicketStatus,
    TriggerNotification, TriggerRunStep,
};
use tonic::Status;
use uuid::Uuid;

use crate::domain::fields;

const MAX_RUN_ID: usize = 200;
const MAX_ADDRESSES: usize = 10;
const MAX_REASON: usize = 200;

/// The fields a trigger may change (action.proto).
const SETTABLE: [TicketField; 7] = [
    TicketField::Status,
    TicketField::Group,
    TicketField::Assignee,
    TicketField::Priority,
    TicketField::InquiryType,
    TicketField::ProcessingType,
    TicketField::Tags,
];

/// The values a run gives the fields it changed: `None` leaves a field as it is; an empty id or
/// login clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    pub status: Option<TicketStatus>,
    pub group_id: Option<String>,
    pub assignee_login: Option<String>,
    pub priority: Option<TicketPriority>,
    pub inquiry_type_id: Option<String>,
    pub processing_type_id: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// Who a notification goes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Recipient {
    /// The requester, by e-mail or through the ticket's external channel.
    Requester,
    /// Fixed e-mail addresses, normalised.
    Addresses(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Notification {
    pub trigger_id: String,
    pub template_id: Uuid,
    pub recipient: Recipient,
    /// Why the engine decided not to send it.
    pub suppressed: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Run {
    pub ticket_id: Uuid,
    pub run_id: String,
    pub expected_version: i64,
    pub target: Target,
    pub steps: Vec<TriggerRunStep>,
    pub notifications: Vec<Notification>,
    /// When the run stopped at the pass bound: the triggers still changing the ticket.
    pub looping_triggers: Option<Vec<String>>,
}

pub fn check(request: &ApplyTriggerRunRequest) -> Result<Run, Status> {
    let mut violations = FieldViolations::new();
    let ticket_id = violations.uuid("ticket_id", &request.ticket_id);
    let run_chars = request.run_id.chars().count();
    if run_chars == 0 || run_chars > MAX_RUN_ID {
        violations.add("run_id", format!("must be 1 to {MAX_RUN_ID} characters"));
    }
    if request.expected_version < 1 {
        violations.add("expected_version", "must be at least 1");
    }
    let listed = changed_fields(&mut violations, "changes", &request.changes);
    let target = match &request.ticket_after {
        Some(after) => target(&mut violations, &listed, after),
        None => Target::default(),
    };
    if !request.changes.is_empty() {
        if request.ticket_after.is_none() {
            violations.add("ticket_after", "is required with changes");
        }
        // Every change of a ticket has its history entry: here, one per trigger.
        if request.steps.is_empty() {
            violations.add("steps", "must name the triggers that made the changes");
        }
    }
    for (i, step) in request.steps.iter().enumerate() {
        if step.trigger_id.is_empty() {
            violations.add(format!("steps[{i}].trigger_id"), "is required");
        }
        if step.trigger_name.is_empty() {
            violations.add(format!("steps[{i}].trigger_name"), "is required");
        }
        changed_fields(
            &mut violations,
            &format!("steps[{i}].changes"),
            &step.changes,
        );
    }
    let notifications = request
        .notifications
        .iter()
        .enumerate()
        .map(|(i, n)| notification(&mut violations, i, n))
        .collect();
    violations.into_result()?;
    Ok(Run {
        ticket_id: ticket_id.expect("checked"),
        run_id: request.run_id.clone(),
        expected_version: request.expected_version,
        target,
        steps: request.steps.clone(),
        notifications,
        looping_triggers: request
            .pass_limit_reached
            .then(|| request.looping_triggers.clone()),
    })
}

/// The fields `changes` lists, once each, in their order; a violation naming `{field}[i].field`
/// for any a trigger cannot change.
fn changed_fields(
    violations: &mut FieldViolations,
    field: &str,
    changes: &[TicketFieldChange],
) -> Vec<TicketField> {
    let mut listed = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        match TicketField::try_from(change.field)
            .ok()
            .filter(|f| SETTABLE.contains(f))
        {
            Some(settable) if !listed.contains(&settable) => listed.push(settable),
            Some(_) => {}
            None => {
                violations.add(
                    format!("{field}[{i}].field"),
                    "must be STATUS, GROUP, ASSIGNEE, PRIORITY, INQUIRY_TYPE, PROCESSING_TYPE or TAGS",
                );
            }
        }
    }
    listed
}

/// The values of `listed` fields in `after`, checked; the other fields of `after` are ignored.
fn target(violations: &mut FieldViolations, listed: &[TicketField], after: &Ticket) -> Target {
    let mut target = Target::default();
    for field in listed {
        match field {
            TicketField::Status => match after.status() {
                status @ (TicketStatus::Unassigned | TicketStatus::InProgress) => {
                    target.status = Some(status);
                }
                _ => {
                    violations.add(
                        "ticket_after.status",
                        "must be TICKET_STATUS_UNASSIGNED or TICKET_STATUS_IN_PROGRESS",
                    );
                }
            },
            TicketField::Group => {
                target.group_id = Some(id(violations, "ticket_after.group_id", &after.group_id));
            }
            TicketField::Assignee => {
                target.assignee_login = Some(after.assignee_login.trim().to_owned());
            }
            TicketField::Priority => match TicketPriority::try_from(after.priority) {
                Ok(TicketPriority::Unspecified) | Err(_) => {
                    violations.add("ticket_after.priority", "must be a TicketPriority");
                }
                Ok(priority) => target.priority = Some(priority),
            },
            TicketField::InquiryType => {
                let given = &after.inquiry_type_id;
                target.inquiry_type_id =
                    Some(id(violations, "ticket_after.inquiry_type_id", given));
            }
            TicketField::ProcessingType => {
                let given = &after.processing_type_id;
                target.processing_type_id =
                    Some(id(violations, "ticket_after.processing_type_id", given));
            }
            TicketField::Tags => {
                target.tags = Some(fields::tags(violations, "ticket_after.tags", &after.tags));
            }
            _ => {}
        }
    }
    target
}

/// An optional id in its canonical text form (empty for none).
fn id(violations: &mut FieldViolations, field: &str, text: &str) -> String {
    violations
        .optional_uuid(field, text)
        .map(|id| id.to_string())
        .unwrap_or_default()
}

fn notification(
    violations: &mut FieldViolations,
    i: usize,
    notification: &TriggerNotification,
) -> Notification {
    let field = |name: &str| format!("notifications[{i}].{name}");
    if notification.trigger_id.is_empty() {
        violations.add(field("trigger_id"), "is required");
    }
    let template_id = violations.uuid(field("template_id"), &notification.template_id);
    let recipient = if notification.to_requester {
        Recipient::Requester
    } else {
        Recipient::Addresses(addresses(
            violations,
            &field("to_addresses"),
            &notification.to_addresses,
        ))
    };
    let reason = &notification.suppress_reason;
    if notification.suppressed && reason.is_empty() {
        violations.add(field("suppress_reason"), "is required when suppressed");
    }
    violations.max_chars(&field("suppress_reason"), reason, MAX_REASON);
    Notification {
        trigger_id: notification.trigger_id.clone(),
        template_id: template_id.unwrap_or_default(),
        recipient,
        suppressed: notification.suppressed.then(|| reason.clone()),
    }
}

/// 1 to 10 e-mail addresses, normalised.
fn addresses(violations: &mut FieldViolations, field: &str, given: &[String]) -> Vec<String> {
    if given.is_empty() || given.len() > MAX_ADDRESSES {
        violations.add(
            field,
            format!("must hold 1 to {MAX_ADDRESSES} addresses when not to the requester"),
        );
    }
    fields::emails(violations, field, given)
}

#[cfg(test)]
mod tests {
    use switchboard_platform::error::violated_fields;

    use super::*;

    const TICKET: &str = "0191d3b4-1111-7000-8000-000000000001";
    const GROUP: &str = "0191d3b4-2222-7000-8000-000000000002";

    fn change(field: TicketField) -> TicketFieldChange {
        TicketFieldChange {
            field: field as i32,
            ..Default::default()
        }
    }

    fn step() -> TriggerRunStep {
        TriggerRunStep {
            trigger_id: "t1".into(),
            trigger_name: "VIP".into(),
            ..Default::default()
        }
    }

    #[test]
    fn only_the_listed_fields_are_taken_from_the_ticket_after() {
        let request = ApplyTriggerRunRequest {
            ticket_id: TICKET.into(),
            run_id: "event-1".into(),
            expected_version: 3,
            changes: vec![change(TicketField::Priority), change(TicketField::Tags)],
            ticket_after: Some(Ticket {
                group_id: GROUP.into(),
                priority: TicketPriority::High as i32,
                tags: vec!["VIP".into(), "a".into(), "vip".into()],
                status: TicketStatus::Solved as i32,
                ..Default::default()
            }),
            steps: vec![step()],
            ..Default::default()
        };
        let run = check(&request).unwrap();
        assert_eq!(
            run.target,
            Target {
                priority: Some(TicketPriority::High),
                tags: Some(vec!["a".into(), "vip".into()]),
                ..Default::default()
            }
        );
        assert_eq!(run.looping_triggers, None);
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let request = ApplyTriggerRunRequest {
            ticket_id: "nope".into(),
            run_id: "x".repeat(201),
            expected_version: 0,
            changes: vec![
                change(TicketField::Subject),
                change(TicketField::Status),
                change(TicketField::Group),
            ],
            ticket_after: Some(Ticket {
                status: TicketStatus::Solved as i32,
                group_id: "team-a".into(),
                ..Default::default()
            }),
            steps: vec![TriggerRunStep::default()],
            notifications: vec![TriggerNotification {
                trigger_id: "t1".into(),
                to_addresses: vec!["not an address".into()],
                suppressed: true,
                ..Default::default()
            }],
            ..Default::default()
        };
        let refused = check(&request).unwrap_err();
        assert_eq!(
            violated_fields(&refused),
            [
                "ticket_id",
                "run_id",
                "expected_version",
                "changes[0].field",
                "ticket_after.status",
                "ticket_after.group_id",
                "steps[0].trigger_id",
                "steps[0].trigger_name",
                "notifications[0].template_id",
                "notifications[0].to_addresses[0]",
                "notifications[0].suppress_reason",
            ]
        );
    }

    #[test]
    fn changes_need_the_ticket_after_and_the_steps_that_made_them() {
        let request = ApplyTriggerRunRequest {
            ticket_id: TICKET.into(),
            run_id: "event-1".into(),
            expected_version: 1,
            changes: vec![change(TicketField::Priority)],
            notifications: vec![TriggerNotification {
                trigger_id: "t1".into(),
                template_id: GROUP.into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let refused = check(&request).unwrap_err();
        assert_eq!(
            violated_fields(&refused),
            ["ticket_after", "steps", "notifications[0].to_addresses"]
        );
    }
}
