//! The callback service's own settings (section `callback` of the configuration).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CallbackSettings {
    /// The region numbers without a country code are read in (ISO 3166 code).
    pub default_region: String,
    /// The most rows one export may hold.
    pub export_max_rows: i64,
    /// How many batches of pushes one replica writes at once (at least one); pushes that arrive
    /// meanwhile wait for the next batch. Each writer takes one database connection while it
    /// writes. One gives the largest batches, which on a small database server is the fastest.
    pub intake_batch_writers: usize,
}

impl Default for CallbackSettings {
    fn default() -> Self {
        Self {
            default_region: "KR".into(),
            export_max_rows: 1_000_000,
            intake_batch_writers: 1,
        }
    }
}
