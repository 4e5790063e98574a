//! The services the engine calls, as its own service principal: the ticket service (scopes
//! `tickets:automate` to apply runs and count open tickets, `tickets:read` for `TestTriggers`)
//! and the gateway's directory and presence (`directory:read`, `presence:read`).

use std::{collections::HashMap, time::Duration};

use switchboard_platform::{directory::Directory, grpc::MeshInterceptor, principal::PrincipalKey};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    ticket::v1::{
        ApplyTriggerRunRequest, ApplyTriggerRunResponse, CountOpenTicketsRequest, GetTicketRequest,
        ListTicketMessagesRequest, Ticket, TicketMessage, TicketMessageKind,
        ticket_automation_service_client::TicketAutomationServiceClient,
        ticket_service_client::TicketServiceClient,
    },
};
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};

type Client = InterceptedService<Channel, MeshInterceptor>;

/// The engine's name as a caller.
const SUBJECT: &str = "trigger-engine";

#[derive(Clone)]
pub struct Mesh {
    automation: TicketAutomationServiceClient<Client>,
    tickets: TicketServiceClient<Client>,
    pub directory: Directory,
}

/// Whether a failed call is the callee's absence (retry later) rather than an answer.
pub fn is_unreachable(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::DeadlineExceeded | Code::Unknown | Code::Cancelled
    )
}

impl Mesh {
    /// Clients of the ticket service at `ticket_url` and the gateway at `gateway_url`,
    /// connecting when first used.
    pub fn new(ticket_url: &str, gateway_url: &str, key: PrincipalKey) -> anyhow::Result<Self> {
        let channel = tonic::transport::Endpoint::from_shared(ticket_url.to_owned())?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(15))
            .connect_lazy();
        let principal = Principal {
            subject: SUBJECT.into(),
            kind: PrincipalKind::Service as i32,
            scopes: vec!["tickets:automate".into(), "tickets:read".into()],
            display_name: "trigger engine".into(),
            ..Default::default()
        };
        let interceptor =
            MeshInterceptor::with_principal(key.clone(), principal, Duration::from_secs(60));
        let client = InterceptedService::new(channel, interceptor);
        Ok(Self {
            automation: TicketAutomationServiceClient::new(client.clone()),
            tickets: TicketServiceClient::new(client),
            directory: Directory::new(gateway_url, key, SUBJECT, "trigger engine")?,
        })
    }

    /// Hands a run to the ticket service.
    pub async fn apply(
        &self,
        request: ApplyTriggerRunRequest,
    ) -> Result<ApplyTriggerRunResponse, Status> {
        Ok(self
            .automation
            .clone()
            .apply_trigger_run(request)
            .await?
            .into_inner())
    }

    /// The open tickets of each of `logins` (0 included).
    pub async fn open_tickets(&self, logins: &[String]) -> Result<HashMap<String, i32>, Status> {
        let mut counts = HashMap::new();
        for chunk in logins.chunks(1_000) {
            let response = self
                .automation
                .clone()
                .count_open_tickets(CountOpenTicketsRequest {
                    agent_logins: chunk.to_vec(),
                })
                .await?
                .into_inner();
            counts.extend(response.open_tickets);
        }
        Ok(counts)
    }

    /// The ticket as it is now.
    pub async fn ticket(&self, ticket_id: &str) -> Result<Ticket, Status> {
        self.tickets
            .clone()
            .get_ticket(GetTicketRequest {
                ticket_id: ticket_id.into(),
            })
            .await?
            .into_inner()
            .ticket
            .ok_or_else(|| Status::internal("GetTicket answered without a ticket"))
    }

    /// The ticket's latest customer message, if it has one.
    pub async fn latest_customer_message(
        &self,
        ticket_id: &str,
    ) -> Result<Option<TicketMessage>, Status> {
        let mut request = ListTicketMessagesRequest {
            ticket_id: ticket_id.into(),
            kinds: vec![TicketMessageKind::Customer as i32],
            page_size: 200,
            page_token: String::new(),
        };
        let mut latest = None;
        loop {
            let page = self
                .tickets
                .clone()
                .list_ticket_messages(request.clone())
                .await?
                .into_inner();
            // Oldest first: the last of the last page is the latest.
            if let Some(last) = page.messages.into_iter().last() {
                latest = Some(last);
            }
            if page.next_page_token.is_empty() {
                return Ok(latest);
            }
            request.page_token = page.next_page_token;
        }
    }
}
