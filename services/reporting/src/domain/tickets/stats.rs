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

/// The `fraction` percentile of `sorted` (ascending, not empty), as `percentile_cont`.
pub fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    let rank = fraction * (sorted.len() - 1) as f64;
    let below = rank.floor() as usize;
    let above = rank.ceil() as usize;
    sorted[below] + (rank - below as f64) * (sorted[above] - sorted[below])
}

impl TimeStatistics {
    /// The statistics of `values` (any order).
    pub fn of(mut values: Vec<f64>) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        values.sort_by(f64::total_cmp);
        Self {
            count: values.len() as i64,
            median: Some(percentile(&values, 0.5)),
            p90: Some(percentile(&values, 0.9)),
            mean: Some(values.iter().sum::<f64>() / values.len() as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
