//! The gateway forwards each call to the service owning its package, removes identity metadata
//! the caller sent, and names the service when it cannot be reached.

use std::{net::SocketAddr, time::Duration};

use switchboard_gateway::{GatewayConfig, Upstream};
use switchboard_platform::{
    Shutdown, ShutdownTrigger,
    config::GrpcConfig,
    grpc::MeshInterceptor,
    principal::PrincipalKey,
    testing::{self, Probe},
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    testing::v1::{EchoRequest, probe_service_client::ProbeServiceClient},
};
use tonic::{Code, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

fn key() -> PrincipalKey {
    testing::principal_key()
}

async fn start_probe() -> (SocketAddr, ShutdownTrigger) {
    testing::serve_probe(Probe::default(), GrpcConfig::default()).await
}

async fn start_gateway(probe_url: String) -> (SocketAddr, ShutdownTrigger) {
    let gateway = switchboard_gateway::build(GatewayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        grpc: GrpcConfig::default(),
        upstreams: vec![Upstream {
            package: "switchboard.testing.v1".into(),
            service: "probe".into(),
            url: probe_url,
        }],
    })
    .await
    .unwrap();
    let addr = gateway.local_addr();
    let (stop, shutdown) = Shutdown::new();
    tokio::spawn(gateway.run_until_stopped(shutdown));
    (addr, stop)
}

async fn channel(addr: SocketAddr) -> Channel {
    testing::connect(addr).await
}

/// A client that attaches a principal validly signed with the mesh key — what a caller who
/// stole one, or who tries to speak for someone else, would send to the gateway.
fn client_with_principal(
    channel: Channel,
) -> ProbeServiceClient<tonic::service::interceptor::InterceptedService<Channel, MeshInterceptor>> {
    let admin = Principal {
        subject: "mallory".into(),
        kind: PrincipalKind::Admin.into(),
        ..Default::default()
    };
    ProbeServiceClient::with_interceptor(
        channel,
        MeshInterceptor::with_principal(key(), admin, Duration::from_secs(60)),
    )
}

fn echo() -> EchoRequest {
    EchoRequest {
        message: "hello".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn identity_metadata_sent_by_a_caller_never_reaches_the_service() {
    let (probe, _probe_stop) = start_probe().await;
    let (gateway, _gateway_stop) = start_gateway(format!("http://{probe}")).await;

    // The principal itself is valid: straight to the service it is accepted...
    let direct = client_with_principal(channel(probe).await)
        .echo(echo())
        .await
        .unwrap();
    assert_eq!(direct.into_inner().subject, "mallory");

    // ...but through the gateway it is removed, so the service refuses the forwarded call.
    let through = client_with_principal(channel(gateway).await)
        .echo(echo())
        .await
        .unwrap_err();
    assert_eq!(through.code(), Code::Unauthenticated);
    assert_eq!(
        through.message(),
        "a valid principal is required",
        "the service answered"
    );
}

#[tokio::test]
async fn calls_no_service_owns_are_unimplemented() {
    let (gateway, _stop) = start_gateway("http://127.0.0.1:1".into()).await;
    let mut health_as_unknown = HealthClient::new(channel(gateway).await);
    // The gateway's own health answers...
    let health = health_as_unknown
        .check(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, 1, "SERVING");
    // ...and a package nobody owns is UNIMPLEMENTED.
    let mut unknown = tonic::client::Grpc::new(channel(gateway).await);
    unknown.ready().await.unwrap();
    let status = unknown
        .unary::<_, EchoRequest, _>(
            tonic::Request::new(echo()),
            "/switchboard.unknown.v1.NothingService/Nothing"
                .parse()
                .unwrap(),
            tonic_prost::ProstCodec::<EchoRequest, EchoRequest>::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}

#[tokio::test]
async fn an_unreachable_service_is_unavailable_by_name() {
    // Nothing listens on a port that was just released.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (gateway, _stop) = start_gateway(format!("http://{free}")).await;
    let status = client_with_principal(channel(gateway).await)
        .echo(echo())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(status.message(), "the probe service is unavailable");
}
