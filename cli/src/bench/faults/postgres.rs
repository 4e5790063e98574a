//! A private PostgreSQL cluster in the scratch directory, on a port of its own, trust auth:
//! made with `initdb`, crashed with `pg_ctl stop -m immediate`, stopped when dropped.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use super::process;
use switchboard_platform::loopback::unused_port;

/// PostgreSQL's programs (Debian's layout).
const BIN: &str = "/usr/lib/postgresql/15/bin";
/// The database the mesh uses.
pub const DATABASE: &str = "faults";

pub struct Postgres {
    dir: PathBuf,
    pub port: u16,
}

impl Postgres {
    /// Makes the cluster in `scratch/pg`, starts it and creates [`DATABASE`].
    pub async fn create(scratch: &Path) -> anyhow::Result<Self> {
        let dir = scratch.join("pg");
        std::fs::create_dir_all(&dir)?;
        if process::is_root() {
            // initdb refuses to run as root; the cluster belongs to `postgres`.
            process::run(
                {
                    let mut chown = Command::new("chown");
                    chown.arg("postgres").arg(&dir);
                    chown
                },
                &scratch.join("pg.log"),
            )
            .await?;
        }
        let postgres = Self {
            dir,
            port: unused_port(),
        };
        let mut initdb = postgres.tool("initdb");
        initdb
            .arg("-D")
            .arg(postgres.data())
            .args(["-A", "trust", "-U", "postgres", "--no-sync"]);
        process::run(initdb, &postgres.log()).await?;
        postgres.start().await?;
        let mut createdb = postgres.tool("createdb");
        createdb
            .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(postgres.port.to_string())
            .arg(DATABASE);
        process::run(createdb, &postgres.log()).await?;
        Ok(postgres)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{DATABASE}", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.join("commands.log")
    }

    /// One of PostgreSQL's programs, run as `postgres` when this process is root.
    fn tool(&self, name: &str) -> Command {
        let program = format!("{BIN}/{name}");
        if process::is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", &program]);
            command
        } else {
            Command::new(program)
        }
    }

    /// Starts the cluster and waits until it accepts connections.
    pub async fn start(&self) -> anyhow::Result<()> {
        let mut start = self.tool("pg_ctl");
        start
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-o"])
            .arg(format!(
                "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={}",
                self.port,
                self.dir.display()
            ))
            .arg("start");
        process::run(start, &self.log()).await
    }

    /// Stops the server as a crash would: no checkpoint, connections cut.
    pub async fn crash(&self) -> anyhow::Result<()> {
        process::run(self.stop_command(), &self.log()).await
    }

    fn stop_command(&self) -> Command {
        let mut stop = self.tool("pg_ctl");
        stop.arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"]);
        stop
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .stop_command()
            .as_std_mut()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}
