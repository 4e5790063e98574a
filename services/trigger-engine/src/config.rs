//! The trigger engine's own settings (section `trigger_engine` of the configuration,
//! `SWITCHBOARD_TRIGGER_ENGINE__…` in the environment).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TriggerEngineSettings {
    /// How long group members and agents' groups read from the directory are reused, in
    /// milliseconds.
    pub directory_max_age_ms: u64,
    /// Evaluations of one event on newer ticket versions, after the ticket changed between
    /// the event and the engine's update, before the event is returned to the queue.
    pub apply_attempts: u32,
    /// Channels consuming ticket events concurrently (events of different tickets are
    /// independent; the version check orders those of one ticket).
    pub workers: usize,
}

impl Default for TriggerEngineSettings {
    fn default() -> Self {
        Self {
            directory_max_age_ms: 2_000,
            apply_attempts: 5,
            workers: 4,
        }
    }
}
