//! Acting on a whole search through the gateway: 5,000 pushed callbacks assigned by filter to
//! three agents, reported row by row and balanced as even assignment is; a search over the
//! bound refused before anything changes; cancel and manual assignment by filter; bad filters
//! named.

use std::{collections::HashSet, time::Instant};

use futures_util::{StreamExt, stream};
use prost::Message;
use switchboard_platform::error::violated_fields;
use switchboard_proto::callback::v1::{
    AssignEvenlyRequest, AssignManuallyRequest, CallbackFilter, CallbackState,
    CancelAssignmentRequest, CreateCallbackRequest, GetAssignmentSummaryRequest, PhoneMatch,
    RepeatRequestPolicy,
};
use tonic::Code;

use crate::common::{Mesh, bearer};

const PUSHED: usize = 5_000;
/// The bound the contract states for one change by search.
const BOUND: i64 = 10_000;
/// gRPC's default largest message.
const MESSAGE_LIMIT: usize = 4 * 1024 * 1024;

/// Pushes `n` callbacks on `route_code` as the IVR, 16 at a time over one channel; returns
/// their ids in push order.
async fn push_concurrently(mesh: &Mesh, n: usize, route_code: &str) -> Vec<String> {
    let client = mesh.callbacks().await;
    let mut pushed: Vec<(usize, String)> = stream::iter(0..n)
        .map(|i| {
            let mut client = client.clone();
            let request = CreateCallbackRequest {
                ivr_call_id: format!("{route_code}-{i}"),
                phone_number: format!("010-6{:03}-{:04}", i / 10_000, i % 10_000),
                ivr_route_code: route_code.into(),
                ..Default::default()
            };
            let key = mesh.ivr_key.clone();
            async move {
                let response = client
                    .create_callback(bearer(request, &key))
                    .await
                    .expect("the IVR pushes a callback");
                (i, response.into_inner().callback.unwrap().id)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    pushed.sort();
    pushed.into_iter().map(|(_, id)| id).collect()
}

fn on_route(route_id: &str) -> Option<CallbackFilter> {
    Some(CallbackFilter {
        ivr_route_ids: vec![route_id.into()],
        ..Default::default()
    })
}

#[tokio::test]
async fn assign_and_cancel_by_search_over_5000_callbacks() {
    // The IVR's key may push 200 a second by default; this test's IVR pushes as fast as it can.
    let mesh = Mesh::start_tuned(
        |gateway| {
            gateway.limits.rate_per_s = 100_000.0;
            gateway.limits.burst = 100_000;
        },
        |_| {},
    )
    .await;
    let main = mesh.route("main", RepeatRequestPolicy::Attach).await;
    mesh.route("side", RepeatRequestPolicy::Attach).await;
    let bulk = mesh.route("bulk", RepeatRequestPolicy::Attach).await;
    let (a, b, c) = (
        mesh.phone_agent("a", &[]).await,
        mesh.phone_agent("b", &[]).await,
        mesh.phone_agent("c", &[]).await,
    );
    let started = Instant::now();
    let ids = push_concurrently(&mesh, PUSHED, "main").await;
    eprintln!("pushed {PUSHED} callbacks in {:?}", started.elapsed());
    let mut client = mesh.callbacks().await;
    let admin = mesh.admin();

    // Existing loads: a has 2, b 1, c none.
    let side = mesh.push_many(3, "side").await;
    for (selected, agent) in [(&side[..2], &a), (&side[2..], &b)] {
        client
            .assign_manually(bearer(
                AssignManuallyRequest {
                    callback_ids: selected.to_vec(),
                    agent_login: agent.clone(),
                    group_id: String::new(),
                    filter: None,
                },
                &admin,
            ))
            .await
            .unwrap();
    }

    // A bad filter field is named; ids and a filter together are refused.
    let evenly = |callback_ids: Vec<String>, filter: Option<CallbackFilter>| AssignEvenlyRequest {
        callback_ids,
        agent_logins: vec![a.clone(), b.clone(), c.clone()],
        group_id: String::new(),
        filter,
    };
    let refused = client
        .assign_evenly(bearer(evenly(vec![], on_route("not-a-uuid")), &admin))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(violated_fields(&refused), ["filter.ivr_route_ids[0]"]);
    let refused = client
        .cancel_assignment(bearer(
            CancelAssignmentRequest {
                filter: Some(CallbackFilter {
                    states: vec![0],
                    ..Default::default()
                }),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&refused), ["filter.states[0]"]);
    let refused = client
        .assign_evenly(bearer(
            evenly(vec![ids[0].clone()], on_route(&main.id)),
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&refused), ["filter"]);

    // Over the bound: 5,001 more REGISTERED callbacks on another route (written straight to
    // the table: only their count matters) make 10,001 assignable matches. Refused, naming the
    // count, and nothing changes.
    let registered = CallbackState::Registered as i16;
    sqlx::query(
        "INSERT INTO callbacks (id, phone_number, phone_national, ivr_route_id, ivr_call_id,
           request_time, last_request_time, state)
         SELECT gen_random_uuid(), '+82107' || lpad(n::text, 7, '0'), '0107' || lpad(n::text, 7, '0'),
           $1, 'bulk-' || n, now(), now(), $2
         FROM generate_series(1, $3) AS n",
    )
    .bind(uuid::Uuid::parse_str(&bulk.id).unwrap())
    .bind(registered)
    .bind(BOUND - PUSHED as i64 + 1)
    .execute(&mesh.pool)
    .await
    .unwrap();
    let refused = client
        .assign_evenly(bearer(
            evenly(vec![], Some(CallbackFilter::default())),
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().starts_with("filter"), "{refused:?}");
    assert!(refused.message().contains("10001"), "{refused:?}");
    let before = client
        .get_assignment_summary(bearer(GetAssignmentSummaryRequest::default(), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before.assigned_count, 3);

    // Assign everything the search on route main matches: 5,000 rows, in (request time, id)
    // order, each to the least loaded agent at that moment.
    let started = Instant::now();
    let even = client
        .assign_evenly(bearer(evenly(vec![], on_route(&main.id)), &admin))
        .await
        .unwrap()
        .into_inner();
    eprintln!("assigned {PUSHED} by search in {:?}", started.elapsed());
    assert_eq!(even.results.len(), PUSHED);
    assert!(even.results.iter().all(|r| r.ok), "every row is assigned");
    let reported: HashSet<&str> = even.results.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(reported, ids.iter().map(String::as_str).collect());
    assert_eq!(even.assignments.len(), PUSHED);
    for (result, assignment) in even.results.iter().zip(&even.assignments) {
        assert_eq!(result.id, assignment.callback_id);
    }
    // From loads (2, 1, 0): c gets the oldest; at (2, 1, 1) b ties c and was selected first;
    // then c; at (2, 2, 2) a, selected first.
    let first: Vec<&str> = even.assignments[..4]
        .iter()
        .map(|x| x.agent_login.as_str())
        .collect();
    assert_eq!(first, [c.as_str(), b.as_str(), c.as_str(), a.as_str()]);
    let counts: Vec<i64> = even
        .agent_counts
        .iter()
        .map(|x| x.unfinished_count)
        .collect();
    assert_eq!(counts.iter().sum::<i64>(), PUSHED as i64 + 3);
    assert!(
        counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1,
        "{counts:?}"
    );
    for (agent, count) in [&a, &b, &c].into_iter().zip(&counts) {
        let given = even
            .assignments
            .iter()
            .filter(|x| &x.agent_login == agent)
            .count() as i64;
        let existing = if agent == &a {
            2
        } else if agent == &b {
            1
        } else {
            0
        };
        assert_eq!(given + existing, *count, "{agent}");
    }
    // Each callback assigned once: from version 1 (pushed) to 2 (assigned), two history entries.
    let (assigned, entries): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM callbacks
                   WHERE ivr_route_id = $1 AND state = $2 AND version = 2),
                (SELECT count(*) FROM callback_history h
                   JOIN callbacks c ON c.id = h.callback_id WHERE c.ivr_route_id = $1)",
    )
    .bind(uuid::Uuid::parse_str(&main.id).unwrap())
    .bind(CallbackState::Unprocessed as i16)
    .fetch_one(&mesh.pool)
    .await
    .unwrap();
    assert_eq!((assigned, entries), (PUSHED as i64, 2 * PUSHED as i64));
    // The response stays bounded: twice these rows (the bound) fit a gRPC message.
    let size = even.encoded_len();
    eprintln!("{PUSHED} rows are {size} bytes");
    assert!(size * 2 < MESSAGE_LIMIT, "{size} bytes");

    // Nothing on main is assignable any more: an empty, successful answer.
    let again = client
        .assign_evenly(bearer(evenly(vec![], on_route(&main.id)), &admin))
        .await
        .unwrap()
        .into_inner();
    assert!(again.results.is_empty());

    // Cancel by search: the assigned (UNPROCESSED) callbacks on main, all 5,000.
    let cancelled = client
        .cancel_assignment(bearer(
            CancelAssignmentRequest {
                filter: on_route(&main.id),
                reason: "재분배".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.results.len(), PUSHED);
    assert!(cancelled.results.iter().all(|r| r.ok));
    let after = client
        .get_assignment_summary(bearer(GetAssignmentSummaryRequest::default(), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.assigned_count, 3, "only side's stay assigned");

    // Manual assignment by search: the one callback of a number.
    let manual = client
        .assign_manually(bearer(
            AssignManuallyRequest {
                agent_login: c.clone(),
                filter: Some(CallbackFilter {
                    phone_number: "010-6000-0042".into(),
                    phone_match: PhoneMatch::Exact as i32,
                    ivr_route_ids: vec![main.id.clone()],
                    ..Default::default()
                }),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(manual.results.len(), 1);
    assert_eq!(manual.results[0].id, ids[42]);
    mesh.stop().await;
}
