//! The ticket reports (ticket_reports.proto): who may ask what, and the request read into a
//! query, every bad field named.

pub mod backlog;
pub mod export;
pub mod times;
pub mod volume;

use chrono::NaiveDate;
use switchboard_platform::{error::FieldViolations, principal::PrincipalExt};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    reporting::v1::{ReportPeriod, TicketReportDimension, TicketReportFilter},
    ticket::v1::TicketChannel,
};
use tonic::Status;

use super::{
    READ_SCOPE,
    processing::{read_granularity, read_period},
};
use crate::domain::{
    buckets::{self, Granularity},
    tickets::query::{Breakdown, TicketFilter},
};

/// The most values one filter field may hold.
const MAX_VALUES: usize = 100;

/// Who is asking: everything, or one agent's own figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    All,
    Agent(String),
}

impl Audience {
    /// Admins and `reporting:read` see everything, agents their own figures; anyone else is
    /// PERMISSION_DENIED.
    pub fn of(principal: &Principal) -> Result<Self, Status> {
        if principal.is_admin() || principal.has_scope(READ_SCOPE) {
            return Ok(Self::All);
        }
        if principal.kind() == PrincipalKind::Agent && !principal.subject.is_empty() {
            return Ok(Self::Agent(principal.subject.to_lowercase()));
        }
        Err(Status::permission_denied(format!(
            "the ticket reports are for admins, agents and the {READ_SCOPE} scope"
        )))
    }
}

/// A validated ticket report request.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketQuery {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub granularity: Granularity,
    pub filter: TicketFilter,
    pub breakdown: Breakdown,
}

impl TicketQuery {
    /// The buckets' first and last days (checked by [`TicketQuery::read`]).
    pub fn spans(&self) -> Vec<(NaiveDate, NaiveDate)> {
        buckets::spans(self.first, self.last, self.granularity).unwrap_or_default()
    }
}

/// The fields every ticket report shares.
pub struct Fields<'a> {
    pub period: Option<&'a ReportPeriod>,
    pub granularity: i32,
    pub filter: Option<&'a TicketReportFilter>,
    pub dimension: i32,
}

/// Reads the shared fields for `audience`; an agent asking for another agent's figures is
/// PERMISSION_DENIED, bad fields are recorded in `violations`. `None` when the period is bad.
pub fn read(
    fields: Fields<'_>,
    audience: &Audience,
    violations: &mut FieldViolations,
) -> Result<Option<TicketQuery>, Status> {
    let (first, last) = read_period(fields.period, violations);
    let granularity = read_granularity(fields.granularity, violations);
    let breakdown = read_dimension(fields.dimension, violations);
    let default = TicketReportFilter::default();
    let mut filter = read_filter(fields.filter.unwrap_or(&default), violations);
    if let Audience::Agent(login) = audience {
        if filter.agent_logins.iter().any(|l| l != login) {
            return Err(Status::permission_denied(
                "an agent sees only their own figures: filter.agent_logins must be empty or \
                 the caller's login",
            ));
        }
        filter.agent_logins = vec![login.clone()];
    }
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(None);
    };
    if let Err(message) = buckets::spans(first, last, granularity) {
        violations.add("period", message);
    }
    Ok(Some(TicketQuery {
        first,
        last,
        granularity,
        filter,
        breakdown,
    }))
}

fn read_dimension(value: i32, violations: &mut FieldViolations) -> Breakdown {
    use TicketReportDimension as D;
    match D::try_from(value) {
        Ok(D::Unspecified) => Breakdown::None,
        Ok(D::Channel) => Breakdown::Channel,
        Ok(D::Group) => Breakdown::Group,
        Ok(D::Agent) => Breakdown::Agent,
        Ok(D::InquiryType) => Breakdown::InquiryType,
        Ok(D::MailAccount) => Breakdown::MailAccount,
        Err(_) => {
            violations.add("dimension", "must be a TicketReportDimension");
            Breakdown::None
        }
    }
}

fn read_filter(filter: &TicketReportFilter, violations: &mut FieldViolations) -> TicketFilter {
    let too_many = |field: &str, len: usize, violations: &mut FieldViolations| {
        if len > MAX_VALUES {
            violations.add(
                format!("filter.{field}"),
                format!("at most {MAX_VALUES} values"),
            );
        }
    };
    too_many("channels", filter.channels.len(), violations);
    let mut channels = Vec::new();
    for (index, value) in filter.channels.iter().enumerate() {
        match TicketChannel::try_from(*value) {
            Ok(TicketChannel::Unspecified) | Err(_) => {
                violations.add(
                    format!("filter.channels[{index}]"),
                    "must be a TicketChannel other than UNSPECIFIED",
                );
            }
            Ok(channel) => channels.push(channel as i16),
        }
    }
    let ids = |field: &str, values: &[String], violations: &mut FieldViolations| {
        too_many(field, values.len(), violations);
        let mut ids: Vec<String> = values
            .iter()
            .enumerate()
            .filter_map(|(index, id)| violations.uuid(format!("filter.{field}[{index}]"), id))
            .map(|id| id.to_string())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let group_ids = ids("group_ids", &filter.group_ids, violations);
    too_many("agent_logins", filter.agent_logins.len(), violations);
    let mut agent_logins = Vec::new();
    for (index, login) in filter.agent_logins.iter().enumerate() {
        let login = login.trim().to_lowercase();
        if login.is_empty() {
            violations.add(format!("filter.agent_logins[{index}]"), "must not be empty");
        } else {
            agent_logins.push(login);
        }
    }
    agent_logins.sort();
    agent_logins.dedup();
    channels.sort_unstable();
    channels.dedup();
    TicketFilter {
        channels,
        group_ids,
        agent_logins,
        inquiry_type_ids: ids("inquiry_type_ids", &filter.inquiry_type_ids, violations),
        mail_account_ids: ids("mail_account_ids", &filter.mail_account_ids, violations),
    }
}

/// The text a breakdown value is shown as: a channel's enum name, other values as stored.
pub fn shown_value(breakdown: Breakdown, value: &str) -> String {
    match breakdown {
        Breakdown::Channel => value
            .parse::<i32>()
            .ok()
            .and_then(|n| TicketChannel::try_from(n).ok())
            .map_or_else(|| value.to_owned(), |c| c.as_str_name().to_owned()),
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use switchboard_platform::error::violated_fields;
    use switchboard_proto::common::v1::LocalDate;

    use super::*;

    fn period() -> ReportPeriod {
        ReportPeriod {
            start_date: Some(LocalDate {
                year: 2025,
                month: 1,
                day: 1,
            }),
            end_date: Some(LocalDate {
                year: 2025,
                month: 1,
                day: 31,
            }),
        }
    }

    fn read_with(
        filter: TicketReportFilter,
        dimension: i32,
        audience: &Audience,
    ) -> Result<TicketQuery, Status> {
        let period = period();
        let mut violations = FieldViolations::new();
        let query = read(
            Fields {
                period: Some(&period),
                granularity: 0,
                filter: Some(&filter),
                dimension,
            },
            audience,
            &mut violations,
        )?;
        violations.into_result()?;
        Ok(query.unwrap())
    }

    #[test]
    fn bad_filter_values_are_named_by_field_and_index() {
        let filter = TicketReportFilter {
            channels: vec![2, 0, 99],
            group_ids: vec!["not-a-uuid".into()],
            agent_logins: vec![" ".into()],
            ..Default::default()
        };
        let error = read_with(filter, 42, &Audience::All).unwrap_err();
        assert_eq!(
            violated_fields(&error),
            [
                "dimension",
                "filter.channels[1]",
                "filter.channels[2]",
                "filter.group_ids[0]",
                "filter.agent_logins[0]",
            ]
        );
        let many = TicketReportFilter {
            mail_account_ids: vec![uuid_text(); 101],
            ..Default::default()
        };
        let error = read_with(many, 0, &Audience::All).unwrap_err();
        assert_eq!(violated_fields(&error), ["filter.mail_account_ids"]);
    }

    fn uuid_text() -> String {
        "0191D3B4-AAAA-7000-8000-00000000000A".into()
    }

    #[test]
    fn an_agent_gets_their_own_figures_and_is_refused_anyone_elses() {
        let kim = Audience::Agent("kim".into());
        let own = read_with(TicketReportFilter::default(), 0, &kim).unwrap();
        assert_eq!(own.filter.agent_logins, ["kim"]);
        let named = TicketReportFilter {
            agent_logins: vec!["KIM".into()],
            ..Default::default()
        };
        assert!(read_with(named, 0, &kim).is_ok());
        let other = TicketReportFilter {
            agent_logins: vec!["kim".into(), "lee".into()],
            ..Default::default()
        };
        let error = read_with(other, 0, &kim).unwrap_err();
        assert_eq!(error.code(), tonic::Code::PermissionDenied);
        // Ids are normalised, so the model's lowercase ids match.
        let groups = TicketReportFilter {
            group_ids: vec![uuid_text()],
            ..Default::default()
        };
        let query = read_with(groups, 2, &Audience::All).unwrap();
        assert_eq!(
            query.filter.group_ids,
            ["0191d3b4-aaaa-7000-8000-00000000000a"]
        );
        assert_eq!(query.breakdown, Breakdown::Group);
    }

    #[test]
    fn only_admins_readers_and_agents_are_let_in() {
        let principal = |kind: PrincipalKind, scopes: &[&str]| Principal {
            subject: "Kim".into(),
            kind: kind as i32,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        assert_eq!(
            Audience::of(&principal(PrincipalKind::Admin, &[])).unwrap(),
            Audience::All
        );
        assert_eq!(
            Audience::of(&principal(PrincipalKind::Agent, &[])).unwrap(),
            Audience::Agent("kim".into())
        );
        assert_eq!(
            Audience::of(&principal(PrincipalKind::Service, &[READ_SCOPE])).unwrap(),
            Audience::All
        );
        assert!(Audience::of(&principal(PrincipalKind::Service, &["tickets:read"])).is_err());
    }
}
