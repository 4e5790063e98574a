//! Attachments (ticket_attachment.proto): uploads by client stream kept 24 hours for their
//! uploader, attached to messages, downloaded by server stream by those who may read the
//! ticket; contents stored once per SHA-256.
//!
//! This module is the interface the ticket code calls; `receive`, `sniff` and `names` are the
//! pure rules, `store` the SQL, `upload` and `download` the streaming rpcs.

mod download;
mod names;
mod prepare;
mod receive;
mod sniff;
mod store;
mod upload;

use std::pin::Pin;

use futures_util::Stream;
use sqlx::PgConnection;
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{
        DownloadTicketAttachmentRequest, DownloadTicketAttachmentResponse, IngestAttachment,
        TicketAttachment, UploadTicketAttachmentRequest, UploadTicketAttachmentResponse,
    },
};
use tonic::{Status, Streaming};
use uuid::Uuid;

use crate::tickets::TicketApi;

/// An attachment checked and ready to attach to a message being written.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The attachment as the message shows it (id, name, type, size, hash, download ref).
    pub attachment: TicketAttachment,
    /// The row [`attach`] writes (its id is the attachment's).
    file: store::FileRow,
}

impl Prepared {
    fn new(file: store::FileRow) -> Self {
        Self {
            attachment: to_proto(&file, true),
            file,
        }
    }
}

/// The uploads `ids` of `uploader` (field `field`, e.g. "attachment_ids"), as attachments of a
/// new message (fresh attachment ids, the same contents); INVALID_ARGUMENT naming `field[i]`
/// for an id that is not a UUID, not one of the uploader's uploads of the last 24 hours
/// (another's upload answers exactly so), or repeated; naming `field` for more than 20 ids or
/// more than 25 MiB together. An upload may be attached to several messages within its 24
/// hours. The uploads stay locked against the orphan sweep until the transaction ends.
pub async fn prepare_uploads(
    conn: &mut PgConnection,
    uploader: &str,
    ids: &[String],
    field: &str,
) -> Result<Vec<Prepared>, Status> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    prepare::uploads(conn, uploader, ids, field).await
}

/// The attachments of an ingested customer message, their contents stored (deduplicated):
/// at most 50 files; each of at most `max_bytes` (else RESOURCE_EXHAUSTED naming
/// `attachments[i].content`); a file name is cut to its last path component and must then be
/// 1 to 255 characters (else INVALID_ARGUMENT `attachments[i].file_name`). A content type
/// that is empty, malformed or contradicted by the bytes is replaced, never refused.
pub async fn prepare_ingested(
    conn: &mut PgConnection,
    files: &[IngestAttachment],
    max_bytes: u64,
) -> Result<Vec<Prepared>, Status> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    prepare::ingested(conn, files, max_bytes).await
}

/// Records `prepared` as the attachments of `message` of `ticket` (after the message row).
pub async fn attach(
    conn: &mut PgConnection,
    ticket: Uuid,
    message: Uuid,
    prepared: &[Prepared],
) -> Result<(), Status> {
    if prepared.is_empty() {
        return Ok(());
    }
    let files: Vec<store::FileRow> = prepared.iter().map(|p| p.file.clone()).collect();
    store::insert_attachments(conn, ticket, message, &files).await?;
    Ok(())
}

/// Deletes contents no upload or attachment refers to any more (after a spam ticket's delete),
/// and the uploads older than 24 hours first.
pub async fn delete_orphans(conn: &mut PgConnection) -> Result<(), Status> {
    store::delete_orphans(conn).await?;
    Ok(())
}

pub async fn upload(
    api: &TicketApi,
    principal: &Principal,
    stream: Streaming<UploadTicketAttachmentRequest>,
) -> Result<UploadTicketAttachmentResponse, Status> {
    upload::upload(api, principal, stream).await
}

pub type DownloadStream =
    Pin<Box<dyn Stream<Item = Result<DownloadTicketAttachmentResponse, Status>> + Send>>;

pub async fn download(
    api: &TicketApi,
    principal: &Principal,
    request: DownloadTicketAttachmentRequest,
) -> Result<DownloadStream, Status> {
    download::download(api, principal, request).await
}

/// The API form of a stored file; an upload (`downloadable` false) has no download ref yet.
fn to_proto(file: &store::FileRow, downloadable: bool) -> TicketAttachment {
    let id = file.id.to_string();
    TicketAttachment {
        download_ref: if downloadable {
            id.clone()
        } else {
            String::new()
        },
        id,
        file_name: file.file_name.clone(),
        content_type: file.content_type.clone(),
        size_bytes: file.size_bytes,
        sha256: hex(&file.sha256),
        content_id: file.content_id.clone(),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(64), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    #[test]
    fn hashes_are_lowercase_hex() {
        assert_eq!(
            super::hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
