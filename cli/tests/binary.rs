//! The `switchboard` binary as an operator runs it: `migrate`, then `serve all` until SIGTERM.

use std::{
    net::{SocketAddr, TcpListener},
    process::{Command, Stdio},
    time::Duration,
};

use switchboard_platform::testing;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn unknown_services_are_refused_by_name() {
    let output = Command::new(BINARY)
        .args(["serve", "billing"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown service \"billing\""), "{stderr}");
}

#[tokio::test]
async fn migrate_then_serve_all_runs_the_gateway_until_sigterm() {
    let migrate = Command::new(BINARY).arg("migrate").output().unwrap();
    assert!(
        migrate.status.success(),
        "migrate: {}",
        String::from_utf8_lossy(&migrate.stderr)
    );

    let gateway = free_port();
    let mut serving = tokio::process::Command::new(BINARY)
        .args(["serve", "all"])
        .env("SWITCHBOARD_GATEWAY__LISTEN", gateway.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let mut health = None;
    for _ in 0..100 {
        if let Ok(channel) = tonic::transport::Channel::from_shared(format!("http://{gateway}"))
            .unwrap()
            .connect()
            .await
        {
            health = Some(HealthClient::new(channel));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut health = health.expect("the gateway listens");
    let status = health
        .check(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.status, 1, "SERVING");

    testing::send_sigterm(serving.id().expect("the binary is running"));
    let exit = tokio::time::timeout(Duration::from_secs(10), serving.wait())
        .await
        .expect("the binary stops after SIGTERM")
        .unwrap();
    let mut stderr = String::new();
    if let Some(mut pipe) = serving.stderr.take() {
        use tokio::io::AsyncReadExt;
        pipe.read_to_string(&mut stderr).await.unwrap();
    }
    assert!(exit.success(), "exit {exit:?}: {stderr}");
    assert!(
        stderr.contains("using the development default"),
        "dev defaults are logged: {stderr}"
    );
}
