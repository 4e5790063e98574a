//! Outgoing mail: replies and notifications from the ticket service's
//! `ticket_message.reply_requested` events, queued once per ticket message (`queue`), sent by
//! SMTP through their account with retries (`sender`), reported back as `mail.sent` /
//! `mail.failed`, and listed for admins (`api`).

pub mod api;
pub mod compose;
mod queue;
mod sender;
mod smtp;
mod store;

pub use queue::{BINDINGS, OutboundQueue, QUEUE};
pub use sender::Sender;
