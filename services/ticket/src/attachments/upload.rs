//! `UploadTicketAttachment`: an agent's or admin's file, received by client stream and kept as
//! an upload for 24 hours. It is not downloadable until attached to a message.

use switchboard_platform::db;
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{UploadTicketAttachmentRequest, UploadTicketAttachmentResponse},
};
use tonic::{Status, Streaming};
use uuid::Uuid;

use super::{receive::Receiver, store};
use crate::tickets::{TicketApi, access};

pub async fn upload(
    api: &TicketApi,
    principal: &Principal,
    mut stream: Streaming<UploadTicketAttachmentRequest>,
) -> Result<UploadTicketAttachmentResponse, Status> {
    access::require_staff(principal)?;
    let mut receiver = Receiver::new(api.limits.attachment_max_bytes);
    // Returning drops the stream: the first bad message ends the call without reading on.
    while let Some(request) = stream.message().await? {
        receiver.accept(request)?;
    }
    let received = receiver.finish()?;
    let file = store::FileRow {
        id: Uuid::now_v7(),
        file_name: received.file_name,
        content_type: received.content_type,
        size_bytes: i64::try_from(received.content.len())
            .map_err(|_| Status::internal("internal error"))?,
        sha256: received.sha256.to_vec(),
        content_id: String::new(),
    };
    let mut tx = db::begin(&api.pool).await?;
    store::put_blob(&mut tx, &file.sha256, &received.content).await?;
    store::insert_upload(&mut tx, &principal.subject, &file).await?;
    db::commit(tx).await?;
    Ok(UploadTicketAttachmentResponse {
        attachment: Some(super::to_proto(&file, false)),
    })
}
