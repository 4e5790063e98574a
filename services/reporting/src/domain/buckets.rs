//! Dividing a report period into day or month buckets of the local calendar, and filling them
//! from per-day counts (docs/product.md §2.6: every bucket present, assigned = completed + unprocessed, no
//! rate when nothing was assigned).

use chrono::{Datelike, Months, NaiveDate};

use super::fact::Counts;

/// The most day buckets one report may have.
pub const MAX_DAYS: usize = 1_000;
/// The most month buckets one report may have.
pub const MAX_MONTHS: usize = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Month,
}

/// A bucket of the report: its days (both inclusive) and its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub counts: Counts,
}

impl Bucket {
    fn empty(first: NaiveDate, last: NaiveDate) -> Self {
        Self {
            first,
            last,
            counts: Counts::default(),
        }
    }

    /// 할당: completed + unprocessed.
    pub fn assigned(&self) -> i64 {
        self.counts.completed + self.counts.unprocessed
    }

    /// 처리율: completed / assigned; `None` when nothing was assigned.
    pub fn rate(&self) -> Option<f64> {
        let assigned = self.assigned();
        (assigned > 0).then(|| self.counts.completed as f64 / assigned as f64)
    }
}

/// The empty buckets of `first..=last`; an error (about the period) when there are too many.
pub fn plan(
    first: NaiveDate,
    last: NaiveDate,
    granularity: Granularity,
) -> Result<Vec<Bucket>, String> {
    Ok(spans(first, last, granularity)?
        .into_iter()
        .map(|(first, last)| Bucket::empty(first, last))
        .collect())
}

/// The first and last days of each bucket of `first..=last`, in order; an error (about the
/// period) when there are too many.
pub fn spans(
    first: NaiveDate,
    last: NaiveDate,
    granularity: Granularity,
) -> Result<Vec<(NaiveDate, NaiveDate)>, String> {
    match granularity {
        Granularity::Day => {
            let days = (last - first).num_days() as usize + 1;
            if days > MAX_DAYS {
                return Err(format!(
                    "has {days} days; a daily report covers at most {MAX_DAYS}"
                ));
            }
            Ok(first.iter_days().take(days).map(|day| (day, day)).collect())
        }
        Granularity::Month => {
            let months = (last.year() - first.year()) as usize * 12 + last.month() as usize
                - first.month() as usize
                + 1;
            if months > MAX_MONTHS {
                return Err(format!(
                    "touches {months} months; a monthly report covers at most {MAX_MONTHS}"
                ));
            }
            let mut spans = Vec::with_capacity(months);
            let mut start = first;
            while start <= last {
                let next_month = start
                    .with_day(1)
                    .and_then(|d| d.checked_add_months(Months::new(1)));
                let end = next_month
                    .and_then(|d| d.pred_opt())
                    .map_or(last, |d| d.min(last));
                spans.push((start, end));
                match next_month {
                    Some(next) => start = next,
                    None => break,
                }
            }
            Ok(spans)
        }
    }
}

/// The index of the span of `spans` (in order) holding `day`, if any.
pub fn span_of(spans: &[(NaiveDate, NaiveDate)], day: NaiveDate) -> Option<usize> {
    let index = spans.partition_point(|(_, last)| *last < day);
    spans
        .get(index)
        .filter(|(first, _)| *first <= day)
        .map(|_| index)
}

/// Adds per-day counts to the buckets holding their days; days outside every bucket are
/// ignored.
pub fn fill(buckets: &mut [Bucket], days: impl IntoIterator<Item = (NaiveDate, Counts)>) {
    for (day, counts) in days {
        let index = buckets.partition_point(|b| b.last < day);
        if let Some(bucket) = buckets.get_mut(index).filter(|b| b.first <= day) {
            bucket.counts.completed += counts.completed;
            bucket.counts.unprocessed += counts.unprocessed;
        }
    }
}

/// The whole period in one bucket (the total row).
pub fn total(first: NaiveDate, last: NaiveDate, buckets: &[Bucket]) -> Bucket {
    let mut total = Bucket::empty(first, last);
    for bucket in buckets {
        total.counts.completed += bucket.counts.completed;
        total.counts.unprocessed += bucket.counts.unprocessed;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn counts(completed: i64, unprocessed: i64) -> Counts {
        Counts {
            completed,
            unprocessed,
        }
    }

    #[test]
    fn every_day_is_a_bucket_and_empty_days_stay_zero() {
        let mut buckets = plan(date(2025, 1, 30), date(2025, 2, 2), Granularity::Day).unwrap();
        assert_eq!(buckets.len(), 4);
        fill(
            &mut buckets,
            [
                (date(2025, 1, 30), counts(1, 2)),
                (date(2025, 2, 1), counts(3, 0)),
                (date(2025, 2, 9), counts(9, 9)),
            ],
        );
        assert_eq!(buckets[0].assigned(), 3);
        assert_eq!(buckets[1].counts, Counts::default());
        assert_eq!(buckets[1].rate(), None);
        assert_eq!(buckets[2].rate(), Some(1.0));
        let total = total(date(2025, 1, 30), date(2025, 2, 2), &buckets);
        assert_eq!(total.counts, counts(4, 2));
        assert_eq!(total.last, date(2025, 2, 2));
    }

    #[test]
    fn months_are_clipped_to_the_period() {
        let mut buckets = plan(date(2024, 1, 15), date(2024, 3, 10), Granularity::Month).unwrap();
        let spans: Vec<_> = buckets.iter().map(|b| (b.first, b.last)).collect();
        assert_eq!(
            spans,
            [
                (date(2024, 1, 15), date(2024, 1, 31)),
                (date(2024, 2, 1), date(2024, 2, 29)),
                (date(2024, 3, 1), date(2024, 3, 10)),
            ]
        );
        fill(
            &mut buckets,
            [
                (date(2024, 1, 31), counts(1, 0)),
                (date(2024, 2, 1), counts(0, 1)),
                (date(2024, 2, 29), counts(0, 1)),
            ],
        );
        assert_eq!(buckets[0].counts, counts(1, 0));
        assert_eq!(buckets[1].counts, counts(0, 2));
        assert_eq!(buckets[1].rate(), Some(0.0));
        let one = plan(date(2024, 12, 5), date(2024, 12, 5), Granularity::Month).unwrap();
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn too_many_buckets_are_refused() {
        assert!(plan(date(2020, 1, 1), date(2022, 9, 26), Granularity::Day).is_ok());
        assert!(plan(date(2020, 1, 1), date(2022, 9, 27), Granularity::Day).is_err());
        assert_eq!(
            plan(date(2015, 1, 1), date(2024, 12, 31), Granularity::Month)
                .unwrap()
                .len(),
            120
        );
        assert!(plan(date(2015, 1, 1), date(2025, 1, 1), Granularity::Month).is_err());
    }
}
