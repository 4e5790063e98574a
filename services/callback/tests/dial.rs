//! The CTI's dial requests through the gateway (`WatchConnectRequests`): kept while no CTI
//! watches, resumed from a cursor without repeats, each sent to one of two connections (and a
//! dropped connection's requests passed to the other), refused to callers without the scope.

use std::{collections::BTreeSet, time::Duration};

use switchboard_proto::callback::v1::{
    AttemptOutcome, CompleteCallbackRequest, ConnectCallbackRequest, ConnectRequest,
    RecordAttemptOutcomeRequest, RepeatRequestPolicy, WatchConnectRequestsRequest,
    WatchConnectRequestsResponse,
};
use tonic::{Code, Streaming};

use crate::common::{Mesh, bearer};

/// Long enough for a poll (5 s) and a release; a test that waits this long has failed.
const PATIENCE: Duration = Duration::from_secs(20);

/// Kim, with `n` callbacks assigned, and a CTI key with `callbacks:attempts`.
async fn kim_and_cti(mesh: &Mesh, n: usize) -> (Vec<String>, String) {
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let kim = mesh.phone_agent("kim", &[]).await;
    let ids = mesh.push_many(n, "main").await;
    let (_, cti) = mesh
        .gateway
        .create_api_key("cti", &["callbacks:attempts"])
        .await;
    if ids.is_empty() {
        return (ids, cti);
    }
    mesh.assign(&ids, &kim).await;
    (ids, cti)
}

/// Kim presses 연결 on `id`; the attempt's id.
async fn connect(mesh: &Mesh, id: &str) -> String {
    mesh.callbacks()
        .await
        .connect_callback(bearer(
            ConnectCallbackRequest {
                id: id.to_owned(),
                request_id: String::new(),
            },
            &mesh.token("kim"),
        ))
        .await
        .expect("kim connects")
        .into_inner()
        .attempt
        .unwrap()
        .attempt_id
}

async fn watch(
    mesh: &Mesh,
    key: &str,
    after_cursor: i64,
    page_size: i32,
) -> Result<Streaming<WatchConnectRequestsResponse>, tonic::Status> {
    mesh.callbacks()
        .await
        .watch_connect_requests(bearer(
            WatchConnectRequestsRequest {
                after_cursor,
                page_size,
            },
            key,
        ))
        .await
        .map(|r| r.into_inner())
}

/// The next dial requests on `stream`, skipping heartbeats; empty if none comes within `wait`.
async fn next(
    stream: &mut Streaming<WatchConnectRequestsResponse>,
    wait: Duration,
) -> Vec<ConnectRequest> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.message()).await {
            Err(_) => return Vec::new(),
            Ok(message) => {
                let message = message.expect("the stream stays healthy").expect("open");
                if !message.connect_requests.is_empty() {
                    return message.connect_requests;
                }
            }
        }
    }
}

fn attempts(requests: &[ConnectRequest]) -> Vec<String> {
    requests.iter().map(|r| r.attempt_id.clone()).collect()
}

#[tokio::test]
async fn dial_requests_wait_for_the_cti_and_a_reconnect_from_the_cursor_repeats_nothing() {
    let mesh = Mesh::start().await;
    let (ids, cti) = kim_and_cti(&mesh, 4).await;

    // No CTI is connected while kim asks for three calls and completes one of them: the
    // completed one is not to be dialed any more.
    let first = connect(&mesh, &ids[0]).await;
    let second = connect(&mesh, &ids[1]).await;
    connect(&mesh, &ids[3]).await;
    mesh.callbacks()
        .await
        .complete_callback(bearer(
            CompleteCallbackRequest {
                id: ids[3].clone(),
                ..Default::default()
            },
            &mesh.token("kim"),
        ))
        .await
        .expect("kim completes");
    let mut stream = watch(&mesh, &cti, 0, 0).await.expect("the CTI watches");
    let mut got = next(&mut stream, PATIENCE).await;
    if got.len() < 2 {
        got.extend(next(&mut stream, PATIENCE).await);
    }
    assert_eq!(attempts(&got), [first.clone(), second.clone()]);
    assert_eq!(got[0].callback_id, ids[0]);
    assert_eq!(got[0].attempt_number, 1);
    assert_eq!(got[0].agent_login, "kim");
    assert!(got[0].phone_number.starts_with("+82"), "{:?}", got[0]);
    assert!(got[0].request_time.is_some());
    assert!(got[0].cursor < got[1].cursor);
    let cursor = got[1].cursor;

    // The CTI reconnects from its last cursor: the two are not sent again, a new one is.
    drop(stream);
    let mut stream = watch(&mesh, &cti, cursor, 0)
        .await
        .expect("the CTI watches");
    let third = connect(&mesh, &ids[2]).await;
    let got = next(&mut stream, PATIENCE).await;
    assert_eq!(attempts(&got), [third]);
    assert!(got[0].cursor > cursor);
    // Nothing else comes, not even once the ended stream's hold (10 s) is over.
    let more = next(&mut stream, Duration::from_secs(12)).await;
    assert!(more.is_empty(), "repeated: {more:?}");
    mesh.stop().await;
}

#[tokio::test]
async fn two_cti_connections_never_get_the_same_request_and_a_dropped_ones_are_passed_on() {
    let mesh = Mesh::start().await;
    let (ids, cti) = kim_and_cti(&mesh, 6).await;
    let mut one = watch(&mesh, &cti, 0, 1).await.expect("the CTI watches");
    let mut two = watch(&mesh, &cti, 0, 1)
        .await
        .expect("the CTI watches twice");
    let mut made = BTreeSet::new();
    for id in &ids {
        made.insert(connect(&mesh, id).await);
    }

    let (mut to_one, mut to_two) = (Vec::new(), Vec::new());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while to_one.len() + to_two.len() < made.len() && tokio::time::Instant::now() < deadline {
        tokio::select! {
            got = next(&mut one, Duration::from_millis(300)) => to_one.extend(got),
            got = next(&mut two, Duration::from_millis(300)) => to_two.extend(got),
        }
    }
    // Both stay quiet afterwards: nothing was sent twice.
    to_one.extend(next(&mut one, Duration::from_secs(1)).await);
    to_two.extend(next(&mut two, Duration::from_secs(1)).await);
    let (a, b) = (attempts(&to_one), attempts(&to_two));
    let a_set: BTreeSet<_> = a.iter().cloned().collect();
    let b_set: BTreeSet<_> = b.iter().cloned().collect();
    assert_eq!(a.len() + b.len(), made.len(), "one: {a:?}, two: {b:?}");
    assert!(a_set.is_disjoint(&b_set), "one: {a:?}, two: {b:?}");
    assert_eq!(a_set.union(&b_set).cloned().collect::<BTreeSet<_>>(), made);

    // One connection (one that got some) ends without recording any outcome; the other records
    // its own: the ended one's requests go to it, those it settled do not come again.
    let (mut kept, kept_got, dropped_stream, dropped_got) = if to_one.is_empty() {
        (one, to_one, two, to_two)
    } else {
        (two, to_two, one, to_one)
    };
    let mut client = mesh.callbacks().await;
    for request in &kept_got {
        client
            .record_attempt_outcome(bearer(
                RecordAttemptOutcomeRequest {
                    callback_id: request.callback_id.clone(),
                    attempt_id: request.attempt_id.clone(),
                    outcome: AttemptOutcome::Busy as i32,
                    talk_duration: None,
                },
                &cti,
            ))
            .await
            .expect("the CTI records the outcome");
    }
    drop(dropped_stream);
    let mut passed = Vec::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while passed.len() < dropped_got.len() && tokio::time::Instant::now() < deadline {
        passed.extend(next(&mut kept, Duration::from_secs(1)).await);
    }
    passed.extend(next(&mut kept, Duration::from_secs(1)).await);
    let mut passed = attempts(&passed);
    passed.sort();
    let mut dropped = attempts(&dropped_got);
    dropped.sort();
    assert_eq!(passed, dropped);
    mesh.stop().await;
}

#[tokio::test]
async fn only_the_cti_and_admins_watch_dial_requests() {
    let mesh = Mesh::start().await;
    let (_, cti) = kim_and_cti(&mesh, 0).await;
    let (_, crm) = mesh
        .gateway
        .create_api_key("crm", &["callbacks:read"])
        .await;
    let kim = mesh.token("kim");
    for (who, key) in [("kim", &kim), ("crm", &crm), ("ivr", &mesh.ivr_key)] {
        let denied = watch(&mesh, key, 0, 0).await.unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{who}");
    }
    watch(&mesh, &mesh.admin(), 0, 0)
        .await
        .expect("an admin watches");
    let bad = watch(&mesh, &cti, -1, 501).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message().contains("after_cursor") && bad.message().contains("page_size"),
        "{}",
        bad.message()
    );
    mesh.stop().await;
}
