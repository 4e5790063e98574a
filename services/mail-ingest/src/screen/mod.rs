//! What is checked of a mail before and beside its decoding: the limits that send it to the
//! quarantine (size, MIME depth, part count, header size), whether it is automated, and which
//! of our messages a bounce is about.
//!
//! BASELINE: size and the headers mail-parser reads; the bounded pre-scan of the MIME
//! structure and the full classification come in this folder.

use mail_parser::Message;
use switchboard_proto::ticket::v1::MessageAutomation;

/// The limits of one mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_parts: usize,
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 30 * 1024 * 1024,
            max_depth: 32,
            max_parts: 1_000,
            max_header_bytes: 512 * 1024,
        }
    }
}

/// The limit a mail is over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverLimit {
    Size { bytes: usize, max: usize },
    Depth { max: usize },
    Parts { max: usize },
    HeaderBytes { max: usize },
}

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Size { bytes, max } => write!(f, "{bytes} bytes, over the limit of {max}"),
            Self::Depth { max } => write!(f, "MIME parts nested deeper than {max}"),
            Self::Parts { max } => write!(f, "more than {max} MIME parts"),
            Self::HeaderBytes { max } => write!(f, "a header block over {max} bytes"),
        }
    }
}

/// Checks `raw` against `limits` without parsing it into memory.
pub fn check(raw: &[u8], limits: &Limits) -> Result<(), OverLimit> {
    if raw.len() > limits.max_bytes {
        return Err(OverLimit::Size {
            bytes: raw.len(),
            max: limits.max_bytes,
        });
    }
    Ok(())
}

/// The SMTP envelope sender (MAIL FROM) as the MTA gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeSender {
    /// Not given (IMAP, or an MTA that does not pass it).
    Absent,
    /// `<>`: a bounce or other delivery status notification.
    Null,
    Address(String),
}

/// Whether `message` was written by a person or sent automatically.
pub fn automation(message: &Message<'_>, sender: &EnvelopeSender) -> MessageAutomation {
    if *sender == EnvelopeSender::Null {
        return MessageAutomation::DeliveryStatus;
    }
    if message
        .header_raw("Auto-Submitted")
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"))
    {
        return MessageAutomation::AutoReply;
    }
    MessageAutomation::Human
}

/// For a bounce: the Message-ID (without angle brackets) of the message that could not be
/// delivered, as the report quotes it.
pub fn bounced_message_id(_message: &Message<'_>) -> Option<String> {
    None
}
