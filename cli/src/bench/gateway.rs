//! `switchboard bench gateway`: the gateway's overhead. One cheap call (a reporting status read
//! answered by an in-process no-op service) is made straight to the service, as a Switchboard
//! service would with its signed principal, and then through a gateway, with an API key, as an
//! internal system would; same concurrency, same duration, same run.

use std::{sync::Arc, time::Duration};

use switchboard_gateway::{Gateway, GatewaySettings};
use switchboard_platform::{
    Shutdown,
    config::{GrpcConfig, PrincipalConfig},
    db,
    grpc::{GrpcServer, MeshInterceptor},
    principal::PrincipalKey,
    service::{Peer, Service},
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    gateway::v1::{ApiKey, CreateApiKeyRequest, api_key_service_client::ApiKeyServiceClient},
    reporting::v1::{
        reporting_service_client::ReportingServiceClient,
        reporting_service_server::{ReportingService, ReportingServiceServer},
        *,
    },
};
use tonic::{Request, Response, Status, metadata::MetadataValue};

use super::{connect, in_process, print_line, run_closed_loop};
use crate::config::{Config, RoleSection};

/// The schema the benchmark's gateway uses; dropped when it ends.
const SCHEMA: &str = "bench_gateway";

/// A reporting service that answers the status read at once.
#[derive(Clone, Copy)]
struct Noop;

#[tonic::async_trait]
impl ReportingService for Noop {
    async fn get_callback_processing_status(
        &self,
        _: Request<GetCallbackProcessingStatusRequest>,
    ) -> Result<Response<GetCallbackProcessingStatusResponse>, Status> {
        Err(Status::unimplemented("no-op service"))
    }

    type ExportCallbackProcessingStatusStream =
        tokio_stream::Empty<Result<ExportCallbackProcessingStatusResponse, Status>>;

    async fn export_callback_processing_status(
        &self,
        _: Request<ExportCallbackProcessingStatusRequest>,
    ) -> Result<Response<Self::ExportCallbackProcessingStatusStream>, Status> {
        Err(Status::unimplemented("no-op service"))
    }

    async fn list_unfinished_callbacks_per_agent(
        &self,
        _: Request<ListUnfinishedCallbacksPerAgentRequest>,
    ) -> Result<Response<ListUnfinishedCallbacksPerAgentResponse>, Status> {
        Err(Status::unimplemented("no-op service"))
    }

    async fn get_read_model_status(
        &self,
        _: Request<GetReadModelStatusRequest>,
    ) -> Result<Response<GetReadModelStatusResponse>, Status> {
        Ok(Response::new(GetReadModelStatusResponse::default()))
    }

    async fn get_ticket_volume_report(
        &self,
        _: Request<GetTicketVolumeReportRequest>,
    ) -> Result<Response<GetTicketVolumeReportResponse>, Status> {
        Err(Status::unimplemented("no-op service"))
    }

    async fn get_ticket_backlog_report(
        &self,
        _: Request<GetTicketBacklogReportRequest>,
    ) -> Result<Response<GetTicketBacklogReportResponse>, Status> {
        Err(Status::unimplemented("no-op service"))
    }

    async fn get_ticket_times_report(
        &self,
        _: Request<GetTicketTimesReportRequest>,
    ) -> Result<Response<GetTicketTimesReportResponse>, Status> {
        Err(Status::unimplemented("no-op service"))
    }

    type ExportTicketReportStream = tokio_stream::Empty<Result<ExportTicketReportResponse, Status>>;

    async fn export_ticket_report(
        &self,
        _: Request<ExportTicketReportRequest>,
    ) -> Result<Response<Self::ExportTicketReportStream>, Status> {
        Err(Status::unimplemented("no-op service"))
    }
}

/// Runs the benchmark and prints its figures; the last line is the summary.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub async fn run(config: &Config, concurrency: usize, duration: Duration) -> anyhow::Result<()> {
    let platform = &config.config;
    let principal_config: PrincipalConfig = platform.principal.clone();
    let mesh_key = PrincipalKey::from_config(&principal_config)?;
    let (stop, shutdown) = Shutdown::new();

    let service = GrpcServer::new("bench-noop", GrpcConfig::default())
        .verify_principals(mesh_key.clone())
        .add_service(ReportingServiceServer::new(Noop))
        .bind("127.0.0.1:0".parse()?)
        .await?;
    let service_addr = service.local_addr();
    tokio::spawn(service.run_until_stopped(shutdown.clone()));

    let pool = db::connect(&platform.database, SCHEMA).await?;
    db::migrate(&pool, SCHEMA, Some(&switchboard_gateway::MIGRATOR)).await?;
    switchboard_gateway::create_admin(&platform.database, SCHEMA, "bench-admin", "bench", "")
        .await?;
    let mut settings = config
        .section::<RoleSection<GatewaySettings>>("gateway")?
        .settings;
    settings.limits.rate_per_s = 1e9;
    settings.limits.burst = u32::MAX;
    settings.limits.max_concurrent_calls = concurrency * 4 + 64;
    settings.presence.key_prefix = "bench:presence".into();
    let reporting = Peer {
        name: "reporting".into(),
        packages: vec!["switchboard.reporting.v1".into()],
        url: format!("http://{service_addr}"),
    };
    let gateway = Gateway::bind(in_process(
        config,
        SCHEMA,
        vec![reporting],
        settings.clone(),
    ))
    .await?;
    let gateway_addr = gateway.local_addr();
    let gateway_task = tokio::spawn(gateway.run_until_stopped(shutdown));

    let (admin_token, _) = switchboard_gateway::issue_local_token(&settings, "bench-admin", None)?;
    let gateway_channel = connect(gateway_addr).await?;
    let mut create = Request::new(CreateApiKeyRequest {
        api_key: Some(ApiKey {
            display_name: format!("bench-{}", uuid::Uuid::new_v4().simple()),
            scopes: vec!["reporting:read".into()],
            ..Default::default()
        }),
        request_id: String::new(),
    });
    create
        .metadata_mut()
        .insert("authorization", format!("Bearer {admin_token}").parse()?);
    let secret = ApiKeyServiceClient::new(gateway_channel.clone())
        .create_api_key(create)
        .await?
        .into_inner()
        .secret;
    let bearer: MetadataValue<_> = format!("Bearer {secret}").parse()?;

    let direct_channel = connect(service_addr).await?;
    let service_principal = Principal {
        subject: "bench".into(),
        kind: PrincipalKind::Service as i32,
        scopes: vec!["reporting:read".into()],
        ..Default::default()
    };
    let interceptor =
        MeshInterceptor::with_principal(mesh_key, service_principal, Duration::from_secs(60));
    let warmup = Duration::from_secs(1);

    println!(
        "gateway overhead: GetReadModelStatus, closed loop, concurrency {concurrency}, {} s each",
        duration.as_secs()
    );
    let direct = {
        let client = ReportingServiceClient::with_interceptor(direct_channel, interceptor);
        run_closed_loop(concurrency, warmup, duration, move |_, _| {
            let mut client = client.clone();
            async move {
                client
                    .get_read_model_status(GetReadModelStatusRequest::default())
                    .await
                    .is_ok()
            }
        })
        .await
    };
    print_line("direct ", &direct);
    let through = {
        let client = ReportingServiceClient::new(gateway_channel);
        let bearer = Arc::new(bearer);
        run_closed_loop(concurrency, warmup, duration, move |_, _| {
            let (mut client, bearer) = (client.clone(), bearer.clone());
            async move {
                let mut request = Request::new(GetReadModelStatusRequest::default());
                request
                    .metadata_mut()
                    .insert("authorization", (*bearer).clone());
                client.get_read_model_status(request).await.is_ok()
            }
        })
        .await
    };
    print_line("gateway", &through);

    stop.trigger();
    let _ = tokio::time::timeout(Duration::from_secs(10), gateway_task).await;
    let drop_schema = format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop_schema))
        .execute(&pool)
        .await?;

    println!(
        "direct_rps={:.0} direct_p50_ms={:.3} direct_p99_ms={:.3} gateway_rps={:.0} gateway_p50_ms={:.3} gateway_p99_ms={:.3} errors={} ratio={:.3}",
        direct.per_second(),
        direct.quantile_ms(0.5),
        direct.quantile_ms(0.99),
        through.per_second(),
        through.quantile_ms(0.5),
        through.quantile_ms(0.99),
        direct.errors + through.errors,
        through.per_second() / direct.per_second(),
    );
    Ok(())
}
