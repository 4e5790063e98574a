//! A run as the ticket service applies it.

use switchboard_proto::{
    ticket::v1::{ApplyTriggerRunRequest, Ticket, TriggerNotification, TriggerRunStep},
    trigger::v1::PlannedNotification,
};

use crate::eval::Run;

/// Whether a notification goes to the requester: it names no address or only theirs.
fn to_requester(ticket: &Ticket, planned: &PlannedNotification) -> bool {
    let email = ticket
        .requester
        .as_ref()
        .map(|r| r.email.as_str())
        .unwrap_or_default();
    match planned.to_addresses.as_slice() {
        [] => true,
        [only] => !email.is_empty() && only.eq_ignore_ascii_case(email),
        _ => false,
    }
}

/// The request applying `run`, computed on `ticket`, for the event `event_id`.
pub fn apply_request(event_id: &str, ticket: &Ticket, run: &Run) -> ApplyTriggerRunRequest {
    let mut notifications = Vec::new();
    for fired in &run.fired {
        for planned in &fired.notifications {
            let to_requester = to_requester(ticket, planned);
            notifications.push(TriggerNotification {
                trigger_id: fired.trigger_id.clone(),
                template_id: planned.template_id.clone(),
                to_requester,
                to_addresses: if to_requester {
                    Vec::new()
                } else {
                    planned.to_addresses.clone()
                },
                suppressed: planned.suppressed,
                suppress_reason: planned.suppress_reason.clone(),
            });
        }
    }
    ApplyTriggerRunRequest {
        ticket_id: ticket.id.clone(),
        run_id: event_id.to_owned(),
        expected_version: ticket.version,
        changes: run.changes.clone(),
        ticket_after: (!run.changes.is_empty()).then(|| run.ticket_after.clone()),
        steps: run
            .fired
            .iter()
            .map(|fired| TriggerRunStep {
                trigger_id: fired.trigger_id.clone(),
                trigger_name: fired.trigger_name.clone(),
                changes: fired.changes.clone(),
                warnings: fired.warnings.clone(),
            })
            .collect(),
        notifications,
        pass_limit_reached: run.pass_limit_reached,
        looping_triggers: run.looping.clone(),
    }
}
