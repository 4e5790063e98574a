//! The trigger engine (docs/product.md §4): ordered business rules evaluated on every ticket
//! change, business-hours schedules, distribution within groups and notifications. It reads
//! ticket change events and hands each run's result to the ticket service, which applies it at
//! the ticket version it was computed from.

pub mod config;
mod dry_run;
pub mod eval;
pub mod hours;
mod mesh;
mod rules;
mod runner;
#[cfg(feature = "testing")]
pub mod testing;
mod triggers;

use std::{net::SocketAddr, time::Duration};

use chrono_tz::Tz;
use sqlx::migrate::Migrator;
use switchboard_platform::{
    db,
    events::{ConsumerConfig, EventConsumer},
    grpc::{GrpcServer, RunningServer},
    principal::PrincipalKey,
    service::{ConsumedQueue, Service, ServiceContext, ServiceSpec, Tasks},
};
use switchboard_proto::trigger::v1::{
    business_hours_service_server::BusinessHoursServiceServer,
    trigger_service_server::TriggerServiceServer,
};
use tokio::net::TcpListener;

pub use config::TriggerEngineSettings;

use crate::{
    dry_run::DryRun,
    hours::BusinessHoursApi,
    mesh::Mesh,
    rules::RulesCache,
    runner::{TicketEvents, world::World},
    triggers::{TriggerServer, api::TriggerApi},
};

/// The trigger engine's tables.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The trigger engine, bound and ready to run.
pub struct Application {
    server: RunningServer,
    events: EventConsumer<TicketEvents>,
    pool: sqlx::PgPool,
}

impl Service for Application {
    const SPEC: ServiceSpec = ServiceSpec {
        name: "trigger-engine",
        schema: "trigger_engine",
        packages: &["switchboard.trigger.v1"],
        migrator: Some(&MIGRATOR),
        default_port: 50063,
        production_keys: &[],
        queues: &[ConsumedQueue {
            name: runner::QUEUE,
            bindings: &runner::BINDINGS,
        }],
    };

    type Settings = TriggerEngineSettings;

    async fn build(
        listener: TcpListener,
        context: ServiceContext<TriggerEngineSettings>,
    ) -> anyhow::Result<Self> {
        let platform = &context.platform;
        let settings = &context.settings;
        let zone: Tz = platform
            .time_zone
            .parse()
            .map_err(|e| anyhow::anyhow!("time_zone {:?}: {e}", platform.time_zone))?;
        let pool = db::connect(&platform.database, &context.schema).await?;
        let mesh_key = PrincipalKey::from_config(&platform.principal)?;
        let mesh = Mesh::new(
            context.peer_url("ticket")?,
            context.peer_url("gateway")?,
            mesh_key.clone(),
        )?;
        let world = World::new(mesh, Duration::from_millis(settings.directory_max_age_ms));
        let rules = RulesCache::new(pool.clone(), zone);
        let triggers = TriggerServer {
            api: TriggerApi { pool: pool.clone() },
            dry_run: DryRun {
                pool: pool.clone(),
                rules: rules.clone(),
                world: world.clone(),
            },
        };
        let hours = BusinessHoursApi {
            pool: pool.clone(),
            default_zone: zone,
        };
        let server = GrpcServer::new(Self::SPEC.name, platform.grpc.clone())
            .verify_principals(mesh_key)
            .add_service(TriggerServiceServer::new(triggers))
            .add_service(BusinessHoursServiceServer::new(hours))
            .serve_on(listener)
            .await?;
        let mut config = ConsumerConfig::new(runner::QUEUE, &runner::BINDINGS);
        config.workers = settings.workers.max(1);
        let handler = TicketEvents {
            pool: pool.clone(),
            rules,
            world,
            apply_attempts: settings.apply_attempts,
        };
        let events = EventConsumer::new(pool.clone(), platform.amqp.clone(), config, handler);
        if let Err(error) = events.declare().await {
            tracing::warn!(%error, queue = runner::QUEUE, "cannot declare the queue yet");
        }
        Ok(Self {
            server,
            events,
            pool,
        })
    }

    fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    fn tasks(self) -> Tasks {
        Tasks::new()
            .add("grpc server", |shutdown| {
                self.server.run_until_stopped(shutdown)
            })
            .add(runner::QUEUE, |shutdown| self.events.run(shutdown))
            .add("round-robin step pruning", |shutdown| {
                runner::prune_steps(self.pool, shutdown)
            })
    }
}
