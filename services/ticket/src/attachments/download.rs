//! `DownloadTicketAttachment`: the metadata, then the content in slices of at most 1 MiB read
//! from PostgreSQL one by one, so that neither side holds a large file as one message.

use futures_util::{StreamExt, stream};
use sqlx::PgPool;
use switchboard_platform::{db, request::uuid_field};
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{
        DownloadTicketAttachmentRequest, DownloadTicketAttachmentResponse,
        download_ticket_attachment_response::Part,
    },
};
use tonic::Status;

use super::{DownloadStream, receive::MAX_CHUNK, store};
use crate::tickets::{self, TicketApi, access};

/// The answer for a reference that names no attachment the caller may read: the same whether
/// the attachment does not exist or its ticket is not the caller's to see.
fn not_found() -> Status {
    Status::not_found("attachment not found")
}

pub async fn download(
    api: &TicketApi,
    principal: &Principal,
    request: DownloadTicketAttachmentRequest,
) -> Result<DownloadStream, Status> {
    access::require_reader(principal)?;
    let id = uuid_field("download_ref", &request.download_ref)?;
    let mut conn = db::acquire(&api.pool).await?;
    let Some((file, ticket_id)) = store::attachment(&mut conn, id).await? else {
        return Err(not_found());
    };
    let readable = tickets::store::load(&mut conn, ticket_id, false)
        .await?
        .is_some_and(|ticket| access::may_read(principal, &ticket));
    if !readable {
        return Err(not_found());
    }
    let size = usize::try_from(file.size_bytes).map_err(|_| Status::internal("internal error"))?;
    let first = DownloadTicketAttachmentResponse {
        part: Some(Part::Attachment(super::to_proto(&file, true))),
    };
    let chunks = chunks(api.pool.clone(), file.sha256, size);
    Ok(Box::pin(stream::once(async { Ok(first) }).chain(chunks)))
}

/// The content of the blob `sha256` of `size` bytes, one slice per message.
fn chunks(
    pool: PgPool,
    sha256: Vec<u8>,
    size: usize,
) -> impl futures_util::Stream<Item = Result<DownloadTicketAttachmentResponse, Status>> + Send {
    // The state is the offset of the next slice; `None` after an error ends the stream.
    stream::unfold(Some(0usize), move |offset| {
        let (pool, sha256) = (pool.clone(), sha256.clone());
        async move {
            let offset = offset.filter(|offset| *offset < size)?;
            let len = MAX_CHUNK.min(size - offset);
            let item = match store::blob_slice(&pool, &sha256, offset, len).await {
                Ok(Some(slice)) if slice.len() == len => Ok(slice),
                Ok(Some(_)) => Err(Status::internal("internal error")),
                // The ticket was deleted (spam) while the download ran.
                Ok(None) => Err(not_found()),
                Err(error) => Err(Status::from(error)),
            };
            let next = item.is_ok().then_some(offset + len);
            let message = item.map(|slice| DownloadTicketAttachmentResponse {
                part: Some(Part::Chunk(slice)),
            });
            Some((message, next))
        }
    })
}
