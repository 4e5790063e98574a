//! What each phase's pushes became, read from the private database once the model has caught
//! up: stored (callback.callbacks), in the reporting model (reporting.callback_facts), lost,
//! duplicated; and the answers by gRPC code.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    path::PathBuf,
    time::Duration,
};

use sqlx::PgPool;

use super::{phase::Phase, pushes::Push};

/// The private database's callbacks by call id, and the model's callback ids. The database
/// holds only this run, so whole tables are read.
pub struct Stored {
    by_call_id: HashMap<String, Vec<uuid::Uuid>>,
    in_model: HashSet<uuid::Uuid>,
}

impl Stored {
    pub async fn read(pool: &PgPool) -> anyhow::Result<Self> {
        let rows: Vec<(String, uuid::Uuid)> =
            sqlx::query_as("SELECT ivr_call_id, id FROM callback.callbacks")
                .fetch_all(pool)
                .await?;
        let mut by_call_id: HashMap<String, Vec<uuid::Uuid>> = HashMap::new();
        for (call_id, id) in rows {
            by_call_id.entry(call_id).or_default().push(id);
        }
        let in_model = sqlx::query_scalar("SELECT callback_id FROM reporting.callback_facts")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
        Ok(Self {
            by_call_id,
            in_model,
        })
    }
}

/// Callbacks stored and callbacks in the model (the whole private database).
pub async fn counts(pool: &PgPool) -> anyhow::Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT (SELECT count(*) FROM callback.callbacks),
                (SELECT count(*) FROM reporting.callback_facts)",
    )
    .fetch_one(pool)
    .await?)
}

fn code_name(code: tonic::Code) -> String {
    format!("{code:?}")
}

fn by_code<'a>(pushes: impl Iterator<Item = &'a Push>) -> BTreeMap<String, u64> {
    let mut codes = BTreeMap::new();
    for push in pushes {
        let code = match push.answer {
            Ok(_) => "Ok".to_owned(),
            Err(code) => code_name(code),
        };
        *codes.entry(code).or_default() += 1;
    }
    codes
}

/// Prints one phase's figures; returns its summary line.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub fn print_phase(phase: &Phase, pushes: &[Push], stored: &Stored, logs: &[PathBuf]) -> String {
    let name = phase.fault.name();
    let in_phase: Vec<&Push> = pushes
        .iter()
        .filter(|p| p.sent >= phase.start && p.sent < phase.end)
        .collect();
    let ok = in_phase.iter().filter(|p| p.answer.is_ok()).count();
    let (mut stored_count, mut in_model, mut duplicated, mut stored_not_ok) = (0, 0, 0, 0);
    let (mut lost_unstored, mut lost_model, mut unanswered_missing_model) = (0, 0, 0);
    for push in &in_phase {
        let ids = stored.by_call_id.get(&push.call_id);
        let ids = ids.map(Vec::as_slice).unwrap_or_default();
        if !ids.is_empty() {
            stored_count += 1;
        }
        if ids.len() > 1 {
            duplicated += 1;
        }
        let modelled = ids.iter().any(|id| stored.in_model.contains(id));
        if modelled {
            in_model += 1;
        }
        match push.answer {
            Ok(id) if !ids.contains(&id) => lost_unstored += 1,
            Ok(id) if !stored.in_model.contains(&id) => lost_model += 1,
            Ok(_) => {}
            Err(_) if !ids.is_empty() => {
                stored_not_ok += 1;
                if !modelled {
                    unanswered_missing_model += 1;
                }
            }
            Err(_) => {}
        }
    }
    let outage = by_code(
        in_phase
            .iter()
            .copied()
            .filter(|p| p.sent >= phase.injected && p.sent < phase.back),
    );
    let codes = by_code(in_phase.iter().copied());
    let longest = in_phase.iter().map(|p| p.took).max().unwrap_or_default();
    let count = |code: tonic::Code| codes.get(&code_name(code)).copied().unwrap_or(0);
    let named = [
        tonic::Code::Unavailable,
        tonic::Code::DeadlineExceeded,
        tonic::Code::Internal,
    ];
    let other = in_phase.len() - ok - named.iter().map(|c| count(*c) as usize).sum::<usize>();
    let lost = lost_unstored + lost_model;
    let recovered = match (phase.recovered_after, phase.same_processes) {
        (None, _) => "no".to_owned(),
        (Some(_), Some(false)) => "no_process_changed".to_owned(),
        (Some(_), _) => "yes".to_owned(),
    };
    let seconds = |d: Duration| format!("{:.1}", d.as_secs_f64());
    println!("== phase {name}");
    println!(
        "  fault at t+{} s of the phase, server back after {} s, first OK after it {}",
        seconds(phase.injected.duration_since(phase.start)),
        seconds(phase.back.duration_since(phase.injected)),
        phase
            .recovered_after
            .map(|d| format!("{} s later", seconds(d)))
            .unwrap_or_else(|| "never (within 30 s)".into()),
    );
    if let Some(same) = phase.same_processes {
        println!(
            "  mesh processes {} (no restart)",
            if same {
                "the same, still running"
            } else {
                "NOT the same or not running"
            }
        );
    }
    println!(
        "  sent={} ok={ok} stored={stored_count} in_model={in_model} lost={lost} (ok but not stored: {lost_unstored}, ok but not in the model: {lost_model}) duplicated={duplicated}",
        in_phase.len()
    );
    println!(
        "  not ok but stored: {stored_not_ok} (of which not in the model: {unanswered_missing_model}); dead-lettered during the phase: {}",
        phase
            .dead_lettered
            .map_or("unknown".into(), |n| n.to_string())
    );
    println!("  answers during the outage: {outage:?}");
    println!(
        "  answers in the phase: {codes:?}; longest answer {} ms",
        longest.as_millis()
    );
    for (log, (from, to)) in logs.iter().zip(&phase.log_ranges) {
        print_log_problems(log, *from, *to);
    }
    format!(
        "phase={name} sent={} ok={ok} stored={stored_count} in_model={in_model} lost={lost} duplicated={duplicated} unavailable={} deadline_exceeded={} internal={} other={other} max_answer_ms={} dead_lettered={} recovered={recovered}",
        in_phase.len(),
        count(tonic::Code::Unavailable),
        count(tonic::Code::DeadlineExceeded),
        count(tonic::Code::Internal),
        longest.as_millis(),
        phase
            .dead_lettered
            .map_or("unknown".into(), |n| n.to_string()),
    )
}

/// The panics, warnings and errors a process logged in `from..to` of its log, by message.
#[allow(clippy::print_stdout)] // the figures are the command's output
fn print_log_problems(log: &std::path::Path, from: u64, to: u64) {
    let Ok(text) = std::fs::read(log) else {
        return;
    };
    let range = &text[(from as usize).min(text.len())..(to as usize).min(text.len())];
    let mut messages: BTreeMap<(String, String), u64> = BTreeMap::new();
    for line in String::from_utf8_lossy(range).lines() {
        // A panic is written by the standard library, not as a JSON log line.
        if line.contains("panicked at") {
            *messages
                .entry(("PANIC".to_owned(), line.trim().to_owned()))
                .or_default() += 1;
            continue;
        }
        let Some(level) = ["ERROR", "WARN"]
            .into_iter()
            .find(|level| line.contains(&format!("\"level\":\"{level}\"")))
        else {
            continue;
        };
        let mut message = json_field(line, "message");
        let error = json_field(line, "error");
        if !error.is_empty() {
            message = format!("{message} (error: {error})");
        }
        *messages.entry((level.to_owned(), message)).or_default() += 1;
    }
    let name = log.file_name().unwrap_or_default().to_string_lossy();
    for ((level, message), count) in messages {
        println!("  log {name}: {count} x {level} {message}");
    }
}

/// The string value of `field` in a JSON log line (enough for the one-line logs).
fn json_field(line: &str, field: &str) -> String {
    let key = format!("\"{field}\":\"");
    let Some(start) = line.find(&key).map(|i| i + key.len()) else {
        return String::new();
    };
    let mut value = String::new();
    let mut escaped = false;
    for c in line[start..].chars() {
        match (escaped, c) {
            (false, '\\') => escaped = true,
            (false, '"') => break,
            _ => {
                escaped = false;
                value.push(c);
            }
        }
    }
    value.chars().take(160).collect()
}
