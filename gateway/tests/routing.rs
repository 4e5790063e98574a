//! The gateway forwards each call, streaming ones included, to the service owning its package,
//! with its own principal in place of whatever identity the caller sent; it names a service it
//! cannot reach, reports the health of what it routes, and enforces its limits.

use std::{net::SocketAddr, pin::Pin, time::Duration};

use crate::common::{ADMIN, Harness, bearer};
use switchboard_gateway::Upstream;
use switchboard_platform::{
    Shutdown, ShutdownTrigger,
    config::GrpcConfig,
    grpc::GrpcServer,
    principal::{PRINCIPAL_METADATA_KEY, RequestPrincipal},
    testing,
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    reporting::v1::{
        reporting_service_client::ReportingServiceClient,
        reporting_service_server::{ReportingService, ReportingServiceServer},
        *,
    },
};
use tokio_stream::{Stream, StreamExt};
use tonic::{Code, Request, Response, Status, metadata::MetadataValue, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_types::StatusExt;

const CHUNKS: usize = 40;
const CHUNK_BYTES: usize = 64 * 1024;

fn chunk(i: usize) -> Vec<u8> {
    (0..CHUNK_BYTES)
        .map(|j| ((i * 31 + j) % 251) as u8)
        .collect()
}

/// A reporting service that tells who called it and streams a large export.
#[derive(Clone, Default)]
struct FakeReporting;

#[tonic::async_trait]
impl ReportingService for FakeReporting {
    async fn get_callback_processing_status(
        &self,
        _: Request<GetCallbackProcessingStatusRequest>,
    ) -> Result<Response<GetCallbackProcessingStatusResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }

    type ExportCallbackProcessingStatusStream =
        Pin<Box<dyn Stream<Item = Result<ExportCallbackProcessingStatusResponse, Status>> + Send>>;

    async fn export_callback_processing_status(
        &self,
        request: Request<ExportCallbackProcessingStatusRequest>,
    ) -> Result<Response<Self::ExportCallbackProcessingStatusStream>, Status> {
        request.principal()?;
        let chunks = tokio_stream::iter((0..CHUNKS).map(|i| {
            Ok(ExportCallbackProcessingStatusResponse {
                file_name: if i == 0 {
                    "콜백처리현황.xlsx".into()
                } else {
                    String::new()
                },
                content_type: String::new(),
                data: chunk(i),
            })
        }))
        .throttle(Duration::from_millis(2));
        Ok(Response::new(Box::pin(chunks)))
    }

    /// Fails with a message longer than the gateway accepts in trailers (`relay.rs`).
    async fn list_unfinished_callbacks_per_agent(
        &self,
        request: Request<ListUnfinishedCallbacksPerAgentRequest>,
    ) -> Result<Response<ListUnfinishedCallbacksPerAgentResponse>, Status> {
        request.principal()?;
        let huge = "x".repeat(switchboard_gateway::MAX_UPSTREAM_HEADER_LIST_BYTES as usize + 1024);
        Err(Status::invalid_argument(huge))
    }

    /// Answers with the principal the service received: `<subject>/<kind>`.
    async fn get_read_model_status(
        &self,
        request: Request<GetReadModelStatusRequest>,
    ) -> Result<Response<GetReadModelStatusResponse>, Status> {
        let principal = request.principal()?;
        Ok(Response::new(GetReadModelStatusResponse {
            read_models: vec![ReadModelStatus {
                name: format!("{}/{}", principal.subject, principal.kind().as_str_name()),
                ..Default::default()
            }],
        }))
    }

    async fn get_ticket_volume_report(
        &self,
        _: Request<GetTicketVolumeReportRequest>,
    ) -> Result<Response<GetTicketVolumeReportResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }

    async fn get_ticket_backlog_report(
        &self,
        _: Request<GetTicketBacklogReportRequest>,
    ) -> Result<Response<GetTicketBacklogReportResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }

    async fn get_ticket_times_report(
        &self,
        _: Request<GetTicketTimesReportRequest>,
    ) -> Result<Response<GetTicketTimesReportResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }

    type ExportTicketReportStream =
        Pin<Box<dyn Stream<Item = Result<ExportTicketReportResponse, Status>> + Send>>;

    async fn export_ticket_report(
        &self,
        _: Request<ExportTicketReportRequest>,
    ) -> Result<Response<Self::ExportTicketReportStream>, Status> {
        Err(Status::unimplemented("fake"))
    }
}

pub async fn start_reporting() -> (SocketAddr, ShutdownTrigger) {
    let server = GrpcServer::new("reporting", GrpcConfig::default())
        .verify_principals(testing::principal_key())
        .add_service(ReportingServiceServer::new(FakeReporting))
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();
    let (stop, shutdown) = Shutdown::new();
    tokio::spawn(server.run_until_stopped(shutdown));
    (addr, stop)
}

pub fn reporting_at(url: String) -> Vec<Upstream> {
    vec![Upstream {
        package: "switchboard.reporting.v1".into(),
        service: "reporting".into(),
        url,
    }]
}

/// `request` carrying `principal` signed with the mesh key, as a Switchboard service sends it.
fn with_mesh_principal<T>(mut request: Request<T>, principal: Principal) -> Request<T> {
    let signed = testing::principal_key().sign(principal, Duration::from_secs(60));
    request
        .metadata_mut()
        .insert_bin(PRINCIPAL_METADATA_KEY, MetadataValue::from_bytes(&signed));
    request
}

async fn caller_seen(
    harness: &Harness,
    request: Request<GetReadModelStatusRequest>,
) -> Result<String, Status> {
    let response = ReportingServiceClient::new(harness.channel().await)
        .get_read_model_status(request)
        .await?;
    Ok(response.into_inner().read_models[0].name.clone())
}

#[tokio::test]
async fn a_streaming_export_passes_through_intact() {
    let (reporting, _stop) = start_reporting().await;
    let harness = Harness::start(reporting_at(format!("http://{reporting}"))).await;
    let mut stream = ReportingServiceClient::new(harness.channel().await)
        .export_callback_processing_status(bearer(
            ExportCallbackProcessingStatusRequest::default(),
            &harness.token(ADMIN),
        ))
        .await
        .unwrap()
        .into_inner();
    let mut received = Vec::new();
    while let Some(message) = stream.next().await {
        received.push(message.unwrap());
    }
    assert_eq!(received.len(), CHUNKS, "every chunk arrives");
    assert_eq!(received[0].file_name, "콜백처리현황.xlsx");
    for (i, message) in received.iter().enumerate() {
        assert!(
            message.data == chunk(i),
            "chunk {i} arrives unchanged and in order"
        );
    }
    harness.stop().await;
}

#[tokio::test]
async fn identity_metadata_sent_by_a_caller_never_reaches_the_service() {
    let (reporting, _stop) = start_reporting().await;
    let harness = Harness::start(reporting_at(format!("http://{reporting}"))).await;
    let (_, secret) = harness.create_api_key("bi-tool", &["reporting:read"]).await;

    // The caller adds a principal validly signed with the mesh key claiming to be an admin.
    let forged = |request: Request<GetReadModelStatusRequest>| {
        let admin = Principal {
            subject: "mallory".into(),
            kind: PrincipalKind::Admin.into(),
            ..Default::default()
        };
        with_mesh_principal(request, admin)
    };
    let seen = caller_seen(
        &harness,
        forged(bearer(GetReadModelStatusRequest::default(), &secret)),
    )
    .await
    .unwrap();
    assert_eq!(
        seen, "bi-tool/PRINCIPAL_KIND_SERVICE",
        "the service sees the key's principal"
    );

    // Alone, the forged admin principal is no credential at the gateway.
    let status = caller_seen(
        &harness,
        forged(Request::new(GetReadModelStatusRequest::default())),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    // A Switchboard service's own principal (kind SERVICE, mesh key) is a credential.
    let service = Principal {
        subject: "callback".into(),
        kind: PrincipalKind::Service.into(),
        scopes: vec!["reporting:read".into()],
        ..Default::default()
    };
    let request = with_mesh_principal(Request::new(GetReadModelStatusRequest::default()), service);
    assert_eq!(
        caller_seen(&harness, request).await.unwrap(),
        "callback/PRINCIPAL_KIND_SERVICE"
    );
    harness.stop().await;
}

#[tokio::test]
async fn unreachable_and_unknown_services_are_named() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let harness = Harness::start(reporting_at(format!("http://{free}"))).await;
    let status = caller_seen(
        &harness,
        bearer(GetReadModelStatusRequest::default(), &harness.token(ADMIN)),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(status.message(), "the reporting service is unavailable");

    // A method outside the API is denied before any routing.
    let mut unknown = tonic::client::Grpc::new(harness.channel().await);
    unknown.ready().await.unwrap();
    let status = unknown
        .unary::<_, GetReadModelStatusResponse, _>(
            bearer(GetReadModelStatusRequest::default(), &harness.token(ADMIN)),
            "/switchboard.unknown.v1.NothingService/Nothing"
                .parse()
                .unwrap(),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    harness.stop().await;
}

#[tokio::test]
async fn the_gateway_reports_the_health_of_what_it_routes() {
    let (reporting, stop_reporting) = start_reporting().await;
    let harness = Harness::start_with(
        reporting_at(format!("http://{reporting}")),
        |settings| settings.upstream_health_interval_ms = 100,
        GrpcConfig::default(),
    )
    .await;
    let channel = harness.channel().await;
    let status_of = |channel: Channel| async move {
        HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: "switchboard.reporting.v1.ReportingService".into(),
            })
            .await
            .map(|r| r.into_inner().status)
            .unwrap_or(-1)
    };
    assert!(
        testing::eventually(Duration::from_secs(10), || async {
            status_of(channel.clone()).await == 1
        })
        .await,
        "SERVING while the reporting service runs"
    );
    stop_reporting.trigger();
    assert!(
        testing::eventually(Duration::from_secs(10), || async {
            status_of(channel.clone()).await == 2
        })
        .await,
        "NOT_SERVING once it stops"
    );
    harness.stop().await;
}

#[tokio::test]
async fn messages_over_the_limit_and_callers_over_their_rate_are_refused() {
    let (reporting, _stop) = start_reporting().await;
    let harness = Harness::start_with(
        reporting_at(format!("http://{reporting}")),
        |settings| {
            settings.limits.rate_per_s = 1.0;
            settings.limits.burst = 3;
        },
        GrpcConfig {
            max_message_bytes: 4 * 1024,
            ..GrpcConfig::default()
        },
    )
    .await;
    let admin = harness.token(ADMIN);
    // The admin's first call of a burst of three.
    let (_, secret) = harness.create_api_key("bi-tool", &["reporting:read"]).await;
    let large = ExportCallbackProcessingStatusRequest {
        ivr_route_ids: vec!["x".repeat(8 * 1024)],
        ..Default::default()
    };
    let status = ReportingServiceClient::new(harness.channel().await)
        .export_callback_processing_status(bearer(large, &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("limit"), "{status:?}");

    // The third call of the burst passes; the next is refused with when to retry.
    caller_seen(
        &harness,
        bearer(GetReadModelStatusRequest::default(), &admin),
    )
    .await
    .unwrap();
    let status = caller_seen(
        &harness,
        bearer(GetReadModelStatusRequest::default(), &admin),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let retry = status.get_details_retry_info().expect("retry information");
    assert!(
        retry
            .retry_delay
            .is_some_and(|d| d > Duration::ZERO && d <= Duration::from_secs(1))
    );
    // Limits are per principal: another caller is not held back.
    let seen = caller_seen(
        &harness,
        bearer(GetReadModelStatusRequest::default(), &secret),
    )
    .await;
    assert_eq!(seen.unwrap(), "bi-tool/PRINCIPAL_KIND_SERVICE");
    harness.stop().await;
}
