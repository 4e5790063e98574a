//! `GetTicketBacklogReport`: the open tickets at the end of each bucket, as the running sum of
//! the backlog changes up to its last day, and the open tickets now.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use switchboard_platform::{error::FieldViolations, time::timestamp};
use switchboard_proto::{
    reporting::v1::{GetTicketBacklogReportResponse, TicketBacklogRow, TicketReportRowKey},
    ticket::v1::TicketStatus,
};
use tonic::Status;

use super::{TicketQuery, volume::key};
use crate::{
    api::ReportingApi,
    domain::tickets::query::Breakdown,
    store::{status, ticket_backlog, ticket_facts},
};

/// Open tickets by status: unassigned, in progress, on hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Open(pub [i64; 3]);

impl Open {
    fn add(&mut self, status: i16, count: i64) {
        let index = match status {
            s if s == TicketStatus::Unassigned as i16 => 0,
            s if s == TicketStatus::InProgress as i16 => 1,
            s if s == TicketStatus::OnHold as i16 => 2,
            _ => return,
        };
        self.0[index] += count;
    }

    pub fn total(&self) -> i64 {
        self.0.iter().sum()
    }
}

/// Refuses what a backlog does not keep per past day: filters other than group and agent,
/// breakdowns other than group and agent.
pub fn check(query: &TicketQuery, violations: &mut FieldViolations) {
    let filter = &query.filter;
    for (field, empty) in [
        ("filter.channels", filter.channels.is_empty()),
        (
            "filter.inquiry_type_ids",
            filter.inquiry_type_ids.is_empty(),
        ),
        (
            "filter.mail_account_ids",
            filter.mail_account_ids.is_empty(),
        ),
    ] {
        if !empty {
            violations.add(field, "a backlog is kept per group and agent only");
        }
    }
    if !matches!(
        query.breakdown,
        Breakdown::None | Breakdown::Group | Breakdown::Agent
    ) {
        violations.add(
            "dimension",
            "a backlog is broken down by group or agent only",
        );
    }
}

pub struct BacklogReport {
    pub rows: Vec<((NaiveDate, NaiveDate), String, Open)>,
    pub current: Vec<(String, Open)>,
    pub data_as_of: Option<DateTime<Utc>>,
}

pub async fn compute(api: &ReportingApi, query: &TicketQuery) -> Result<BacklogReport, Status> {
    let changes = ticket_backlog::changes(
        &api.pool,
        query.first,
        query.last,
        &query.filter,
        query.breakdown,
    )
    .await?;
    let mut running: BTreeMap<String, Open> = BTreeMap::new();
    let mut per_day: BTreeMap<NaiveDate, Vec<(i16, String, i64)>> = BTreeMap::new();
    for (day, status, value, delta) in changes {
        match day {
            None => running.entry(value).or_default().add(status, delta),
            Some(day) => per_day.entry(day).or_default().push((status, value, delta)),
        }
    }
    let mut rows = Vec::new();
    for span in query.spans() {
        for (_, changes) in per_day.range(span.0..=span.1) {
            for (status, value, delta) in changes {
                running
                    .entry(value.clone())
                    .or_default()
                    .add(*status, *delta);
            }
        }
        if query.breakdown == Breakdown::None {
            rows.push((
                span,
                String::new(),
                running.values().fold(Open::default(), sum),
            ));
        } else {
            rows.extend(
                running
                    .iter()
                    .filter(|(_, open)| open.total() != 0)
                    .map(|(value, open)| (span, value.clone(), *open)),
            );
        }
    }
    let mut current: BTreeMap<String, Open> = BTreeMap::new();
    for (status, value, count) in
        ticket_facts::open_now(&api.pool, &query.filter, query.breakdown).await?
    {
        current.entry(value).or_default().add(status, count);
    }
    if query.breakdown == Breakdown::None {
        current.entry(String::new()).or_default();
    }
    let data_as_of = status::get(&api.pool, status::TICKETS)
        .await?
        .and_then(|m| m.newest_event_time);
    Ok(BacklogReport {
        rows,
        current: current.into_iter().collect(),
        data_as_of,
    })
}

fn sum(mut total: Open, open: &Open) -> Open {
    for (t, o) in total.0.iter_mut().zip(open.0) {
        *t += o;
    }
    total
}

fn row(key: Option<TicketReportRowKey>, open: Open) -> TicketBacklogRow {
    TicketBacklogRow {
        key,
        unassigned_count: open.0[0],
        in_progress_count: open.0[1],
        on_hold_count: open.0[2],
        open_count: open.total(),
    }
}

pub async fn report(
    api: &ReportingApi,
    query: &TicketQuery,
) -> Result<GetTicketBacklogReportResponse, Status> {
    let report = compute(api, query).await?;
    Ok(GetTicketBacklogReportResponse {
        rows: report
            .rows
            .iter()
            .map(|(span, value, open)| row(Some(key(*span, value)), *open))
            .collect(),
        current: report
            .current
            .iter()
            .map(|(value, open)| {
                let key = TicketReportRowKey {
                    value: value.clone(),
                    ..Default::default()
                };
                row(Some(key), *open)
            })
            .collect(),
        time_zone: api.zone.name().to_owned(),
        data_as_of_time: report.data_as_of.map(timestamp),
    })
}
