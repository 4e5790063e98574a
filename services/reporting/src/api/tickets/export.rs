//! `ExportTicketReport`: one of the ticket reports as an `.xlsx` workbook — the filters, the
//! rows and the total, Korean headers, dates in the center's zone, times as h:mm:ss — sent in
//! chunks.

use chrono_tz::Tz;
use switchboard_platform::{business_hours::Schedule, calendar::local_text, error::Error};
use switchboard_proto::reporting::v1::ExportTicketReportResponse;
use switchboard_xlsx::{Cell, SheetWriter};
use tonic::Status;

use super::{TicketQuery, backlog, times, volume};
use crate::{
    api::{
        ReportingApi,
        export::{chunks, span_label},
    },
    domain::{
        buckets::Granularity,
        tickets::{query::Breakdown, stats::TimeStatistics},
    },
};

/// Which report to export, with what it needs besides the query.
pub enum Exported {
    Volume,
    Backlog,
    Times(Option<Box<Schedule>>),
}

pub type TicketExportStream = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<ExportTicketReportResponse, Status>> + Send>,
>;

pub async fn start(
    api: &ReportingApi,
    query: TicketQuery,
    exported: Exported,
) -> Result<TicketExportStream, Status> {
    let (name, workbook) = match &exported {
        Exported::Volume => {
            let report = volume::compute(api, &query).await?;
            ("ticket-volume", write_volume(&query, &report, api.zone))
        }
        Exported::Backlog => {
            let report = backlog::compute(api, &query).await?;
            ("ticket-backlog", write_backlog(&query, &report, api.zone))
        }
        Exported::Times(schedule) => {
            let report = times::compute(api, &query, schedule.as_deref()).await?;
            let in_hours = schedule.is_some();
            (
                "ticket-times",
                write_times(&query, &report, in_hours, api.zone),
            )
        }
    };
    let workbook = workbook.map_err(Error::internal)?;
    let file_name = format!(
        "{name}-{}-{}.xlsx",
        query.first.format("%Y%m%d"),
        query.last.format("%Y%m%d"),
    );
    let messages = chunks(workbook, file_name, |file_name, content_type, data| {
        ExportTicketReportResponse {
            file_name,
            content_type,
            data,
        }
    });
    Ok(Box::pin(tokio_stream::iter(messages)))
}

fn list(values: &[String]) -> String {
    if values.is_empty() {
        "전체".to_owned()
    } else {
        values.join(", ")
    }
}

fn breakdown_label(breakdown: Breakdown) -> Option<&'static str> {
    match breakdown {
        Breakdown::None => None,
        Breakdown::Channel => Some("채널"),
        Breakdown::Group => Some("그룹"),
        Breakdown::Agent => Some("상담원"),
        Breakdown::InquiryType => Some("문의유형"),
        Breakdown::MailAccount => Some("수신 계정"),
    }
}

/// The title and the filter rows, a blank row, then the header (bold).
fn start_sheet(
    title: &str,
    query: &TicketQuery,
    data_as_of: Option<chrono::DateTime<chrono::Utc>>,
    zone: Tz,
    extra: &[(&str, String)],
    header: &[&str],
) -> std::io::Result<SheetWriter<Vec<u8>>> {
    let filter = &query.filter;
    let channels: Vec<String> = filter
        .channels
        .iter()
        .map(|c| super::shown_value(Breakdown::Channel, &c.to_string()))
        .collect();
    let unit = match query.granularity {
        Granularity::Day => "일",
        Granularity::Month => "월",
    };
    let as_of = data_as_of
        .map(|t| local_text(t, zone))
        .unwrap_or_else(|| "-".into());
    let mut rows: Vec<(&str, String)> = vec![
        ("조회 기간", format!("{} ~ {}", query.first, query.last)),
        ("단위", unit.to_owned()),
        ("채널", list(&channels)),
        ("그룹", list(&filter.group_ids)),
        ("상담원", list(&filter.agent_logins)),
        ("문의유형", list(&filter.inquiry_type_ids)),
        ("수신 계정", list(&filter.mail_account_ids)),
        (
            "분류 기준",
            breakdown_label(query.breakdown)
                .unwrap_or("없음")
                .to_owned(),
        ),
    ];
    rows.extend(extra.iter().cloned());
    rows.push(("시간대", zone.name().to_owned()));
    rows.push(("데이터 기준 시각", as_of));
    let mut sheet = SheetWriter::start(Vec::new(), title, 0)?;
    sheet.bold_row(&[Cell::Text(title)])?;
    for (name, value) in &rows {
        sheet.row(&[Cell::Text(name), Cell::Text(value)])?;
    }
    sheet.row(&[])?;
    let mut columns = vec!["기간"];
    columns.extend(breakdown_label(query.breakdown));
    columns.extend_from_slice(header);
    let cells: Vec<_> = columns.iter().map(|h| Cell::Text(h)).collect();
    sheet.bold_row(&cells)?;
    Ok(sheet)
}

/// The leading cells of a row: its bucket's label and, with a breakdown, its value.
fn lead<'a>(query: &TicketQuery, label: &'a str, value: &'a str) -> Vec<Cell<'a>> {
    let mut cells = vec![Cell::Text(label)];
    if query.breakdown != Breakdown::None {
        cells.push(Cell::Text(value));
    }
    cells
}

fn write_volume(
    query: &TicketQuery,
    report: &volume::VolumeReport,
    zone: Tz,
) -> std::io::Result<Vec<u8>> {
    let mut sheet = start_sheet(
        "티켓 접수 현황",
        query,
        report.data_as_of,
        zone,
        &[],
        &["접수", "해결", "완료"],
    )?;
    for ((first, last), value, counts) in &report.rows {
        let label = span_label(*first, *last, query.granularity);
        let mut cells = lead(query, &label, value);
        cells.extend([
            Cell::Number(counts.created),
            Cell::Number(counts.solved),
            Cell::Number(counts.closed),
        ]);
        sheet.row(&cells)?;
    }
    let mut total = lead(query, "합계", "");
    total.extend([
        Cell::Number(report.total.created),
        Cell::Number(report.total.solved),
        Cell::Number(report.total.closed),
    ]);
    sheet.bold_row(&total)?;
    sheet.finish()
}

fn open_cells(open: &backlog::Open) -> [Cell<'static>; 4] {
    [
        Cell::Number(open.0[0]),
        Cell::Number(open.0[1]),
        Cell::Number(open.0[2]),
        Cell::Number(open.total()),
    ]
}

fn write_backlog(
    query: &TicketQuery,
    report: &backlog::BacklogReport,
    zone: Tz,
) -> std::io::Result<Vec<u8>> {
    let mut sheet = start_sheet(
        "티켓 잔량 현황",
        query,
        report.data_as_of,
        zone,
        &[("기준", "각 기간 마지막 날 24시".to_owned())],
        &["미할당", "처리중", "보류", "합계"],
    )?;
    for ((first, last), value, open) in &report.rows {
        let label = span_label(*first, *last, query.granularity);
        let mut cells = lead(query, &label, value);
        cells.extend(open_cells(open));
        sheet.row(&cells)?;
    }
    for (value, open) in &report.current {
        let mut cells = lead(query, "현재", value);
        cells.extend(open_cells(open));
        sheet.bold_row(&cells)?;
    }
    sheet.finish()
}

/// A duration as h:mm:ss (hours may exceed 24), rounded to the second.
fn clock(seconds: Option<f64>) -> String {
    let Some(seconds) = seconds else {
        return String::new();
    };
    let total = seconds.round() as i64;
    format!(
        "{}:{:02}:{:02}",
        total / 3600,
        total % 3600 / 60,
        total % 60
    )
}

const TIMES_HEADER: [&str; 12] = [
    "첫 응답 건수",
    "첫 응답 중앙값",
    "첫 응답 90%",
    "첫 응답 평균",
    "첫 해결 건수",
    "첫 해결 중앙값",
    "첫 해결 90%",
    "첫 해결 평균",
    "최종 해결 건수",
    "최종 해결 중앙값",
    "최종 해결 90%",
    "최종 해결 평균",
];

fn write_times(
    query: &TicketQuery,
    report: &times::TimesReport,
    in_hours: bool,
    zone: Tz,
) -> std::io::Result<Vec<u8>> {
    let basis = if in_hours {
        "업무시간"
    } else {
        "전체 시간"
    };
    let mut sheet = start_sheet(
        "티켓 처리 시간",
        query,
        report.data_as_of,
        zone,
        &[("시간 기준", basis.to_owned())],
        &TIMES_HEADER,
    )?;
    let texts = |cell: &times::Cell| -> Vec<(i64, [String; 3])> {
        cell.iter()
            .map(|s: &TimeStatistics| (s.count, [clock(s.median), clock(s.p90), clock(s.mean)]))
            .collect()
    };
    let write = |sheet: &mut SheetWriter<Vec<u8>>,
                 label: &str,
                 value: &str,
                 cell: &times::Cell,
                 bold: bool|
     -> std::io::Result<()> {
        let measures = texts(cell);
        let mut cells = lead(query, label, value);
        for (count, [median, p90, mean]) in &measures {
            cells.push(Cell::Number(*count));
            cells.extend([Cell::Text(median), Cell::Text(p90), Cell::Text(mean)]);
        }
        if bold {
            sheet.bold_row(&cells)
        } else {
            sheet.row(&cells)
        }
    };
    for ((first, last), value, cell) in &report.rows {
        let label = span_label(*first, *last, query.granularity);
        write(&mut sheet, &label, value, cell, false)?;
    }
    write(&mut sheet, "합계", "", &report.total, true)?;
    sheet.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_as_hours_minutes_and_seconds() {
        assert_eq!(clock(Some(59.6)), "0:01:00");
        assert_eq!(clock(Some(30.0 * 3600.0 + 5.0 * 60.0 + 7.0)), "30:05:07");
        assert_eq!(clock(None), "");
    }
}
