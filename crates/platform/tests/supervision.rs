//! A background task that panics takes its process down: the cause is logged, the gRPC server
//! beside it stops, and the process exits non-zero (so Kubernetes restarts it) instead of
//! answering calls while its events no longer flow. The process under test is this test binary
//! run again in a child mode, serving as a service does.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use switchboard_platform::{
    Shutdown,
    config::GrpcConfig,
    grpc::GrpcServer,
    service::{Tasks, supervise},
    testing::{Probe, probe_server},
};

const CHILD: &str = "SWITCHBOARD_TEST_SUPERVISION_CHILD";

#[test]
fn a_panicking_background_task_takes_the_process_down() {
    if std::env::var_os(CHILD).is_some() {
        serve_with_a_panicking_relay();
    }
    // The test's name as the harness knows it: its module path without the crate.
    let module = module_path!().split_once("::").map_or("", |(_, rest)| rest);
    let name = [module, "a_panicking_background_task_takes_the_process_down"]
        .iter()
        .filter(|part| !part.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("::");
    let began = Instant::now();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("the child process runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "exit status; stderr: {stderr}"
    );
    assert!(
        began.elapsed() < Duration::from_secs(30),
        "it stopped promptly"
    );
    assert!(
        stderr.contains("task failed; stopping the service"),
        "{stderr}"
    );
    assert!(
        stderr.contains("outbox relay"),
        "the task is named: {stderr}"
    );
    assert!(
        stderr.contains("the relay hit a bug"),
        "the cause is logged: {stderr}"
    );
    assert!(
        stderr.contains("grpc server stopped"),
        "the server stopped: {stderr}"
    );
}

/// The child: a gRPC server and a relay that panics after a moment, supervised as every
/// service's tasks are; exits as the binary's `main` does.
fn serve_with_a_panicking_relay() -> ! {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let result = runtime.block_on(async {
        let config = GrpcConfig {
            drain_timeout_ms: 1_000,
            ..GrpcConfig::default()
        };
        let max = config.max_message_bytes;
        let server = GrpcServer::new("probe", config)
            .add_service(probe_server(Probe::default(), max))
            .bind("127.0.0.1:0".parse().unwrap())
            .await?;
        let tasks = Tasks::new()
            .add("grpc server", |shutdown| server.run_until_stopped(shutdown))
            .add("outbox relay", |_| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if true {
                    panic!("the relay hit a bug");
                }
            });
        let (_signals, shutdown) = Shutdown::new();
        supervise(tasks, shutdown).await
    });
    match result {
        Ok(()) => std::process::exit(0),
        Err(error) => {
            eprintln!("switchboard: {error:#}");
            std::process::exit(1)
        }
    }
}
