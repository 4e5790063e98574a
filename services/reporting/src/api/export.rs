//! `ExportCallbackProcessingStatus`: the report as an `.xlsx` workbook — the filters, a row per
//! bucket and the total row, Korean headers, the rate as a percentage — sent in chunks.

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use switchboard_platform::{calendar::local_text, error::Error};
use switchboard_proto::reporting::v1::ExportCallbackProcessingStatusResponse;
use switchboard_xlsx::{CONTENT_TYPE, Cell, MAX_CHUNK_BYTES, SheetWriter};
use tonic::Status;

use super::{
    ExportStream, ReportingApi,
    processing::{Report, StatusQuery, compute},
};
use crate::{
    domain::{
        buckets::{Bucket, Granularity},
        fact::Dimension,
    },
    store::routes,
};

const HEADER: [&str; 5] = ["기간", "할당", "완료", "미처리", "처리율"];

pub async fn start(api: &ReportingApi, query: StatusQuery) -> Result<ExportStream, Status> {
    let report = compute(api, &query).await?;
    let route_labels = routes::labels(&api.pool, &query.days.ivr_route_ids).await?;
    let routes_text = if query.days.ivr_route_ids.is_empty() {
        "전체".to_owned()
    } else {
        query
            .days
            .ivr_route_ids
            .iter()
            .map(|id| {
                route_labels
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let workbook =
        write(&query, &report, &routes_text, api.zone).map_err(|e| Error::internal(e))?;
    let file_name = format!(
        "callback-status-{}-{}.xlsx",
        query.days.first.format("%Y%m%d"),
        query.days.last.format("%Y%m%d"),
    );
    let messages = chunks(workbook, file_name, |file_name, content_type, data| {
        ExportCallbackProcessingStatusResponse {
            file_name,
            content_type,
            data,
        }
    });
    Ok(Box::pin(tokio_stream::iter(messages)))
}

/// A workbook cut into the messages of an export stream: the file name and type in the first.
pub fn chunks<M>(
    workbook: Vec<u8>,
    file_name: String,
    message: impl Fn(String, String, Vec<u8>) -> M,
) -> Vec<Result<M, Status>> {
    let mut first = Some(file_name);
    workbook
        .chunks(MAX_CHUNK_BYTES)
        .map(|piece| {
            let file_name = first.take();
            let content_type = file_name
                .as_ref()
                .map(|_| CONTENT_TYPE.to_owned())
                .unwrap_or_default();
            Ok(message(
                file_name.unwrap_or_default(),
                content_type,
                piece.to_vec(),
            ))
        })
        .collect()
}

/// "2025-01-01" for a day, "2025-01" for a whole month, "2025-01-15 ~ 2025-01-31" otherwise.
fn bucket_label(bucket: &Bucket, granularity: Granularity) -> String {
    span_label(bucket.first, bucket.last, granularity)
}

/// The label of a bucket of days `first..=last`, as [`bucket_label`].
pub fn span_label(first: NaiveDate, last: NaiveDate, granularity: Granularity) -> String {
    let whole_month = first.day() == 1 && last.succ_opt().is_none_or(|next| next.day() == 1);
    match granularity {
        Granularity::Day => first.to_string(),
        Granularity::Month if whole_month => first.format("%Y-%m").to_string(),
        Granularity::Month => format!("{first} ~ {last}"),
    }
}

fn counts_row<'a>(label: &'a str, bucket: &Bucket) -> [Cell<'a>; 5] {
    [
        Cell::Text(label),
        Cell::Number(bucket.assigned()),
        Cell::Number(bucket.counts.completed),
        Cell::Number(bucket.counts.unprocessed),
        bucket.rate().map_or(Cell::Text(""), Cell::Percent),
    ]
}

/// The workbook: filter rows, a blank row, the header, the buckets and the total.
fn write(
    query: &StatusQuery,
    report: &Report,
    routes_text: &str,
    zone: Tz,
) -> std::io::Result<Vec<u8>> {
    let days = &query.days;
    let period = format!("{} ~ {}", days.first, days.last);
    let unit = match query.granularity {
        Granularity::Day => "일",
        Granularity::Month => "월",
    };
    let assignee = match days.dimension {
        Dimension::All => "전체".to_owned(),
        Dimension::Agent => format!("상담원 {}", days.assignee),
        Dimension::Group => format!("그룹 {}", days.assignee),
    };
    let as_of = report
        .data_as_of
        .map(|t| local_text(t, zone))
        .unwrap_or_else(|| "-".into());
    let mut sheet = SheetWriter::start(Vec::new(), "콜백 처리현황", 0)?;
    sheet.bold_row(&[Cell::Text("콜백 처리현황")])?;
    for (name, value) in [
        ("조회 기간", period.as_str()),
        ("단위", unit),
        ("IVR 경로", routes_text),
        ("담당자", assignee.as_str()),
        ("시간대", zone.name()),
        ("데이터 기준 시각", as_of.as_str()),
    ] {
        sheet.row(&[Cell::Text(name), Cell::Text(value)])?;
    }
    sheet.row(&[])?;
    let header: Vec<_> = HEADER.iter().map(|h| Cell::Text(h)).collect();
    sheet.bold_row(&header)?;
    for bucket in &report.buckets {
        let label = bucket_label(bucket, query.granularity);
        sheet.row(&counts_row(&label, bucket))?;
    }
    sheet.bold_row(&counts_row("합계", &report.total))?;
    sheet.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fact::Counts;

    fn bucket(first: (i32, u32, u32), last: (i32, u32, u32)) -> Bucket {
        let date = |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        Bucket {
            first: date(first),
            last: date(last),
            counts: Counts::default(),
        }
    }

    #[test]
    fn buckets_are_labelled_by_day_month_or_span() {
        let day = bucket((2025, 1, 5), (2025, 1, 5));
        assert_eq!(bucket_label(&day, Granularity::Day), "2025-01-05");
        let month = bucket((2025, 2, 1), (2025, 2, 28));
        assert_eq!(bucket_label(&month, Granularity::Month), "2025-02");
        let clipped = bucket((2025, 1, 15), (2025, 1, 31));
        assert_eq!(
            bucket_label(&clipped, Granularity::Month),
            "2025-01-15 ~ 2025-01-31"
        );
    }
}
