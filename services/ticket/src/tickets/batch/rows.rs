//! The rows of an idempotent batch: the call's claim on its `request_id` (in `request_ids`) and
//! each finished row (in `batch_rows`, written in the transaction of the row's change).

use prost::Message;
use sqlx::PgConnection;
use switchboard_platform::{error::sql_status, request_id::RequestId};
use switchboard_proto::{common::v1::RowResult, ticket::v1::BatchReplyTicketsResponse};
use tonic::Status;
use uuid::Uuid;

use crate::tickets::TicketApi;

/// Where an idempotent batch stores its rows.
pub(super) struct Rows {
    pub method: &'static str,
    pub request_id: Uuid,
}

impl Rows {
    /// The stored row of `ticket`, after locking it against a concurrent retry (until `tx`
    /// ends).
    pub async fn recorded(
        &self,
        tx: &mut PgConnection,
        ticket: Uuid,
    ) -> Result<Option<RowResult>, Status> {
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended($1 || $2::text || $3::text, 0))",
        )
        .bind(self.method)
        .bind(self.request_id)
        .bind(ticket)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_status("lock batch row", &e))?;
        let stored: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT result FROM batch_rows
             WHERE method = $1 AND request_id = $2 AND ticket_id = $3
               AND create_time > now() - interval '24 hours'",
        )
        .bind(self.method)
        .bind(self.request_id)
        .bind(ticket)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| sql_status("read batch row", &e))?;
        stored
            .map(|(bytes,)| RowResult::decode(bytes.as_slice()))
            .transpose()
            .map_err(|e| switchboard_platform::error::internal("decode batch row", &e))
    }

    pub async fn record(
        &self,
        tx: &mut PgConnection,
        ticket: Uuid,
        row: &RowResult,
    ) -> Result<(), Status> {
        sqlx::query(
            "INSERT INTO batch_rows (method, request_id, ticket_id, result) VALUES ($1, $2, $3, $4)
             ON CONFLICT (method, request_id, ticket_id) DO NOTHING",
        )
        .bind(self.method)
        .bind(self.request_id)
        .bind(ticket)
        .bind(row.encode_to_vec())
        .execute(tx)
        .await
        .map_err(|e| sql_status("store batch row", &e))?;
        Ok(())
    }
}

/// Claims `request_id` for a batch: the stored response when the call already finished,
/// `None` (after storing the claim or finding its own unfinished one) when rows remain.
/// ALREADY_EXISTS when the id was used for another request.
pub(super) async fn claim(
    api: &TicketApi,
    request_id: &RequestId,
    rows: &Rows,
) -> Result<Option<Vec<RowResult>>, Status> {
    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    // Both batch responses are `repeated RowResult results = 1` on the wire.
    match request_id
        .replay::<BatchReplyTicketsResponse>(&mut tx)
        .await?
    {
        Some(stored) if !stored.results.is_empty() => return Ok(Some(stored.results)),
        Some(_) => {}
        None => {
            sqlx::query("DELETE FROM batch_rows WHERE method = $1 AND request_id = $2")
                .bind(rows.method)
                .bind(rows.request_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| sql_status("clear batch rows", &e))?;
            request_id
                .store(&mut tx, &BatchReplyTicketsResponse::default())
                .await?;
        }
    }
    switchboard_platform::db::commit(tx).await?;
    Ok(None)
}
