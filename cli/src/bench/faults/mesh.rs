//! The mesh under test as two processes of this binary, `serve gateway` and `serve callback
//! reporting`, configured by environment for the private servers only: every inherited
//! `SWITCHBOARD_*` variable is dropped, so none can point them at the shared ones.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::process::{Child, Command};

use super::process::{self, append, wait_for_port};
use switchboard_platform::loopback::unused_port;

/// How long a process may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Mesh {
    exe: PathBuf,
    dir: PathBuf,
    env: Vec<(String, String)>,
    gateway_port: u16,
    callback_port: u16,
    gateway: Child,
    services: Child,
}

impl Mesh {
    /// Migrates the private database, creates the development admin `admin` and starts both
    /// processes, waiting until each listens.
    pub async fn start(scratch: &Path, database_url: &str, amqp_url: &str) -> anyhow::Result<Self> {
        let (gateway_port, callback_port, reporting_port) =
            (unused_port(), unused_port(), unused_port());
        let listen = |port: u16| format!("127.0.0.1:{port}");
        let mut env = vec![
            ("SWITCHBOARD_DEV".to_owned(), "1".to_owned()),
            (
                "SWITCHBOARD_DATABASE__URL".to_owned(),
                database_url.to_owned(),
            ),
            ("SWITCHBOARD_AMQP__URL".to_owned(), amqp_url.to_owned()),
            (
                "SWITCHBOARD_GATEWAY__LISTEN".to_owned(),
                listen(gateway_port),
            ),
            (
                "SWITCHBOARD_CALLBACK__LISTEN".to_owned(),
                listen(callback_port),
            ),
            (
                "SWITCHBOARD_REPORTING__LISTEN".to_owned(),
                listen(reporting_port),
            ),
            // One IVR key carries the whole load.
            (
                "SWITCHBOARD_GATEWAY__LIMITS__RATE_PER_S".to_owned(),
                "100000".to_owned(),
            ),
            (
                "SWITCHBOARD_GATEWAY__LIMITS__BURST".to_owned(),
                "100000".to_owned(),
            ),
            // Notice an upstream coming back soon after it does.
            (
                "SWITCHBOARD_GATEWAY__UPSTREAM_HEALTH_INTERVAL_MS".to_owned(),
                "1000".to_owned(),
            ),
        ];
        // The gateway's presence may use the shared Redis (or the one the caller names).
        if let Ok(redis) = std::env::var("SWITCHBOARD_REDIS__URL") {
            env.push(("SWITCHBOARD_REDIS__URL".to_owned(), redis));
        }
        let exe = std::env::current_exe()?;
        let dir = scratch.join("mesh");
        std::fs::create_dir_all(&dir)?;
        let tool = |args: &[&str]| {
            let mut command = command(&exe, &env);
            command.args(args);
            command
        };
        let log = dir.join("setup.log");
        process::run(tool(&["migrate"]), &log).await?;
        process::run(
            tool(&[
                "directory",
                "create-admin",
                "--login",
                "admin",
                "--name",
                "Admin",
            ]),
            &log,
        )
        .await?;
        let services = spawn(&exe, &env, &dir, &["callback", "reporting"])?;
        wait_for_port(callback_port, START_TIMEOUT).await?;
        wait_for_port(reporting_port, START_TIMEOUT).await?;
        let gateway = spawn(&exe, &env, &dir, &["gateway"])?;
        wait_for_port(gateway_port, START_TIMEOUT).await?;
        Ok(Self {
            exe,
            dir,
            env,
            gateway_port,
            callback_port,
            gateway,
            services,
        })
    }

    pub fn gateway_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.gateway_port)
    }

    /// The process ids, while both processes run.
    pub fn pids(&mut self) -> Option<(u32, u32)> {
        let running = |child: &mut Child| match child.try_wait() {
            Ok(None) => child.id(),
            _ => None,
        };
        Some((running(&mut self.gateway)?, running(&mut self.services)?))
    }

    /// SIGKILLs `serve callback reporting` and waits until it is gone.
    pub async fn kill_services(&mut self) -> anyhow::Result<()> {
        self.services.start_kill()?;
        self.services.wait().await?;
        Ok(())
    }

    /// Starts `serve callback reporting` again and waits until it listens.
    pub async fn restart_services(&mut self) -> anyhow::Result<()> {
        self.services = spawn(&self.exe, &self.env, &self.dir, &["callback", "reporting"])?;
        wait_for_port(self.callback_port, START_TIMEOUT).await
    }

    /// The logs of both processes.
    pub fn logs(&self) -> [PathBuf; 2] {
        [
            log_of(&self.dir, &["gateway"]),
            log_of(&self.dir, &["callback", "reporting"]),
        ]
    }
}

/// This binary with the private environment and nothing inherited that could configure it.
fn command(exe: &Path, env: &[(String, String)]) -> Command {
    let mut command = Command::new(exe);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SWITCHBOARD_") {
            command.env_remove(name);
        }
    }
    command
        .envs(env.iter().map(|(k, v)| (k, v)))
        .kill_on_drop(true);
    command
}

fn log_of(dir: &Path, roles: &[&str]) -> PathBuf {
    dir.join(format!("{}.log", roles.join("+")))
}

fn spawn(
    exe: &Path,
    env: &[(String, String)],
    dir: &Path,
    roles: &[&str],
) -> anyhow::Result<Child> {
    let log = log_of(dir, roles);
    let mut command = command(exe, env);
    command
        .arg("serve")
        .args(roles)
        .stdin(Stdio::null())
        .stdout(append(&log)?)
        .stderr(append(&log)?);
    Ok(command.spawn()?)
}
