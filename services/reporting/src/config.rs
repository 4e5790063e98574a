//! The reporting service's own settings (section `reporting` of the configuration).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ReportingSettings {
    /// Whether this replica consumes events (true) or only answers reports from a model that
    /// other replicas fill (false: read replicas, and the benchmark's generated model).
    pub consume_events: bool,
    /// Workers (AMQP channels, each folding its own batches) that consume the callback queue
    /// at once in this replica. The fold does not depend on the order of events (the model is
    /// each callback's highest version, and the advisory locks and count rows are taken in key
    /// order), so several workers are safe.
    pub consumer_workers: usize,
}

impl Default for ReportingSettings {
    fn default() -> Self {
        Self {
            consume_events: true,
            consumer_workers: 4,
        }
    }
}
