//! `ListUnfinishedCallbacksPerAgent`: agents with UNPROCESSED callbacks, most first.

use switchboard_platform::{error::FieldViolations, paging::Page, time::timestamp};
use switchboard_proto::reporting::v1::{
    AgentUnfinishedCallbacks, ListUnfinishedCallbacksPerAgentRequest,
    ListUnfinishedCallbacksPerAgentResponse,
};
use tonic::Status;

use super::ReportingApi;
use crate::store::{status, unfinished};

/// The sort key, as text that orders like (count descending, login).
fn key(row: &unfinished::AgentUnfinished) -> String {
    format!("{:019}:{}", i64::MAX - row.unfinished, row.login)
}

pub async fn list(
    api: &ReportingApi,
    request: ListUnfinishedCallbacksPerAgentRequest,
) -> Result<ListUnfinishedCallbacksPerAgentResponse, Status> {
    let mut violations = FieldViolations::new();
    // The one UUID rule, as the directory spells group ids; empty means every group.
    let group_id = violations
        .optional_uuid("group_id", &request.group_id)
        .map(|id| id.to_string())
        .unwrap_or_default();
    violations.into_result()?;
    let page = Page::of(&request, |r| (&mut r.page_size, &mut r.page_token))?;
    let mut rows = unfinished::per_agent(&api.pool, &group_id).await?;
    let total_size = rows.len() as i32;
    // Paging compares keys as bytes; the database's collation may order logins otherwise.
    rows.sort_by_cached_key(key);
    let next_page_token = page.finish_sorted(&mut rows, key);
    let model = status::get(&api.pool, status::CALLBACKS).await?;
    Ok(ListUnfinishedCallbacksPerAgentResponse {
        agents: rows
            .into_iter()
            .map(|row| AgentUnfinishedCallbacks {
                agent_login: row.login,
                display_name: row.display_name,
                unfinished_count: row.unfinished,
                oldest_request_time: Some(timestamp(row.oldest_request_time)),
            })
            .collect(),
        next_page_token,
        total_size,
        data_as_of_time: model.and_then(|m| m.newest_event_time).map(timestamp),
    })
}
