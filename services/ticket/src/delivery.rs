//! Delivery reports from mail-ingest (`mail.sent`, `mail.failed`): the reply's delivery state
//! changes, the ticket's version does not. A failure also writes a history entry
//! (`TICKET_EVENT_KIND_DELIVERY_FAILED`) naming the error.

use sqlx::PgConnection;
use switchboard_platform::events::{EventHandler, HandlerError};
use switchboard_proto::{
    events::{
        Event,
        v1::{EventEnvelope, MailFailed, MailSent},
    },
    ticket::v1::{DeliveryState, TicketChangeOrigin, TicketEventKind},
};
use uuid::Uuid;

use crate::tickets::{Change, messages, note_only, store, system_actor};

/// The events the queue binds.
pub const BINDINGS: [&str; 2] = [MailSent::EVENT_TYPE, MailFailed::EVENT_TYPE];

pub struct DeliveryReports;

impl EventHandler for DeliveryReports {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        let (outbound, state, error) = match event.event_type.as_str() {
            MailSent::EVENT_TYPE => {
                let sent: MailSent = event.unpack().map_err(|e| HandlerError(e.to_string()))?;
                (sent.outbound_message, DeliveryState::Sent, String::new())
            }
            MailFailed::EVENT_TYPE => {
                let failed: MailFailed = event.unpack().map_err(|e| HandlerError(e.to_string()))?;
                let error = failed
                    .outbound_message
                    .as_ref()
                    .map(|m| m.last_error.clone())
                    .unwrap_or_default();
                (failed.outbound_message, DeliveryState::Failed, error)
            }
            _ => return Ok(()),
        };
        let Some(outbound) = outbound else {
            return Err(HandlerError("a delivery report without its message".into()));
        };
        let Ok(message_id) = Uuid::parse_str(&outbound.ticket_message_id) else {
            return Err(HandlerError(
                "a delivery report without a ticket message id".into(),
            ));
        };
        let Some((ticket_id, message)) = messages::report_delivery(tx, message_id, state, &error)
            .await
            .map_err(HandlerError::transient)?
        else {
            // The ticket was deleted (spam) since the reply was sent.
            return Ok(());
        };
        if state == DeliveryState::Failed
            && let Some(ticket) = store::load(tx, ticket_id, false)
                .await
                .map_err(HandlerError::transient)?
        {
            let change = Change::new(
                TicketEventKind::DeliveryFailed,
                TicketChangeOrigin::System,
                system_actor(),
            )
            .with_message(message)
            .with_note(error);
            note_only(tx, &ticket, change)
                .await
                .map_err(|e| HandlerError(e.to_string()))?;
        }
        Ok(())
    }
}
