//! The end-to-end half of `switchboard bench triggers`: customer messages ingested through the
//! gateway at a fixed rate (open loop), each matched by a trigger that distributes it by round
//! robin; the latency from the ingest call to the trigger's change committed on the ticket (its
//! `update_time`, read from the ticket service's schema after the load, so nothing polls).

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use chrono::{DateTime, Utc};
use switchboard_gateway::GatewaySettings;
use switchboard_platform::{db, service::Service};
use switchboard_proto::{
    gateway::v1::{
        Agent, AgentRole, ApiKey, CreateAgentRequest, CreateApiKeyRequest, CreateGroupRequest,
        Group, api_key_service_client::ApiKeyServiceClient,
        directory_service_client::DirectoryServiceClient,
    },
    ticket::v1::{
        IngestTicketMessageRequest, TicketChannel, TicketRequester,
        ticket_ingest_service_client::TicketIngestServiceClient,
    },
    trigger::v1::{
        Action, Condition, ConditionField, ConditionOperator, CreateTriggerRequest,
        DeleteTriggerRequest, DistributeAction, DistributionStrategy, Trigger, action,
        trigger_service_client::TriggerServiceClient,
    },
};
use tonic::{
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};

use crate::{
    bench::{
        ivr::{self, authorized},
        vacuum,
    },
    config::Config,
};

/// What the end-to-end run measured.
pub struct E2e {
    pub sent: usize,
    /// Tickets the trigger changed (every one answered, when nothing was lost).
    pub changed: usize,
    pub errors: usize,
    /// Ingest call → trigger change committed, after the warm-up, sorted, in milliseconds.
    pub latencies_ms: Vec<f64>,
    /// The ingest calls alone, after the warm-up, sorted, in milliseconds (the baseline).
    pub ingest_ms: Vec<f64>,
}

pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The run's trigger: messages whose subject carries the run's tag go round robin to the
/// group's agents.
fn trigger(run: &str, group: &str) -> Trigger {
    Trigger {
        name: format!("bench-{run}"),
        active: true,
        all_conditions: vec![Condition {
            field: ConditionField::Subject as i32,
            operator: ConditionOperator::ContainsAny as i32,
            values: vec![format!("bench{run}")],
            ..Default::default()
        }],
        actions: vec![Action {
            action: Some(action::Action::Distribute(DistributeAction {
                group_id: group.into(),
                strategy: DistributionStrategy::RoundRobin as i32,
                ..Default::default()
            })),
        }],
        ..Default::default()
    }
}

struct Setup {
    ingest_bearer: MetadataValue<Ascii>,
    trigger_id: String,
}

async fn set_up(
    channel: &Channel,
    admin: &MetadataValue<Ascii>,
    run: &str,
) -> anyhow::Result<Setup> {
    let secret = ApiKeyServiceClient::new(channel.clone())
        .create_api_key(authorized(
            CreateApiKeyRequest {
                api_key: Some(ApiKey {
                    display_name: format!("bench-triggers-{run}"),
                    scopes: vec!["tickets:ingest".into()],
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            admin,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("creating the benchmark's API key: {s}"))?
        .into_inner()
        .secret;
    let mut directory = DirectoryServiceClient::new(channel.clone());
    let group = directory
        .create_group(authorized(
            CreateGroupRequest {
                group: Some(Group {
                    display_name: format!("bench-triggers-{run}"),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            admin,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("creating the benchmark's group: {s}"))?
        .into_inner()
        .group
        .unwrap_or_default();
    for i in 0..5 {
        directory
            .create_agent(authorized(
                CreateAgentRequest {
                    agent: Some(Agent {
                        login: format!("bench{run}a{i}"),
                        display_name: format!("bench agent {i}"),
                        role: AgentRole::Agent as i32,
                        group_ids: vec![group.id.clone()],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                admin,
            ))
            .await
            .map_err(|s| anyhow::anyhow!("creating the benchmark's agents: {s}"))?;
    }
    let trigger_id = TriggerServiceClient::new(channel.clone())
        .create_trigger(authorized(
            CreateTriggerRequest {
                request_id: String::new(),
                trigger: Some(trigger(run, &group.id)),
            },
            admin,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("creating the benchmark's trigger: {s}"))?
        .into_inner()
        .trigger
        .map(|t| t.id)
        .unwrap_or_default();
    Ok(Setup {
        ingest_bearer: format!("Bearer {secret}").parse()?,
        trigger_id,
    })
}

/// One sent message: its ticket, when the ingest call started, and whether after the warm-up.
struct Sent {
    ticket_id: String,
    started: SystemTime,
    ingest_ms: f64,
    timed: bool,
}

/// Ingests at `rate` per second for `duration`, then waits for every trigger change; the
/// messages sent in the first `warmup` are not timed.
#[allow(clippy::print_stdout)] // the vacuum is part of the command's output
pub async fn run(
    config: &Config,
    settings: &GatewaySettings,
    gateway: &str,
    admin: &str,
    rate: u32,
    (duration, warmup): (Duration, Duration),
) -> anyhow::Result<E2e> {
    let schema = switchboard_ticket::Application::SPEC.schema;
    let pool = db::connect(&config.config.database, schema).await?;
    // Every schema the run writes: the ticket service's, the engine's, and the reporting
    // model's, which folds every ticket event on the same two cores.
    let schemas = [
        schema,
        switchboard_trigger_engine::Application::SPEC.schema,
        switchboard_reporting::Application::SPEC.schema,
    ];
    vacuum::when_autovacuum_is_off_say(&pool, &schemas, "e2e  ").await?;
    let run = ivr::run_id();
    let (channel, admin_bearer) = ivr::sign_in(settings, gateway, admin).await?;
    let setup = set_up(&channel, &admin_bearer, &run).await?;
    let clients: Arc<Vec<TicketIngestServiceClient<Channel>>> = Arc::new(
        ivr::spread(gateway, channel.clone())
            .await?
            .into_iter()
            .map(TicketIngestServiceClient::new)
            .collect(),
    );
    let bearer = Arc::new(setup.ingest_bearer);
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let errors = Arc::new(Mutex::new(0usize));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let begin = Instant::now();
    let end = begin + duration;
    let mut tasks = tokio::task::JoinSet::new();
    let mut sequence = 0u64;
    while Instant::now() < end {
        ticker.tick().await;
        sequence += 1;
        let (clients, bearer, sent, errors, run) = (
            clients.clone(),
            bearer.clone(),
            sent.clone(),
            errors.clone(),
            run.clone(),
        );
        tasks.spawn(async move {
            let mut client = clients[sequence as usize % clients.len()].clone();
            let request = IngestTicketMessageRequest {
                dedup_key: format!("bench:{run}:{sequence}"),
                channel: TicketChannel::HelpCenter as i32,
                requester: Some(TicketRequester {
                    name: format!("고객 {sequence}"),
                    email: format!("c{sequence}@bench.invalid"),
                    ..Default::default()
                }),
                subject: format!("bench{run} 배송 문의 {sequence}"),
                body_text: "주문한 상품이 아직 도착하지 않았습니다.".into(),
                receive_time: Some(switchboard_platform::time::timestamp(Utc::now())),
                ..Default::default()
            };
            let started = SystemTime::now();
            let clock = Instant::now();
            let timed = clock.duration_since(begin) >= warmup;
            match client
                .ingest_ticket_message(authorized(request, &bearer))
                .await
            {
                Ok(response) => sent.lock().unwrap().push(Sent {
                    ticket_id: response.into_inner().ticket_id,
                    started,
                    ingest_ms: clock.elapsed().as_secs_f64() * 1_000.0,
                    timed,
                }),
                Err(_) => *errors.lock().unwrap() += 1,
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    let errors = *errors.lock().unwrap();

    let ids: Vec<uuid::Uuid> = sent
        .iter()
        .filter_map(|s| s.ticket_id.parse().ok())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut changed: Vec<(uuid::Uuid, DateTime<Utc>)>;
    loop {
        changed = sqlx::query_as(
            "SELECT id, update_time FROM tickets WHERE id = ANY($1) AND assignee_login IS NOT NULL",
        )
        .bind(&ids)
        .fetch_all(&pool)
        .await?;
        if changed.len() == ids.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let started: std::collections::HashMap<uuid::Uuid, SystemTime> = sent
        .iter()
        .filter(|s| s.timed)
        .filter_map(|s| Some((s.ticket_id.parse().ok()?, s.started)))
        .collect();
    let mut latencies_ms: Vec<f64> = changed
        .iter()
        .filter_map(|(id, at)| {
            let started: DateTime<Utc> = (*started.get(id)?).into();
            Some((*at - started).num_microseconds()? as f64 / 1_000.0)
        })
        .collect();
    latencies_ms.sort_by(f64::total_cmp);
    let mut ingest_ms: Vec<f64> = sent
        .iter()
        .filter(|s| s.timed)
        .map(|s| s.ingest_ms)
        .collect();
    ingest_ms.sort_by(f64::total_cmp);
    let unchanged = ids.len() - changed.len();
    TriggerServiceClient::new(channel)
        .delete_trigger(authorized(
            DeleteTriggerRequest {
                trigger_id: setup.trigger_id,
            },
            &admin_bearer,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("deleting the benchmark's trigger: {s}"))?;
    Ok(E2e {
        sent: sent.len() + errors,
        changed: changed.len(),
        errors: errors + unchanged,
        latencies_ms,
        ingest_ms,
    })
}
