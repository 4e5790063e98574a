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
    /// order), so several workers are safe. One is the default: measured on two cores it drains
    /// a backlog at about 34,000 events/s, and under a live peak its batches are larger and
    /// its transactions fewer than those of several workers, which wait on one another for the
    /// model's counters (`bench callbacks` pushed 3,600–3,750/s beside one worker, 3,000–3,100
    /// beside two and 2,600–2,900 beside four).
    pub consumer_workers: usize,
}

impl Default for ReportingSettings {
    fn default() -> Self {
        Self {
            consume_events: true,
            consumer_workers: 1,
        }
    }
}
