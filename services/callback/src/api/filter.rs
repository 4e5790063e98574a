//! Reading a `CallbackFilter` (docs/product.md §2.3) into a [`Search`], naming every bad field.

use switchboard_platform::{calendar, error::FieldViolations};
use switchboard_proto::callback::v1::{CallbackFilter, CallbackState, PhoneMatch};
use tonic::Status;
use uuid::Uuid;

use super::{Settings, access::Sight};
use switchboard_platform::phone;

use crate::store::search::Search;

const MAX_ROUTES: usize = 100;

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The search `filter` asks for, as `sight` may see it: an agent's assignee is forced to
/// themselves whatever the filter says.
pub fn search(
    filter: Option<&CallbackFilter>,
    sight: &Sight,
    settings: &Settings,
) -> Result<Search, Status> {
    let default = CallbackFilter::default();
    let filter = filter.unwrap_or(&default);
    let mut violations = FieldViolations::new();
    let first = calendar::read_date(
        filter.start_date.as_ref(),
        "filter.start_date",
        &mut violations,
    );
    let last = calendar::read_date(filter.end_date.as_ref(), "filter.end_date", &mut violations);
    if let (Some(first), Some(last)) = (first, last)
        && last < first
    {
        violations.add("filter.end_date", "must not be before filter.start_date");
    }
    let (from, until) = calendar::local_period(first, last, settings.zone);

    violations.check(
        filter.ivr_route_ids.len() > MAX_ROUTES,
        "filter.ivr_route_ids",
        || format!("at most {MAX_ROUTES} routes"),
    );
    let route_ids: Vec<Uuid> = (filter.ivr_route_ids.iter().enumerate())
        .filter_map(|(i, id)| violations.uuid(format!("filter.ivr_route_ids[{i}]"), id))
        .collect();
    let mut states = Vec::new();
    for (i, state) in filter.states.iter().enumerate() {
        match CallbackState::try_from(*state) {
            Ok(state) if state != CallbackState::Unspecified => states.push(state as i16),
            _ => {
                violations.add(format!("filter.states[{i}]"), "must be a callback state");
            }
        }
    }
    let (mut phone_exact, mut phone_digits) = (None, None);
    if !filter.phone_number.trim().is_empty() {
        match PhoneMatch::try_from(filter.phone_match) {
            Ok(PhoneMatch::Exact) => {
                match phone::normalize(&filter.phone_number, settings.region) {
                    Some(number) => phone_exact = Some(number.e164),
                    None => {
                        violations.add("filter.phone_number", "is not a phone number");
                    }
                }
            }
            Ok(PhoneMatch::Partial | PhoneMatch::Unspecified) => {
                let digits = phone::digits(&filter.phone_number);
                if digits.len() < 3 {
                    violations.add("filter.phone_number", "needs at least 3 digits");
                }
                phone_digits = Some(digits);
            }
            Err(_) => {
                violations.add("filter.phone_match", "must be EXACT or PARTIAL");
            }
        }
    }
    // Group ids by the one UUID rule, as the directory spells them.
    let distributor_group_id = violations
        .optional_uuid("filter.distributor_group_id", &filter.distributor_group_id)
        .map(|id| id.to_string());
    let assignee_group_id = violations
        .optional_uuid("filter.assignee_group_id", &filter.assignee_group_id)
        .map(|id| id.to_string());
    violations.into_result()?;
    let assignee_login = match sight {
        Sight::AssignedTo(login) => Some(login.clone()),
        Sight::Everything => optional(&filter.assignee_agent_login).map(|l| l.to_lowercase()),
    };
    Ok(Search {
        from,
        until,
        route_ids,
        states,
        phone_exact,
        phone_digits,
        distributor_group_id,
        distributor_login: optional(&filter.distributor_agent_login).map(|l| l.to_lowercase()),
        assignee_group_id,
        assignee_login,
    })
}

#[cfg(test)]
mod tests {
    use switchboard_platform::error::violated_fields;
    use switchboard_proto::common::v1::LocalDate;

    use super::*;

    fn settings() -> Settings {
        Settings::new("Asia/Seoul", "KR", 1_000_000).unwrap()
    }

    fn day(year: i32, month: i32, day: i32) -> Option<LocalDate> {
        Some(LocalDate { year, month, day })
    }

    #[test]
    fn bad_fields_are_all_named() {
        let filter = CallbackFilter {
            start_date: day(2025, 2, 30),
            end_date: day(2025, 1, 1),
            ivr_route_ids: vec!["x".into()],
            states: vec![0, 9],
            phone_number: "1-2".into(),
            ..Default::default()
        };
        let status = search(Some(&filter), &Sight::Everything, &settings()).unwrap_err();
        assert_eq!(
            violated_fields(&status),
            [
                "filter.start_date",
                "filter.ivr_route_ids[0]",
                "filter.states[0]",
                "filter.states[1]",
                "filter.phone_number"
            ]
        );
        let backwards = CallbackFilter {
            start_date: day(2025, 2, 1),
            end_date: day(2025, 1, 1),
            ..Default::default()
        };
        let status = search(Some(&backwards), &Sight::Everything, &settings()).unwrap_err();
        assert_eq!(violated_fields(&status), ["filter.end_date"]);
    }

    #[test]
    fn an_agent_sees_only_their_own_whatever_they_ask() {
        let filter = CallbackFilter {
            assignee_agent_login: "lee".into(),
            ..Default::default()
        };
        let search = search(Some(&filter), &Sight::AssignedTo("kim".into()), &settings()).unwrap();
        assert_eq!(search.assignee_login.as_deref(), Some("kim"));
    }

    #[test]
    fn phone_matching() {
        let exact = CallbackFilter {
            phone_number: "010-1234-5678".into(),
            phone_match: PhoneMatch::Exact as i32,
            ..Default::default()
        };
        let found = search(Some(&exact), &Sight::Everything, &settings()).unwrap();
        assert_eq!(found.phone_exact.as_deref(), Some("+821012345678"));
        let partial = CallbackFilter {
            phone_number: "1234-56".into(),
            ..Default::default()
        };
        let found = search(Some(&partial), &Sight::Everything, &settings()).unwrap();
        assert_eq!(found.phone_digits.as_deref(), Some("123456"));
    }
}
