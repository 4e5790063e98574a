//! `GetCallback` and `ListCallbacks`: what the caller may see (docs/product.md §2.3).

use chrono::DateTime;
use switchboard_platform::{db, error::invalid_field, paging::Page, request::uuid_field};
use switchboard_proto::{
    callback::v1::{
        CallbackOrder, GetCallbackRequest, GetCallbackResponse, ListCallbacksRequest,
        ListCallbacksResponse,
    },
    common::v1::Principal,
};
use tonic::Status;
use uuid::Uuid;

use super::{
    CallbackApi,
    access::{Sight, not_yours, sees, sight},
    filter,
};
use crate::store::{attempts, callbacks, history, search};

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;

pub async fn get(
    api: &CallbackApi,
    principal: &Principal,
    request: &GetCallbackRequest,
) -> Result<GetCallbackResponse, Status> {
    let sight = sight(principal)?;
    let id = uuid_field("id", &request.id)?;
    let mut conn = db::acquire(&api.pool).await?;
    let row = callbacks::get(&mut conn, id).await?;
    let row = match (row, &sight) {
        (Some(row), _) if sees(&sight, &row) => row,
        // An agent learns nothing about callbacks that are not theirs, not even that they exist.
        (_, Sight::AssignedTo(_)) => return Err(not_yours(&id)),
        (Some(row), Sight::Everything) => row,
        (None, Sight::Everything) => return Err(Status::not_found(format!("no callback {id}"))),
    };
    let history = history::of(&mut conn, id).await?;
    let attempts = attempts::of(&mut conn, id).await?;
    Ok(GetCallbackResponse {
        callback: Some(row.to_proto()),
        history,
        attempts: attempts.iter().map(|a| a.to_proto()).collect(),
    })
}

/// The list's order from the request.
pub fn order(order: i32) -> search::Order {
    match CallbackOrder::try_from(order) {
        Ok(CallbackOrder::RequestTimeAsc) => search::Order::OldestFirst,
        _ => search::Order::NewestFirst,
    }
}

fn page_key(key: &str) -> Option<(DateTime<chrono::Utc>, Uuid)> {
    let (micros, id) = key.split_once('_')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        Uuid::parse_str(id).ok()?,
    ))
}

pub async fn list(
    api: &CallbackApi,
    principal: &Principal,
    request: ListCallbacksRequest,
) -> Result<ListCallbacksResponse, Status> {
    let sight = sight(principal)?;
    let page = Page::of_sized(
        &request,
        |r| (&mut r.page_size, &mut r.page_token),
        DEFAULT_PAGE,
        MAX_PAGE,
    )?;
    let after = match page.after.as_deref() {
        None => None,
        Some(key) => Some(
            page_key(key)
                .ok_or_else(|| invalid_field("page_token", "not a page token of this list"))?,
        ),
    };
    let search = filter::search(request.filter.as_ref(), &sight, &api.settings)?;
    let mut rows = search::page(
        &api.pool,
        &search,
        order(request.order),
        after,
        page.fetch_limit(),
    )
    .await?;
    let total = search::count(&api.pool, &search).await?;
    let next_page_token = page.finish(&mut rows, |row| {
        format!("{}_{}", row.request_time.timestamp_micros(), row.id)
    });
    Ok(ListCallbacksResponse {
        callbacks: rows.iter().map(|row| row.to_proto()).collect(),
        next_page_token,
        total_size: i32::try_from(total).unwrap_or(i32::MAX),
    })
}
