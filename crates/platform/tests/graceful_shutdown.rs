//! SIGTERM: health turns NOT_SERVING at once, new calls are refused, the call in flight completes,
//! then the server stops. (Its own test binary: it signals its own process.)

use std::time::Duration;

use switchboard_platform::{
    Shutdown,
    config::GrpcConfig,
    grpc::{GrpcServer, MeshInterceptor},
    principal::PrincipalKey,
    testing::{self, Probe, probe_server},
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    testing::v1::{EchoRequest, probe_service_client::ProbeServiceClient},
};
use tonic::{Code, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_calls_in_flight_and_refuses_new_ones() {
    let key = PrincipalKey::from_config(&testing::principal_config()).unwrap();
    let config = GrpcConfig {
        drain_timeout_ms: 1_000,
        ..GrpcConfig::default()
    };
    let server = GrpcServer::new("probe", config)
        .verify_principals(key.clone())
        .add_service(probe_server(Probe::default(), 1 << 20))
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();
    let shutdown = Shutdown::on_signals().unwrap();
    let serving = tokio::spawn(server.run_until_stopped(shutdown));

    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let principal = Principal {
        subject: "lee.admin".into(),
        kind: PrincipalKind::Admin.into(),
        ..Default::default()
    };
    let client = ProbeServiceClient::with_interceptor(
        channel.clone(),
        MeshInterceptor::with_principal(key, principal, Duration::from_secs(60)),
    );
    let mut slow_client = client.clone();
    let in_flight = tokio::spawn(async move {
        slow_client
            .echo(EchoRequest {
                message: "slow".into(),
                delay_ms: 2_000,
                ..Default::default()
            })
            .await
    });
    // A stream that never ends by itself must not hold the stop open.
    let mut watch = HealthClient::new(channel.clone())
        .watch(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        watch.message().await.unwrap().unwrap().status,
        ServingStatus::Serving as i32
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    testing::send_sigterm(std::process::id());

    let health = HealthClient::new(channel);
    let not_serving = testing::eventually(Duration::from_millis(500), || {
        let mut health = health.clone();
        async move {
            health
                .check(HealthCheckRequest::default())
                .await
                .is_ok_and(|r| r.into_inner().status == ServingStatus::NotServing as i32)
        }
    })
    .await;
    assert!(
        not_serving,
        "health reports NOT_SERVING right after SIGTERM"
    );
    assert!(!in_flight.is_finished(), "the slow call is still in flight");
    // The overall status and each service's are set one after the other: wait for both.
    let specific_not_serving = testing::eventually(Duration::from_millis(500), || {
        let mut health = health.clone();
        async move {
            health
                .check(HealthCheckRequest {
                    service: "switchboard.testing.v1.ProbeService".into(),
                })
                .await
                .is_ok_and(|r| r.into_inner().status == ServingStatus::NotServing as i32)
        }
    })
    .await;
    assert!(
        specific_not_serving,
        "the probe service reports NOT_SERVING right after SIGTERM"
    );

    let refused = client
        .clone()
        .echo(EchoRequest {
            message: "late".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable);

    let finished = in_flight
        .await
        .unwrap()
        .expect("the call in flight completes");
    assert_eq!(finished.into_inner().message, "slow");
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("the server stops once drained, open health watch or not")
        .unwrap()
        .unwrap();
    let after = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await;
    assert!(after.is_err(), "nothing listens after the stop");
    drop(watch);
}
