//! A random scenario of 10,000 callbacks whose events arrive twice and shuffled at two consumer
//! replicas: every bucket of every report equals the count taken directly from the callbacks'
//! final states, and a rebuild from the retained log gives the identical reports.

use std::{collections::BTreeMap, time::Duration};

use crate::common::{
    Mesh, ZONE, local_date,
    scenario::{Agent, Rng, generate},
    spans,
};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use switchboard_platform::testing;
use switchboard_proto::{
    callback::v1::CallbackState,
    events::v1::CallbackSnapshot,
    reporting::v1::{
        AssigneeFilter, CallbackProcessingBucket, GetCallbackProcessingStatusRequest,
        GetCallbackProcessingStatusResponse, ReportGranularity, ReportPeriod,
        assignee_filter::Assignee,
    },
};
use uuid::Uuid;

const CALLBACKS: usize = 10_000;

/// One report to ask for, and what it filters.
#[derive(Debug, Clone)]
struct Ask {
    name: String,
    month: bool,
    routes: Vec<String>,
    assignee: Option<Assignee>,
}

impl Ask {
    fn request(&self, first: NaiveDate, last: NaiveDate) -> GetCallbackProcessingStatusRequest {
        GetCallbackProcessingStatusRequest {
            period: Some(ReportPeriod {
                start_date: Some(local_date(first)),
                end_date: Some(local_date(last)),
            }),
            granularity: if self.month {
                ReportGranularity::Month
            } else {
                ReportGranularity::Day
            } as i32,
            ivr_route_ids: self.routes.clone(),
            assignee: self
                .assignee
                .clone()
                .map(|a| AssigneeFilter { assignee: Some(a) }),
        }
    }

    /// Whether `callback` (in its final state) is counted by this report's filters.
    fn selects(&self, callback: &CallbackSnapshot, groups: &BTreeMap<String, String>) -> bool {
        let assignee = callback.assignee.as_ref();
        let route_ok = self.routes.is_empty() || self.routes.contains(&callback.ivr_route_id);
        let assignee_ok = match &self.assignee {
            None => true,
            Some(Assignee::AgentLogin(login)) => assignee.is_some_and(|a| &a.agent_login == login),
            Some(Assignee::GroupId(group)) => {
                assignee.is_some_and(|a| groups.get(&a.agent_login) == Some(group))
            }
        };
        route_ok && assignee_ok
    }
}

fn bucket(
    first: NaiveDate,
    last: NaiveDate,
    completed: i64,
    unprocessed: i64,
) -> CallbackProcessingBucket {
    let assigned = completed + unprocessed;
    CallbackProcessingBucket {
        start_date: Some(local_date(first)),
        end_date: Some(local_date(last)),
        assigned_count: assigned,
        completed_count: completed,
        unprocessed_count: unprocessed,
        processing_rate: (assigned > 0).then(|| completed as f64 / assigned as f64),
    }
}

/// The report counted directly from the final snapshots: (buckets, total).
fn expected(
    ask: &Ask,
    finals: &[CallbackSnapshot],
    groups: &BTreeMap<String, String>,
    first: NaiveDate,
    last: NaiveDate,
    zone: Tz,
) -> (Vec<CallbackProcessingBucket>, CallbackProcessingBucket) {
    let spans = spans(first, last, ask.month);
    let mut counts = vec![(0i64, 0i64); spans.len()];
    for callback in finals.iter().filter(|c| ask.selects(c, groups)) {
        let request = callback.request_time.unwrap();
        let day = DateTime::<Utc>::from_timestamp(request.seconds, 0)
            .unwrap()
            .with_timezone(&zone)
            .date_naive();
        let Some(index) = spans.iter().position(|(a, b)| *a <= day && day <= *b) else {
            continue;
        };
        match CallbackState::try_from(callback.state).unwrap() {
            CallbackState::Completed => counts[index].0 += 1,
            CallbackState::Unprocessed => counts[index].1 += 1,
            _ => {}
        }
    }
    let total = counts.iter().fold((0, 0), |t, c| (t.0 + c.0, t.1 + c.1));
    (
        spans
            .iter()
            .zip(&counts)
            .map(|((a, b), (c, u))| bucket(*a, *b, *c, *u))
            .collect(),
        bucket(first, last, total.0, total.1),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_random_scenario_delivered_twice_and_shuffled_gives_the_directly_counted_report() {
    let mesh = Mesh::start(2).await;
    let zone: Tz = ZONE.parse().unwrap();
    let seed = std::env::var("SCENARIO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_122);
    eprintln!("scenario seed {seed} (set SCENARIO_SEED to replay another)");
    let mut rng = Rng::new(seed);
    let routes: Vec<String> = (0..3).map(|_| Uuid::new_v4().to_string()).collect();
    let agents = [
        Agent::new("kim", "0191d3b4-aaaa-7000-8000-00000000000a"),
        Agent::new("lee", "0191d3b4-aaaa-7000-8000-00000000000a"),
        Agent::new("park", "0191d3b4-aaaa-7000-8000-00000000000a"),
        Agent::new("choi", "0191d3b4-bbbb-7000-8000-00000000000b"),
        Agent::new("jung", "0191d3b4-bbbb-7000-8000-00000000000b"),
        Agent::new("kang", ""),
    ];
    let groups: BTreeMap<String, String> = agents
        .iter()
        .filter(|a| !a.group_id.is_empty())
        .map(|a| (a.login.clone(), a.group_id.clone()))
        .collect();
    // 28 January to 4 February: across a month boundary.
    let first_day = NaiveDate::from_ymd_opt(2025, 1, 28).unwrap();
    let lives = generate(&mut rng, CALLBACKS, first_day, 8, zone, &routes, &agents);
    let finals: Vec<CallbackSnapshot> = lives.iter().map(|l| l.snapshot.clone()).collect();
    let events: Vec<_> = lives.iter().flat_map(|l| l.events.clone()).collect();
    let distinct = events.len();
    let mut deliveries = events.clone();
    deliveries.extend(events);
    rng.shuffle(&mut deliveries);
    // The scenario does exercise disorder: many callbacks have a later version delivered
    // before an earlier one.
    let mut newest_seen: BTreeMap<&str, i64> = BTreeMap::new();
    let mut out_of_order = std::collections::BTreeSet::new();
    for event in &deliveries {
        let seen = newest_seen.entry(&event.aggregate_id).or_default();
        if event.aggregate_version < *seen {
            out_of_order.insert(event.aggregate_id.as_str());
        }
        *seen = (*seen).max(event.aggregate_version);
    }
    assert!(out_of_order.len() > CALLBACKS / 3, "{}", out_of_order.len());

    let began = std::time::Instant::now();
    mesh.publish(&deliveries).await;
    mesh.wait_applied(distinct as i64, Duration::from_secs(900))
        .await;
    eprintln!(
        "{distinct} events ({} deliveries) applied in {:.1} s",
        deliveries.len(),
        began.elapsed().as_secs_f64()
    );
    // A delivery is counted when it arrives, but as applied or duplicate only once its batch
    // commits: wait for the second count, or the last batch may still be in flight.
    let all_settled = testing::eventually(Duration::from_secs(120), || async {
        let settled: u64 = mesh
            .stats
            .iter()
            .map(|s| {
                s.applied.load(std::sync::atomic::Ordering::Relaxed)
                    + s.duplicates.load(std::sync::atomic::Ordering::Relaxed)
            })
            .sum();
        settled >= 2 * distinct as u64
    })
    .await;
    assert!(
        all_settled,
        "every delivery reaches a consumer and is settled"
    );
    let sum = |read: fn(&switchboard_platform::events::ConsumerStats) -> u64| -> u64 {
        mesh.stats.iter().map(|s| read(s)).sum()
    };
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(
        sum(|s| s.applied.load(Relaxed)),
        distinct as u64,
        "each event applied once"
    );
    assert!(sum(|s| s.duplicates.load(Relaxed)) >= distinct as u64);
    assert!(
        mesh.stats.iter().all(|s| s.applied.load(Relaxed) > 0),
        "both replicas took part"
    );

    let mut asks = vec![Ask {
        name: "all".into(),
        month: false,
        routes: vec![],
        assignee: None,
    }];
    for agent in &agents {
        asks.push(Ask {
            name: format!("agent {}", agent.login),
            month: false,
            routes: vec![],
            assignee: Some(Assignee::AgentLogin(agent.login.clone())),
        });
    }
    for group in [
        "0191d3b4-aaaa-7000-8000-00000000000a",
        "0191d3b4-bbbb-7000-8000-00000000000b",
    ] {
        asks.push(Ask {
            name: format!("group {group}"),
            month: false,
            routes: vec![],
            assignee: Some(Assignee::GroupId(group.into())),
        });
    }
    for (index, route) in routes.iter().enumerate() {
        asks.push(Ask {
            name: format!("route {index}"),
            month: false,
            routes: vec![route.clone()],
            assignee: None,
        });
    }
    asks.push(Ask {
        name: "routes 0 and 2 of group-b".into(),
        month: false,
        routes: vec![routes[0].clone(), routes[2].clone()],
        assignee: Some(Assignee::GroupId(
            "0191d3b4-bbbb-7000-8000-00000000000b".into(),
        )),
    });
    asks.push(Ask {
        name: "monthly".into(),
        month: true,
        routes: vec![],
        assignee: None,
    });
    asks.push(Ask {
        name: "monthly lee".into(),
        month: true,
        routes: vec![],
        assignee: Some(Assignee::AgentLogin("lee".into())),
    });

    // A day before and after the scenario: empty buckets are present with zeros.
    let (first, last) = (
        NaiveDate::from_ymd_opt(2025, 1, 27).unwrap(),
        NaiveDate::from_ymd_opt(2025, 2, 5).unwrap(),
    );
    let mut answers: Vec<GetCallbackProcessingStatusResponse> = Vec::new();
    for ask in &asks {
        let answer = mesh.report(ask.request(first, last)).await;
        let (buckets, total) = expected(ask, &finals, &groups, first, last, zone);
        assert_eq!(answer.buckets, buckets, "report {}", ask.name);
        assert_eq!(answer.total, Some(total), "report {} total", ask.name);
        assert_eq!(answer.time_zone, ZONE);
        assert!(answer.data_as_of_time.is_some());
        answers.push(answer);
    }
    let everything = &answers[0];
    assert_eq!(everything.buckets.len(), 10);
    assert_eq!(
        everything.buckets[0].assigned_count, 0,
        "27 January is empty"
    );
    assert_eq!(everything.buckets[0].processing_rate, None);
    assert!(everything.total.as_ref().unwrap().assigned_count > CALLBACKS as i64 / 2);
    assert_eq!(
        answers[answers.len() - 2].buckets.len(),
        2,
        "January and February"
    );

    // Unfinished per agent (of all groups, then of each group), from the same finals.
    let mut listings = Vec::new();
    for group in [
        "",
        "0191d3b4-aaaa-7000-8000-00000000000a",
        "0191d3b4-bbbb-7000-8000-00000000000b",
    ] {
        let mut unfinished: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for callback in &finals {
            let assignee = callback.assignee.as_ref();
            if callback.state == CallbackState::Unprocessed as i32
                && (group.is_empty() || assignee.unwrap().group_id == group)
            {
                let login = assignee.unwrap().agent_login.clone();
                let request = callback.request_time.unwrap().seconds;
                let entry = unfinished.entry(login).or_insert((0, i64::MAX));
                entry.0 += 1;
                entry.1 = entry.1.min(request);
            }
        }
        let mut expected_agents: Vec<_> = unfinished.into_iter().collect();
        expected_agents.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
        let listed = mesh.unfinished(group).await;
        let got: Vec<_> = listed
            .agents
            .iter()
            .map(|a| {
                (
                    a.agent_login.clone(),
                    (a.unfinished_count, a.oldest_request_time.unwrap().seconds),
                )
            })
            .collect();
        assert_eq!(got, expected_agents, "unfinished of group {group:?}");
        assert!(
            listed
                .agents
                .iter()
                .all(|a| a.display_name == format!("상담원 {}", a.agent_login))
        );
        assert_eq!(listed.total_size as usize, expected_agents.len());
        listings.push((group, listed));
    }
    assert_eq!(listings[0].1.agents.len(), agents.len());
    assert_eq!(
        listings[1].1.agents.len(),
        3,
        "kim, lee and park are in group-a"
    );

    // Rebuilt from the retained log, every report is the same.
    let rebuilt = switchboard_reporting::rebuild(&testing::database_config(), &mesh.schema, ZONE)
        .await
        .expect("the rebuild succeeds");
    eprintln!("rebuilt: {rebuilt:?}");
    assert_eq!(rebuilt.events, distinct as i64);
    assert_eq!(rebuilt.callbacks, CALLBACKS as u64);
    for (ask, before) in asks.iter().zip(&answers) {
        let after = mesh.report(ask.request(first, last)).await;
        assert_eq!(&after, before, "report {} after the rebuild", ask.name);
    }
    for (group, listed) in &listings {
        assert_eq!(&mesh.unfinished(group).await, listed, "group {group:?}");
    }
    let status = mesh.model_status().await;
    assert_eq!(status.applied_event_count, distinct as i64);
    mesh.stop().await;
}
