//! Metrics in the Prometheus text format, served at `/metrics` on a port of their own
//! (`telemetry.metrics_listen`). Parts of the process register collectors; each scrape asks
//! them afresh, so a figure read from the database (a read model's lag) is current.
//!
//! [`global`] is the process's registry: the gRPC server, the outbox relays and the process
//! figures record into it without plumbing, and `serve` exposes it.

mod histogram;
mod process;

use std::{
    collections::HashSet,
    fmt::Write as _,
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{Router, routing::get};
use tokio::net::TcpListener;

pub use histogram::{Histogram, HistogramNames, LATENCY_BUCKETS};

use crate::shutdown::Shutdown;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
    /// A sample of a histogram: its name ends in `_bucket` (with an `le` label), `_sum` or
    /// `_count`; the family's name is without that suffix.
    Histogram,
}

/// One value of a metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// `snake_case`, prefixed `switchboard_` (or named as a well-known exporter names it);
    /// counters end in `_total`.
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

/// A source of samples, asked at every scrape.
pub trait Collector: Send + Sync + 'static {
    fn collect(&self) -> Pin<Box<dyn Future<Output = Vec<Sample>> + Send + '_>>;
}

type Collectors = Arc<Mutex<Vec<(u64, Arc<dyn Collector>)>>>;

/// A set of collectors, scraped together.
#[derive(Clone, Default)]
pub struct Metrics {
    collectors: Collectors,
}

/// The process's registry, with the process's own figures (CPU, memory, descriptors) in it.
pub fn global() -> Metrics {
    static GLOBAL: OnceLock<Metrics> = OnceLock::new();
    GLOBAL
        .get_or_init(|| {
            let metrics = Metrics::default();
            metrics.register(Arc::new(process::ProcessMetrics));
            metrics
        })
        .clone()
}

/// Keeps a collector registered while it lives (a relay's, while the relay runs).
#[must_use = "the collector is unregistered when this is dropped"]
pub struct Registration {
    collectors: Collectors,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.collectors).retain(|(id, _)| *id != self.id);
    }
}

fn lock(collectors: &Collectors) -> std::sync::MutexGuard<'_, Vec<(u64, Arc<dyn Collector>)>> {
    collectors
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Metrics {
    /// Adds a collector for the life of the registry.
    pub fn register(&self, collector: Arc<dyn Collector>) {
        self.add(collector);
    }

    /// Adds a collector until the returned registration is dropped.
    pub fn register_while_held(&self, collector: Arc<dyn Collector>) -> Registration {
        Registration {
            collectors: Arc::clone(&self.collectors),
            id: self.add(collector),
        }
    }

    fn add(&self, collector: Arc<dyn Collector>) -> u64 {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        lock(&self.collectors).push((id, collector));
        id
    }

    /// Every collector's samples in the text exposition format.
    pub async fn render(&self) -> String {
        let collectors: Vec<_> = lock(&self.collectors)
            .iter()
            .map(|(_, collector)| Arc::clone(collector))
            .collect();
        let mut samples = Vec::new();
        for collector in collectors {
            samples.extend(collector.collect().await);
        }
        format_samples(&mut samples)
    }

    /// Serves `/metrics` on `listener` until `shutdown`.
    pub async fn serve(self, listener: TcpListener, mut shutdown: Shutdown) -> anyhow::Result<()> {
        let address = listener.local_addr()?;
        tracing::info!(%address, "metrics served at /metrics");
        let router = Router::new().route(
            "/metrics",
            get(move || {
                let metrics = self.clone();
                async move {
                    (
                        [("content-type", "text/plain; version=0.0.4")],
                        metrics.render().await,
                    )
                }
            }),
        );
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.wait().await })
            .await?;
        Ok(())
    }
}

/// The name a sample's HELP and TYPE lines carry.
fn family(sample: &Sample) -> &'static str {
    if sample.kind != Kind::Histogram {
        return sample.name;
    }
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| sample.name.strip_suffix(suffix))
        .unwrap_or(sample.name)
}

/// The text format: samples of one family together (in the order their collector gave them,
/// so a histogram's buckets stay in order), under one HELP and TYPE line. A series given twice
/// (two relays of one schema in a process) is written once.
fn format_samples(samples: &mut [Sample]) -> String {
    samples.sort_by_key(family);
    let mut out = String::new();
    let mut previous = "";
    let mut written = HashSet::new();
    for sample in samples.iter() {
        let mut series = sample.name.to_owned();
        if !sample.labels.is_empty() {
            let labels: Vec<String> = sample
                .labels
                .iter()
                .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
                .collect();
            let _ = write!(series, "{{{}}}", labels.join(","));
        }
        if !written.insert(series.clone()) {
            continue;
        }
        let name = family(sample);
        if name != previous {
            let kind = match sample.kind {
                Kind::Gauge => "gauge",
                Kind::Counter => "counter",
                Kind::Histogram => "histogram",
            };
            let _ = writeln!(out, "# HELP {name} {}", sample.help);
            let _ = writeln!(out, "# TYPE {name} {kind}");
            previous = name;
        }
        let _ = writeln!(out, "{series} {}", sample.value);
    }
    out
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<Sample>);

    impl Collector for Fixed {
        fn collect(&self) -> Pin<Box<dyn Future<Output = Vec<Sample>> + Send + '_>> {
            Box::pin(async move { self.0.clone() })
        }
    }

    fn sample(name: &'static str, label: &str, value: f64) -> Sample {
        Sample {
            name,
            help: "what it is",
            kind: Kind::Gauge,
            labels: vec![("model", label.to_owned())],
            value,
        }
    }

    #[tokio::test]
    async fn samples_of_one_name_share_their_help_and_labels_are_escaped() {
        let metrics = Metrics::default();
        metrics.register(Arc::new(Fixed(vec![
            sample("switchboard_b", "x", 1.0),
            sample("switchboard_a", "say \"hi\"", 2.5),
        ])));
        metrics.register(Arc::new(Fixed(vec![sample("switchboard_b", "y", 3.0)])));
        let text = metrics.render().await;
        assert_eq!(
            text,
            "# HELP switchboard_a what it is\n# TYPE switchboard_a gauge\n\
             switchboard_a{model=\"say \\\"hi\\\"\"} 2.5\n\
             # HELP switchboard_b what it is\n# TYPE switchboard_b gauge\n\
             switchboard_b{model=\"x\"} 1\nswitchboard_b{model=\"y\"} 3\n"
        );
    }
}
