//! The models' lag as metrics: the age of the newest applied event (what a user of a report
//! sees as "data as of"), and how many events each model applied since it was built. Read from
//! the database at every scrape, so every replica reports the same figure.

use std::{future::Future, pin::Pin};

use chrono::Utc;
use sqlx::PgPool;
use switchboard_platform::metrics::{Collector, Kind, Sample};

use crate::store::status::{self, MODELS};

#[derive(Clone)]
pub struct ModelLag {
    pool: PgPool,
}

impl ModelLag {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    async fn samples(&self) -> Vec<Sample> {
        let mut samples = Vec::new();
        for name in MODELS {
            let model = match status::get(&self.pool, name).await {
                Ok(Some(model)) => model,
                Ok(None) => continue,
                Err(error) => {
                    tracing::warn!(%error, model = name, "cannot read the model's status");
                    continue;
                }
            };
            let labels = vec![("model", name.to_owned())];
            if let Some(newest) = model.newest_event_time {
                samples.push(Sample {
                    name: "switchboard_read_model_age_seconds",
                    help: "Age of the newest event the read model has applied.",
                    kind: Kind::Gauge,
                    labels: labels.clone(),
                    value: (Utc::now() - newest).num_milliseconds().max(0) as f64 / 1000.0,
                });
            }
            samples.push(Sample {
                name: "switchboard_read_model_applied_events",
                help: "Events the read model applied since it was last built.",
                kind: Kind::Gauge,
                labels,
                value: model.applied_event_count as f64,
            });
        }
        samples
    }
}

impl Collector for ModelLag {
    fn collect(&self) -> Pin<Box<dyn Future<Output = Vec<Sample>> + Send + '_>> {
        Box::pin(self.samples())
    }
}
