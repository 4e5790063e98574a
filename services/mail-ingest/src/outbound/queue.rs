//! The consumer of `ticket_message.reply_requested`: an e-mail reply is queued (once per ticket
//! message, however often the event comes) and the sender woken; channel replies are the
//! connectors' and are left alone.

use std::sync::Arc;

use sqlx::PgConnection;
use switchboard_platform::events::{EventHandler, HandlerError};
use switchboard_proto::events::{
    Event,
    v1::{EventEnvelope, TicketReplyDelivery, TicketReplyRequested},
};
use tokio::sync::Notify;

use super::store;

/// The queue of reply requests.
pub const QUEUE: &str = "mail-ingest.outbound";
/// The events it binds.
pub const BINDINGS: [&str; 1] = [TicketReplyRequested::EVENT_TYPE];

pub struct OutboundQueue {
    pub give_up_after: chrono::Duration,
    pub wake: Arc<Notify>,
}

impl EventHandler for OutboundQueue {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        let reply: TicketReplyRequested =
            event.unpack().map_err(|e| HandlerError(e.to_string()))?;
        if reply.delivery != TicketReplyDelivery::Email as i32 {
            return Ok(());
        }
        if store::queue(tx, &reply, self.give_up_after)
            .await
            .map_err(HandlerError::transient)?
        {
            self.wake.notify_one();
        }
        Ok(())
    }
}
