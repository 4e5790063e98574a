//! The fold's batch path (one statement per table per batch) against folding one event at a
//! time: batches holding several versions of a callback, versions older than the model's, and
//! duplicate deliveries (dropped as the consumer's inbox drops them), folded by concurrent
//! workers, give the same model; a batch with one bad event changes nothing. The consumer is
//! left out: these call the handler as it does, inside a transaction of their own.

use std::{
    collections::{BTreeMap, BTreeSet, HashSet, VecDeque},
    sync::{Arc, Mutex},
    time::Instant,
};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;
use switchboard_platform::{events::EventHandler, testing};
use switchboard_proto::events::v1::EventEnvelope;
use switchboard_reporting::testing::{Fold, model_schema};
use uuid::Uuid;

use crate::common::{
    ZONE,
    scenario::{Agent, Life, Rng, generate},
};

/// The most events the consumer hands over at once.
const BATCH: usize = 128;

fn zone() -> Tz {
    ZONE.parse().unwrap()
}

/// Callback life cycles over eight days on three routes among four agents.
fn lives(rng: &mut Rng, callbacks: usize) -> Vec<Life> {
    let routes: Vec<String> = (0..3).map(|_| Uuid::new_v4().to_string()).collect();
    let agents = [
        Agent::new("kim", "0191d3b4-aaaa-7000-8000-00000000000a"),
        Agent::new("lee", "0191d3b4-aaaa-7000-8000-00000000000a"),
        Agent::new("choi", "0191d3b4-bbbb-7000-8000-00000000000b"),
        Agent::new("kang", ""),
    ];
    let first_day = NaiveDate::from_ymd_opt(2025, 1, 28).unwrap();
    generate(rng, callbacks, first_day, 8, zone(), &routes, &agents)
}

/// Every event delivered twice, shuffled, cut into batches of 1 to [`BATCH`] deliveries with
/// the deliveries of events already applied or already in the batch left out, as the
/// consumer's inbox leaves them out.
fn batches(rng: &mut Rng, events: &[EventEnvelope]) -> Vec<Vec<EventEnvelope>> {
    let mut deliveries = events.to_vec();
    deliveries.extend_from_slice(events);
    rng.shuffle(&mut deliveries);
    let mut applied = HashSet::new();
    let mut batches = Vec::new();
    let mut rest = deliveries.as_slice();
    while !rest.is_empty() {
        let size = (1 + rng.below(BATCH as u64) as usize).min(rest.len());
        let (taken, after) = rest.split_at(size);
        rest = after;
        let batch: Vec<_> = taken
            .iter()
            .filter(|event| applied.insert(event.event_id.clone()))
            .cloned()
            .collect();
        if !batch.is_empty() {
            batches.push(batch);
        }
    }
    batches
}

/// Folds `batches` with `workers` concurrent workers, each batch in a transaction of its own.
async fn fold_batches(pool: &PgPool, batches: Vec<Vec<EventEnvelope>>, workers: usize) {
    let fold = Arc::new(Fold::new(zone()));
    let queue = Arc::new(Mutex::new(VecDeque::from(batches)));
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (pool, fold, queue) = (pool.clone(), fold.clone(), queue.clone());
            tokio::spawn(async move {
                loop {
                    let Some(batch) = queue.lock().unwrap().pop_front() else {
                        return;
                    };
                    let mut tx = pool.begin().await.unwrap();
                    fold.handle_batch(&mut tx, &batch)
                        .await
                        .unwrap_or_else(|e| panic!("a batch of {} folds: {e}", batch.len()));
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a worker folds its batches");
    }
}

/// Folds `events` one at a time, each in a transaction of its own.
async fn fold_one_by_one(pool: &PgPool, events: &[EventEnvelope]) {
    let fold = Fold::new(zone());
    for event in events {
        let mut tx = pool.begin().await.unwrap();
        fold.handle(&mut tx, event)
            .await
            .unwrap_or_else(|e| panic!("event {} folds: {e}", event.event_id));
        tx.commit().await.unwrap();
    }
}

/// The model's rows as text; count rows that sum to zero are left out (a batch never writes
/// the rows that only its intermediate versions touched).
#[derive(Debug, PartialEq, Eq)]
struct Model {
    facts: Vec<String>,
    day_counts: Vec<String>,
    unfinished: Vec<String>,
    routes: Vec<String>,
    retained: Vec<String>,
    applied: (i64, Option<DateTime<Utc>>),
}

async fn model(pool: &PgPool) -> Model {
    let rows = |sql: &'static str| async move {
        sqlx::query_scalar::<_, String>(sql)
            .fetch_all(pool)
            .await
            .unwrap()
    };
    Model {
        facts: rows("SELECT t::text FROM callback_facts t ORDER BY callback_id").await,
        day_counts: rows(
            "SELECT t::text FROM callback_day_counts t WHERE completed <> 0 OR unprocessed <> 0
             ORDER BY dimension, assignee, day, ivr_route_id",
        )
        .await,
        unfinished: rows(
            "SELECT t::text FROM agent_unfinished t WHERE unfinished <> 0
             ORDER BY assignee_login, assignee_group_id",
        )
        .await,
        routes: rows("SELECT t::text FROM ivr_routes t ORDER BY id").await,
        retained: rows(
            "SELECT event_id::text || ' ' || aggregate_version || ' ' || md5(envelope)
             FROM event_log ORDER BY event_id",
        )
        .await,
        applied: sqlx::query_as(
            "SELECT applied_event_count, newest_event_time FROM read_models
             WHERE name = 'callbacks'",
        )
        .fetch_one(pool)
        .await
        .unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_folded_by_concurrent_workers_give_the_model_of_one_event_at_a_time() {
    let mut rng = Rng::new(20_261_201);
    let lives = lives(&mut rng, 400);
    let events: Vec<_> = lives.iter().flat_map(|l| l.events.clone()).collect();
    let batches = batches(&mut rng, &events);
    // The batches do hold what the bulk path must get right: one callback several times in a
    // batch, and versions lower than one an earlier batch already applied.
    let (mut repeated, mut stale) = (0, 0);
    let mut newest: BTreeMap<&str, i64> = BTreeMap::new();
    for batch in &batches {
        let mut seen = BTreeSet::new();
        for event in batch {
            repeated += usize::from(!seen.insert(event.aggregate_id.as_str()));
            let applied = newest.get(event.aggregate_id.as_str()).copied();
            stale += usize::from(applied.is_some_and(|v| v > event.aggregate_version));
        }
        for event in batch {
            let version = newest.entry(&event.aggregate_id).or_default();
            *version = (*version).max(event.aggregate_version);
        }
    }
    assert!(repeated > 20 && stale > 100, "{repeated} {stale}");

    let (single, single_schema) = model_schema(ZONE).await;
    let in_order: Vec<_> = batches.iter().flatten().cloned().collect();
    assert_eq!(in_order.len(), events.len(), "each event once");
    fold_one_by_one(&single, &in_order).await;
    let (batched, batched_schema) = model_schema(ZONE).await;
    fold_batches(&batched, batches, 4).await;

    let expected = model(&single).await;
    assert_eq!(model(&batched).await, expected);
    // And the model is each callback's final version.
    assert_eq!(expected.facts.len(), lives.len());
    assert_eq!(expected.applied.0, events.len() as i64);
    let versions: BTreeMap<Uuid, i64> =
        sqlx::query_as("SELECT callback_id, version FROM callback_facts")
            .fetch_all(&batched)
            .await
            .unwrap()
            .into_iter()
            .collect();
    for life in &lives {
        let id = Uuid::parse_str(&life.snapshot.callback_id).unwrap();
        assert_eq!(versions[&id], life.events.len() as i64, "callback {id}");
    }
    testing::drop_schema(&single, &single_schema).await;
    testing::drop_schema(&batched, &batched_schema).await;
}

#[tokio::test]
async fn a_batch_with_one_bad_event_changes_nothing() {
    let mut rng = Rng::new(7);
    let events: Vec<_> = lives(&mut rng, 20)
        .into_iter()
        .flat_map(|l| l.events)
        .collect();
    let mut bad = events[0].clone();
    bad.event_id = Uuid::new_v4().to_string();
    bad.aggregate_id = Uuid::new_v4().to_string();
    let mut batch = events.clone();
    batch.insert(events.len() / 2, bad);
    let (pool, schema) = model_schema(ZONE).await;
    let fold = Fold::new(zone());
    let mut tx = pool.begin().await.unwrap();
    let error = fold.handle_batch(&mut tx, &batch).await.unwrap_err();
    assert!(error.0.contains("in an event of aggregate"), "{error}");
    drop(tx);
    let empty = model(&pool).await;
    assert!(empty.facts.is_empty() && empty.retained.is_empty());
    assert_eq!(empty.applied, (0, None));
    // Without it the batch folds.
    let mut tx = pool.begin().await.unwrap();
    fold.handle_batch(&mut tx, &events).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(model(&pool).await.retained.len(), events.len());
    testing::drop_schema(&pool, &schema).await;
}

/// The fold's rate, printed, not asserted (the machines are shared and noisy): 20,000 events
/// in batches of [`BATCH`] by one worker and by four, against one event per transaction over
/// 2,000 of them. Run it with
/// `cargo test -p switchboard-reporting --test integration -- --ignored --nocapture fold_rate`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: prints the fold's rate"]
async fn fold_rate() {
    let mut rng = Rng::new(42);
    let mut events: Vec<_> = lives(&mut rng, 8_000)
        .into_iter()
        .flat_map(|l| l.events)
        .collect();
    rng.shuffle(&mut events);
    events.truncate(20_000);
    let (pool, schema) = model_schema(ZONE).await;
    let began = Instant::now();
    fold_one_by_one(&pool, &events[..2_000]).await;
    let single = 2_000.0 / began.elapsed().as_secs_f64();
    eprintln!("one event per transaction: {single:.0} events/s");
    testing::drop_schema(&pool, &schema).await;
    for workers in [1, 4] {
        let (pool, schema) = model_schema(ZONE).await;
        let chunks: Vec<_> = events.chunks(BATCH).map(<[_]>::to_vec).collect();
        let began = Instant::now();
        fold_batches(&pool, chunks, workers).await;
        let rate = events.len() as f64 / began.elapsed().as_secs_f64();
        eprintln!(
            "batches of {BATCH}, {workers} worker(s): {rate:.0} events/s, ratio {:.1}",
            rate / single
        );
        testing::drop_schema(&pool, &schema).await;
    }
}
