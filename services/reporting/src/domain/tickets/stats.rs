//! Statistics of a set of durations as the times report gives them: count, median, 90th
//! percentile and mean, the percentiles exact by linear interpolation between the closest ranks
//! (as PostgreSQL's `percentile_cont`).

/// The statistics of one set of durations, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TimeStatistics {
    pub count: i64,
    /// Absent when `count` is 0.
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub mean: Option<f64>,
}

/// The two closest ranks of the `fraction` percentile of `len` values and the weight of the
/// upper one.
fn ranks(len: usize, fraction: f64) -> (usize, usize, f64) {
    let rank = fraction * (len - 1) as f64;
    let below = rank.floor() as usize;
    (below, rank.ceil() as usize, rank - below as f64)
}

/// The `fraction` percentile of `values` (any order, not empty) found by selection, in linear
/// time: a month's durations need only two ranks each, not a sort. Reorders `values`.
fn select_percentile(values: &mut [f64], fraction: f64) -> f64 {
    let (below, above, weight) = ranks(values.len(), fraction);
    let (_, low, higher) = values.select_nth_unstable_by(below, f64::total_cmp);
    let low = *low;
    let high = if above == below {
        low
    } else {
        // The next rank up is the least of the values above.
        higher.iter().copied().min_by(f64::total_cmp).unwrap_or(low)
    };
    low + weight * (high - low)
}

impl TimeStatistics {
    /// The statistics of `values` (any order).
    pub fn of(mut values: Vec<f64>) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let median = select_percentile(&mut values, 0.5);
        let p90 = select_percentile(&mut values, 0.9);
        Self {
            count: values.len() as i64,
            median: Some(median),
            p90: Some(p90),
            mean: Some(mean),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `fraction` percentile of `sorted` (ascending, not empty), as `percentile_cont`: the
    /// reference the selection is checked against.
    fn percentile(sorted: &[f64], fraction: f64) -> f64 {
        let (below, above, weight) = ranks(sorted.len(), fraction);
        sorted[below] + weight * (sorted[above] - sorted[below])
    }

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let stats = TimeStatistics::of(vec![40.0, 10.0, 30.0, 20.0]);
        assert_eq!(stats.count, 4);
        assert_eq!(stats.median, Some(25.0));
        // Rank 0.9 × 3 = 2.7: 30 + 0.7 × 10.
        assert!((stats.p90.unwrap() - 37.0).abs() < 1e-9);
        assert_eq!(stats.mean, Some(25.0));
        let one = TimeStatistics::of(vec![7.0]);
        assert_eq!(
            (one.median, one.p90, one.mean),
            (Some(7.0), Some(7.0), Some(7.0))
        );
        assert_eq!(TimeStatistics::of(Vec::new()), TimeStatistics::default());
    }

    /// Selection gives what a sort gives, whatever the order, repeats and size.
    #[test]
    fn selected_percentiles_equal_sorted_ones() {
        let mut seed = 7_u64;
        for len in [1, 2, 3, 10, 11, 101, 1000] {
            let values: Vec<f64> = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((seed >> 33) % 50) as f64 * 1.5
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let stats = TimeStatistics::of(values);
            assert_eq!(stats.median, Some(percentile(&sorted, 0.5)), "{len}");
            assert_eq!(stats.p90, Some(percentile(&sorted, 0.9)), "{len}");
        }
    }
}
