//! What is checked of a mail before and beside its decoding: the limits that send it to the
//! quarantine (size, MIME depth, part count, header size), whether it is automated, and which
//! of our messages a bounce is about; and, for the outbound side, what makes a header value
//! safe to send.
//!
//! - `limits` (with `scan`, `boundary`, `content_type`, `transfer`): the bounded pre-scan of
//!   the raw bytes, before mail-parser sees them.
//! - `automation`: Human, AutoReply, DeliveryStatus or Bulk, from the headers.
//! - `bounce`: the Message-ID of the message a bounce is about.
//! - `header_safety`: display names, subjects, addresses and bodies made safe for SMTP.
//! - `fields`: reading raw header values, shared by the above.

mod automation;
mod bounce;
mod boundary;
mod content_type;
mod fields;
pub mod header_safety;
mod limits;
mod scan;
mod transfer;

pub use automation::automation;
pub use bounce::bounced_message_id;
pub use header_safety::{
    UnsafeAddress, normalize_body_crlf, safe_address, safe_display_name, safe_subject,
};
pub use limits::{Limits, OverLimit, check};

/// The SMTP envelope sender (MAIL FROM) as the MTA gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeSender {
    /// Not given (IMAP, or an MTA that does not pass it).
    Absent,
    /// `<>`: a bounce or other delivery status notification.
    Null,
    Address(String),
}
