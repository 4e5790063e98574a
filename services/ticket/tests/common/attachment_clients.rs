//! Uploading and downloading attachments through the gateway as `token`, and what the service's
//! tables hold of them.

use futures_util::{StreamExt, stream};
use prost_types::Timestamp;
use switchboard_proto::ticket::v1::{
    AddCommentRequest, DownloadTicketAttachmentRequest, IngestAttachment,
    IngestTicketMessageRequest, IngestTicketMessageResponse, TicketAttachment, TicketChannel,
    TicketMessage, TicketRequester, UploadTicketAttachmentMetadata, UploadTicketAttachmentRequest,
    download_ticket_attachment_response::Part as DownloadPart,
    upload_ticket_attachment_request::Part,
};
use tonic::Status;

use super::{Mesh, bearer};

/// The metadata message of an upload.
pub fn metadata(
    file_name: &str,
    content_type: &str,
    size_bytes: i64,
) -> UploadTicketAttachmentRequest {
    UploadTicketAttachmentRequest {
        part: Some(Part::Metadata(UploadTicketAttachmentMetadata {
            file_name: file_name.into(),
            content_type: content_type.into(),
            size_bytes,
        })),
    }
}

/// A chunk message of an upload.
pub fn chunk(bytes: &[u8]) -> UploadTicketAttachmentRequest {
    UploadTicketAttachmentRequest {
        part: Some(Part::Chunk(bytes.to_vec())),
    }
}

/// The metadata, then `content` in chunks of `chunk_size` bytes.
pub fn file_parts(
    file_name: &str,
    content_type: &str,
    content: &[u8],
    chunk_size: usize,
) -> Vec<UploadTicketAttachmentRequest> {
    let mut parts = vec![metadata(file_name, content_type, content.len() as i64)];
    parts.extend(content.chunks(chunk_size).map(chunk));
    parts
}

/// A file of an ingested message.
pub fn ingest_file(file_name: &str, content_type: &str, content: Vec<u8>) -> IngestAttachment {
    IngestAttachment {
        file_name: file_name.into(),
        content_type: content_type.into(),
        content,
        content_id: String::new(),
    }
}

/// A help-center inquiry (which always makes a new ticket) with `attachments`.
fn help_center(attachments: Vec<IngestAttachment>) -> IngestTicketMessageRequest {
    IngestTicketMessageRequest {
        dedup_key: format!("helpcenter:{}", uuid::Uuid::now_v7()),
        channel: TicketChannel::HelpCenter as i32,
        requester: Some(TicketRequester {
            name: "박지영".into(),
            email: "jiyoung.park@example.co.kr".into(),
            ..Default::default()
        }),
        subject: "첨부 파일 문의".into(),
        body_text: "파일을 첨부합니다.".into(),
        attachments,
        receive_time: Some(Timestamp {
            seconds: 1_790_000_000,
            nanos: 0,
        }),
        ..Default::default()
    }
}

/// A downloaded attachment: its metadata and the content as it came, chunk by chunk.
pub struct Downloaded {
    pub attachment: TicketAttachment,
    pub chunks: Vec<Vec<u8>>,
}

impl Downloaded {
    pub fn content(&self) -> Vec<u8> {
        self.chunks.concat()
    }
}

impl Mesh {
    /// Uploads `parts` as they are, the stream ending after the last.
    pub async fn upload_parts(
        &self,
        token: &str,
        parts: Vec<UploadTicketAttachmentRequest>,
    ) -> Result<TicketAttachment, Status> {
        let response = self
            .tickets()
            .await
            .upload_ticket_attachment(bearer(stream::iter(parts), token))
            .await?;
        Ok(response
            .into_inner()
            .attachment
            .expect("an upload answers its attachment"))
    }

    /// Uploads `parts` and then keeps the stream open without sending more: the answer must
    /// come from what was sent, without waiting for the end.
    pub async fn upload_parts_open(
        &self,
        token: &str,
        parts: Vec<UploadTicketAttachmentRequest>,
    ) -> Result<TicketAttachment, Status> {
        let open = stream::iter(parts).chain(stream::pending());
        let response = self
            .tickets()
            .await
            .upload_ticket_attachment(bearer(open, token))
            .await?;
        Ok(response
            .into_inner()
            .attachment
            .expect("an upload answers its attachment"))
    }

    /// Uploads `content` as `file_name` in chunks of 1 MiB.
    pub async fn upload(
        &self,
        token: &str,
        file_name: &str,
        content_type: &str,
        content: &[u8],
    ) -> Result<TicketAttachment, Status> {
        let parts = file_parts(file_name, content_type, content, 1024 * 1024);
        self.upload_parts(token, parts).await
    }

    /// A token of a new agent `login` of the group `group_id` (none when empty).
    pub async fn agent_token(&self, login: &str, group_id: &str) -> String {
        let groups: Vec<String> = [group_id]
            .into_iter()
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
            .collect();
        self.token(&self.agent(login, &groups).await)
    }

    /// Adds an internal comment to ticket `id` with the uploads `attachment_ids`; the message.
    pub async fn comment_with(
        &self,
        token: &str,
        id: &str,
        attachment_ids: &[&str],
    ) -> Result<TicketMessage, Status> {
        let request = AddCommentRequest {
            ticket_id: id.into(),
            body: "첨부 파일 확인 부탁드립니다".into(),
            attachment_ids: attachment_ids.iter().map(|id| id.to_string()).collect(),
            ..Default::default()
        };
        let response = self
            .tickets()
            .await
            .add_comment(bearer(request, token))
            .await?;
        Ok(response
            .into_inner()
            .message
            .expect("a comment answers its message"))
    }

    /// Downloads the attachment `download_ref`, the whole stream.
    pub async fn download(&self, token: &str, download_ref: &str) -> Result<Downloaded, Status> {
        let request = DownloadTicketAttachmentRequest {
            download_ref: download_ref.into(),
        };
        let mut stream = self
            .tickets()
            .await
            .download_ticket_attachment(bearer(request, token))
            .await?
            .into_inner();
        let mut attachment = None;
        let mut chunks = Vec::new();
        while let Some(message) = stream.message().await? {
            match message.part {
                Some(DownloadPart::Attachment(first)) => {
                    assert!(attachment.is_none(), "the metadata comes once");
                    assert!(chunks.is_empty(), "the metadata comes first");
                    attachment = Some(first);
                }
                Some(DownloadPart::Chunk(bytes)) => chunks.push(bytes),
                None => panic!("a download message carries a part"),
            }
        }
        Ok(Downloaded {
            attachment: attachment.expect("a download starts with the metadata"),
            chunks,
        })
    }

    /// Ingests a help-center inquiry with `attachments`, as mail-ingest.
    pub async fn ingest_files(
        &self,
        attachments: Vec<IngestAttachment>,
    ) -> Result<IngestTicketMessageResponse, Status> {
        let request = bearer(help_center(attachments), &self.ingest_key);
        let response = self.ingest().await.ingest_ticket_message(request).await?;
        Ok(response.into_inner())
    }

    /// The number of stored contents.
    pub async fn blob_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM blobs")
            .fetch_one(&self.pool)
            .await
            .expect("count blobs")
    }

    /// Makes every upload older than their 24 hours.
    pub async fn expire_uploads(&self) {
        sqlx::query("UPDATE uploads SET create_time = now() - interval '25 hours'")
            .execute(&self.pool)
            .await
            .expect("age the uploads");
    }
}
