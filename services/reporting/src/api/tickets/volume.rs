//! `GetTicketVolumeReport`: per-day counts read from the pre-aggregated model and poured into
//! the period's buckets.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use switchboard_platform::{calendar::api_date, time::timestamp};
use switchboard_proto::reporting::v1::{
    GetTicketVolumeReportResponse, TicketReportRowKey, TicketVolumeRow,
};
use tonic::Status;

use super::{TicketQuery, shown_value};
use crate::{
    api::ReportingApi,
    domain::{
        buckets::span_of,
        tickets::{fact::VolumeCounts, query::Breakdown},
    },
    store::{status, ticket_volume},
};

/// The report's rows: each bucket's span, breakdown value and counts.
pub struct VolumeReport {
    pub rows: Vec<((NaiveDate, NaiveDate), String, VolumeCounts)>,
    pub total: VolumeCounts,
    pub data_as_of: Option<DateTime<Utc>>,
}

pub async fn compute(api: &ReportingApi, query: &TicketQuery) -> Result<VolumeReport, Status> {
    let spans = query.spans();
    let days = ticket_volume::per_day(
        &api.pool,
        query.first,
        query.last,
        &query.filter,
        query.breakdown,
    )
    .await?;
    let mut cells: BTreeMap<(usize, String), VolumeCounts> = BTreeMap::new();
    if query.breakdown == Breakdown::None {
        for index in 0..spans.len() {
            cells.insert((index, String::new()), VolumeCounts::default());
        }
    }
    let mut total = VolumeCounts::default();
    for (day, value, counts) in days {
        if let Some(index) = span_of(&spans, day) {
            let value = shown_value(query.breakdown, &value);
            cells.entry((index, value)).or_default().add(counts, 1);
            total.add(counts, 1);
        }
    }
    let data_as_of = status::get(&api.pool, status::TICKETS)
        .await?
        .and_then(|m| m.newest_event_time);
    Ok(VolumeReport {
        rows: cells
            .into_iter()
            .filter(|(_, c)| query.breakdown == Breakdown::None || !c.is_zero())
            .map(|((index, value), counts)| (spans[index], value, counts))
            .collect(),
        total,
        data_as_of,
    })
}

/// A row's key.
pub fn key((first, last): (NaiveDate, NaiveDate), value: &str) -> TicketReportRowKey {
    TicketReportRowKey {
        start_date: Some(api_date(first)),
        end_date: Some(api_date(last)),
        value: value.to_owned(),
    }
}

fn row(key: TicketReportRowKey, counts: VolumeCounts) -> TicketVolumeRow {
    TicketVolumeRow {
        key: Some(key),
        created_count: counts.created,
        solved_count: counts.solved,
        closed_count: counts.closed,
    }
}

pub async fn report(
    api: &ReportingApi,
    query: &TicketQuery,
) -> Result<GetTicketVolumeReportResponse, Status> {
    let report = compute(api, query).await?;
    Ok(GetTicketVolumeReportResponse {
        rows: report
            .rows
            .iter()
            .map(|(span, value, counts)| row(key(*span, value), *counts))
            .collect(),
        total: Some(row(key((query.first, query.last), ""), report.total)),
        time_zone: api.zone.name().to_owned(),
        data_as_of_time: report.data_as_of.map(timestamp),
    })
}
