//! Attachments (ticket_attachment.proto): uploads by client stream kept 24 hours for their
//! uploader, attached to messages, downloaded by server stream by those who may read the
//! ticket; contents stored once per SHA-256.

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
}

/// The uploads `ids` of `uploader` (field `field`, e.g. "attachment_ids"), as attachments of a
/// new message; INVALID_ARGUMENT naming `field[i]` for an id that is not one of the uploader's
/// uploads of the last 24 hours, or repeated; at most 20.
pub async fn prepare_uploads(
    _conn: &mut PgConnection,
    _uploader: &str,
    ids: &[String],
    field: &str,
) -> Result<Vec<Prepared>, Status> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Err(Status::unimplemented(format!(
        "{field}: attachments are not implemented yet"
    )))
}

/// The attachments of an ingested customer message, stored (contents deduplicated).
pub async fn prepare_ingested(
    _conn: &mut PgConnection,
    files: &[IngestAttachment],
    _max_bytes: u64,
) -> Result<Vec<Prepared>, Status> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    Err(Status::unimplemented("attachments are not implemented yet"))
}

/// Records `prepared` as the attachments of `message` of `ticket` (after the message row).
pub async fn attach(
    _conn: &mut PgConnection,
    _ticket: Uuid,
    _message: Uuid,
    prepared: &[Prepared],
) -> Result<(), Status> {
    if prepared.is_empty() {
        return Ok(());
    }
    Err(Status::unimplemented("attachments are not implemented yet"))
}

/// Deletes contents no upload or attachment refers to any more (after a spam ticket's delete).
pub async fn delete_orphans(_conn: &mut PgConnection) -> Result<(), Status> {
    Ok(())
}

pub async fn upload(
    _api: &TicketApi,
    _principal: &Principal,
    _stream: Streaming<UploadTicketAttachmentRequest>,
) -> Result<UploadTicketAttachmentResponse, Status> {
    Err(Status::unimplemented(
        "UploadTicketAttachment is not implemented yet",
    ))
}

pub type DownloadStream =
    Pin<Box<dyn Stream<Item = Result<DownloadTicketAttachmentResponse, Status>> + Send>>;

pub async fn download(
    _api: &TicketApi,
    _principal: &Principal,
    _request: DownloadTicketAttachmentRequest,
) -> Result<DownloadStream, Status> {
    Err(Status::unimplemented(
        "DownloadTicketAttachment is not implemented yet",
    ))
}
