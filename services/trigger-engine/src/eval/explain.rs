//! Why a trigger did not fire, in one human line ("the status is TICKET_STATUS_UNASSIGNED, not
//! one of TICKET_STATUS_SOLVED"). Only computed for triggers that end up not firing.

use std::fmt::Write;

use switchboard_platform::error::quote;
use switchboard_proto::trigger::v1::{ConditionField as F, ConditionOperator as O};

use super::{
    compile::CompiledTrigger,
    condition::Condition,
    fields::{Watched, channel_name, priority_name},
    grammar::label,
    matching::{Failed, in_domain, tag_is},
    state::State,
};

/// How many values or any-conditions a reason lists before "…".
const LISTED: usize = 5;

/// The failed condition's path in the trigger ("all_conditions[1]", "any_conditions") and why.
pub(super) fn explain(
    trigger: &CompiledTrigger,
    failed: Failed,
    state: &State<'_>,
) -> (String, String) {
    match failed {
        Failed::All(i) => (
            format!("all_conditions[{i}]"),
            trigger.all_conditions[i].reason(state),
        ),
        Failed::Any => {
            let mut reason = String::from("none of the any-conditions holds: ");
            let reasons: Vec<String> = trigger
                .any_conditions
                .iter()
                .take(LISTED)
                .map(|c| c.reason(state))
                .collect();
            reason.push_str(&reasons.join("; "));
            if trigger.any_conditions.len() > LISTED {
                reason.push_str("; …");
            }
            ("any_conditions".to_owned(), reason)
        }
    }
}

impl Condition {
    /// Why the condition does not hold (said of a condition that does not).
    fn reason(&self, state: &State<'_>) -> String {
        let ticket = &state.ticket;
        let what = match self.field {
            F::CustomerField => format!("the customer field {}", self.field_key),
            field => label(field).to_owned(),
        };
        match self.field {
            F::Unspecified => "the condition is not known".to_owned(),
            F::UpdateType => format!(
                "the event is {}, not {}",
                state.event.update_type.as_str_name(),
                self.update_type.as_str_name()
            ),
            F::Channel => self.compared_reason(&what, channel_name(ticket.channel)),
            F::ExternalChannel => self.compared_reason(&what, state.external_channel()),
            F::MailAccount => self.compared_reason(&what, &ticket.mail_account_id),
            F::RequesterEmail => self.compared_reason(&what, state.requester_email()),
            F::RequesterDomain => {
                let email = state.requester_email();
                let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
                match self.operator {
                    O::IsNot => {
                        let within = self.values.iter().find(|v| in_domain(domain, v));
                        format!(
                            "{what} is {}, within {}",
                            shown(domain),
                            shown(within.map_or("", String::as_str))
                        )
                    }
                    _ => format!("{what} is {}, not within {}", shown(domain), self.listed()),
                }
            }
            F::Subject => self.worded_reason(&what, |w| state.subject().contains(w)),
            F::Body => self.worded_reason(&what, |w| state.body().contains(w)),
            F::Tags => self.worded_reason(&what, |t| ticket.tags.iter().any(|tag| tag_is(tag, t))),
            F::CustomerField => {
                let value = state.customer_field(&self.field_key).unwrap_or_default();
                match self.operator {
                    O::ContainsAny | O::ContainsNone => {
                        self.worded_reason(&what, |w| value.contains(w))
                    }
                    _ => self.compared_reason(&what, value),
                }
            }
            F::Priority if matches!(self.operator, O::LessThan | O::GreaterThan) => {
                let than = if self.operator == O::LessThan {
                    "lower"
                } else {
                    "higher"
                };
                format!(
                    "{what} is {}, not {than} than {}",
                    shown(priority_name(ticket.priority)),
                    priority_name(self.priority)
                )
            }
            F::InquiryType => self.watched_reason(&what, state, Watched::InquiryType),
            F::ProcessingType => self.watched_reason(&what, state, Watched::ProcessingType),
            F::Priority => self.watched_reason(&what, state, Watched::Priority),
            F::Status => self.watched_reason(&what, state, Watched::Status),
            F::Group => self.watched_reason(&what, state, Watched::Group),
            F::Assignee => self.watched_reason(&what, state, Watched::Assignee),
            F::BusinessHours => match state.within(&self.business_hours_id) {
                None => format!("business hours {} are not known", self.business_hours_id),
                Some(true) => format!(
                    "the event time is within business hours {}",
                    self.business_hours_id
                ),
                Some(false) => format!(
                    "the event time is outside business hours {}",
                    self.business_hours_id
                ),
            },
        }
    }

    fn compared_reason(&self, what: &str, value: &str) -> String {
        match self.operator {
            O::IsNot => format!("{what} is {}, one of the values", shown(value)),
            O::IsSet => format!("{what} is not set"),
            O::IsNotSet => format!("{what} is set ({})", shown(value)),
            _ => format!("{what} is {}, not one of {}", shown(value), self.listed()),
        }
    }

    fn watched_reason(&self, what: &str, state: &State<'_>, field: Watched) -> String {
        let changed = state.changes.changed(field);
        match self.operator {
            O::Changed => format!("{what} was not changed"),
            O::NotChanged => format!("{what} was changed"),
            O::ChangedTo | O::ChangedFrom if !changed => format!("{what} was not changed"),
            O::ChangedTo => format!(
                "{what} was changed to {}, not one of {}",
                shown(state.value(field)),
                self.listed()
            ),
            O::ChangedFrom => format!(
                "{what} was changed from {}, not one of {}",
                shown(state.before(field)),
                self.listed()
            ),
            _ => self.compared_reason(what, state.value(field)),
        }
    }

    fn worded_reason(&self, what: &str, found: impl Fn(&str) -> bool) -> String {
        let (verb, words): (&str, Vec<&str>) = match self.operator {
            O::ContainsAll => (
                "does not contain",
                self.values
                    .iter()
                    .filter(|v| !found(v))
                    .map(String::as_str)
                    .collect(),
            ),
            O::ContainsNone => (
                "contains",
                self.values
                    .iter()
                    .filter(|v| found(v))
                    .map(String::as_str)
                    .collect(),
            ),
            _ => return format!("{what} contains none of {}", self.listed()),
        };
        format!("{what} {verb} {}", list(&words))
    }

    fn listed(&self) -> String {
        list(&self.values.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

/// Values for a reason: enum names as they are, other values quoted (and cut when long).
fn list(values: &[&str]) -> String {
    let mut listed = String::new();
    for (i, value) in values.iter().take(LISTED).enumerate() {
        if i > 0 {
            listed.push_str(", ");
        }
        write_value(&mut listed, value);
    }
    if values.len() > LISTED {
        let _ = write!(listed, " and {} more", values.len() - LISTED);
    }
    listed
}

fn shown(value: &str) -> String {
    if value.is_empty() {
        return "not set".to_owned();
    }
    let mut shown = String::new();
    write_value(&mut shown, value);
    shown
}

fn write_value(out: &mut String, value: &str) {
    let is_enum_name =
        value.starts_with("TICKET_") && value.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
    let _ = if is_enum_name {
        write!(out, "{value}")
    } else {
        write!(out, "{}", quote(value))
    };
}
