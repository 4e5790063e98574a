//! The `switchboard` binary as an operator runs it: `migrate`, `serve all`, the first admin and
//! a token from the CLI, then SIGTERM.

use std::{
    net::SocketAddr,
    process::{Command, Stdio},
    time::Duration,
};

use switchboard_platform::testing;
use switchboard_proto::{
    common::v1::PrincipalKind,
    gateway::v1::{WhoAmIRequest, auth_service_client::AuthServiceClient},
};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");

/// The binary in development mode, as `scripts/dev` runs it.
fn switchboard() -> Command {
    let mut command = Command::new(BINARY);
    command.env("SWITCHBOARD_DEV", "1");
    command
}

fn free_port() -> SocketAddr {
    SocketAddr::from((
        [127, 0, 0, 1],
        switchboard_platform::loopback::unused_port(),
    ))
}

/// `mail deliver` of a small mail to `gateway` with `key`: its exit code and standard error.
fn deliver(gateway: &str, key: &str) -> (Option<i32>, String) {
    use std::io::Write;
    let mut child = switchboard()
        .args([
            "mail",
            "deliver",
            "--gateway",
            gateway,
            "--recipient",
            "help@center.example",
        ])
        .env("SWITCHBOARD_MAIL_API_KEY", key)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"From: kim@example.com\r\nSubject: hi\r\n\r\nhello\r\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn mail_deliver_asks_the_mta_to_retry_while_the_gateway_is_unreachable() {
    let nobody = free_port();
    let (code, stderr) = deliver(&format!("http://{nobody}"), "sbk_whatever");
    assert_eq!(code, Some(75), "{stderr}");
    assert!(stderr.contains("cannot reach the gateway"), "{stderr}");
}

#[test]
fn unknown_services_are_refused_by_name() {
    let output = switchboard().args(["serve", "billing"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown service \"billing\""), "{stderr}");
}

#[tokio::test]
async fn migrate_then_serve_all_runs_the_gateway_until_sigterm() {
    let migrate = switchboard().arg("migrate").output().unwrap();
    assert!(
        migrate.status.success(),
        "migrate: {}",
        String::from_utf8_lossy(&migrate.stderr)
    );

    let gateway = free_port();
    let mut serving = tokio::process::Command::from(switchboard())
        .args(["serve", "all"])
        .env("SWITCHBOARD_GATEWAY__LISTEN", gateway.to_string())
        // Free ports, so a mesh of scripts/dev on the default ones does not clash.
        .env("SWITCHBOARD_CALLBACK__LISTEN", free_port().to_string())
        .env("SWITCHBOARD_REPORTING__LISTEN", free_port().to_string())
        .env("SWITCHBOARD_TICKET__LISTEN", free_port().to_string())
        .env("SWITCHBOARD_MAIL_INGEST__LISTEN", free_port().to_string())
        .env(
            "SWITCHBOARD_TRIGGER_ENGINE__LISTEN",
            free_port().to_string(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Its log is read as it is written: a full pipe would block the binary's logging, and
    // with it the binary.
    let mut pipe = serving.stderr.take().expect("stderr is piped");
    let log = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut log = String::new();
        pipe.read_to_string(&mut log).await.map(|_| log)
    });

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

    // A fresh install signs in: the first admin from the CLI, a token from the CLI, a call.
    let login = format!("cli-admin-{}", testing::unique_id());
    let created = switchboard()
        .args([
            "directory",
            "create-admin",
            "--login",
            &login,
            "--name",
            "첫 관리자",
        ])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(String::from_utf8_lossy(&created.stdout).contains(&format!("created admin {login}")));
    let token = switchboard()
        .args(["token", "--agent", &login])
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let channel = testing::connect(gateway).await;
    let mut request = tonic::Request::new(WhoAmIRequest {});
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let me = AuthServiceClient::new(channel)
        .who_am_i(request)
        .await
        .expect("the CLI's token is accepted")
        .into_inner();
    let principal = me.principal.unwrap();
    assert_eq!(principal.subject, login);
    assert_eq!(principal.kind(), PrincipalKind::Admin);

    // An MTA's pipe with a wrong API key bounces (77), not retries.
    let refused = deliver(&format!("http://{gateway}"), "sbk_not_a_key");
    assert_eq!(refused.0, Some(77), "{}", refused.1);

    testing::send_sigterm(serving.id().expect("the binary is running"));
    // Well inside the binary's own stop grace (90 s), with room for a loaded CI machine.
    let stopped = tokio::time::timeout(Duration::from_secs(30), serving.wait()).await;
    if stopped.is_err() {
        serving.kill().await.unwrap();
    }
    let stderr = log.await.unwrap().unwrap();
    let Ok(exit) = stopped else {
        panic!("the binary did not stop within 30 s of SIGTERM; its log: {stderr}");
    };
    let exit = exit.unwrap();
    assert!(exit.success(), "exit {exit:?}: {stderr}");
    assert!(
        stderr.contains("using the development default"),
        "dev defaults are logged: {stderr}"
    );
}
