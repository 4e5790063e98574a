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

use sqlx::PgConnection;
use switchboard_platform::events::{NewEvent, publish};
use switchboard_proto::events::v1::MailFailed;

/// A bounce of one of our mails (its Message-ID, as the report quotes it): that mail failed
/// permanently, announced in `tx`. False when it is none of ours (or failed already).
pub async fn bounce(
    tx: &mut PgConnection,
    mail_message_id: &str,
    report_subject: &str,
) -> Result<bool, tonic::Status> {
    let error = format!("bounced: {report_subject}");
    let Some(row) = store::bounced(tx, mail_message_id, &error).await? else {
        return Ok(false);
    };
    let failed = MailFailed {
        outbound_message: Some(row.message()),
        permanent: true,
    };
    let id = row.id.to_string();
    publish(
        tx,
        crate::inbound::SOURCE,
        NewEvent::new(&failed, &id, row.version),
    )
    .await?;
    tracing::info!(outbound_message_id = %id, "outgoing mail bounced");
    Ok(true)
}
