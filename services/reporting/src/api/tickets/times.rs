//! `GetTicketTimesReport`: first-reply and resolution times per bucket. In wall-clock time the
//! durations come from the facts' covering indexes; in business hours each measured ticket's
//! span is measured against the calendar here. The statistics are computed here, exact, for
//! both.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use switchboard_platform::{business_hours::Schedule, time::timestamp};
use switchboard_proto::reporting::v1::{
    GetTicketTimesReportResponse, TicketReportRowKey, TicketTimeStatistics, TicketTimesRow,
};
use tonic::Status;

use super::{TicketQuery, shown_value, volume::key};
use crate::{
    api::ReportingApi,
    domain::{
        buckets::span_of,
        tickets::{
            query::{Breakdown, Measure},
            stats::TimeStatistics,
        },
    },
    store::{
        status,
        ticket_facts::{self, TimesQuery},
    },
};

/// The statistics of the three measures, in [`Measure::ALL`]'s order.
pub type Cell = [TimeStatistics; 3];

pub struct TimesReport {
    pub rows: Vec<((NaiveDate, NaiveDate), String, Cell)>,
    pub total: Cell,
    pub data_as_of: Option<DateTime<Utc>>,
}

/// Where a day goes: its bucket's index (a month bucket's SQL key is the first of the month,
/// before a clipped first bucket's start).
fn bucket_index(
    query: &TicketQuery,
    spans: &[(NaiveDate, NaiveDate)],
    day: NaiveDate,
) -> Option<usize> {
    span_of(spans, day.max(query.first))
}

pub async fn compute(
    api: &ReportingApi,
    query: &TicketQuery,
    schedule: Option<&Schedule>,
) -> Result<TimesReport, Status> {
    let spans = query.spans();
    let times = TimesQuery {
        first: query.first,
        last: query.last,
        granularity: query.granularity,
        filter: query.filter.clone(),
        breakdown: query.breakdown,
    };
    let mut cells: BTreeMap<(usize, String), Cell> = BTreeMap::new();
    let mut total = Cell::default();
    match schedule {
        None => {
            let [a, b, c] = Measure::ALL;
            let (a, b, c) = tokio::try_join!(
                ticket_facts::durations(&api.pool, &times, a),
                ticket_facts::durations(&api.pool, &times, b),
                ticket_facts::durations(&api.pool, &times, c),
            )?;
            for (measure, rows) in [a, b, c].into_iter().enumerate() {
                let mut all = Vec::new();
                for row in rows {
                    let Some(index) = bucket_index(query, &spans, row.bucket) else {
                        continue;
                    };
                    let value = shown_value(query.breakdown, &row.value);
                    all.extend_from_slice(&row.seconds);
                    cells.entry((index, value)).or_default()[measure] =
                        TimeStatistics::of(row.seconds);
                }
                total[measure] = TimeStatistics::of(all);
            }
        }
        Some(schedule) => {
            let mut values: BTreeMap<(usize, String), [Vec<f64>; 3]> = BTreeMap::new();
            let mut all: [Vec<f64>; 3] = Default::default();
            for (measure, kind) in Measure::ALL.into_iter().enumerate() {
                for ticket in ticket_facts::measured(&api.pool, &times, kind).await? {
                    let Some(index) = bucket_index(query, &spans, ticket.day) else {
                        continue;
                    };
                    let open = schedule.open_seconds(ticket.create_time, ticket.end_time) as f64;
                    let value = shown_value(query.breakdown, &ticket.value);
                    values.entry((index, value)).or_default()[measure].push(open);
                    all[measure].push(open);
                }
            }
            for (key, measures) in values {
                cells.insert(key, measures.map(TimeStatistics::of));
            }
            total = all.map(TimeStatistics::of);
        }
    }
    if query.breakdown == Breakdown::None {
        for index in 0..spans.len() {
            cells.entry((index, String::new())).or_default();
        }
    }
    let data_as_of = status::get(&api.pool, status::TICKETS)
        .await?
        .and_then(|m| m.newest_event_time);
    Ok(TimesReport {
        rows: cells
            .into_iter()
            .map(|((index, value), cell)| (spans[index], value, cell))
            .collect(),
        total,
        data_as_of,
    })
}

fn duration(seconds: Option<f64>) -> Option<prost_types::Duration> {
    let seconds = seconds?;
    let whole = seconds.floor();
    Some(prost_types::Duration {
        seconds: whole as i64,
        nanos: ((seconds - whole) * 1e9).round().min(999_999_999.0) as i32,
    })
}

fn message(statistics: &TimeStatistics) -> TicketTimeStatistics {
    TicketTimeStatistics {
        count: statistics.count,
        median: duration(statistics.median),
        p90: duration(statistics.p90),
        mean: duration(statistics.mean),
    }
}

fn row(key: TicketReportRowKey, cell: &Cell) -> TicketTimesRow {
    TicketTimesRow {
        key: Some(key),
        first_reply: Some(message(&cell[0])),
        first_resolution: Some(message(&cell[1])),
        final_resolution: Some(message(&cell[2])),
    }
}

pub async fn report(
    api: &ReportingApi,
    query: &TicketQuery,
    business_hours_id: &str,
) -> Result<GetTicketTimesReportResponse, Status> {
    let schedule = api.schedule(business_hours_id).await?;
    let report = compute(api, query, schedule.as_ref()).await?;
    Ok(GetTicketTimesReportResponse {
        rows: report
            .rows
            .iter()
            .map(|(span, value, cell)| row(key(*span, value), cell))
            .collect(),
        total: Some(row(key((query.first, query.last), ""), &report.total)),
        time_zone: api.zone.name().to_owned(),
        data_as_of_time: report.data_as_of.map(timestamp),
        business_hours_id: business_hours_id.to_owned(),
    })
}
