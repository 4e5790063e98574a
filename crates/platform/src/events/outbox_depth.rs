//! The outbox's depth as metrics: events not yet published and the age of the oldest, per
//! schema, read from PostgreSQL at each scrape. A relay registers it while it runs.

use std::{future::Future, pin::Pin};

use sqlx::PgPool;

use crate::metrics::{Collector, Kind, Sample};

pub struct OutboxDepth {
    pool: PgPool,
    schema: String,
}

impl OutboxDepth {
    /// The depth of the outbox `pool` sees first on its search path (`schema`'s).
    pub fn new(pool: PgPool, schema: &str) -> Self {
        Self {
            pool,
            schema: schema.to_owned(),
        }
    }

    async fn samples(&self) -> Vec<Sample> {
        // The oldest row by its key: an index lookup, where min(created_at) would scan.
        let read = sqlx::query_as::<_, (i64, Option<f64>)>(
            "SELECT count(*), (SELECT extract(epoch FROM now() - created_at)::float8 \
             FROM outbox ORDER BY seq LIMIT 1) FROM outbox",
        )
        .fetch_one(&self.pool)
        .await;
        let (pending, oldest_age) = match read {
            Ok(read) => read,
            Err(error) => {
                tracing::warn!(%error, schema = %self.schema, "cannot read the outbox's depth");
                return Vec::new();
            }
        };
        let labels = vec![("schema", self.schema.clone())];
        vec![
            Sample {
                name: "switchboard_outbox_pending",
                help: "Events in the outbox not yet published.",
                kind: Kind::Gauge,
                labels: labels.clone(),
                value: pending as f64,
            },
            Sample {
                name: "switchboard_outbox_oldest_age_seconds",
                help: "Age of the oldest event not yet published (0 when none is waiting).",
                kind: Kind::Gauge,
                labels,
                value: oldest_age.unwrap_or(0.0).max(0.0),
            },
        ]
    }
}

impl Collector for OutboxDepth {
    fn collect(&self) -> Pin<Box<dyn Future<Output = Vec<Sample>> + Send + '_>> {
        Box::pin(self.samples())
    }
}
