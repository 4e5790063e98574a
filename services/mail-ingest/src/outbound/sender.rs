//! The sender: claims due mails (each replica its own, by lease), sends each through its
//! account's SMTP server, and records the attempt; a sent or given-up mail is announced
//! (`mail.sent`, `mail.failed`) in the same transaction. Temporary failures back off
//! exponentially (1 minute to 1 hour by default) until the retry period (24 hours) runs out.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use futures_util::{StreamExt, stream};
use sqlx::PgPool;
use switchboard_platform::{
    Shutdown, db,
    events::{NewEvent, publish},
};
use switchboard_proto::{
    events::v1::{MailFailed, MailSent},
    ticket::v1::TicketMessageKind,
};
use tokio::sync::Notify;

use super::{
    compose::{self, File},
    smtp,
    store::{self, Claimed, Outcome},
};
use crate::{accounts, config::MailIngestSettings, inbound::SOURCE, tickets::Tickets};

/// Mails claimed at once, and sent concurrently.
const BATCH: i64 = 16;

pub struct Sender {
    pub pool: PgPool,
    pub tickets: Tickets,
    pub settings: MailIngestSettings,
    pub wake: Arc<Notify>,
}

impl Sender {
    /// The delay before attempt `attempts + 1`.
    fn backoff(&self, attempts: i32) -> chrono::Duration {
        let initial = self.settings.outbound_retry_initial_s.max(1);
        let max = self.settings.outbound_retry_max_s.max(initial);
        let factor = 1u64 << attempts.clamp(1, 20).saturating_sub(1);
        chrono::Duration::seconds(initial.saturating_mul(factor).min(max) as i64)
    }

    /// Sends until `shutdown`; a database failure is logged and retried at the next round.
    pub async fn run(self, mut shutdown: Shutdown) {
        let poll = Duration::from_millis(self.settings.outbound_poll_ms.max(10));
        loop {
            match self.round().await {
                Ok(busy) if busy => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the outbound sender's round failed"),
            }
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// One round: the due mails claimed and attempted; whether a full batch was claimed.
    async fn round(&self) -> Result<bool, switchboard_platform::error::Error> {
        let lease = chrono::Duration::seconds(self.settings.smtp_timeout_s as i64 * 4 + 60);
        let claimed = store::claim(&self.pool, BATCH, lease).await?;
        let full = claimed.len() as i64 == BATCH;
        // Notifications one after the other, so that the throttle counts each one sent before
        // the next is checked; replies all at once.
        let (notifications, replies): (Vec<_>, Vec<_>) = claimed
            .into_iter()
            .partition(|mail| mail.reply.kind == TicketMessageKind::Notification as i32);
        let results: Vec<_> = stream::iter(replies)
            .map(|mail| self.attempt(mail))
            .buffer_unordered(BATCH as usize)
            .collect()
            .await;
        for result in results {
            result?;
        }
        for mail in notifications {
            self.attempt(mail).await?;
        }
        Ok(full)
    }

    /// The mail's attachments, from the ticket service.
    async fn files(&self, mail: &Claimed) -> Result<Vec<File>, smtp::Failure> {
        let mut files = Vec::with_capacity(mail.reply.attachments.len());
        for attachment in &mail.reply.attachments {
            let (meta, content) =
                self.tickets
                    .download(attachment)
                    .await
                    .map_err(|status| smtp::Failure {
                        permanent: status.code() == tonic::Code::NotFound,
                        message: format!(
                            "attachment {:?} cannot be fetched: {}",
                            attachment.file_name,
                            status.message()
                        ),
                    })?;
            files.push(File {
                name: meta.file_name,
                content_type: meta.content_type,
                content,
            });
        }
        Ok(files)
    }

    /// Builds and sends one mail.
    async fn send(&self, mail: &Claimed) -> Result<(String, i64), smtp::Failure> {
        let account = match mail.row.mail_account_id {
            Some(id) => accounts::by_id(&self.pool, id)
                .await
                .map_err(|e| smtp::Failure {
                    permanent: false,
                    message: e.to_string(),
                })?,
            None => None,
        };
        let smtp_settings = account
            .and_then(|a| a.account.smtp)
            .filter(|s| !s.host.is_empty())
            .ok_or_else(|| smtp::Failure {
                permanent: true,
                message: "the account is gone or has no SMTP settings".into(),
            })?;
        if mail.reply.kind == TicketMessageKind::Notification as i32 {
            let automated = store::answers_automated_mail(&self.pool, &mail.reply.in_reply_to)
                .await
                .map_err(|e| smtp::Failure {
                    permanent: false,
                    message: e.to_string(),
                })?;
            if automated {
                return Err(smtp::Failure {
                    permanent: true,
                    message: "suppressed: the mail it answers is automated (an auto-reply, a \
                              bounce or list mail), which gets no automatic answer"
                        .into(),
                });
            }
            let recent = store::recent_notifications(&self.pool, &mail.reply.to_addresses)
                .await
                .map_err(|e| smtp::Failure {
                    permanent: false,
                    message: e.to_string(),
                })?;
            let limit = i64::from(self.settings.notifications_per_address_per_hour);
            if recent >= limit {
                return Err(smtp::Failure {
                    permanent: true,
                    message: format!(
                        "throttled: {recent} automatic mails went to this address in the last \
                         hour (at most {limit})"
                    ),
                });
            }
        }
        let files = self.files(mail).await?;
        let message = compose::compose(&mail.reply, files).map_err(|unsendable| smtp::Failure {
            permanent: true,
            message: unsendable.0,
        })?;
        let size = message.formatted().len() as i64;
        let timeout = Duration::from_secs(self.settings.smtp_timeout_s.max(1));
        let response = smtp::send(
            &smtp_settings,
            self.settings.allow_insecure_mail,
            timeout,
            message,
        )
        .await?;
        Ok((response, size))
    }

    /// One attempt of `mail`, recorded with its announcement.
    async fn attempt(&self, mail: Claimed) -> Result<(), switchboard_platform::error::Error> {
        let result = self.send(&mail).await;
        let now = Utc::now();
        let outcome = match &result {
            Ok((response, size)) => Outcome::Sent {
                response,
                size: *size,
            },
            Err(failure) if failure.permanent || now >= mail.give_up_time => Outcome::Failed {
                error: &failure.message,
            },
            Err(failure) => Outcome::Retry {
                error: &failure.message,
                at: now + self.backoff(mail.row.attempt_count),
            },
        };
        let mut tx = db::begin(&self.pool).await?;
        let row = store::record(&mut tx, &mail.row, &outcome).await?;
        let id = row.id.to_string();
        match (&outcome, &result) {
            (Outcome::Sent { response, .. }, _) => {
                let sent = MailSent {
                    outbound_message: Some(row.message()),
                    smtp_response: (*response).to_owned(),
                };
                publish(&mut tx, SOURCE, NewEvent::new(&sent, &id, row.version)).await?;
            }
            (Outcome::Failed { error }, Err(failure)) => {
                tracing::warn!(outbound_message_id = %id, error, "outgoing mail given up");
                let failed = MailFailed {
                    outbound_message: Some(row.message()),
                    permanent: failure.permanent,
                };
                publish(&mut tx, SOURCE, NewEvent::new(&failed, &id, row.version)).await?;
            }
            (Outcome::Retry { error, .. }, _) => {
                tracing::info!(outbound_message_id = %id, error, "outgoing mail will be retried");
            }
            _ => {}
        }
        db::commit(tx).await
    }
}
