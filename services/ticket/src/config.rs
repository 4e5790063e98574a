//! The ticket service's own settings (section `ticket` of the configuration,
//! `SWITCHBOARD_TICKET__…` in the environment).

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TicketSettings {
    /// How long a solved ticket stays solved before it is closed automatically, in seconds
    /// (14 days).
    pub auto_close_after_s: u64,
    /// How often the auto-close scheduler looks for due tickets, in milliseconds.
    pub auto_close_interval_ms: u64,
    /// The largest attachment, uploaded or ingested, in bytes (25 MiB).
    pub attachment_max_bytes: u64,
    /// Whether to consume delivery reports (`mail.sent`, `mail.failed`) from mail-ingest.
    pub consume_delivery_reports: bool,
    /// The trigger notifications a requester's address receives in an hour at the most; more
    /// are recorded as suppressed (`THROTTLED`).
    pub trigger_notifications_per_hour: u32,
}

impl Default for TicketSettings {
    fn default() -> Self {
        Self {
            auto_close_after_s: 14 * 24 * 3600,
            auto_close_interval_ms: 60_000,
            attachment_max_bytes: 25 * 1024 * 1024,
            consume_delivery_reports: true,
            trigger_notifications_per_hour: 5,
        }
    }
}

impl TicketSettings {
    pub fn auto_close_after(&self) -> Duration {
        Duration::from_secs(self.auto_close_after_s)
    }

    pub fn auto_close_interval(&self) -> Duration {
        Duration::from_millis(self.auto_close_interval_ms.max(10))
    }
}
