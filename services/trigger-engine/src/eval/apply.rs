//! Applying one action to the ticket as changed so far (action.proto). What an action changed
//! is told afterwards by comparing the ticket before and after the trigger's actions.

use switchboard_proto::{ticket::v1::Ticket, trigger::v1::PlannedNotification};

use super::{
    action::{Action, Recipient},
    assign,
    matching::tag_is,
    state::State,
};

/// What a trigger's actions produced besides ticket changes.
#[derive(Default)]
pub(super) struct Outcome {
    pub notifications: Vec<PlannedNotification>,
    pub warnings: Vec<String>,
}

pub(super) fn apply(action: &Action, state: &mut State<'_>, outcome: &mut Outcome) {
    let warnings = &mut outcome.warnings;
    match action {
        Action::AssignGroup { group_id } => assign::assign_group(state, group_id, warnings),
        Action::AssignAgent { login, group_id } => {
            assign::assign_agent(state, login, group_id, warnings);
        }
        Action::Distribute(distribute) => assign::distribute(state, distribute, warnings),
        Action::SetPriority(priority) => state.ticket.priority = *priority,
        Action::SetInquiryType(id) => set(&mut state.ticket.inquiry_type_id, id),
        Action::SetProcessingType(id) => set(&mut state.ticket.processing_type_id, id),
        Action::AddTags(tags) => add_tags(&mut state.ticket, tags),
        Action::RemoveTags(tags) => {
            (state.ticket.tags).retain(|tag| !tags.iter().any(|t| tag_is(tag, t)));
        }
        Action::Notify {
            template_id,
            recipient,
        } => {
            let notification = notify(template_id, recipient, &state.ticket, state.event.automated);
            outcome.notifications.push(notification);
        }
    }
}

fn set(field: &mut String, value: &str) {
    if field != value {
        value.clone_into(field);
    }
}

/// Adds the tags the ticket does not have; the ticket's tags stay sorted, each once.
fn add_tags(ticket: &mut Ticket, tags: &[String]) {
    let missing: Vec<&String> = tags
        .iter()
        .filter(|t| !ticket.tags.iter().any(|tag| tag_is(tag, t)))
        .collect();
    if missing.is_empty() {
        return;
    }
    ticket.tags.extend(missing.into_iter().cloned());
    ticket.tags.sort_unstable();
    ticket.tags.dedup();
}

/// The notification to the requester or to fixed addresses. Never sent in answer to automated
/// mail; to the requester, only by e-mail or through the external channel.
fn notify(
    template_id: &str,
    recipient: &Recipient,
    ticket: &Ticket,
    automated: bool,
) -> PlannedNotification {
    let to_addresses = match recipient {
        Recipient::Addresses(addresses) => addresses.clone(),
        Recipient::Requester => ticket
            .requester
            .as_ref()
            .map(|r| r.email.trim())
            .filter(|email| !email.is_empty())
            .map(|email| vec![email.to_owned()])
            .unwrap_or_default(),
    };
    let suppress_reason = if automated {
        "AUTOMATED_MESSAGE"
    } else if matches!(recipient, Recipient::Requester)
        && to_addresses.is_empty()
        && ticket.external_channel.is_empty()
    {
        "NO_ADDRESS"
    } else {
        ""
    };
    PlannedNotification {
        template_id: template_id.to_owned(),
        to_addresses,
        suppressed: !suppress_reason.is_empty(),
        suppress_reason: suppress_reason.to_owned(),
    }
}
