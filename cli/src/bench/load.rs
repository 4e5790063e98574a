//! A closed-loop load generator: `concurrency` workers each make one call after another for a
//! fixed time; every latency is kept, so percentiles are exact.

use std::{
    future::Future,
    time::{Duration, Instant},
};

/// What one run measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    pub calls: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Latencies of successful calls, sorted, in microseconds.
    pub latencies_us: Vec<u32>,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        (self.calls - self.errors) as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q` quantile (0..=1) of the latencies, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let index = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies_us[index]) / 1_000.0
    }
}

/// Runs `call` from `concurrency` workers for `duration` (after `warmup`, which is not counted).
/// `call(worker, sequence)` makes one call and says whether it succeeded.
pub async fn run_closed_loop<F, Fut>(
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    call: F,
) -> LoadResult
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..concurrency.max(1) {
        let call = call.clone();
        workers.spawn(async move {
            let (mut calls, mut errors, mut latencies) = (0u64, 0u64, Vec::new());
            let mut sequence = 0u64;
            loop {
                let began = Instant::now();
                if began >= end {
                    break;
                }
                let ok = call(worker, sequence).await;
                sequence += 1;
                if began < measure_from {
                    continue;
                }
                calls += 1;
                if ok {
                    latencies.push(began.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                } else {
                    errors += 1;
                }
            }
            (calls, errors, latencies)
        });
    }
    let mut result = LoadResult {
        calls: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
    };
    while let Some(joined) = workers.join_next().await {
        let (calls, errors, latencies) = joined.expect("a load worker panicked");
        result.calls += calls;
        result.errors += errors;
        result.latencies_us.extend(latencies);
    }
    result.elapsed = end.saturating_duration_since(measure_from);
    result.latencies_us.sort_unstable();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_read_from_sorted_latencies() {
        let result = LoadResult {
            calls: 100,
            errors: 0,
            elapsed: Duration::from_secs(1),
            latencies_us: (1..=100).map(|ms| ms * 1_000).collect(),
        };
        assert_eq!(result.quantile_ms(0.5), 51.0);
        assert_eq!(result.quantile_ms(0.99), 99.0);
        assert_eq!(result.per_second(), 100.0);
    }
}
