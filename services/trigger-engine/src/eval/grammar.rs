//! Which operators each condition field takes and which value field carries its values, as
//! listed on `ConditionField` (trigger.proto).

use switchboard_proto::trigger::v1::{ConditionField as F, ConditionOperator as O};

const EQUALITY: &[O] = &[O::Is, O::IsNot];
const PRESENCE: &[O] = &[O::Is, O::IsNot, O::IsSet, O::IsNotSet];
const WATCHED: &[O] = &[
    O::Is,
    O::IsNot,
    O::IsSet,
    O::IsNotSet,
    O::Changed,
    O::NotChanged,
    O::ChangedTo,
    O::ChangedFrom,
];
const WORDS: &[O] = &[O::ContainsAny, O::ContainsAll, O::ContainsNone];

/// The operators `field` takes.
pub(super) fn operators(field: F) -> &'static [O] {
    match field {
        F::Unspecified => &[],
        F::UpdateType => &[O::Is],
        F::Channel | F::ExternalChannel | F::RequesterDomain => EQUALITY,
        F::MailAccount | F::RequesterEmail => PRESENCE,
        F::InquiryType | F::ProcessingType | F::Group | F::Assignee => WATCHED,
        F::Subject | F::Body | F::Tags => WORDS,
        F::Priority => &[
            O::Is,
            O::IsNot,
            O::LessThan,
            O::GreaterThan,
            O::Changed,
            O::NotChanged,
            O::ChangedTo,
            O::ChangedFrom,
        ],
        F::Status => &[
            O::Is,
            O::IsNot,
            O::Changed,
            O::NotChanged,
            O::ChangedTo,
            O::ChangedFrom,
        ],
        F::CustomerField => &[
            O::Is,
            O::IsNot,
            O::ContainsAny,
            O::ContainsNone,
            O::IsSet,
            O::IsNotSet,
        ],
        F::BusinessHours => &[O::Within, O::Outside],
    }
}

/// The `Condition` field that carries a condition field's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ValueField {
    Values,
    Channels,
    Statuses,
    Priorities,
    UpdateType,
    /// Business hours: the schedule id is its own field; no values.
    BusinessHoursId,
}

impl ValueField {
    /// The `Condition` field's name, for violation paths.
    pub fn name(self) -> &'static str {
        match self {
            Self::Values => "values",
            Self::Channels => "channels",
            Self::Statuses => "statuses",
            Self::Priorities => "priorities",
            Self::UpdateType => "update_type",
            Self::BusinessHoursId => "business_hours_id",
        }
    }
}

pub(super) fn value_field(field: F) -> ValueField {
    match field {
        F::UpdateType => ValueField::UpdateType,
        F::Channel => ValueField::Channels,
        F::Status => ValueField::Statuses,
        F::Priority => ValueField::Priorities,
        F::BusinessHours => ValueField::BusinessHoursId,
        _ => ValueField::Values,
    }
}

/// How many values an operator takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Arity {
    None,
    AtLeastOne,
    ExactlyOne,
}

pub(super) fn arity(operator: O) -> Arity {
    match operator {
        O::Is
        | O::IsNot
        | O::ChangedTo
        | O::ChangedFrom
        | O::ContainsAny
        | O::ContainsAll
        | O::ContainsNone => Arity::AtLeastOne,
        O::LessThan | O::GreaterThan => Arity::ExactlyOne,
        O::Unspecified
        | O::IsSet
        | O::IsNotSet
        | O::Changed
        | O::NotChanged
        | O::Within
        | O::Outside => Arity::None,
    }
}

/// Whether `values` of `field` are text compared in normalised form (NFKC, lower case) rather
/// than ids compared as they are.
pub(super) fn is_text(field: F) -> bool {
    matches!(
        field,
        F::ExternalChannel
            | F::Subject
            | F::Body
            | F::RequesterEmail
            | F::RequesterDomain
            | F::Tags
            | F::CustomerField
    )
}

/// What a condition field is called in reasons.
pub(super) fn label(field: F) -> &'static str {
    match field {
        F::Unspecified => "the field",
        F::UpdateType => "the update type",
        F::Channel => "the channel",
        F::ExternalChannel => "the external channel",
        F::MailAccount => "the mail account",
        F::InquiryType => "the inquiry type",
        F::ProcessingType => "the processing type",
        F::Subject => "the subject",
        F::Body => "the body",
        F::RequesterEmail => "the requester's e-mail",
        F::RequesterDomain => "the requester's domain",
        F::Priority => "the priority",
        F::Status => "the status",
        F::Group => "the group",
        F::Assignee => "the assignee",
        F::Tags => "the tag list",
        F::CustomerField => "the customer field",
        F::BusinessHours => "the event time",
    }
}
