//! A trigger action checked against action.proto and prepared for applying: tags normalised,
//! sorted and deduplicated once here.

use std::collections::BTreeSet;

use switchboard_platform::text::normalise;
use switchboard_proto::{
    ticket::v1::TicketPriority,
    trigger::v1::{
        self as proto, DistributionStrategy, NotificationRecipient, action::Action as Kind,
    },
};

use super::checks::{Checks, specified};

const MAX_TAGS: usize = 20;
const MAX_TAG: usize = 50;
const MAX_ADDRESSES: usize = 10;
const MAX_ADDRESS: usize = 254;

/// A valid action, ready to apply.
#[derive(Clone, Debug)]
pub(super) enum Action {
    AssignGroup {
        group_id: String,
    },
    AssignAgent {
        login: String,
        /// Empty: the ticket's group when the agent is in it, else the agent's only group.
        group_id: String,
    },
    Distribute(Distribute),
    SetPriority(i32),
    SetInquiryType(String),
    SetProcessingType(String),
    AddTags(Vec<String>),
    RemoveTags(Vec<String>),
    Notify {
        template_id: String,
        recipient: Recipient,
    },
}

#[derive(Clone, Debug)]
pub(super) struct Distribute {
    pub group_id: String,
    pub strategy: DistributionStrategy,
    pub only_present_agents: bool,
    /// 0: no bound.
    pub max_open_tickets: i32,
    pub keep_current_assignee: bool,
}

impl Distribute {
    /// Whether picking needs the candidates' open-ticket counts.
    pub(super) fn weighs_load(&self) -> bool {
        self.strategy == DistributionStrategy::LeastLoaded || self.max_open_tickets > 0
    }
}

#[derive(Clone, Debug)]
pub(super) enum Recipient {
    Requester,
    Addresses(Vec<String>),
}

/// Checks `action` (at `path`, such as "trigger.actions[0]"); `None` when anything is wrong.
pub(super) fn compile(
    action: &proto::Action,
    path: &str,
    checks: &mut Checks<'_>,
) -> Option<Action> {
    let problems = checks.count();
    let Some(kind) = &action.action else {
        checks.add(path, "exactly one action must be set");
        return None;
    };
    let compiled = match kind {
        Kind::AssignGroup(assign) => {
            checks.id(&format!("{path}.assign_group.group_id"), &assign.group_id);
            Action::AssignGroup {
                group_id: assign.group_id.clone(),
            }
        }
        Kind::AssignAgent(assign) => {
            checks.id(
                &format!("{path}.assign_agent.agent_login"),
                &assign.agent_login,
            );
            if !assign.group_id.is_empty() {
                checks.id(&format!("{path}.assign_agent.group_id"), &assign.group_id);
            }
            Action::AssignAgent {
                login: assign.agent_login.clone(),
                group_id: assign.group_id.clone(),
            }
        }
        Kind::Distribute(distribute) => Action::Distribute(compile_distribute(
            distribute,
            &format!("{path}.distribute"),
            checks,
        )?),
        Kind::SetPriority(set) => {
            if specified::<TicketPriority>(set.priority).is_none() {
                checks.add(
                    format!("{path}.set_priority.priority"),
                    "must be a known priority, not unspecified",
                );
            }
            Action::SetPriority(set.priority)
        }
        Kind::SetInquiryType(set) => {
            checks.id(
                &format!("{path}.set_inquiry_type.inquiry_type_id"),
                &set.inquiry_type_id,
            );
            Action::SetInquiryType(set.inquiry_type_id.clone())
        }
        Kind::SetProcessingType(set) => {
            checks.id(
                &format!("{path}.set_processing_type.processing_type_id"),
                &set.processing_type_id,
            );
            Action::SetProcessingType(set.processing_type_id.clone())
        }
        Kind::AddTags(add) => {
            Action::AddTags(tags(&add.tags, &format!("{path}.add_tags.tags"), checks))
        }
        Kind::RemoveTags(remove) => Action::RemoveTags(tags(
            &remove.tags,
            &format!("{path}.remove_tags.tags"),
            checks,
        )),
        Kind::SendNotification(send) => {
            compile_notification(send, &format!("{path}.send_notification"), checks)?
        }
    };
    (checks.count() == problems).then_some(compiled)
}

fn compile_distribute(
    distribute: &proto::DistributeAction,
    path: &str,
    checks: &mut Checks<'_>,
) -> Option<Distribute> {
    checks.id(&format!("{path}.group_id"), &distribute.group_id);
    let strategy = specified::<DistributionStrategy>(distribute.strategy);
    if strategy.is_none() {
        checks.add(
            format!("{path}.strategy"),
            "must be a known strategy, not unspecified",
        );
    }
    if distribute.max_open_tickets < 0 {
        checks.add(format!("{path}.max_open_tickets"), "must not be negative");
    }
    Some(Distribute {
        group_id: distribute.group_id.clone(),
        strategy: strategy?,
        only_present_agents: distribute.only_present_agents,
        max_open_tickets: distribute.max_open_tickets.max(0),
        keep_current_assignee: distribute.keep_current_assignee,
    })
}

/// 1 to 20 tags, each normalised to 1 to 50 characters without white space; returned sorted
/// and without duplicates.
fn tags(tags: &[String], path: &str, checks: &mut Checks<'_>) -> Vec<String> {
    checks.entries(path, tags.len(), 1, MAX_TAGS, "tags");
    let mut kept = BTreeSet::new();
    for (i, tag) in tags.iter().enumerate() {
        let tag = normalise(tag);
        let at = format!("{path}[{i}]");
        if !checks.chars(&at, &tag, 1, MAX_TAG) {
            continue;
        }
        if tag.chars().any(char::is_whitespace) {
            checks.add(at, "must not contain white space");
            continue;
        }
        kept.insert(tag);
    }
    kept.into_iter().collect()
}

fn compile_notification(
    send: &proto::SendNotificationAction,
    path: &str,
    checks: &mut Checks<'_>,
) -> Option<Action> {
    checks.id(&format!("{path}.template_id"), &send.template_id);
    let addresses = format!("{path}.email_addresses");
    let recipient = match specified::<NotificationRecipient>(send.recipient) {
        None | Some(NotificationRecipient::Unspecified) => {
            checks.add(
                format!("{path}.recipient"),
                "must be a known recipient, not unspecified",
            );
            return None;
        }
        Some(NotificationRecipient::Requester) => {
            if !send.email_addresses.is_empty() {
                checks.add(
                    addresses,
                    "must be empty for NOTIFICATION_RECIPIENT_REQUESTER",
                );
            }
            Recipient::Requester
        }
        Some(NotificationRecipient::Addresses) => {
            checks.entries(
                &addresses,
                send.email_addresses.len(),
                1,
                MAX_ADDRESSES,
                "addresses",
            );
            for (i, address) in send.email_addresses.iter().enumerate() {
                if !plausible_address(address) {
                    checks.add(
                        format!("{addresses}[{i}]"),
                        "must be an e-mail address (one '@', no white space, at most 254 characters)",
                    );
                }
            }
            Recipient::Addresses(send.email_addresses.clone())
        }
    };
    Some(Action::Notify {
        template_id: send.template_id.clone(),
        recipient,
    })
}

/// One '@' with something on both sides, no white space (so no header injection through CR or
/// LF), at most 254 characters: what can be put in a `To:` header. Delivery tells the rest.
fn plausible_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && address.len() <= MAX_ADDRESS
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
}
