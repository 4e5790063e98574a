//! A cumulative histogram as Prometheus exposes it: `_bucket{le=…}`, `_sum` and `_count`.

use super::{Kind, Sample};

/// Prometheus's default buckets, in seconds (those of go-grpc-prometheus's latency histogram).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The names of a histogram's three series.
#[derive(Debug, Clone, Copy)]
pub struct HistogramNames {
    pub bucket: &'static str,
    pub sum: &'static str,
    pub count: &'static str,
    pub help: &'static str,
}

#[derive(Debug, Clone)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket, not cumulative; the last one is above every bound.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    /// A histogram over `bounds`, which must ascend.
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    pub fn observe(&mut self, value: f64) {
        let bucket = self.bounds.partition_point(|bound| *bound < value);
        self.counts[bucket] += 1;
        self.sum += value;
    }

    /// The buckets (cumulative, ascending, ending with `+Inf`), then the sum and the count.
    pub fn samples(&self, names: HistogramNames, labels: &[(&'static str, String)]) -> Vec<Sample> {
        let sample = |name, labels: Vec<(&'static str, String)>, value| Sample {
            name,
            help: names.help,
            kind: Kind::Histogram,
            labels,
            value,
        };
        let mut samples = Vec::with_capacity(self.counts.len() + 2);
        let mut cumulative = 0;
        for (index, count) in self.counts.iter().enumerate() {
            cumulative += count;
            let le = self
                .bounds
                .get(index)
                .map_or_else(|| "+Inf".to_owned(), f64::to_string);
            let mut labels = labels.to_vec();
            labels.push(("le", le));
            samples.push(sample(names.bucket, labels, cumulative as f64));
        }
        samples.push(sample(names.sum, labels.to_vec(), self.sum));
        samples.push(sample(names.count, labels.to_vec(), cumulative as f64));
        samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_a_bound_holds_its_own_value() {
        let mut histogram = Histogram::new(&[0.1, 1.0]);
        for value in [0.05, 0.1, 0.5, 3.0] {
            histogram.observe(value);
        }
        let names = HistogramNames {
            bucket: "t_bucket",
            sum: "t_sum",
            count: "t_count",
            help: "h",
        };
        let values: Vec<(String, f64)> = histogram
            .samples(names, &[])
            .into_iter()
            .map(|s| {
                let le = s.labels.first().map(|(_, v)| v.clone()).unwrap_or_default();
                (format!("{}{le}", s.name), s.value)
            })
            .collect();
        let expected = [
            ("t_bucket0.1", 2.0),
            ("t_bucket1", 3.0),
            ("t_bucket+Inf", 4.0),
            ("t_sum", 3.65),
            ("t_count", 4.0),
        ];
        for ((name, value), (expected_name, expected_value)) in values.iter().zip(expected) {
            assert_eq!(name, expected_name);
            assert!((value - expected_value).abs() < 1e-9, "{name} {value}");
        }
        assert_eq!(values.len(), expected.len());
    }
}
