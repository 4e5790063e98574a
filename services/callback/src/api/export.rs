//! `ExportCallbacks` (엑셀 다운로드): the search as an `.xlsx` workbook, written while the rows
//! stream from PostgreSQL and sent in chunks, so memory does not grow with the row count.

use std::collections::HashMap;

use chrono::Utc;
use chrono_tz::Tz;
use futures_util::StreamExt;
use sqlx::PgPool;
use switchboard_platform::{
    calendar::{compact_date, local_text},
    error::{Error, Result},
};
use switchboard_proto::{
    callback::v1::{AttemptOutcome, ExportCallbacksRequest, ExportCallbacksResponse},
    common::v1::Principal,
};
use switchboard_xlsx::{CONTENT_TYPE, Cell, MAX_CHUNK_BYTES, SheetWriter};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::{CallbackApi, ExportStream, access::sight, filter, read::order};
use crate::{
    domain::state::korean_label,
    store::{CallbackRow, search},
};

/// Bytes gathered before a message is sent; well under the 1 MiB a message may carry.
const CHUNK: usize = 256 * 1024;

const HEADER: [&str; 17] = [
    "요청일시",
    "IVR 경로",
    "전화번호",
    "발신번호",
    "요청 횟수",
    "상태",
    "분배자 그룹",
    "분배자",
    "담당그룹",
    "담당자",
    "할당일시",
    "전화 시도 횟수",
    "최근 시도 결과",
    "완료일시",
    "메모",
    "완료 메모",
    "콜백 ID",
];

fn outcome_label(outcome: AttemptOutcome) -> &'static str {
    match outcome {
        AttemptOutcome::Unspecified => "",
        AttemptOutcome::Answered => "통화",
        AttemptOutcome::NoAnswer => "부재중",
        AttemptOutcome::Busy => "통화중",
        AttemptOutcome::Failed => "실패",
    }
}

/// The file name: the period's local dates, or the day of the export when it is open.
fn file_name(request: &ExportCallbacksRequest, zone: Tz) -> String {
    let today = Utc::now().with_timezone(&zone).format("%Y%m%d").to_string();
    let filter = request.filter.clone().unwrap_or_default();
    let start = filter
        .start_date
        .as_ref()
        .map(compact_date)
        .unwrap_or_else(|| "all".into());
    let end = filter
        .end_date
        .as_ref()
        .map(compact_date)
        .unwrap_or_else(|| today.clone());
    format!("callbacks-{start}-{end}.xlsx")
}

pub async fn start(
    api: &CallbackApi,
    principal: &Principal,
    request: ExportCallbacksRequest,
) -> Result<ExportStream, Status> {
    let sight = sight(principal)?;
    let search = filter::search(request.filter.as_ref(), &sight, &api.settings)?;
    let rows = search::count(&api.pool, &search).await?;
    if rows > api.settings.export_max_rows {
        return Err(Status::failed_precondition(format!(
            "the search matches {rows} callbacks; at most {} can be exported, narrow the search",
            api.settings.export_max_rows
        )));
    }
    // Group names make the sheet readable; without the directory it shows group ids instead
    // of failing the download.
    let groups = api.directory.group_names().await.unwrap_or_else(|status| {
        tracing::warn!(%status, "exporting callbacks with group ids: the directory is unavailable");
        HashMap::new()
    });
    let (sender, receiver) = mpsc::channel(2);
    let export = Export {
        pool: api.pool.clone(),
        zone: api.settings.zone,
        groups,
        file_name: file_name(&request, api.settings.zone),
    };
    let order = order(request.order);
    tokio::spawn(async move {
        if let Err(error) = export.run(search, order, &sender).await {
            let _ = sender.send(Err(error.into())).await;
        }
    });
    Ok(Box::pin(ReceiverStream::new(receiver)))
}

struct Export {
    pool: PgPool,
    zone: Tz,
    groups: HashMap<String, String>,
    file_name: String,
}

type Sender = mpsc::Sender<Result<ExportCallbacksResponse, Status>>;

/// Sends `data` (in pieces of at most 1 MiB); false when the client is gone.
async fn send(sender: &Sender, first: &mut Option<String>, data: Vec<u8>) -> bool {
    let message = |file_name: Option<String>, data: Vec<u8>| ExportCallbacksResponse {
        content_type: file_name
            .as_ref()
            .map(|_| CONTENT_TYPE.to_owned())
            .unwrap_or_default(),
        file_name: file_name.unwrap_or_default(),
        data,
    };
    for piece in data.chunks(MAX_CHUNK_BYTES) {
        if sender
            .send(Ok(message(first.take(), piece.to_vec())))
            .await
            .is_err()
        {
            return false;
        }
    }
    true
}

impl Export {
    async fn run(
        self,
        search: search::Search,
        order: search::Order,
        sender: &Sender,
    ) -> Result<()> {
        let mut sheet = SheetWriter::new(Vec::with_capacity(2 * CHUNK), "콜백", &HEADER)
            .map_err(|e| Error::internal(e))?;
        let mut first = Some(self.file_name.clone());
        let mut rows = search::all(&self.pool, &search, order);
        while let Some(row) = rows.next().await {
            let row = row?;
            self.write(&mut sheet, &row)
                .map_err(|e| Error::internal(e))?;
            if sheet.output().len() >= CHUNK {
                let data = std::mem::take(sheet.output());
                if !send(sender, &mut first, data).await {
                    return Ok(());
                }
            }
        }
        let rest = sheet.finish().map_err(|e| Error::internal(e))?;
        send(sender, &mut first, rest).await;
        Ok(())
    }

    fn write(&self, sheet: &mut SheetWriter<Vec<u8>>, row: &CallbackRow) -> std::io::Result<()> {
        let time = |t: Option<chrono::DateTime<Utc>>| {
            t.map(|t| local_text(t, self.zone)).unwrap_or_default()
        };
        let group = |id: &Option<String>| {
            id.as_ref()
                .map(|id| self.groups.get(id).cloned().unwrap_or_else(|| id.clone()))
                .unwrap_or_default()
        };
        let person = |login: &Option<String>, name: &Option<String>| match (login, name) {
            (Some(login), Some(name)) if !name.is_empty() => format!("{name} ({login})"),
            (Some(login), _) => login.clone(),
            _ => String::new(),
        };
        let outcome = row
            .last_attempt()
            .map(|a| outcome_label(a.outcome()))
            .unwrap_or("");
        let texts = [
            time(Some(row.request_time)),
            group(&row.distributor_group_id),
            person(&row.distributor_login, &row.distributor_name),
            group(&row.assignee_group_id),
            person(&row.assignee_login, &row.assignee_name),
            time(row.assign_time),
            time(row.complete_time),
            row.id.to_string(),
        ];
        let [
            requested,
            distributor_group,
            distributor,
            assignee_group,
            assignee,
            assigned,
            completed,
            id,
        ] = &texts;
        let cells = [
            Cell::Text(requested),
            Cell::Text(&row.route_name),
            Cell::Text(&row.phone_national),
            Cell::Text(&row.caller_number),
            Cell::Number(i64::from(row.request_count)),
            Cell::Text(korean_label(row.state())),
            Cell::Text(distributor_group),
            Cell::Text(distributor),
            Cell::Text(assignee_group),
            Cell::Text(assignee),
            Cell::Text(assigned),
            Cell::Number(i64::from(row.attempt_count)),
            Cell::Text(outcome),
            Cell::Text(completed),
            Cell::Text(&row.memo),
            Cell::Text(&row.completion_note),
            Cell::Text(id),
        ];
        sheet.row(&cells)
    }
}
