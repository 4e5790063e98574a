//! The history of a callback: one encoded `CallbackHistoryEntry` per version.

use prost::Message;
use sqlx::PgConnection;
use switchboard_platform::error::{Error, Result};
use switchboard_proto::callback::v1::CallbackHistoryEntry;
use uuid::Uuid;

pub async fn append(
    conn: &mut PgConnection,
    callback: Uuid,
    entry: &CallbackHistoryEntry,
) -> Result<()> {
    sqlx::query("INSERT INTO callback_history (callback_id, version, entry) VALUES ($1, $2, $3)")
        .bind(callback)
        .bind(entry.version)
        .bind(entry.encode_to_vec())
        .execute(conn)
        .await?;
    Ok(())
}

/// Oldest first. An entry that does not decode is an internal error (the service wrote it).
pub async fn of(conn: &mut PgConnection, callback: Uuid) -> Result<Vec<CallbackHistoryEntry>> {
    let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
        "SELECT entry FROM callback_history WHERE callback_id = $1 ORDER BY version",
    )
    .bind(callback)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(bytes,)| {
            CallbackHistoryEntry::decode(bytes.as_slice()).map_err(|e| Error::internal(e))
        })
        .collect()
}
