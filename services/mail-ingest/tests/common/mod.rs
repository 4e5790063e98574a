//! A gateway with the ticket service and mail-ingest behind it, each started as production
//! starts them (fresh schemas, a RabbitMQ virtual host of the test's own). Every call goes
//! through the gateway with a real credential.

#![allow(dead_code)] // each test file uses part of it

use std::time::Duration;

use sqlx::PgPool;
use switchboard_gateway::Upstream;
pub use switchboard_gateway::testing::{ADMIN, Harness, bearer};
use switchboard_mail_ingest::MailIngestSettings;
use switchboard_platform::testing::{self, Started};
use switchboard_proto::{
    inbound::v1::{
        SubmitRawEmailRequest, SubmitRawEmailResponse, inbound_service_client::InboundServiceClient,
    },
    ticket::v1::{
        CreateMailAccountRequest, GetTicketRequest, ListTicketMessagesRequest, MailAccount,
        MailTlsMode, SmtpSettings, Ticket, TicketMessage,
        mail_account_service_client::MailAccountServiceClient,
        ticket_service_client::TicketServiceClient,
    },
};
use tonic::{Status, transport::Channel};

pub struct Mesh {
    pub gateway: Harness,
    /// mail-ingest's own schema.
    pub pool: PgPool,
    /// An API key with `mail:submit`, `inquiries:submit` and `channels:submit`, as an MTA and
    /// the connectors hold.
    pub submit_key: String,
    ticket: Started,
    mail_ingest: Started,
}

impl Mesh {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// The mesh with mail-ingest's settings adjusted by `tune`.
    pub async fn start_with(tune: impl FnOnce(&mut MailIngestSettings)) -> Self {
        Self::start_after(tune, async |_| {}).await
    }

    /// The mesh, with `before` run once mail-ingest is migrated (its queues declared) but
    /// before it first starts, as after `switchboard migrate` on a fresh install.
    pub async fn start_after(
        tune: impl FnOnce(&mut MailIngestSettings),
        before: impl AsyncFnOnce(&Harness),
    ) -> Self {
        let ticket_listener = testing::free_listener().await;
        let ticket_addr = ticket_listener.local_addr().unwrap();
        let inbound_listener = testing::free_listener().await;
        let inbound_addr = inbound_listener.local_addr().unwrap();
        let upstreams = vec![
            Upstream {
                package: "switchboard.ticket.v1".into(),
                service: "ticket".into(),
                url: format!("http://{ticket_addr}"),
            },
            Upstream {
                package: "switchboard.inbound.v1".into(),
                service: "mail-ingest".into(),
                url: format!("http://{inbound_addr}"),
            },
        ];
        let gateway = Harness::start(upstreams).await;
        let ticket = switchboard_ticket::testing::start(
            ticket_listener,
            gateway.addr,
            &gateway.amqp,
            |_| {},
        )
        .await;
        let (context, pool) = switchboard_mail_ingest::testing::prepare(
            gateway.addr,
            ticket_addr,
            &gateway.amqp,
            tune,
        )
        .await;
        before(&gateway).await;
        let mail_ingest =
            Started::build::<switchboard_mail_ingest::Application>(inbound_listener, context, pool)
                .await;
        let (_, submit_key) = gateway
            .create_api_key(
                "mta",
                &["mail:submit", "inquiries:submit", "channels:submit"],
            )
            .await;
        Self {
            gateway,
            pool: mail_ingest.pool.clone(),
            submit_key,
            ticket,
            mail_ingest,
        }
    }

    pub fn admin(&self) -> String {
        self.gateway.token(ADMIN)
    }

    pub async fn inbound(&self) -> InboundServiceClient<Channel> {
        InboundServiceClient::new(self.gateway.channel().await)
            .max_encoding_message_size(64 * 1024 * 1024)
    }

    pub async fn tickets(&self) -> TicketServiceClient<Channel> {
        TicketServiceClient::new(self.gateway.channel().await)
    }

    /// Another mail-ingest replica over the same schema (not behind the gateway, which calls
    /// the first); `tune` adjusts its settings.
    pub async fn replica(&self, tune: impl FnOnce(&mut MailIngestSettings)) -> Started {
        switchboard_mail_ingest::testing::replica(
            testing::free_listener().await,
            &self.mail_ingest.schema,
            self.pool.clone(),
            self.gateway.addr,
            self.ticket.addr,
            &self.gateway.amqp,
            tune,
        )
        .await
    }

    /// Stops the first mail-ingest replica, keeping the schema, and keeps `other` (a
    /// [`Mesh::replica`]) in its place, stopped with the mesh. The gateway still calls the
    /// stopped one: read the schema after this.
    pub async fn replace_mail_ingest(&mut self, other: Started) {
        let first = std::mem::replace(&mut self.mail_ingest, other);
        first
            .stop_keeping_schema()
            .await
            .unwrap_or_else(|failure| panic!("the first mail-ingest replica failed: {failure}"));
    }

    /// A receiving account created by the admin, once mail-ingest has its announcement.
    pub async fn account(&self, address: &str) -> String {
        self.account_with(MailAccount {
            address: address.into(),
            display_name: "고객센터".into(),
            smtp: Some(SmtpSettings {
                host: "smtp.example.co.kr".into(),
                tls_mode: MailTlsMode::Starttls as i32,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
    }

    /// `account` created by the admin, once mail-ingest has its announcement.
    pub async fn account_with(&self, account: MailAccount) -> String {
        let address = account.address.clone();
        let request = CreateMailAccountRequest {
            request_id: String::new(),
            mail_account: Some(account),
        };
        let id = MailAccountServiceClient::new(self.gateway.channel().await)
            .create_mail_account(bearer(request, &self.admin()))
            .await
            .expect("the admin creates a mail account")
            .into_inner()
            .mail_account
            .unwrap()
            .id;
        let known = testing::eventually(Duration::from_secs(15), || async {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM mail_accounts WHERE id = $1::uuid")
                .bind(&id)
                .fetch_one(&self.pool)
                .await
                .unwrap()
                == 1
        })
        .await;
        assert!(known, "mail-ingest never learnt of the account {address}");
        id
    }

    /// Submits `raw` for `account` as the MTA.
    pub async fn submit(
        &self,
        account: &str,
        raw: &[u8],
    ) -> Result<SubmitRawEmailResponse, Status> {
        self.submit_request(SubmitRawEmailRequest {
            raw: raw.to_vec(),
            mail_account_id: account.into(),
            ..Default::default()
        })
        .await
    }

    pub async fn submit_request(
        &self,
        request: SubmitRawEmailRequest,
    ) -> Result<SubmitRawEmailResponse, Status> {
        self.inbound()
            .await
            .submit_raw_email(bearer(request, &self.submit_key))
            .await
            .map(|r| r.into_inner())
    }

    pub async fn ticket(&self, id: &str) -> Ticket {
        self.tickets()
            .await
            .get_ticket(bearer(
                GetTicketRequest {
                    ticket_id: id.into(),
                },
                &self.admin(),
            ))
            .await
            .expect("the admin gets the ticket")
            .into_inner()
            .ticket
            .unwrap()
    }

    /// The ticket's conversation, oldest first.
    pub async fn messages(&self, ticket_id: &str) -> Vec<TicketMessage> {
        self.tickets()
            .await
            .list_ticket_messages(bearer(
                ListTicketMessagesRequest {
                    ticket_id: ticket_id.into(),
                    ..Default::default()
                },
                &self.admin(),
            ))
            .await
            .expect("the admin lists the messages")
            .into_inner()
            .messages
    }

    /// An agent in a new group who takes the ticket and replies to it, solving it.
    pub async fn reply_as_agent(&self, ticket_id: &str, body: &str) {
        use switchboard_proto::ticket::v1::{
            ReplyDisposition, ReplyTicketRequest, TakeTicketRequest,
        };
        let login = format!("agent-{}", uuid::Uuid::now_v7().simple());
        let group = self.gateway.create_group(&format!("group-{login}")).await;
        self.gateway
            .create_agent(
                &login,
                switchboard_proto::gateway::v1::AgentRole::Agent,
                &[],
                std::slice::from_ref(&group.id),
            )
            .await;
        let token = self.gateway.token(&login);
        let mut tickets = self.tickets().await;
        tickets
            .take_ticket(bearer(
                TakeTicketRequest {
                    ticket_id: ticket_id.into(),
                    group_id: String::new(),
                },
                &token,
            ))
            .await
            .expect("the agent takes the ticket");
        tickets
            .reply_ticket(bearer(
                ReplyTicketRequest {
                    ticket_id: ticket_id.into(),
                    disposition: ReplyDisposition::Solve as i32,
                    body: body.into(),
                    ..Default::default()
                },
                &token,
            ))
            .await
            .expect("the agent replies");
    }

    pub async fn stop(self) {
        let stopped = [self.mail_ingest.stop().await, self.ticket.stop().await];
        self.gateway.stop().await;
        for result in stopped {
            result.unwrap_or_else(|failure| panic!("a service failed: {failure}"));
        }
    }
}

/// A plain UTF-8 mail.
pub fn mail(from: &str, message_id: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: help@center.example\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Tue, 1 Dec 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}
