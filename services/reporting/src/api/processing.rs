//! `GetCallbackProcessingStatus` (콜백 처리현황, docs/product.md §2.6): the request read into a query, the
//! per-day counts read from the pre-aggregated model and poured into every bucket of the
//! period.

use chrono::NaiveDate;
use switchboard_platform::{
    calendar::{api_date, read_date},
    error::{Error, FieldViolations},
    time::timestamp,
};
use switchboard_proto::reporting::v1::{
    AssigneeFilter, CallbackProcessingBucket, GetCallbackProcessingStatusRequest,
    GetCallbackProcessingStatusResponse, ReportGranularity, ReportPeriod, assignee_filter,
};
use tonic::Status;

use super::ReportingApi;
use crate::{
    domain::{
        buckets::{self, Bucket, Granularity},
        fact::Dimension,
    },
    store::{counts, status},
};

/// The most IVR routes one report may name.
const MAX_ROUTES: usize = 100;

/// A validated processing-status request.
#[derive(Debug, Clone)]
pub struct StatusQuery {
    pub days: counts::DayQuery,
    pub granularity: Granularity,
}

impl StatusQuery {
    /// Reads the request (the export's fields arrive the same way), naming every bad field.
    pub fn read(request: &GetCallbackProcessingStatusRequest) -> Result<Self, Status> {
        let ivr_route_ids = &request.ivr_route_ids;
        let mut violations = FieldViolations::new();
        let (first, last) = read_period(request.period.as_ref(), &mut violations);
        let granularity = read_granularity(request.granularity, &mut violations);
        if ivr_route_ids.len() > MAX_ROUTES {
            violations.add("ivr_route_ids", format!("at most {MAX_ROUTES} routes"));
        }
        let mut routes = Vec::with_capacity(ivr_route_ids.len());
        for (index, id) in ivr_route_ids.iter().enumerate() {
            routes.extend(violations.uuid(format!("ivr_route_ids[{index}]"), id));
        }
        routes.sort_unstable();
        routes.dedup();
        let (dimension, key) = read_assignee(request.assignee.as_ref(), &mut violations);
        let (Some(first), Some(last)) = (first, last) else {
            return Err(violations.into_status());
        };
        if let Err(message) = buckets::plan(first, last, granularity) {
            violations.add("period", message);
        }
        violations.into_result()?;
        Ok(Self {
            days: counts::DayQuery {
                first,
                last,
                ivr_route_ids: routes,
                dimension,
                assignee: key,
            },
            granularity,
        })
    }

    /// The empty buckets of the period (checked by [`StatusQuery::read`]).
    pub fn plan(&self) -> Vec<Bucket> {
        buckets::plan(self.days.first, self.days.last, self.granularity).unwrap_or_default()
    }
}

/// The granularity field; an unknown value is recorded as a violation of `granularity`.
pub fn read_granularity(value: i32, violations: &mut FieldViolations) -> Granularity {
    match ReportGranularity::try_from(value) {
        Ok(ReportGranularity::Unspecified | ReportGranularity::Day) => Granularity::Day,
        Ok(ReportGranularity::Month) => Granularity::Month,
        Err(_) => {
            violations.add("granularity", "must be DAY or MONTH");
            Granularity::Day
        }
    }
}

/// The period's first and last days, each bad field recorded.
pub fn read_period(
    period: Option<&ReportPeriod>,
    violations: &mut FieldViolations,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let Some(period) = period else {
        violations.add("period", "is required");
        return (None, None);
    };
    if period.start_date.is_none() {
        violations.add("period.start_date", "is required");
    }
    if period.end_date.is_none() {
        violations.add("period.end_date", "is required");
    }
    let first = read_date(period.start_date.as_ref(), "period.start_date", violations);
    let last = read_date(period.end_date.as_ref(), "period.end_date", violations);
    if let (Some(first), Some(last)) = (first, last)
        && last < first
    {
        violations.add("period.end_date", "must not be before period.start_date");
        return (None, None);
    }
    (first, last)
}

fn read_assignee(
    assignee: Option<&AssigneeFilter>,
    violations: &mut FieldViolations,
) -> (Dimension, String) {
    match assignee.and_then(|a| a.assignee.as_ref()) {
        None => (Dimension::All, String::new()),
        Some(assignee_filter::Assignee::AgentLogin(login)) => {
            let login = login.trim().to_lowercase();
            if login.is_empty() {
                violations.add("assignee.agent_login", "must not be empty");
            }
            (Dimension::Agent, login)
        }
        Some(assignee_filter::Assignee::GroupId(group)) => {
            // The one UUID rule, as the directory spells group ids.
            let group = violations
                .uuid("assignee.group_id", group)
                .map(|id| id.to_string())
                .unwrap_or_default();
            (Dimension::Group, group)
        }
    }
}

/// The filled buckets and the total row.
pub struct Report {
    pub buckets: Vec<Bucket>,
    pub total: Bucket,
    pub data_as_of: Option<chrono::DateTime<chrono::Utc>>,
}

/// Reads the report from the model.
pub async fn compute(api: &ReportingApi, query: &StatusQuery) -> Result<Report, Status> {
    let mut buckets = query.plan();
    let days = counts::per_day(&api.pool, &query.days).await?;
    buckets::fill(&mut buckets, days);
    let total = buckets::total(query.days.first, query.days.last, &buckets);
    let model = status::get(&api.pool, status::CALLBACKS)
        .await?
        .ok_or_else(|| Error::internal("the callbacks model is not registered"))?;
    Ok(Report {
        buckets,
        total,
        data_as_of: model.newest_event_time,
    })
}

fn bucket_message(bucket: &Bucket) -> CallbackProcessingBucket {
    CallbackProcessingBucket {
        start_date: Some(api_date(bucket.first)),
        end_date: Some(api_date(bucket.last)),
        assigned_count: bucket.assigned(),
        completed_count: bucket.counts.completed,
        unprocessed_count: bucket.counts.unprocessed,
        processing_rate: bucket.rate(),
    }
}

pub async fn report(
    api: &ReportingApi,
    query: &StatusQuery,
) -> Result<GetCallbackProcessingStatusResponse, Status> {
    let report = compute(api, query).await?;
    Ok(GetCallbackProcessingStatusResponse {
        buckets: report.buckets.iter().map(bucket_message).collect(),
        total: Some(bucket_message(&report.total)),
        time_zone: api.zone.name().to_owned(),
        data_as_of_time: report.data_as_of.map(timestamp),
    })
}

#[cfg(test)]
mod tests {
    use switchboard_platform::error::violated_fields;
    use switchboard_proto::common::v1::LocalDate;

    use super::*;

    fn date(year: i32, month: i32, day: i32) -> Option<LocalDate> {
        Some(LocalDate { year, month, day })
    }

    fn period(start: Option<LocalDate>, end: Option<LocalDate>) -> ReportPeriod {
        ReportPeriod {
            start_date: start,
            end_date: end,
        }
    }

    fn fields(result: Result<StatusQuery, Status>) -> Vec<String> {
        violated_fields(&result.unwrap_err())
    }

    /// The query of a request with these fields.
    fn read(
        period: Option<&ReportPeriod>,
        granularity: i32,
        ivr_route_ids: &[String],
        assignee: Option<&AssigneeFilter>,
    ) -> Result<StatusQuery, Status> {
        StatusQuery::read(&GetCallbackProcessingStatusRequest {
            period: period.cloned(),
            granularity,
            ivr_route_ids: ivr_route_ids.to_vec(),
            assignee: assignee.cloned(),
        })
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(fields(read(None, 0, &[], None)), ["period"]);
        let reversed = period(date(2025, 2, 1), date(2025, 1, 31));
        assert_eq!(
            fields(read(Some(&reversed), 0, &[], None)),
            ["period.end_date"]
        );
        let half = period(date(2025, 2, 30), None);
        assert_eq!(
            fields(read(Some(&half), 7, &["x".into()], None)),
            [
                "period.end_date",
                "period.start_date",
                "granularity",
                "ivr_route_ids[0]"
            ]
        );
        let good = period(date(2025, 1, 1), date(2025, 1, 31));
        let empty_agent = AssigneeFilter {
            assignee: Some(assignee_filter::Assignee::AgentLogin(" ".into())),
        };
        assert_eq!(
            fields(read(Some(&good), 0, &[], Some(&empty_agent))),
            ["assignee.agent_login"]
        );
        let long = period(date(2020, 1, 1), date(2025, 1, 1));
        assert_eq!(fields(read(Some(&long), 1, &[], None)), ["period"]);
        let query = read(Some(&long), 2, &[], None).unwrap();
        assert_eq!(query.plan().len(), 61);
    }

    #[test]
    fn logins_are_lowercased_and_routes_deduplicated() {
        let good = period(date(2025, 1, 1), date(2025, 1, 1));
        let kim = AssigneeFilter {
            assignee: Some(assignee_filter::Assignee::AgentLogin("Kim".into())),
        };
        let id = "0191d3b4-1111-7000-8000-000000000001".to_owned();
        let query = read(Some(&good), 0, &[id.clone(), id], Some(&kim)).unwrap();
        assert_eq!(query.days.assignee, "kim");
        assert_eq!(query.days.dimension, Dimension::Agent);
        assert_eq!(query.days.ivr_route_ids.len(), 1);
    }
}
