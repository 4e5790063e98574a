//! A private RabbitMQ node: its own name, ports, data, logs, configuration and Erlang cookie in
//! the scratch directory, no plugins (so no management port), stopped when dropped.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use super::process;
use switchboard_platform::loopback::unused_port;

/// RabbitMQ's own scripts (the ones in /usr/sbin switch to the `rabbitmq` user and drop the
/// environment that makes this node private).
const BIN: &str = "/usr/lib/rabbitmq/bin";

pub struct Rabbitmq {
    dir: PathBuf,
    pub node: String,
    pub port: u16,
    dist_port: u16,
}

impl Rabbitmq {
    /// Starts a node in `scratch/rabbitmq` and waits until it runs.
    pub async fn create(scratch: &Path) -> anyhow::Result<Self> {
        let dir = scratch.join("rabbitmq");
        std::fs::create_dir_all(&dir)?;
        let rabbitmq = Self {
            dir,
            node: format!("faults-{}@localhost", std::process::id()),
            port: unused_port(),
            dist_port: unused_port(),
        };
        std::fs::write(rabbitmq.dir.join("enabled_plugins"), "")?;
        std::fs::write(rabbitmq.dir.join("rabbitmq-env.conf"), "")?;
        std::fs::write(
            rabbitmq.dir.join("rabbitmq.conf"),
            format!("listeners.tcp.local = 127.0.0.1:{}\n", rabbitmq.port),
        )?;
        rabbitmq.start().await?;
        Ok(rabbitmq)
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    fn log(&self) -> PathBuf {
        self.dir.join("commands.log")
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("node.pid")
    }

    /// One of RabbitMQ's scripts with the node's private environment.
    fn tool(&self, name: &str) -> Command {
        let mut command = Command::new(format!("{BIN}/{name}"));
        let dir = &self.dir;
        command
            .current_dir(dir)
            // The Erlang cookie is made in HOME: a private one, shared by this node and its CLI.
            .env("HOME", dir)
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_PID_FILE", self.pid_file())
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
            .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf"))
            .env("RABBITMQ_CONF_ENV_FILE", dir.join("rabbitmq-env.conf"))
            .env("ERL_EPMD_ADDRESS", "127.0.0.1");
        command
    }

    fn ctl(&self) -> Command {
        let mut ctl = self.tool("rabbitmqctl");
        ctl.args(["-n", &self.node]);
        ctl
    }

    /// Starts the node and waits until its applications run.
    pub async fn start(&self) -> anyhow::Result<()> {
        let _ = std::fs::remove_file(self.pid_file());
        let mut server = self.tool("rabbitmq-server");
        server.arg("-detached");
        process::run(server, &self.log()).await?;
        let mut wait = self.ctl();
        wait.arg("wait")
            .arg(self.pid_file())
            .args(["--timeout", "120"]);
        process::run(wait, &self.log()).await
    }

    pub async fn stop(&self) -> anyhow::Result<()> {
        let mut stop = self.ctl();
        stop.arg("stop");
        process::run(stop, &self.log()).await
    }

    /// Messages waiting in each queue of the default virtual host, by name.
    pub async fn queues(&self) -> anyhow::Result<Vec<(String, u64)>> {
        let mut list = self.ctl();
        list.args([
            "list_queues",
            "-q",
            "--no-table-headers",
            "name",
            "messages",
        ]);
        let output = list.output().await?;
        anyhow::ensure!(
            output.status.success(),
            "rabbitmqctl list_queues failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                Some((fields.next()?.to_owned(), fields.next()?.parse().ok()?))
            })
            .collect())
    }

    /// Messages in the dead-letter queues.
    pub async fn dead_letters(&self) -> anyhow::Result<u64> {
        Ok(self
            .queues()
            .await?
            .iter()
            .filter(|(name, _)| name.ends_with("dead-letter"))
            .map(|(_, messages)| messages)
            .sum())
    }
}

impl Drop for Rabbitmq {
    fn drop(&mut self) {
        let stopped = self
            .ctl()
            .arg("stop")
            .as_std_mut()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !stopped && let Ok(pid) = std::fs::read_to_string(self.pid_file()) {
            // The node this run started, by the id it wrote.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", pid.trim()])
                .status();
        }
    }
}
