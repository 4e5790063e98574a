//! Metrics in the Prometheus text format, served at `/metrics` on a port of their own
//! (`telemetry.metrics_listen`). Parts of the process register collectors; each scrape asks
//! them afresh, so a figure read from the database (a read model's lag) is current.

use std::{
    fmt::Write as _,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
};

use axum::{Router, routing::get};
use tokio::net::TcpListener;

use crate::shutdown::Shutdown;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
}

/// One value of a metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// `snake_case`, prefixed `switchboard_`; counters end in `_total`.
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

/// The process's collectors.
#[derive(Clone, Default)]
pub struct Metrics {
    collectors: Arc<Mutex<Vec<Arc<dyn Collector>>>>,
}

impl Metrics {
    pub fn register(&self, collector: Arc<dyn Collector>) {
        self.collectors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(collector);
    }

    /// Every collector's samples in the text exposition format.
    pub async fn render(&self) -> String {
        let collectors = self
            .collectors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
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

/// The text format: samples of one name together, under one HELP and TYPE line.
fn format_samples(samples: &mut [Sample]) -> String {
    samples.sort_by(|a, b| a.name.cmp(b.name));
    let mut out = String::new();
    let mut previous = "";
    for sample in samples.iter() {
        if sample.name != previous {
            let kind = match sample.kind {
                Kind::Gauge => "gauge",
                Kind::Counter => "counter",
            };
            let _ = writeln!(out, "# HELP {} {}", sample.name, sample.help);
            let _ = writeln!(out, "# TYPE {} {kind}", sample.name);
            previous = sample.name;
        }
        out.push_str(sample.name);
        if !sample.labels.is_empty() {
            let labels: Vec<String> = sample
                .labels
                .iter()
                .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
                .collect();
            let _ = write!(out, "{{{}}}", labels.join(","));
        }
        let _ = writeln!(out, " {}", sample.value);
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
