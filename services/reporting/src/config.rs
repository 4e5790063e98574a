//! The reporting service's own settings (section `reporting` of the configuration).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ReportingSettings {
    /// Whether this replica consumes events (true) or only answers reports from a model that
    /// other replicas fill (false: read replicas, and the benchmark's generated model).
    pub consume_events: bool,
}

impl Default for ReportingSettings {
    fn default() -> Self {
        Self {
            consume_events: true,
        }
    }
}
