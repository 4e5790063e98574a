//! Whether a condition holds for the ticket as changed so far, and whether a trigger's
//! conditions all do. Allocation-free: values were prepared at compile time and the event's
//! texts are normalised once per evaluation.

use switchboard_proto::trigger::v1::{ConditionField as F, ConditionOperator as O};

use super::{
    compile::CompiledTrigger,
    condition::Condition,
    fields::{Watched, channel_name, priority_name},
    state::State,
};

/// The first condition of a trigger that did not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Failed {
    /// `all_conditions[i]`.
    All(usize),
    /// None of `any_conditions`.
    Any,
}

impl CompiledTrigger {
    /// `Ok` when the trigger fires on `state`.
    pub(super) fn check(&self, state: &State<'_>) -> Result<(), Failed> {
        if let Some(i) = self.all_conditions.iter().position(|c| !c.holds(state)) {
            return Err(Failed::All(i));
        }
        if !self.any_conditions.is_empty() && !self.any_conditions.iter().any(|c| c.holds(state)) {
            return Err(Failed::Any);
        }
        Ok(())
    }
}

impl Condition {
    pub(super) fn holds(&self, state: &State<'_>) -> bool {
        let ticket = &state.ticket;
        match self.field {
            F::Unspecified => false,
            F::UpdateType => self.operator == O::Is && state.event.update_type == self.update_type,
            F::Channel => self.compare(channel_name(ticket.channel)),
            F::ExternalChannel => self.compare(state.external_channel()),
            F::MailAccount => self.compare(&ticket.mail_account_id),
            F::InquiryType => self.watched(state, Watched::InquiryType),
            F::ProcessingType => self.watched(state, Watched::ProcessingType),
            F::Subject => self.words(state.subject()),
            F::Body => self.words(state.body()),
            F::RequesterEmail => self.compare(state.requester_email()),
            F::RequesterDomain => self.domain(state.requester_email()),
            F::Priority => match self.operator {
                O::LessThan => is_priority(ticket.priority) && ticket.priority < self.priority,
                O::GreaterThan => is_priority(ticket.priority) && ticket.priority > self.priority,
                _ => self.watched(state, Watched::Priority),
            },
            F::Status => self.watched(state, Watched::Status),
            F::Group => self.watched(state, Watched::Group),
            F::Assignee => self.watched(state, Watched::Assignee),
            F::Tags => self.tags(&ticket.tags),
            F::CustomerField => {
                let value = state.customer_field(&self.field_key);
                match self.operator {
                    O::ContainsAny | O::ContainsNone => self.words(value.unwrap_or_default()),
                    _ => self.compare(value.unwrap_or_default()),
                }
            }
            F::BusinessHours => match state.within(&self.business_hours_id) {
                None => false,
                Some(within) => within == (self.operator == O::Within),
            },
        }
    }

    /// `IS`, `IS_NOT`, `IS_SET`, `IS_NOT_SET` on a value ("" for unset, which equals none).
    fn compare(&self, value: &str) -> bool {
        match self.operator {
            O::Is => self.has_value(value),
            O::IsNot => !self.has_value(value),
            O::IsSet => !value.is_empty(),
            O::IsNotSet => value.is_empty(),
            _ => false,
        }
    }

    fn has_value(&self, value: &str) -> bool {
        !value.is_empty() && self.values.iter().any(|v| v == value)
    }

    /// A field `CHANGED` operators watch; the others compare its value now.
    fn watched(&self, state: &State<'_>, field: Watched) -> bool {
        let changed = state.changes.changed(field);
        match self.operator {
            O::Changed => changed,
            O::NotChanged => !changed,
            O::ChangedTo => changed && self.has_value(state.value(field)),
            O::ChangedFrom => changed && self.has_value(state.before(field)),
            _ => self.compare(state.value(field)),
        }
    }

    /// Word operators: a value matches as a substring of the normalised text.
    fn words(&self, text: &str) -> bool {
        self.contains(|word| text.contains(word))
    }

    /// Tag operators: whole tags.
    fn tags(&self, tags: &[String]) -> bool {
        self.contains(|wanted| tags.iter().any(|tag| tag_is(tag, wanted)))
    }

    fn contains(&self, found: impl Fn(&str) -> bool) -> bool {
        match self.operator {
            O::ContainsAny => self.values.iter().any(|v| found(v)),
            O::ContainsAll => self.values.iter().all(|v| found(v)),
            O::ContainsNone => !self.values.iter().any(|v| found(v)),
            _ => false,
        }
    }

    /// `IS`/`IS_NOT` on the requester's domain: a value matches the domain and its subdomains.
    fn domain(&self, email: &str) -> bool {
        let domain = email.rsplit_once('@').map_or("", |(_, domain)| domain);
        let matches = !domain.is_empty() && self.values.iter().any(|v| in_domain(domain, v));
        match self.operator {
            O::Is => matches,
            O::IsNot => !matches,
            _ => false,
        }
    }
}

/// "mail.example.com" is in "example.com"; "badexample.com" is not.
pub(super) fn in_domain(domain: &str, wanted: &str) -> bool {
    domain
        .strip_suffix(wanted)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
}

/// Ticket tags are stored lower-cased; only a non-ASCII tag can differ from its normalised form.
pub(super) fn tag_is(tag: &str, normalised: &str) -> bool {
    tag == normalised
        || (!tag.is_ascii() && switchboard_platform::text::normalise(tag) == normalised)
}

fn is_priority(priority: i32) -> bool {
    !priority_name(priority).is_empty()
}
