//! Where and how an account's IMAP server is reached, from its `ImapSettings`
//! (mail_account.proto): the port and TLS defaults, the folder, the poll interval, and the
//! refusal of plain IMAP unless the service allows insecure mail. Pure.

use std::time::Duration;

use switchboard_proto::ticket::v1::{ImapSettings, MailTlsMode};

/// Transport security of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (IMAPS).
    Implicit,
    /// Plain, upgraded by STARTTLS before login (the upgrade is required).
    StartTls,
    /// None: development against local servers only.
    Plain,
}

/// How to reach and read one account's mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub tls: Security,
    pub username: String,
    pub secret_ref: String,
    pub folder: String,
    pub poll_interval: Duration,
}

/// The poll interval when the settings leave it 0.
pub const DEFAULT_POLL: Duration = Duration::from_secs(60);

/// The endpoint of `imap`, or why it cannot be used (shown as the mailbox's `last_error`).
pub fn endpoint(imap: &ImapSettings, allow_insecure: bool) -> Result<Endpoint, String> {
    let tls = match MailTlsMode::try_from(imap.tls_mode).unwrap_or(MailTlsMode::Unspecified) {
        MailTlsMode::Unspecified | MailTlsMode::Implicit => Security::Implicit,
        MailTlsMode::Starttls => Security::StartTls,
        MailTlsMode::None if allow_insecure => Security::Plain,
        MailTlsMode::None => {
            return Err(
                "imap without TLS is refused: the account's tls_mode is NONE and \
                        mail-ingest does not allow insecure mail (allow_insecure_mail)"
                    .into(),
            );
        }
    };
    let port = match imap.port {
        0 if tls == Security::Implicit => 993,
        0 => 143,
        port => u16::try_from(port).map_err(|_| format!("imap port {port} is out of range"))?,
    };
    if imap.host.trim().is_empty() {
        return Err("the account's imap host is empty".into());
    }
    let folder = match imap.folder.trim() {
        "" => "INBOX".to_owned(),
        folder => folder.to_owned(),
    };
    let poll_interval = match imap.poll_interval_seconds {
        seconds if seconds > 0 => Duration::from_secs(seconds.unsigned_abs().into()),
        _ => DEFAULT_POLL,
    };
    Ok(Endpoint {
        host: imap.host.trim().to_owned(),
        port,
        tls,
        username: imap.username.clone(),
        secret_ref: imap.secret_ref.clone(),
        folder,
        poll_interval,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(tls_mode: MailTlsMode, port: i32) -> ImapSettings {
        ImapSettings {
            host: "imap.example.com".into(),
            port,
            tls_mode: tls_mode as i32,
            username: "help".into(),
            secret_ref: "env:PW".into(),
            ..Default::default()
        }
    }

    #[test]
    fn ports_and_tls_default_as_the_contract_says() {
        let implicit = endpoint(&settings(MailTlsMode::Unspecified, 0), false).unwrap();
        assert_eq!((implicit.port, implicit.tls), (993, Security::Implicit));
        let starttls = endpoint(&settings(MailTlsMode::Starttls, 0), false).unwrap();
        assert_eq!((starttls.port, starttls.tls), (143, Security::StartTls));
        let given = endpoint(&settings(MailTlsMode::Implicit, 1993), false).unwrap();
        assert_eq!(given.port, 1993);
        assert_eq!(given.folder, "INBOX");
        assert_eq!(given.poll_interval, DEFAULT_POLL);
    }

    #[test]
    fn plain_imap_needs_the_insecure_setting() {
        let refused = endpoint(&settings(MailTlsMode::None, 0), false).unwrap_err();
        assert!(refused.contains("allow_insecure_mail"), "{refused}");
        let plain = endpoint(&settings(MailTlsMode::None, 0), true).unwrap();
        assert_eq!((plain.port, plain.tls), (143, Security::Plain));
    }

    #[test]
    fn folder_and_interval_are_taken_when_given() {
        let mut imap = settings(MailTlsMode::Implicit, 0);
        imap.folder = "Support".into();
        imap.poll_interval_seconds = 15;
        let given = endpoint(&imap, false).unwrap();
        assert_eq!(given.folder, "Support");
        assert_eq!(given.poll_interval, Duration::from_secs(15));
        imap.port = 70_000;
        assert!(endpoint(&imap, false).is_err());
    }
}
