//! An SMTP server the test reads back: aiosmtpd (Debian's `python3-aiosmtpd`, installed by
//! `scripts/ensure-services --for-tests`) writing every message it accepts into a Maildir of
//! the test's own. Stopped when dropped.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// Debian's Python, which has aiosmtpd (a pyenv or venv Python first in PATH may not).
const PYTHON: &str = "/usr/bin/python3";

pub struct SmtpSink {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

pub use switchboard_platform::loopback::unused_port as free_port;

impl SmtpSink {
    /// A sink on a free port.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// A sink on `port` (for a server that comes back where it was).
    pub fn start_on(port: u16) -> Self {
        let ok = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "aiosmtpd is not installed for {PYTHON}: run `scripts/ensure-services --for-tests` as \
             root, or `apt-get install python3-aiosmtpd`"
        );
        let dir = std::env::temp_dir().join(format!(
            "sb-smtp-{}-{port}-{}",
            std::process::id(),
            uuid::Uuid::now_v7()
        ));
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "aiosmtpd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { port, dir, child }
    }

    /// The messages received so far, as received (Maildir `new/` and `cur/`), oldest first.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<_> = ["new", "cur"]
            .iter()
            .flat_map(|sub| std::fs::read_dir(self.dir.join(sub)).into_iter().flatten())
            .flatten()
            .map(|entry| entry.path())
            .collect();
        files.sort_by_key(|path| {
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::SystemTime::UNIX_EPOCH)
        });
        files.iter().filter_map(|f| std::fs::read(f).ok()).collect()
    }

    /// Waits until `count` messages arrived; returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<Vec<u8>> {
        let started = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the SMTP sink got {} messages, not {count}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
