//! Per-principal rate limits (a token bucket per subject) and the gateway's concurrency limit.
//! Both are per gateway replica.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Token buckets, one per principal subject.
#[derive(Clone)]
pub struct RateLimiter {
    rate_per_s: f64,
    burst: f64,
    buckets: Arc<Mutex<HashMap<String, Bucket>>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub fn new(rate_per_s: f64, burst: u32) -> Self {
        Self {
            rate_per_s: rate_per_s.max(0.001),
            burst: f64::from(burst.max(1)),
            buckets: Arc::default(),
        }
    }

    /// Takes one token for `subject`; when none is left, how long until one is.
    pub fn take(&self, subject: &str) -> Result<(), Duration> {
        self.take_at(subject, Instant::now())
    }

    fn take_at(&self, subject: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().expect("poisoned");
        if buckets.len() > 100_000 {
            // Full buckets carry no state worth keeping.
            let burst = self.burst;
            let rate = self.rate_per_s;
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(subject.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * self.rate_per_s;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.rate_per_s,
            ))
        }
    }
}

/// At most `max` calls at once through the gateway.
#[derive(Clone)]
pub struct ConcurrencyLimit {
    permits: Arc<Semaphore>,
}

impl ConcurrencyLimit {
    pub fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max.max(1))),
        }
    }

    /// A permit held while the call runs; `None` when the gateway is full.
    pub fn try_acquire(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let limiter = RateLimiter::new(10.0, 3);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take_at("kim", start).is_ok());
        }
        let wait = limiter.take_at("kim", start).unwrap_err();
        assert!(
            wait <= Duration::from_millis(100) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(
            limiter.take_at("lee", start).is_ok(),
            "buckets are per subject"
        );
        assert!(
            limiter
                .take_at("kim", start + Duration::from_millis(100))
                .is_ok()
        );
        assert!(
            limiter
                .take_at("kim", start + Duration::from_millis(100))
                .is_err()
        );
    }

    #[test]
    fn the_concurrency_limit_frees_with_its_permits() {
        let limit = ConcurrencyLimit::new(1);
        let permit = limit.try_acquire().unwrap();
        assert!(limit.try_acquire().is_none());
        drop(permit);
        assert!(limit.try_acquire().is_some());
    }
}
