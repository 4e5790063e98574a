//! The shared server builder: a principal is required and verified, forged identity is refused,
//! bad input is `INVALID_ARGUMENT` naming the field, and health and reflection stay open.

use std::time::Duration;

use switchboard_platform::{
    config::GrpcConfig,
    error::violated_fields,
    grpc::MeshInterceptor,
    principal::{PRINCIPAL_METADATA_KEY, PrincipalKey},
    testing::{self, Probe},
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    testing::v1::{EchoRequest, probe_service_client::ProbeServiceClient},
};
use tonic::{
    Code, metadata::MetadataValue, service::interceptor::InterceptedService, transport::Channel,
};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

async fn start() -> (
    std::net::SocketAddr,
    PrincipalKey,
    switchboard_platform::ShutdownTrigger,
) {
    let (addr, stop) = testing::serve_probe(Probe::default(), GrpcConfig::default()).await;
    (addr, testing::principal_key(), stop)
}

async fn channel(addr: std::net::SocketAddr) -> Channel {
    testing::connect(addr).await
}

fn agent() -> Principal {
    Principal {
        subject: "kim.agent".into(),
        kind: PrincipalKind::Agent.into(),
        ..Default::default()
    }
}

fn client_as(
    channel: Channel,
    key: PrincipalKey,
) -> ProbeServiceClient<InterceptedService<Channel, MeshInterceptor>> {
    ProbeServiceClient::with_interceptor(
        channel,
        MeshInterceptor::with_principal(key, agent(), Duration::from_secs(30)),
    )
}

fn echo(message: &str) -> EchoRequest {
    EchoRequest {
        message: message.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_verified_principal_reaches_the_handler() {
    let (addr, key, _stop) = start().await;
    let response = client_as(channel(addr).await, key)
        .echo(echo("안녕하세요"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.message, "안녕하세요");
    assert_eq!(response.subject, "kim.agent");
}

#[tokio::test]
async fn calls_without_a_principal_or_with_a_forged_one_are_unauthenticated() {
    let (addr, _key, _stop) = start().await;
    let channel = channel(addr).await;

    let missing = ProbeServiceClient::new(channel.clone())
        .echo(echo("hi"))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);

    // Signed with a key that is not the mesh's: what a caller forging identity metadata has.
    let forger = PrincipalKey::from_config(&switchboard_platform::config::PrincipalConfig {
        key: "a-key-that-is-not-the-mesh-key-at-all".to_owned().into(),
        max_lifetime_s: 300,
    })
    .unwrap();
    let forged = client_as(channel.clone(), forger)
        .echo(echo("hi"))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), Code::Unauthenticated);

    let mut garbage = tonic::Request::new(echo("hi"));
    garbage.metadata_mut().insert_bin(
        PRINCIPAL_METADATA_KEY,
        MetadataValue::from_bytes(b"not a principal"),
    );
    let garbage = ProbeServiceClient::new(channel)
        .echo(garbage)
        .await
        .unwrap_err();
    assert_eq!(garbage.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn bad_input_is_invalid_argument_naming_each_field() {
    let (addr, key, _stop) = start().await;
    let status = client_as(channel(addr).await, key)
        .echo(EchoRequest {
            message: String::new(),
            delay_ms: 120_000,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["message", "delay_ms"]);
}

#[tokio::test]
async fn oversized_messages_are_refused() {
    let (addr, key, _stop) = start().await;
    let huge = "x".repeat(GrpcConfig::default().max_message_bytes + 1);
    let status = client_as(channel(addr).await, key)
        .echo(echo(&huge))
        .await
        .unwrap_err();
    // tonic reports a message over the decoding limit as OUT_OF_RANGE.
    assert!(
        matches!(status.code(), Code::OutOfRange | Code::ResourceExhausted),
        "refused, got {status:?}"
    );
}

#[tokio::test]
async fn health_and_reflection_need_no_principal() {
    let (addr, _key, _stop) = start().await;
    let channel = channel(addr).await;
    let serving = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "switchboard.testing.v1.ProbeService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(serving.status, 1, "SERVING");
    let overall = HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(overall.status, 1, "SERVING");
}
