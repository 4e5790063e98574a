//! Outside development mode no development default is used: a process missing a secret (or
//! given the public development value) stops at start and names the variable to set.

use std::{
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");

/// The binary as a production process starts it: no `SWITCHBOARD_DEV`, and the URLs set
/// explicitly (to this machine's servers), so only the secrets are missing.
fn production(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_remove("SWITCHBOARD_DEV")
        .env_remove("SWITCHBOARD_PRINCIPAL__KEY")
        .env_remove("SWITCHBOARD_GATEWAY__AUTH__LOCAL_TOKEN__SECRET")
        .env(
            "SWITCHBOARD_DATABASE__URL",
            "postgres://postgres@127.0.0.1:5432/test",
        )
        .env(
            "SWITCHBOARD_AMQP__URL",
            "amqp://guest:guest@127.0.0.1:5672/%2f",
        )
        .env("SWITCHBOARD_REDIS__URL", "redis://127.0.0.1:6379/0");
    for (name, value) in vars {
        command.env(name, value);
    }
    run(command)
}

/// Runs `command` to its end; one still running after 20 s did not refuse, and is killed.
fn run(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child
        .try_wait()
        .expect("the child can be waited for")
        .is_none()
    {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process kept running instead of refusing to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("the child's output")
}

fn refused(output: &Output) -> String {
    assert!(!output.status.success(), "the process must not start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn serve_without_the_principal_key_stops_naming_it() {
    let stderr = refused(&production(&["serve", "callback"], &[]));
    assert!(stderr.contains("SWITCHBOARD_PRINCIPAL__KEY"), "{stderr}");
    assert!(stderr.contains("SWITCHBOARD_DEV=1"), "{stderr}");
    assert!(
        !stderr.contains("DATABASE__URL"),
        "the set URL is not blamed: {stderr}"
    );
}

#[test]
fn the_public_development_key_is_refused_outside_development_mode() {
    let public = (
        "SWITCHBOARD_PRINCIPAL__KEY",
        "switchboard-development-principal-key-do-not-use",
    );
    let stderr = refused(&production(&["serve", "reporting"], &[public]));
    assert!(stderr.contains("SWITCHBOARD_PRINCIPAL__KEY"), "{stderr}");
    assert!(stderr.contains("public development value"), "{stderr}");
}

#[test]
fn the_gateway_needs_its_token_secret_and_the_urls() {
    let key = (
        "SWITCHBOARD_PRINCIPAL__KEY",
        "a-production-principal-key-of-32-bytes!",
    );
    let stderr = refused(&production(&["serve", "gateway"], &[key]));
    assert!(
        stderr.contains("SWITCHBOARD_GATEWAY__AUTH__LOCAL_TOKEN__SECRET"),
        "{stderr}"
    );
    let token = refused(&production(&["token", "--agent", "admin"], &[]));
    assert!(
        token.contains("SWITCHBOARD_GATEWAY__AUTH__LOCAL_TOKEN__SECRET"),
        "{token}"
    );
    let mut bare = Command::new(BINARY);
    bare.args(["migrate"])
        .env_remove("SWITCHBOARD_DEV")
        .env_remove("SWITCHBOARD_DATABASE__URL")
        .env_remove("SWITCHBOARD_AMQP__URL");
    let migrate = refused(&run(bare));
    assert!(migrate.contains("SWITCHBOARD_DATABASE__URL"), "{migrate}");
    assert!(migrate.contains("SWITCHBOARD_AMQP__URL"), "{migrate}");
}
