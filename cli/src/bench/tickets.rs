//! `switchboard bench tickets`: tickets created by an admin through the gateway of a running mesh
//! (`CreateTicket` with an internal first message), closed loop, against this machine's raw
//! PostgreSQL single-row insert rate of a comparable row at the same concurrency.

use std::sync::Arc;

use switchboard_gateway::GatewaySettings;
use switchboard_proto::{
    gateway::v1::{
        CreateGroupRequest, DeleteGroupRequest, Group,
        directory_service_client::DirectoryServiceClient,
    },
    ticket::v1::{
        CreateTicketRequest, CreateTicketResponse, Ticket, TicketRequester,
        ticket_service_client::TicketServiceClient,
    },
};
use tonic::{
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};

use super::{
    callbacks::{Load, RawRow, measure},
    ivr::{self, authorized},
};
use crate::config::{Config, RoleSection};

/// The first message of every ticket: a customer's inquiry taken down by the agent.
const BODY: &str = "고객이 전화로 환불을 문의했습니다. 지난주에 주문한 상품이 파손된 상태로 배송되어 \
    교환 대신 전액 환불을 원하며, 주문 번호와 사진은 메일로 보내 주겠다고 합니다. \
    처리 결과를 문자로 안내해 달라고 요청했습니다.";

/// The subject of ticket `sequence` of `worker`: distinct in a run.
fn subject(worker: usize, sequence: u64) -> String {
    format!("환불 문의 #{worker}-{sequence}")
}

fn requester(worker: usize, sequence: u64) -> TicketRequester {
    TicketRequester {
        name: format!("고객 {worker}-{sequence}"),
        email: format!("customer-{worker}-{sequence}@example.com"),
        ..Default::default()
    }
}

/// The raw row of a ticket: its subject, requester and body (the ticket's own columns, without
/// the message, history and outbox rows a ticket also writes).
const TICKET_ROW: RawRow = RawRow {
    columns: &["subject", "requester_name", "requester_email", "body"],
    values: |worker, seq| {
        let requester = requester(worker, seq);
        vec![
            subject(worker, seq),
            requester.name,
            requester.email,
            BODY.to_owned(),
        ]
    },
};

/// An admin's connections to the gateway and the group of one run.
#[derive(Clone)]
struct Desk {
    bearer: Arc<MetadataValue<Ascii>>,
    group_id: Arc<str>,
    clients: Arc<Vec<TicketServiceClient<Channel>>>,
}

impl Desk {
    /// Ticket `sequence` of `worker`: a fresh `request_id`, no template, not sent.
    async fn create(
        &self,
        worker: usize,
        sequence: u64,
    ) -> Result<CreateTicketResponse, tonic::Status> {
        let mut client = self.clients[worker % self.clients.len()].clone();
        let request = authorized(
            CreateTicketRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                ticket: Some(Ticket {
                    subject: subject(worker, sequence),
                    group_id: self.group_id.to_string(),
                    requester: Some(requester(worker, sequence)),
                    ..Default::default()
                }),
                body: BODY.into(),
                send_to_requester: false,
                ..Default::default()
            },
            &self.bearer,
        );
        client
            .create_ticket(request)
            .await
            .map(tonic::Response::into_inner)
    }
}

/// Runs the benchmark and prints its figures; the last line is the summary.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub async fn run(config: &Config, gateway: &str, admin: &str, load: Load) -> anyhow::Result<()> {
    let run = ivr::run_id();
    let settings = config
        .section::<RoleSection<GatewaySettings>>("gateway")?
        .settings;
    let (channel, bearer) = ivr::sign_in(&settings, gateway, admin).await?;
    let mut directory = DirectoryServiceClient::new(channel.clone());
    let group_id = directory
        .create_group(authorized(
            CreateGroupRequest {
                group: Some(Group {
                    display_name: format!("bench-tickets-{run}"),
                    description: "switchboard bench tickets".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &bearer,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("creating the benchmark's group as {admin:?}: {s}"))?
        .into_inner()
        .group
        .map(|g| g.id)
        .unwrap_or_default();
    let desk = Desk {
        bearer: Arc::new(bearer.clone()),
        group_id: group_id.as_str().into(),
        clients: Arc::new(
            ivr::spread(gateway, channel)
                .await?
                .into_iter()
                .map(TicketServiceClient::new)
                .collect(),
        ),
    };

    println!(
        "ticket creation: CreateTicket through {gateway} as {admin:?} into group bench-tickets-{run}, closed loop, concurrency {}, {} s each (after {} s warm-up)",
        load.concurrency,
        load.duration.as_secs(),
        load.warmup.as_secs()
    );
    let measured = measure(
        config,
        &run,
        "tickets",
        &TICKET_ROW,
        load,
        move |worker, seq| {
            let desk = desk.clone();
            async move { desk.create(worker, seq).await }
        },
    )
    .await;

    // The group goes; the tickets keep its name (`group_display_name`).
    if let Err(status) = directory
        .delete_group(authorized(DeleteGroupRequest { id: group_id }, &bearer))
        .await
    {
        eprintln!("note: the benchmark's group bench-tickets-{run} was not deleted: {status}");
    }
    measured
}
