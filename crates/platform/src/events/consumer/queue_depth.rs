//! The depth of a consumer's queue and of its dead-letter queue, read every few seconds by a
//! passive declare on the consumer's own connection (a scrape never opens one).

use std::{sync::Arc, time::Duration};

use lapin::{
    Channel,
    options::QueueDeclareOptions,
    types::{FieldTable, ShortString},
};

use super::{ConsumerStats, stats::QueueDepths};
use crate::shutdown::Shutdown;

/// Reads the depths every `every` until `shutdown`; an error is the channel's.
pub(super) async fn refresh(
    channel: Channel,
    queue: String,
    dead_letter_queue: String,
    stats: Arc<ConsumerStats>,
    every: Duration,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut ticks = tokio::time::interval(every);
    loop {
        tokio::select! {
            biased;
            _ = shutdown.wait() => return Ok(()),
            _ = ticks.tick() => {}
        }
        let depths = QueueDepths {
            queue: messages(&channel, &queue).await?,
            dead_letters: messages(&channel, &dead_letter_queue).await?,
        };
        stats.record_depths(depths);
    }
}

async fn messages(channel: &Channel, queue: &str) -> lapin::Result<u32> {
    let passive = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let declared = channel
        .queue_declare(ShortString::from(queue), passive, FieldTable::default())
        .await?;
    Ok(declared.message_count())
}
