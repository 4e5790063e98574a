//! A trigger condition checked against the grammar of trigger.proto and prepared for
//! evaluation: text values normalised once here, enum values turned into the names the ticket's
//! fields and change records are compared by.

use switchboard_platform::text::normalise;
use switchboard_proto::{
    ticket::v1::{TicketChannel, TicketPriority, TicketStatus},
    trigger::v1::{self as proto, ConditionField, ConditionOperator, UpdateType},
};

use super::{
    checks::{Checks, specified},
    fields::{channel_name, priority_name, status_name},
    grammar::{self, Arity, ValueField},
};

const MAX_VALUES: usize = 100;
const MAX_VALUE: usize = 200;
const MAX_FIELD_KEY: usize = 100;

/// A valid condition, ready to evaluate.
#[derive(Clone, Debug)]
pub(super) struct Condition {
    pub field: ConditionField,
    pub operator: ConditionOperator,
    /// The values compared with: text trimmed and normalised, ids as given, channels, statuses
    /// and priorities as their full names.
    pub values: Vec<String>,
    /// For `LESS_THAN` and `GREATER_THAN`: the priority compared with.
    pub priority: i32,
    /// For `UPDATE_TYPE`.
    pub update_type: UpdateType,
    /// For `CUSTOMER_FIELD`.
    pub field_key: String,
    /// For `BUSINESS_HOURS`: the schedule id in canonical form.
    pub business_hours_id: String,
}

/// Checks `condition` (at `path`, such as "trigger.all_conditions[2]"); `None` when anything is
/// wrong, each problem recorded in `checks`.
pub(super) fn compile(
    condition: &proto::Condition,
    path: &str,
    checks: &mut Checks<'_>,
) -> Option<Condition> {
    let problems = checks.count();
    let field = specified::<ConditionField>(condition.field);
    if field.is_none() {
        checks.add(format!("{path}.field"), "must be a known condition field");
    }
    let operator = specified::<ConditionOperator>(condition.operator);
    if operator.is_none() {
        checks.add(
            format!("{path}.operator"),
            "must be a known condition operator",
        );
    }
    let field = field?;
    let uses = grammar::value_field(field);
    check_unused(condition, field, uses, path, checks);
    if let Some(operator) = operator {
        if grammar::operators(field).contains(&operator) {
            check_arity(condition, operator, uses, path, checks);
        } else {
            let valid: Vec<&str> = grammar::operators(field)
                .iter()
                .map(|o| o.as_str_name())
                .collect();
            checks.add(
                format!("{path}.operator"),
                format!(
                    "{} does not apply to {}; use one of {}",
                    operator.as_str_name(),
                    field.as_str_name(),
                    valid.join(", ")
                ),
            );
        }
    }
    let business_hours_id = check_entries(condition, field, uses, path, checks);
    if checks.count() > problems {
        return None;
    }
    Some(Condition {
        field,
        operator: operator?,
        values: prepared_values(condition, field, uses),
        priority: condition.priorities.first().copied().unwrap_or_default(),
        update_type: specified(condition.update_type).unwrap_or(UpdateType::Unspecified),
        field_key: condition.field_key.clone(),
        business_hours_id: business_hours_id.unwrap_or_default(),
    })
}

/// Value fields the condition's field does not use must be empty.
fn check_unused(
    condition: &proto::Condition,
    field: ConditionField,
    uses: ValueField,
    path: &str,
    checks: &mut Checks<'_>,
) {
    let given = [
        (ValueField::Values, !condition.values.is_empty()),
        (ValueField::Channels, !condition.channels.is_empty()),
        (ValueField::Statuses, !condition.statuses.is_empty()),
        (ValueField::Priorities, !condition.priorities.is_empty()),
        (ValueField::UpdateType, condition.update_type != 0),
        (
            ValueField::BusinessHoursId,
            !condition.business_hours_id.is_empty(),
        ),
    ];
    for (value_field, non_empty) in given {
        if non_empty && value_field != uses {
            checks.add(
                format!("{path}.{}", value_field.name()),
                format!("must be empty for {}", field.as_str_name()),
            );
        }
    }
    if !condition.field_key.is_empty() && field != ConditionField::CustomerField {
        checks.add(
            format!("{path}.field_key"),
            format!("must be empty for {}", field.as_str_name()),
        );
    }
}

/// The value field the condition uses holds as many values as its operator takes.
fn check_arity(
    condition: &proto::Condition,
    operator: ConditionOperator,
    uses: ValueField,
    path: &str,
    checks: &mut Checks<'_>,
) {
    let count = match uses {
        ValueField::Values => condition.values.len(),
        ValueField::Channels => condition.channels.len(),
        ValueField::Statuses => condition.statuses.len(),
        ValueField::Priorities => condition.priorities.len(),
        // Checked with the entries: one required value of their own.
        ValueField::UpdateType | ValueField::BusinessHoursId => return,
    };
    let field = format!("{path}.{}", uses.name());
    let name = operator.as_str_name();
    match grammar::arity(operator) {
        Arity::None if count > 0 => checks.add(field, format!("must be empty for {name}")),
        Arity::AtLeastOne if count == 0 => {
            checks.add(field, format!("must hold at least one value for {name}"));
        }
        Arity::ExactlyOne if count != 1 => {
            checks.add(field, format!("must hold exactly one value for {name}"));
        }
        _ => {}
    }
}

/// Each value of the used value field is well formed; returns the schedule id in canonical
/// form for business hours.
fn check_entries(
    condition: &proto::Condition,
    field: ConditionField,
    uses: ValueField,
    path: &str,
    checks: &mut Checks<'_>,
) -> Option<String> {
    match uses {
        ValueField::Values => {
            let at = format!("{path}.values");
            checks.entries(&at, condition.values.len(), 0, MAX_VALUES, "values");
            for (i, value) in condition.values.iter().enumerate() {
                let at = format!("{at}[{i}]");
                if checks.chars(&at, value, 1, MAX_VALUE)
                    && grammar::is_text(field)
                    && value.trim().is_empty()
                {
                    checks.add(at, "must not be blank");
                }
            }
        }
        ValueField::Channels => {
            known_enums::<TicketChannel>(&condition.channels, &format!("{path}.channels"), checks)
        }
        ValueField::Statuses => {
            known_enums::<TicketStatus>(&condition.statuses, &format!("{path}.statuses"), checks)
        }
        ValueField::Priorities => known_enums::<TicketPriority>(
            &condition.priorities,
            &format!("{path}.priorities"),
            checks,
        ),
        ValueField::UpdateType => {
            if specified::<UpdateType>(condition.update_type).is_none() {
                checks.add(
                    format!("{path}.update_type"),
                    "must be UPDATE_TYPE_CREATED or UPDATE_TYPE_UPDATED",
                );
            }
        }
        ValueField::BusinessHoursId => {
            return checks.uuid(
                &format!("{path}.business_hours_id"),
                &condition.business_hours_id,
            );
        }
    }
    if field == ConditionField::CustomerField {
        checks.chars(
            &format!("{path}.field_key"),
            &condition.field_key,
            1,
            MAX_FIELD_KEY,
        );
    }
    None
}

fn known_enums<E: TryFrom<i32>>(values: &[i32], path: &str, checks: &mut Checks<'_>) {
    for (i, value) in values.iter().enumerate() {
        if specified::<E>(*value).is_none() {
            checks.add(
                format!("{path}[{i}]"),
                "must be a known value, not unspecified",
            );
        }
    }
}

fn prepared_values(
    condition: &proto::Condition,
    field: ConditionField,
    uses: ValueField,
) -> Vec<String> {
    let names = |values: &[i32], name: fn(i32) -> &'static str| {
        values.iter().map(|v| name(*v).to_owned()).collect()
    };
    match uses {
        ValueField::Values if field == ConditionField::RequesterDomain => condition
            .values
            .iter()
            .map(|v| normalise(v.trim().trim_start_matches('@')))
            .collect(),
        ValueField::Values if grammar::is_text(field) => condition
            .values
            .iter()
            .map(|v| normalise(v.trim()))
            .collect(),
        ValueField::Values => condition.values.clone(),
        ValueField::Channels => names(&condition.channels, channel_name),
        ValueField::Statuses => names(&condition.statuses, status_name),
        ValueField::Priorities => names(&condition.priorities, priority_name),
        ValueField::UpdateType | ValueField::BusinessHoursId => Vec::new(),
    }
}
