//! Running the commands that start and stop the private servers: their output goes to a log
//! file of the scratch directory, and a failure names the command and quotes the log's end.

use std::{
    fs::{File, OpenOptions},
    path::{Path, PathBuf},
    process::Stdio,
};

use tokio::process::Command;

/// The scratch directory of one run, removed when dropped.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn create() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("switchboard-faults-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("cannot remove {}: {error}", self.dir.display());
        }
    }
}

/// `log`, opened for appending (a restarted process writes after its predecessor).
pub fn append(log: &Path) -> anyhow::Result<File> {
    Ok(OpenOptions::new().create(true).append(true).open(log)?)
}

/// Runs `command` to its end with its output appended to `log`; an error unless it succeeded.
pub async fn run(mut command: Command, log: &Path) -> anyhow::Result<()> {
    let what = format!("{:?}", command.as_std());
    let status = command
        .stdin(Stdio::null())
        .stdout(append(log)?)
        .stderr(append(log)?)
        .status()
        .await
        .map_err(|e| anyhow::anyhow!("cannot run {what}: {e}"))?;
    if !status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<_> = text.lines().rev().take(15).collect();
        let tail: Vec<_> = tail.into_iter().rev().collect();
        anyhow::bail!(
            "{what} failed ({status}); end of {}:\n{}",
            log.display(),
            tail.join("\n")
        );
    }
    Ok(())
}

/// Whether this process runs as root (PostgreSQL refuses to, so its tools run as `postgres`).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// Waits until something accepts connections on `port`, up to `timeout`.
pub async fn wait_for_port(port: u16, timeout: std::time::Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "nothing listens on port {port} after {} s",
            timeout.as_secs()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}
