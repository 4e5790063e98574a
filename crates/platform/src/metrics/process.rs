//! The process's own figures under the names every Prometheus client library uses
//! (`process_cpu_seconds_total`, `process_resident_memory_bytes`, …), read from `/proc/self`
//! at each scrape. Elsewhere than Linux there is no `/proc` and nothing is reported.

use std::{future::Future, pin::Pin};

use super::{Collector, Kind, Sample};

/// Linux reports times in `/proc` in USER_HZ, which is 100 on every architecture it runs on.
const TICKS_PER_SECOND: f64 = 100.0;

pub struct ProcessMetrics;

impl Collector for ProcessMetrics {
    fn collect(&self) -> Pin<Box<dyn Future<Output = Vec<Sample>> + Send + '_>> {
        Box::pin(async { read_proc().unwrap_or_default() })
    }
}

fn sample(name: &'static str, help: &'static str, kind: Kind, value: f64) -> Sample {
    Sample {
        name,
        help,
        kind,
        labels: Vec::new(),
        value,
    }
}

fn read_proc() -> Option<Vec<Sample>> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let stat = StatFields::parse(&stat)?;
    let boot_time = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("btime ")?.trim().parse::<f64>().ok())?;
    let mut samples = vec![
        sample(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            Kind::Counter,
            (stat.utime + stat.stime) / TICKS_PER_SECOND,
        ),
        sample(
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            Kind::Gauge,
            stat.vsize,
        ),
        sample(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            Kind::Gauge,
            boot_time + stat.starttime / TICKS_PER_SECOND,
        ),
    ];
    if let Some(rss_kib) = status_kib("VmRSS:") {
        samples.push(sample(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            Kind::Gauge,
            rss_kib * 1024.0,
        ));
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        samples.push(sample(
            "process_open_fds",
            "Number of open file descriptors.",
            Kind::Gauge,
            fds.count() as f64,
        ));
    }
    if let Some(max) = max_open_files() {
        samples.push(sample(
            "process_max_fds",
            "Maximum number of open file descriptors.",
            Kind::Gauge,
            max,
        ));
    }
    Some(samples)
}

/// The fields of `/proc/self/stat` this collector reports.
struct StatFields {
    utime: f64,
    stime: f64,
    starttime: f64,
    vsize: f64,
}

impl StatFields {
    fn parse(stat: &str) -> Option<Self> {
        // The command name (field 2) is in parentheses and may hold spaces: count from after it.
        let after_name = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // `fields[0]` is field 3 (state) of proc(5).
        let field = |number: usize| fields.get(number - 3)?.parse::<f64>().ok();
        Some(Self {
            utime: field(14)?,
            stime: field(15)?,
            starttime: field(22)?,
            vsize: field(23)?,
        })
    }
}

fn status_kib(key: &str) -> Option<f64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|line| {
            line.strip_prefix(key)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
}

/// The soft limit on open files; none when unlimited.
fn max_open_files() -> Option<f64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()?
        .lines()
        .find_map(|line| {
            line.strip_prefix("Max open files")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_a_command_name_with_spaces() {
        let stat = "4242 (tokio (rt) 1) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 \
                    9 0 12345 104857600 2560 18446744073709551615";
        let fields = StatFields::parse(stat).unwrap();
        assert_eq!(fields.utime, 250.0);
        assert_eq!(fields.stime, 50.0);
        assert_eq!(fields.starttime, 12345.0);
        assert_eq!(fields.vsize, 104_857_600.0);
    }

    #[tokio::test]
    async fn this_process_reports_its_six_figures() {
        let samples = ProcessMetrics.collect().await;
        let names: std::collections::HashSet<_> = samples.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), 6, "{names:?}");
        assert!(names.iter().all(|name| name.starts_with("process_")));
    }
}
