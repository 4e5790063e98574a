//! Idempotent creates (AIP-155): a create call with a `request_id` stores its response under that
//! id in the same transaction as the change; a retry with the same id and the same request gets
//! the stored response, one with the same id and another request is `ALREADY_EXISTS`.

use prost::Message;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use switchboard_proto::common::v1::Principal;
use tonic::Status;
use uuid::Uuid;

use crate::error::{invalid_field, sql_status};

/// A create call's request id, checked and ready to look up.
/// Stores `response` under `request_id` (when the caller sent one) in `tx`, then commits.
pub async fn commit_with<R: Message>(
    request_id: Option<&RequestId>,
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    response: R,
) -> Result<R, Status> {
    if let Some(request_id) = request_id {
        request_id.store(&mut tx, &response).await?;
    }
    tx.commit().await.map_err(|e| sql_status("commit", &e))?;
    Ok(response)
}

#[derive(Debug, Clone)]
pub struct RequestId {
    method: &'static str,
    id: Uuid,
    request_hash: Vec<u8>,
}

impl RequestId {
    /// `None` when the caller sent no id; `INVALID_ARGUMENT` naming `request_id` when it is not a
    /// UUID. `request` is the whole request message and `caller` the verified principal: both
    /// go into the hash that tells retries from reuse, so another caller who sends the same id
    /// and body gets ALREADY_EXISTS, never the first caller's stored response.
    pub fn parse<M: Message>(
        method: &'static str,
        request_id: &str,
        request: &M,
        caller: &Principal,
    ) -> Result<Option<Self>, Status> {
        if request_id.is_empty() {
            return Ok(None);
        }
        let id = Uuid::parse_str(request_id)
            .map_err(|_| invalid_field("request_id", "must be a UUID in canonical text form"))?;
        Ok(Some(Self {
            method,
            id,
            request_hash: Sha256::new()
                .chain_update(caller.kind.to_be_bytes())
                .chain_update(caller.subject.as_bytes())
                .chain_update([0])
                .chain_update(request.encode_to_vec())
                .finalize()
                .to_vec(),
        }))
    }

    /// The stored response of an earlier call with this id (within 24 hours), if any. Takes a
    /// transaction-level lock on the id first, so concurrent retries wait for the first one.
    pub async fn replay<R: Message + Default>(
        &self,
        tx: &mut PgConnection,
    ) -> Result<Option<R>, Status> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || $2::text, 0))")
            .bind(self.method)
            .bind(self.id)
            .execute(&mut *tx)
            .await
            .map_err(|e| sql_status("lock request id", &e))?;
        let stored: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT request_hash, response FROM request_ids
             WHERE method = $1 AND request_id = $2 AND create_time > now() - interval '24 hours'",
        )
        .bind(self.method)
        .bind(self.id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| sql_status("read request id", &e))?;
        let Some((hash, response)) = stored else {
            return Ok(None);
        };
        if hash != self.request_hash {
            return Err(Status::already_exists(
                "request_id was already used for a different request",
            ));
        }
        R::decode(response.as_slice())
            .map(Some)
            .map_err(|e| crate::error::internal("decode stored response", &e))
    }

    /// Stores `response` under this id, in the caller's transaction.
    pub async fn store<R: Message>(
        &self,
        tx: &mut PgConnection,
        response: &R,
    ) -> Result<(), Status> {
        sqlx::query(
            "INSERT INTO request_ids (method, request_id, request_hash, response)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (method, request_id) DO UPDATE
             SET request_hash = EXCLUDED.request_hash, response = EXCLUDED.response,
                 create_time = now()",
        )
        .bind(self.method)
        .bind(self.id)
        .bind(&self.request_hash)
        .bind(response.encode_to_vec())
        .execute(tx)
        .await
        .map_err(|e| sql_status("store request id", &e))?;
        Ok(())
    }
}
