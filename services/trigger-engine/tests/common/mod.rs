//! A gateway with the ticket service and the trigger engine behind it, each started as
//! production starts them (fresh schemas, a RabbitMQ virtual host of the test's own). Every
//! client call goes through the gateway with a real credential.

#![allow(dead_code)] // each test file uses part of it

use std::time::Duration;

use sqlx::PgPool;
use switchboard_gateway::Upstream;
pub use switchboard_gateway::testing::{ADMIN, EventTap, Harness, bearer};
use switchboard_platform::testing::{self, Started};
use switchboard_proto::{
    gateway::v1::{AgentRole, Group},
    ticket::v1::{
        GetTicketRequest, IngestTicketMessageRequest, ListTicketEventsRequest,
        ListTicketMessagesRequest, MessageAutomation, Ticket, TicketChannel, TicketEvent,
        TicketMessage, TicketRequester, ticket_ingest_service_client::TicketIngestServiceClient,
        ticket_service_client::TicketServiceClient,
    },
    trigger::v1::{
        Action, Condition, CreateTriggerRequest, Trigger,
        business_hours_service_client::BusinessHoursServiceClient,
        trigger_service_client::TriggerServiceClient,
    },
};
use switchboard_trigger_engine::TriggerEngineSettings;
use tonic::transport::Channel;

pub struct Mesh {
    pub gateway: Harness,
    /// The trigger engine's own schema.
    pub pool: PgPool,
    /// The ticket service's schema.
    pub ticket_pool: PgPool,
    /// An API key with `tickets:ingest`, as mail-ingest holds.
    pub ingest_key: String,
    ticket: Started,
    engines: Vec<Started>,
    engine_schema: String,
}

impl Mesh {
    pub async fn start() -> Self {
        Self::start_after(async |_| {}).await
    }

    /// The mesh, with `before` run once the engine is migrated (its queue declared) but before
    /// it first starts: what happens then waits in its queue.
    pub async fn start_after(before: impl AsyncFnOnce(&Mesh)) -> Self {
        let ticket_listener = testing::free_listener().await;
        let ticket_addr = ticket_listener.local_addr().unwrap();
        let engine_listener = testing::free_listener().await;
        let engine_addr = engine_listener.local_addr().unwrap();
        let upstreams = vec![
            Upstream {
                package: "switchboard.ticket.v1".into(),
                service: "ticket".into(),
                url: format!("http://{ticket_addr}"),
            },
            Upstream {
                package: "switchboard.trigger.v1".into(),
                service: "trigger-engine".into(),
                url: format!("http://{engine_addr}"),
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
        let (context, pool) = switchboard_trigger_engine::testing::prepare(
            gateway.addr,
            ticket_addr,
            &gateway.amqp,
            |_| {},
        )
        .await;
        let (_, ingest_key) = gateway
            .create_api_key("mail-ingest", &["tickets:ingest"])
            .await;
        let mut mesh = Self {
            gateway,
            pool,
            ticket_pool: ticket.pool.clone(),
            ingest_key,
            engine_schema: context.schema.clone(),
            ticket,
            engines: Vec::new(),
        };
        before(&mesh).await;
        let engine = Started::build::<switchboard_trigger_engine::Application>(
            engine_listener,
            context,
            mesh.pool.clone(),
        )
        .await;
        mesh.engines.push(engine);
        mesh
    }

    /// Another engine replica over the same schema (not behind the gateway).
    pub async fn add_replica(&mut self, tune: impl FnOnce(&mut TriggerEngineSettings)) {
        let replica = switchboard_trigger_engine::testing::replica(
            testing::free_listener().await,
            &self.engine_schema,
            self.pool.clone(),
            self.gateway.addr,
            self.ticket.addr,
            &self.gateway.amqp,
            tune,
        )
        .await;
        self.engines.push(replica);
    }

    pub fn admin(&self) -> String {
        self.gateway.token(ADMIN)
    }

    pub async fn triggers(&self) -> TriggerServiceClient<Channel> {
        TriggerServiceClient::new(self.gateway.channel().await)
    }

    pub async fn business_hours(&self) -> BusinessHoursServiceClient<Channel> {
        BusinessHoursServiceClient::new(self.gateway.channel().await)
    }

    pub async fn tickets(&self) -> TicketServiceClient<Channel> {
        TicketServiceClient::new(self.gateway.channel().await)
    }

    pub async fn group(&self, name: &str) -> Group {
        self.gateway.create_group(name).await
    }

    /// An agent in `groups`; returns their login.
    pub async fn agent(&self, login: &str, groups: &[String]) -> String {
        self.gateway
            .create_agent(login, AgentRole::Agent, &[], groups)
            .await
            .login
    }

    /// Creates an active trigger as the admin, last in the list.
    pub async fn trigger(&self, name: &str, all: Vec<Condition>, actions: Vec<Action>) -> Trigger {
        self.trigger_with(Trigger {
            name: name.into(),
            active: true,
            all_conditions: all,
            actions,
            ..Default::default()
        })
        .await
    }

    pub async fn trigger_with(&self, trigger: Trigger) -> Trigger {
        self.triggers()
            .await
            .create_trigger(bearer(
                CreateTriggerRequest {
                    request_id: String::new(),
                    trigger: Some(trigger),
                },
                &self.admin(),
            ))
            .await
            .expect("the admin creates a trigger")
            .into_inner()
            .trigger
            .unwrap()
    }

    /// A customer's e-mail made into a ticket, as mail-ingest hands it over.
    pub async fn ingest(&self, subject: &str, body: &str, email: &str) -> Ticket {
        self.ingest_as(subject, body, email, MessageAutomation::Human)
            .await
    }

    pub async fn ingest_as(
        &self,
        subject: &str,
        body: &str,
        email: &str,
        automation: MessageAutomation,
    ) -> Ticket {
        let request = IngestTicketMessageRequest {
            dedup_key: format!("test:{}", testing::unique_id()),
            channel: TicketChannel::HelpCenter as i32,
            requester: Some(TicketRequester {
                name: "김민수".into(),
                email: email.into(),
                ..Default::default()
            }),
            subject: subject.into(),
            body_text: body.into(),
            automation: automation as i32,
            receive_time: Some(switchboard_platform::time::timestamp(chrono::Utc::now())),
            ..Default::default()
        };
        let id = TicketIngestServiceClient::new(self.gateway.channel().await)
            .ingest_ticket_message(bearer(request, &self.ingest_key))
            .await
            .expect("the ticket service ingests the message")
            .into_inner()
            .ticket_id;
        self.ticket(&id).await
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
            .expect("the admin reads the ticket")
            .into_inner()
            .ticket
            .unwrap()
    }

    /// Waits until the ticket satisfies `check`; returns it, or fails saying `what`.
    pub async fn ticket_when(
        &self,
        id: &str,
        what: &str,
        check: impl Fn(&Ticket) -> bool,
    ) -> Ticket {
        let reached = testing::eventually(Duration::from_secs(20), || async {
            check(&self.ticket(id).await)
        })
        .await;
        let ticket = self.ticket(id).await;
        assert!(reached, "ticket {} never {what}: {ticket:?}", ticket.number);
        ticket
    }

    pub async fn history(&self, id: &str) -> Vec<TicketEvent> {
        self.tickets()
            .await
            .list_ticket_events(bearer(
                ListTicketEventsRequest {
                    ticket_id: id.into(),
                    page_size: 200,
                    ..Default::default()
                },
                &self.admin(),
            ))
            .await
            .expect("the admin reads the history")
            .into_inner()
            .events
    }

    pub async fn messages(&self, id: &str) -> Vec<TicketMessage> {
        self.tickets()
            .await
            .list_ticket_messages(bearer(
                ListTicketMessagesRequest {
                    ticket_id: id.into(),
                    page_size: 200,
                    ..Default::default()
                },
                &self.admin(),
            ))
            .await
            .expect("the admin reads the messages")
            .into_inner()
            .messages
    }

    pub async fn stop(self) {
        let mut failures = Vec::new();
        let mut engines = self.engines.into_iter();
        let owner = engines.next();
        for replica in engines {
            failures.extend(replica.stop_keeping_schema().await.err());
        }
        if let Some(owner) = owner {
            failures.extend(owner.stop().await.err());
        }
        failures.extend(self.ticket.stop().await.err());
        self.gateway.stop().await;
        assert!(failures.is_empty(), "a service failed: {failures:?}");
    }
}

/// Building blocks of triggers, as an admin writes them.
pub mod rules {
    use switchboard_proto::{
        ticket::v1::TicketPriority,
        trigger::v1::{
            Action, AddTagsAction, AssignAgentAction, AssignGroupAction, Condition, ConditionField,
            ConditionOperator, DistributeAction, DistributionStrategy, NotificationRecipient,
            SendNotificationAction, SetPriorityAction, UpdateType, action,
        },
    };

    pub fn created() -> Condition {
        Condition {
            field: ConditionField::UpdateType as i32,
            operator: ConditionOperator::Is as i32,
            update_type: UpdateType::Created as i32,
            ..Default::default()
        }
    }

    pub fn subject_contains(words: &[&str]) -> Condition {
        Condition {
            field: ConditionField::Subject as i32,
            operator: ConditionOperator::ContainsAny as i32,
            values: words.iter().map(|w| w.to_string()).collect(),
            ..Default::default()
        }
    }

    pub fn unassigned() -> Condition {
        Condition {
            field: ConditionField::Assignee as i32,
            operator: ConditionOperator::IsNotSet as i32,
            ..Default::default()
        }
    }

    pub fn has_tag(tag: &str) -> Condition {
        Condition {
            field: ConditionField::Tags as i32,
            operator: ConditionOperator::ContainsAny as i32,
            values: vec![tag.into()],
            ..Default::default()
        }
    }

    pub fn assign_agent(login: &str, group: &str) -> Action {
        Action {
            action: Some(action::Action::AssignAgent(AssignAgentAction {
                agent_login: login.into(),
                group_id: group.into(),
            })),
        }
    }

    pub fn assign_group(group: &str) -> Action {
        Action {
            action: Some(action::Action::AssignGroup(AssignGroupAction {
                group_id: group.into(),
            })),
        }
    }

    pub fn distribute(group: &str, strategy: DistributionStrategy, present_only: bool) -> Action {
        Action {
            action: Some(action::Action::Distribute(DistributeAction {
                group_id: group.into(),
                strategy: strategy as i32,
                only_present_agents: present_only,
                ..Default::default()
            })),
        }
    }

    pub fn priority(priority: TicketPriority) -> Action {
        Action {
            action: Some(action::Action::SetPriority(SetPriorityAction {
                priority: priority as i32,
            })),
        }
    }

    pub fn add_tag(tag: &str) -> Action {
        Action {
            action: Some(action::Action::AddTags(AddTagsAction {
                tags: vec![tag.into()],
            })),
        }
    }

    pub fn notify_requester(template: &str) -> Action {
        Action {
            action: Some(action::Action::SendNotification(SendNotificationAction {
                template_id: template.into(),
                recipient: NotificationRecipient::Requester as i32,
                email_addresses: Vec::new(),
            })),
        }
    }
}

impl Mesh {
    /// Stops every engine replica, keeping the schema: events wait in the queue.
    pub async fn pause_engines(&mut self) {
        for engine in self.engines.drain(..) {
            engine
                .stop_keeping_schema()
                .await
                .unwrap_or_else(|failure| panic!("an engine replica failed: {failure}"));
        }
    }

    /// Starts `count` engine replicas over the schema again.
    pub async fn resume_engines(
        &mut self,
        schema: &str,
        count: usize,
        tune: impl Fn(&mut TriggerEngineSettings),
    ) {
        for _ in 0..count {
            let replica = switchboard_trigger_engine::testing::replica(
                testing::free_listener().await,
                schema,
                self.pool.clone(),
                self.gateway.addr,
                self.ticket.addr,
                &self.gateway.amqp,
                &tune,
            )
            .await;
            self.engines.push(replica);
        }
    }

    /// The engine's schema.
    pub fn schema(&self) -> String {
        self.engine_schema.clone()
    }

    /// An acknowledgement template (접수 확인) created by the admin, with the reply account
    /// notifications are sent from.
    pub async fn template(&self) -> String {
        use switchboard_proto::ticket::v1::{
            CreateMailAccountRequest, MailAccount, MailTlsMode, SmtpSettings,
            mail_account_service_client::MailAccountServiceClient,
        };
        MailAccountServiceClient::new(self.gateway.channel().await)
            .create_mail_account(bearer(
                CreateMailAccountRequest {
                    request_id: String::new(),
                    mail_account: Some(MailAccount {
                        address: format!("help-{}@example.co.kr", testing::unique_id()),
                        display_name: "고객센터".into(),
                        smtp: Some(SmtpSettings {
                            host: "smtp.example.co.kr".into(),
                            tls_mode: MailTlsMode::Starttls as i32,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                },
                &self.admin(),
            ))
            .await
            .expect("the admin creates the reply account");
        use switchboard_proto::ticket::v1::{
            CreateTemplateRequest, Template, template_service_client::TemplateServiceClient,
        };
        TemplateServiceClient::new(self.gateway.channel().await)
            .create_template(bearer(
                CreateTemplateRequest {
                    request_id: String::new(),
                    template: Some(Template {
                        name: format!("접수 확인 {}", testing::unique_id()),
                        subject: "문의가 접수되었습니다".into(),
                        body: "{{ requester.name }}님, 문의가 접수되었습니다.".into(),
                        ..Default::default()
                    }),
                },
                &self.admin(),
            ))
            .await
            .expect("the admin creates a template")
            .into_inner()
            .template
            .unwrap()
            .id
    }

    /// An agent takes the ticket.
    pub async fn take(&self, login: &str, ticket_id: &str, group: &str) -> Ticket {
        use switchboard_proto::ticket::v1::TakeTicketRequest;
        self.tickets()
            .await
            .take_ticket(bearer(
                TakeTicketRequest {
                    ticket_id: ticket_id.into(),
                    group_id: group.into(),
                },
                &self.gateway.token(login),
            ))
            .await
            .expect("the agent takes the ticket")
            .into_inner()
            .ticket
            .unwrap()
    }
}
