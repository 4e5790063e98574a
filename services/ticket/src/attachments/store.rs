//! The SQL of attachments: contents (`blobs`, one row per SHA-256), uploads waiting to be
//! attached, and the attachments of messages.
//!
//! A blob is deleted only when nothing refers to it ([`delete_orphans`]), which can race with a
//! transaction about to refer to it. Writers therefore hold a key-share lock on the blob (and
//! on the uploads they read) until they commit, and the sweep skips locked rows.

use sqlx::PgConnection;
use switchboard_platform::error::{Error, Result};
use uuid::Uuid;

/// A stored file: an upload or an attachment, without its content.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileRow {
    pub id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: Vec<u8>,
    pub content_id: String,
}

/// Stores `content` under its hash unless it is stored already, and locks the row against the
/// orphan sweep until the transaction ends.
pub async fn put_blob(conn: &mut PgConnection, sha256: &[u8], content: &[u8]) -> Result<()> {
    // A sweep may delete the row between the insert (which found it) and the lock; a second
    // round then inserts it again. More rounds mean something else is wrong.
    for _ in 0..3 {
        sqlx::query(
            "INSERT INTO blobs (sha256, size_bytes, content) VALUES ($1, $2, $3)
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(sha256)
        .bind(size_of(content)?)
        .bind(content)
        .execute(&mut *conn)
        .await?;
        let locked: Option<(i32,)> =
            sqlx::query_as("SELECT 1 FROM blobs WHERE sha256 = $1 FOR KEY SHARE")
                .bind(sha256)
                .fetch_optional(&mut *conn)
                .await?;
        if locked.is_some() {
            return Ok(());
        }
    }
    Err(Error::internal("the blob was deleted under every insert"))
}

fn size_of(content: &[u8]) -> Result<i64> {
    i64::try_from(content.len()).map_err(Error::internal)
}

/// Records an upload of the stored blob `sha256` by `uploader`.
pub async fn insert_upload(conn: &mut PgConnection, uploader: &str, file: &FileRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO uploads (id, uploader, file_name, content_type, size_bytes, sha256)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(file.id)
    .bind(uploader)
    .bind(&file.file_name)
    .bind(&file.content_type)
    .bind(file.size_bytes)
    .bind(&file.sha256)
    .execute(conn)
    .await?;
    Ok(())
}

/// Those of the uploads `ids` that are `uploader`'s and less than 24 hours old, locked against
/// the sweep until the transaction ends. Anyone else's upload is simply not found.
pub async fn live_uploads(
    conn: &mut PgConnection,
    uploader: &str,
    ids: &[Uuid],
) -> Result<Vec<FileRow>> {
    let rows = sqlx::query_as(
        "SELECT id, file_name, content_type, size_bytes, sha256, '' AS content_id FROM uploads
         WHERE id = ANY($1) AND uploader = $2 AND create_time > now() - interval '24 hours'
         FOR KEY SHARE",
    )
    .bind(ids)
    .bind(uploader)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// Inserts `files` as the attachments of `message` of `ticket`, in order.
pub async fn insert_attachments(
    conn: &mut PgConnection,
    ticket: Uuid,
    message: Uuid,
    files: &[FileRow],
) -> Result<()> {
    let mut columns = Columns::default();
    for file in files {
        columns.push(file);
    }
    let positions: Vec<i32> = (0..files.len())
        .map(i32::try_from)
        .collect::<Result<_, _>>()
        .map_err(Error::internal)?;
    sqlx::query(
        "INSERT INTO attachments (id, ticket_id, message_id, position, file_name, content_type,
                                  size_bytes, sha256, content_id)
         SELECT id, $1, $2, position, file_name, content_type, size_bytes, sha256, content_id
         FROM unnest($3::uuid[], $4::int[], $5::text[], $6::text[], $7::bigint[], $8::bytea[],
                     $9::text[])
              AS t (id, position, file_name, content_type, size_bytes, sha256, content_id)",
    )
    .bind(ticket)
    .bind(message)
    .bind(&columns.ids)
    .bind(&positions)
    .bind(&columns.names)
    .bind(&columns.types)
    .bind(&columns.sizes)
    .bind(&columns.hashes)
    .bind(&columns.content_ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Rows as columns, for one `unnest` insert.
#[derive(Default)]
struct Columns {
    ids: Vec<Uuid>,
    names: Vec<String>,
    types: Vec<String>,
    sizes: Vec<i64>,
    hashes: Vec<Vec<u8>>,
    content_ids: Vec<String>,
}

impl Columns {
    fn push(&mut self, file: &FileRow) {
        self.ids.push(file.id);
        self.names.push(file.file_name.clone());
        self.types.push(file.content_type.clone());
        self.sizes.push(file.size_bytes);
        self.hashes.push(file.sha256.clone());
        self.content_ids.push(file.content_id.clone());
    }
}

/// The attachment `id` and the id of its ticket.
pub async fn attachment(conn: &mut PgConnection, id: Uuid) -> Result<Option<(FileRow, Uuid)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        file: FileRow,
        ticket_id: Uuid,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, file_name, content_type, size_bytes, sha256, content_id, ticket_id
         FROM attachments WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| (row.file, row.ticket_id)))
}

/// `len` bytes of the blob `sha256` from byte `offset` (0-based); `None` when the blob is gone
/// (its ticket was deleted during the download).
pub async fn blob_slice(
    pool: &sqlx::PgPool,
    sha256: &[u8],
    offset: usize,
    len: usize,
) -> Result<Option<Vec<u8>>> {
    // substring() counts from 1 and takes int4 (a bytea is at most 1 GiB). With the column
    // stored uncompressed (migration 0004) it reads only the TOAST chunks of the slice.
    let from = i32::try_from(offset + 1).map_err(Error::internal)?;
    let len = i32::try_from(len).map_err(Error::internal)?;
    let slice =
        sqlx::query_scalar("SELECT substring(content FROM $2 FOR $3) FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .bind(from)
            .bind(len)
            .fetch_optional(pool)
            .await?;
    Ok(slice)
}

/// Deletes uploads older than 24 hours, then every blob no upload and no attachment refers to;
/// rows a concurrent transaction holds are left for the next sweep.
pub async fn delete_orphans(conn: &mut PgConnection) -> Result<u64> {
    sqlx::query(
        "DELETE FROM uploads WHERE id IN (
             SELECT id FROM uploads WHERE create_time <= now() - interval '24 hours'
             FOR UPDATE SKIP LOCKED)",
    )
    .execute(&mut *conn)
    .await?;
    let deleted = sqlx::query(
        "DELETE FROM blobs WHERE sha256 IN (
             SELECT b.sha256 FROM blobs b
             WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.sha256 = b.sha256)
               AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = b.sha256)
             FOR UPDATE SKIP LOCKED)",
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}
