//! The ticket service, called over gRPC as mail-ingest's own service principal (scopes
//! `tickets:ingest`, `tickets:read`): every customer message becomes a ticket message there.

use std::time::Duration;

use switchboard_platform::{grpc::MeshInterceptor, principal::PrincipalKey};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    ticket::v1::{
        DownloadTicketAttachmentRequest, IngestTicketMessageRequest, IngestTicketMessageResponse,
        TicketAttachment, download_ticket_attachment_response::Part,
        ticket_ingest_service_client::TicketIngestServiceClient,
        ticket_service_client::TicketServiceClient,
    },
};
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};

type Mesh = InterceptedService<Channel, MeshInterceptor>;

/// The largest request sent: a 30 MiB mail's decoded parts, with room for the encoding.
const MAX_REQUEST_BYTES: usize = 41 * 1024 * 1024;

#[derive(Clone)]
pub struct Tickets {
    client: TicketIngestServiceClient<Mesh>,
    files: TicketServiceClient<Mesh>,
}

fn unreachable_tickets(status: Status) -> Status {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Unknown | Code::Cancelled => {
            tracing::warn!(%status, "ticket service call failed");
            Status::unavailable(
                "the ticket service cannot be reached; the message is stored, retry later",
            )
        }
        _ => status,
    }
}

impl Tickets {
    /// A client of the ticket service at `url`, connecting when first used.
    pub fn new(url: &str, key: PrincipalKey) -> anyhow::Result<Self> {
        let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(30))
            .connect_lazy();
        let principal = Principal {
            subject: "mail-ingest".into(),
            kind: PrincipalKind::Service as i32,
            scopes: vec!["tickets:ingest".into(), "tickets:read".into()],
            display_name: "mail-ingest".into(),
            ..Default::default()
        };
        let interceptor = MeshInterceptor::with_principal(key, principal, Duration::from_secs(60));
        let mesh = InterceptedService::new(channel, interceptor);
        let client = TicketIngestServiceClient::new(mesh.clone())
            .max_encoding_message_size(MAX_REQUEST_BYTES);
        let files = TicketServiceClient::new(mesh);
        Ok(Self { client, files })
    }

    /// Hands one customer message to the ticket service. Its own refusals (INVALID_ARGUMENT,
    /// RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ...) come back as they are; a ticket service
    /// that cannot be reached is UNAVAILABLE, for the caller to retry.
    pub async fn ingest(
        &self,
        request: IngestTicketMessageRequest,
    ) -> Result<IngestTicketMessageResponse, Status> {
        self.client
            .clone()
            .ingest_ticket_message(request)
            .await
            .map(|response| response.into_inner())
            .map_err(unreachable_tickets)
    }

    /// The content of a reply's attachment, whole (at most the ticket service's attachment
    /// limit), with its metadata.
    pub async fn download(
        &self,
        attachment: &TicketAttachment,
    ) -> Result<(TicketAttachment, Vec<u8>), Status> {
        let request = DownloadTicketAttachmentRequest {
            download_ref: attachment.download_ref.clone(),
        };
        let mut stream = self
            .files
            .clone()
            .download_ticket_attachment(request)
            .await
            .map_err(unreachable_tickets)?
            .into_inner();
        let mut meta = attachment.clone();
        let mut content = Vec::with_capacity(usize::try_from(attachment.size_bytes).unwrap_or(0));
        while let Some(message) = stream.message().await.map_err(unreachable_tickets)? {
            match message.part {
                Some(Part::Attachment(given)) => meta = given,
                Some(Part::Chunk(chunk)) => content.extend_from_slice(&chunk),
                None => {}
            }
        }
        Ok((meta, content))
    }
}
