//! mail-ingest's own settings (section `mail_ingest` of the configuration,
//! `SWITCHBOARD_MAIL_INGEST__…` in the environment).

use serde::Deserialize;

use crate::screen::Limits;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MailIngestSettings {
    /// The largest mail accepted, in bytes (30 MiB); `SubmitRawEmail` refuses larger ones.
    pub max_mail_bytes: usize,
    /// MIME parts nested deeper than this send a mail to the quarantine.
    pub max_mime_depth: usize,
    /// More MIME parts than this send a mail to the quarantine.
    pub max_mime_parts: usize,
    /// A header block (of the message or of a part) over this many bytes sends a mail to the
    /// quarantine.
    pub max_header_bytes: usize,
    /// Whether IMAP and SMTP may run without TLS (development against local servers only).
    pub allow_insecure_mail: bool,
    /// The first retry of an outgoing mail after a temporary failure, in seconds (1 minute);
    /// each further one waits twice as long, up to `outbound_retry_max_s`.
    pub outbound_retry_initial_s: u64,
    /// The longest wait between retries, in seconds (1 hour).
    pub outbound_retry_max_s: u64,
    /// How long temporary failures are retried before the mail is given up, in seconds (24 h).
    pub outbound_give_up_after_s: u64,
    /// How often the sender looks for due mail, in milliseconds (it is also woken by new mail).
    pub outbound_poll_ms: u64,
    /// The timeout of each SMTP step, in seconds.
    pub smtp_timeout_s: u64,
    /// Automatic mails (notifications) sent to one address per hour at most; more are given
    /// up as throttled, which ends a loop with an auto-responder.
    pub notifications_per_address_per_hour: u32,
    /// A PEM file of certificate authorities trusted for IMAP servers besides the system's
    /// roots (a private CA); empty means none.
    pub mail_ca_file: String,
    /// How long a replica's lease on an account's IMAP fetching lasts unless renewed (every
    /// third of it): after a replica dies, another takes its accounts over within this time.
    pub imap_lease_seconds: u64,
    /// How often the mirrored accounts are read again for IMAP fetchers to start or stop.
    pub imap_rescan_seconds: u64,
    /// This replica's name in the IMAP leases (`MailboxStatus.lease_holder`); empty means the
    /// host name (the pod's) with a random suffix.
    pub replica_name: String,
}

impl Default for MailIngestSettings {
    fn default() -> Self {
        let limits = Limits::default();
        Self {
            max_mail_bytes: limits.max_bytes,
            max_mime_depth: limits.max_depth,
            max_mime_parts: limits.max_parts,
            max_header_bytes: limits.max_header_bytes,
            allow_insecure_mail: false,
            outbound_retry_initial_s: 60,
            outbound_retry_max_s: 3_600,
            outbound_give_up_after_s: 86_400,
            outbound_poll_ms: 1_000,
            smtp_timeout_s: 30,
            notifications_per_address_per_hour: 5,
            mail_ca_file: String::new(),
            imap_lease_seconds: 30,
            imap_rescan_seconds: 5,
            replica_name: String::new(),
        }
    }
}

impl MailIngestSettings {
    pub fn give_up_after(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.outbound_give_up_after_s.min(i64::MAX as u64) as i64)
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_bytes: self.max_mail_bytes,
            max_depth: self.max_mime_depth,
            max_parts: self.max_mime_parts,
            max_header_bytes: self.max_header_bytes,
        }
    }
}
