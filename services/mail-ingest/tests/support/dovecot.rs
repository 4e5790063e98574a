//! A private Dovecot IMAP server for one test: its own directory (configuration, runtime and
//! state directories, the users file, the Maildir), a free loopback port, plain IMAP with
//! plain-text logins (the tests run mail-ingest with `allow_insecure_mail`), or TLS only
//! (STARTTLS, and IMAPS on a second port) with a self-signed certificate for `localhost`. Mail is delivered
//! by writing Maildir files, so it can be delivered while the server is down. Runs as root
//! (as `scripts/test` does) with the mail owned by `nobody`.

use std::{
    fs,
    os::unix::fs::chown,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use tokio::{io::AsyncReadExt, net::TcpStream};

/// The mail user's uid and gid (`nobody` / `nogroup`): Dovecot refuses uid 0.
const NOBODY: u32 = 65_534;
pub const USER: &str = "help";
pub const PASSWORD: &str = "imap-test-password";

const INSTALL: &str = "dovecot is not installed, and the IMAP tests need it: install it with \
     `apt-get install -y dovecot-imapd` (scripts/test does it as root through \
     scripts/ensure-services --for-tests)";

pub struct Dovecot {
    dir: PathBuf,
    conf: PathBuf,
    /// IMAP (STARTTLS when started with TLS).
    pub port: u16,
    /// IMAPS (TLS from the first byte); 0 without TLS.
    pub imaps_port: u16,
    child: Option<Child>,
    delivered: u32,
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

use switchboard_platform::loopback::unused_port as free_port;

/// Runs `openssl` with `args` (split at spaces) in `dir`.
fn openssl(args: &str, dir: &Path) {
    let made = Command::new("openssl")
        .args(args.split(' '))
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        made,
        "openssl {args} (install it: apt-get install -y openssl)"
    );
}

/// A test CA (`ca.pem`) and the server's certificate for `localhost` signed by it
/// (`cert.pem`, `key.pem`), made by `openssl` (webpki refuses a CA certificate as the server's).
fn certificate(dir: &Path) {
    write(
        &dir.join("leaf.ext"),
        "subjectAltName = DNS:localhost, IP:127.0.0.1\nbasicConstraints = CA:FALSE\n\
         extendedKeyUsage = serverAuth\n",
    );
    openssl(
        "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.pem",
        dir,
    );
    openssl(
        "req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout key.pem -out leaf.csr",
        dir,
    );
    openssl(
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
         -extfile leaf.ext -out cert.pem",
        dir,
    );
}

/// How a test's server differs from plain IMAP with IDLE.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Plain,
    Tls,
    /// Plain, not offering IDLE (as some servers do not): fetchers poll.
    WithoutIdle,
}

fn config(dir: &Path, port: u16, imaps_port: u16, flavour: Flavour) -> String {
    let capability = if flavour == Flavour::WithoutIdle {
        "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+"
    } else {
        ""
    };
    let ssl = if imaps_port == 0 {
        "ssl = no\ndisable_plaintext_auth = no".to_owned()
    } else {
        format!(
            "ssl = required\nssl_cert = <{0}/cert.pem\nssl_key = <{0}/key.pem",
            dir.display()
        )
    };
    let dir = dir.display();
    format!(
        "base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
{capability}
auth_mechanisms = plain login
mail_location = maildir:~/
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
first_valid_uid = {NOBODY}
last_valid_uid = {NOBODY}
first_valid_gid = {NOBODY}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {dir}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"
    )
}

impl Dovecot {
    /// A Dovecot started on a free port, with the user [`USER`] and an empty INBOX. Fails the
    /// test, saying how to install it, when Dovecot is missing.
    pub async fn start() -> Self {
        Self::start_with(Flavour::Plain).await
    }

    /// As [`Dovecot::start`], without IDLE in its capabilities.
    pub async fn start_without_idle() -> Self {
        Self::start_with(Flavour::WithoutIdle).await
    }

    /// As [`Dovecot::start`], TLS only: STARTTLS on `port`, IMAPS on `imaps_port`, the
    /// certificate in [`Dovecot::ca_file`].
    pub async fn start_tls() -> Self {
        Self::start_with(Flavour::Tls).await
    }

    async fn start_with(flavour: Flavour) -> Self {
        let installed = Command::new("dovecot")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        assert!(installed, "{INSTALL}");
        let dir = std::env::temp_dir().join(format!(
            "switchboard-dovecot-{}",
            switchboard_platform::testing::unique_id()
        ));
        let maildir = dir.join("mail").join(USER);
        for sub in [
            "run",
            "state",
            "mail/help/cur",
            "mail/help/new",
            "mail/help/tmp",
        ] {
            fs::create_dir_all(dir.join(sub)).expect("the dovecot directories");
        }
        for owned in [dir.join("mail"), maildir.clone()]
            .into_iter()
            .chain(["cur", "new", "tmp"].map(|sub| maildir.join(sub)))
        {
            chown(&owned, Some(NOBODY), Some(NOBODY)).expect("the maildir owned by nobody");
        }
        let port = free_port();
        let imaps_port = if flavour == Flavour::Tls {
            certificate(&dir);
            free_port()
        } else {
            0
        };
        let conf = dir.join("dovecot.conf");
        write(&conf, &config(&dir, port, imaps_port, flavour));
        let mut dovecot = Self {
            dir,
            conf,
            port,
            imaps_port,
            child: None,
            delivered: 0,
        };
        dovecot.set_password(PASSWORD);
        dovecot.run().await;
        dovecot
    }

    /// Changes [`USER`]'s password (Dovecot reads its users file again when it changed).
    pub fn set_password(&self, password: &str) {
        assert!(
            !password.contains([':', '\n']),
            "a password for a passwd-file: {password:?}"
        );
        let line = format!(
            "{USER}:{{PLAIN}}{password}:{NOBODY}:{NOBODY}::{}::\n",
            self.maildir().display()
        );
        write(&self.dir.join("users"), &line);
    }

    /// A file holding `password` (with a trailing newline, as secrets often have), for a
    /// `file:` secret reference.
    pub fn secret_file(&self, name: &str, password: &str) -> String {
        let path = self.dir.join(name);
        write(&path, &format!("{password}\n"));
        format!("file:{}", path.display())
    }

    /// The CA of the server's certificate (PEM).
    pub fn ca_file(&self) -> String {
        self.dir.join("ca.pem").display().to_string()
    }

    fn maildir(&self) -> PathBuf {
        self.dir.join("mail").join(USER)
    }

    /// Starts the server (again, on the same port) and waits for its greeting.
    pub async fn run(&mut self) {
        assert!(self.child.is_none(), "dovecot runs already");
        let log = fs::File::create(self.dir.join("dovecot.out")).expect("the output file");
        let child = Command::new("dovecot")
            .arg("-c")
            .arg(&self.conf)
            .arg("-F")
            .stdout(log.try_clone().expect("the output file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{INSTALL} ({e})"));
        self.child = Some(child);
        for _ in 0..100 {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)).await {
                let mut greeting = [0u8; 4];
                if stream.read_exact(&mut greeting).await.is_ok() && &greeting == b"* OK" {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "dovecot did not answer on port {}: {}",
            self.port,
            self.log()
        );
    }

    /// Stops the server and waits for it to exit.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("dovecot")
            .arg("-c")
            .arg(&self.conf)
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        for _ in 0..100 {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Delivers `raw` to the INBOX as an MTA's local delivery does (a file in `new/`).
    pub fn deliver(&mut self, raw: &[u8]) {
        self.delivered += 1;
        let name = format!(
            "{}.M{}P{}.test",
            chrono::Utc::now().timestamp(),
            self.delivered,
            std::process::id()
        );
        let tmp = self.maildir().join("tmp").join(&name);
        fs::write(&tmp, raw).expect("a maildir file");
        chown(&tmp, Some(NOBODY), Some(NOBODY)).expect("the mail owned by nobody");
        fs::rename(&tmp, self.maildir().join("new").join(&name)).expect("delivered to new/");
    }

    /// Makes the stopped server forget the INBOX's UIDs, as a restored or rebuilt mailbox
    /// does: when started again it announces a new UIDVALIDITY and numbers the messages anew.
    pub fn forget_uids(&self) {
        assert!(self.child.is_none(), "stop dovecot first");
        for entry in fs::read_dir(self.maildir()).expect("the maildir").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "dovecot-uidlist" || name.starts_with("dovecot.index") {
                fs::remove_file(entry.path()).expect("an index file removed");
            }
        }
    }

    /// The messages in the INBOX (none are ever deleted), and how many of them are `\Seen`.
    pub fn messages(&self) -> (usize, usize) {
        let names = |sub: &str| -> Vec<String> {
            fs::read_dir(self.maildir().join(sub))
                .map(|entries| {
                    entries
                        .filter_map(|entry| entry.ok())
                        .map(|entry| entry.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        let new = names("new");
        let cur = names("cur");
        let seen = cur
            .iter()
            .filter(|name| {
                name.rsplit_once(":2,")
                    .is_some_and(|(_, flags)| flags.contains('S'))
            })
            .count();
        (new.len() + cur.len(), seen)
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
            + &fs::read_to_string(self.dir.join("dovecot.out")).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("dovecot")
                .arg("-c")
                .arg(&self.conf)
                .arg("stop")
                .status();
            for _ in 0..50 {
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}
