//! The batched push and its route cache: route changes apply to the very next push, retries
//! match on body and request time, concurrent pushes make exactly one of everything, a push
//! that fails writes nothing, and one that fails inside a batch fails alone.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicU16, Ordering},
    },
};

use switchboard_platform::testing::unique_id;
use switchboard_proto::callback::v1::{
    CreateCallbackRequest, DeleteIvrRouteRequest, IntakeDisposition, IvrRoute, RepeatRequestPolicy,
    UpdateIvrRouteRequest,
};
use switchboard_proto::events::{
    Event,
    v1::{CallbackRegistered, CallbackRequestRepeated, EventEnvelope},
};
use tonic::Code;

use crate::common::{EventTap, Mesh, bearer};

/// Changes the fields `paths` of route `id` to those of `change`, as the admin.
async fn update_route(mesh: &Mesh, id: &str, change: IvrRoute, paths: &[&str]) {
    mesh.routes()
        .await
        .update_ivr_route(bearer(
            UpdateIvrRouteRequest {
                ivr_route: Some(IvrRoute {
                    id: id.into(),
                    ..change
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: paths.iter().map(|p| (*p).into()).collect(),
                }),
            },
            &mesh.admin(),
        ))
        .await
        .expect("the admin changes the route");
}

async fn set_policy(mesh: &Mesh, id: &str, policy: RepeatRequestPolicy) {
    let change = IvrRoute {
        repeat_request_policy: policy as i32,
        ..Default::default()
    };
    update_route(mesh, id, change, &["repeat_request_policy"]).await;
}

async fn count(mesh: &Mesh, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mesh.pool)
        .await
        .unwrap();
    n
}

/// The callback events received for `callback_id` once every event written so far has reached
/// `tap`: a last push's event comes after them (the relay publishes in outbox order and the tap
/// consumes in order). Each last push has a number of its own, so it never attaches.
async fn events_of(
    mesh: &Mesh,
    tap: &EventTap,
    route: &str,
    callback_id: &str,
) -> Vec<EventEnvelope> {
    static LAST_PUSHES: AtomicU16 = AtomicU16::new(0);
    let n = LAST_PUSHES.fetch_add(1, Ordering::Relaxed);
    let last = mesh
        .push(
            &format!("last-{}", unique_id()),
            &format!("010-9999-{n:04}"),
            route,
        )
        .await
        .expect("the last push succeeds");
    let last = last.callback.unwrap().id;
    tap.wait_for("the last push's registration", |e| e.aggregate_id == last)
        .await;
    tap.events()
        .into_iter()
        .filter(|e| e.aggregate_id == callback_id)
        .collect()
}

#[tokio::test]
async fn route_changes_apply_to_the_very_next_push() {
    let mesh = Mesh::start().await;
    let route = mesh.route("live", RepeatRequestPolicy::Attach).await;
    let first = mesh.push("r-1", "010-1000-0001", "live").await.unwrap();
    let first = first.callback.unwrap();
    assert_eq!(first.ivr_route_display_name, "live 상담 콜백");

    // Renamed: the next push carries the new name.
    let renamed = IvrRoute {
        display_name: "새 이름".into(),
        ..Default::default()
    };
    update_route(&mesh, &route.id, renamed, &["display_name"]).await;
    let next = mesh.push("r-2", "010-1000-0002", "live").await.unwrap();
    assert_eq!(next.callback.unwrap().ivr_route_display_name, "새 이름");

    // The policy decides the next repeat request, both ways.
    set_policy(&mesh, &route.id, RepeatRequestPolicy::CreateNew).await;
    let separate = mesh.push("r-3", "010-1000-0001", "live").await.unwrap();
    assert_eq!(separate.disposition(), IntakeDisposition::Created);
    assert_ne!(separate.callback.unwrap().id, first.id);
    set_policy(&mesh, &route.id, RepeatRequestPolicy::Attach).await;
    let attached = mesh.push("r-4", "010-1000-0002", "live").await.unwrap();
    assert_eq!(attached.disposition(), IntakeDisposition::Attached);
    assert_eq!(attached.callback.unwrap().ivr_route_display_name, "새 이름");

    // Disabled refuses the next push; enabled again accepts it.
    let disabled = IvrRoute {
        disabled: true,
        ..Default::default()
    };
    update_route(&mesh, &route.id, disabled, &["disabled"]).await;
    let refused = mesh.push("r-5", "010-1000-0005", "live").await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    update_route(&mesh, &route.id, IvrRoute::default(), &["disabled"]).await;
    mesh.push("r-5", "010-1000-0005", "live").await.unwrap();

    // A new code: the old one is unknown at once, the new one works.
    let moved = IvrRoute {
        code: "moved".into(),
        ..Default::default()
    };
    update_route(&mesh, &route.id, moved, &["code"]).await;
    let unknown = mesh.push("r-6", "010-1000-0006", "live").await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    let pushed = mesh.push("r-6", "010-1000-0006", "moved").await.unwrap();
    assert_eq!(pushed.callback.unwrap().ivr_route_id, route.id);

    // A route that was pushed to (a conflict, which writes nothing) and then deleted is gone
    // for the next push, and a new route with its code is the one the next push takes.
    let gone = mesh.route("gone", RepeatRequestPolicy::Attach).await;
    let conflict = mesh.push("r-1", "010-1000-0001", "gone").await.unwrap_err();
    assert_eq!(conflict.code(), Code::AlreadyExists, "{conflict:?}");
    mesh.routes()
        .await
        .delete_ivr_route(bearer(
            DeleteIvrRouteRequest {
                id: gone.id.clone(),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap();
    let deleted = mesh.push("r-7", "010-1000-0007", "gone").await.unwrap_err();
    assert_eq!(deleted.code(), Code::NotFound, "{deleted:?}");
    let again = mesh.route("gone", RepeatRequestPolicy::Attach).await;
    let pushed = mesh.push("r-7", "010-1000-0007", "gone").await.unwrap();
    assert_eq!(pushed.callback.unwrap().ivr_route_id, again.id);
    mesh.stop().await;
}

#[tokio::test]
async fn retries_match_on_the_body_and_the_request_time() {
    let mesh = Mesh::start().await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let at = |seconds| {
        Some(prost_types::Timestamp {
            seconds: chrono::Utc::now().timestamp() - seconds,
            nanos: 0,
        })
    };
    let request = CreateCallbackRequest {
        ivr_call_id: "t-1".into(),
        phone_number: "010-4444-5555".into(),
        ivr_route_code: "main".into(),
        request_time: at(60),
        memo: "오후에 전화 주세요".into(),
        ..Default::default()
    };
    let first = mesh.push_request(request.clone()).await.unwrap();
    let created = first.callback.clone().unwrap();
    assert_eq!(created.request_time, request.request_time);

    // The same request time, or none, is the same push.
    for request_time in [request.request_time, None] {
        let again = mesh
            .push_request(CreateCallbackRequest {
                request_time,
                ..request.clone()
            })
            .await
            .unwrap();
        assert!(again.replayed);
        assert_eq!(again.disposition(), IntakeDisposition::Created);
        assert_eq!(again.callback.unwrap(), created);
    }
    // Another request time or memo is another body.
    for other in [
        CreateCallbackRequest {
            request_time: at(30),
            ..request.clone()
        },
        CreateCallbackRequest {
            memo: "다른 메모".into(),
            ..request.clone()
        },
    ] {
        let status = mesh.push_request(other).await.unwrap_err();
        assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
        assert!(status.message().contains("ivr_call_id"), "{status:?}");
    }

    // A retry of an attached push replays the attachment, showing the callback as it is now.
    let repeat = mesh.push("t-2", "01044445555", "main").await.unwrap();
    assert_eq!(repeat.disposition(), IntakeDisposition::Attached);
    let retried = mesh.push("t-2", "+82 10 4444 5555", "main").await.unwrap();
    assert!(retried.replayed);
    assert_eq!(retried.disposition(), IntakeDisposition::Attached);
    let callback = retried.callback.unwrap();
    assert_eq!((callback.id, callback.request_count), (created.id, 2));
    assert_eq!(
        count(&mesh, "SELECT count(*) FROM intake_requests").await,
        2
    );
    mesh.stop().await;
}

#[tokio::test]
async fn concurrent_pushes_make_one_of_everything() {
    let mesh = Arc::new(Mesh::start().await);
    let tap = EventTap::start(&mesh.gateway, &[CallbackRegistered::FAMILY_BINDING]).await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;

    // 100 pushes of one call id: one callback, intake record, history entry and event.
    let pushes: Vec<_> = (0..100)
        .map(|_| {
            let mesh = mesh.clone();
            tokio::spawn(async move { mesh.push("same-call", "010-2222-3333", "main").await })
        })
        .collect();
    let mut ids = HashSet::new();
    for push in pushes {
        ids.insert(
            push.await
                .unwrap()
                .expect("every push succeeds")
                .callback
                .unwrap()
                .id,
        );
    }
    assert_eq!(ids.len(), 1);
    let one = ids.into_iter().next().unwrap();
    assert_eq!(count(&mesh, "SELECT count(*) FROM callbacks").await, 1);
    assert_eq!(
        count(&mesh, "SELECT count(*) FROM intake_requests").await,
        1
    );
    assert_eq!(
        count(&mesh, "SELECT count(*) FROM callback_history").await,
        1
    );
    let events = events_of(&mesh, &tap, "main", &one).await;
    assert_eq!(events.len(), 1, "{events:?}");

    // 100 pushes of different calls from one number on an attaching route: one callback
    // requested 100 times, with versions 1 to 100 in its history and its events.
    let pushes: Vec<_> = (0..100)
        .map(|i| {
            let mesh = mesh.clone();
            tokio::spawn(async move {
                mesh.push(&format!("call-{i}"), "010-7777-8888", "main")
                    .await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    let mut created = 0;
    for push in pushes {
        let response = push.await.unwrap().expect("every push succeeds");
        created += usize::from(response.disposition() == IntakeDisposition::Created);
        ids.insert(response.callback.unwrap().id);
    }
    assert_eq!((ids.len(), created), (1, 1));
    let attached = ids.into_iter().next().unwrap();
    let (request_count, version): (i32, i64) =
        sqlx::query_as("SELECT request_count, version FROM callbacks WHERE id = $1::uuid")
            .bind(&attached)
            .fetch_one(&mesh.pool)
            .await
            .unwrap();
    assert_eq!((request_count, version), (100, 100));
    let history: Vec<(i64,)> = sqlx::query_as(
        "SELECT version FROM callback_history WHERE callback_id = $1::uuid ORDER BY version",
    )
    .bind(&attached)
    .fetch_all(&mesh.pool)
    .await
    .unwrap();
    assert_eq!(
        history.into_iter().map(|(v,)| v).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<_>>()
    );
    let events = events_of(&mesh, &tap, "main", &attached).await;
    let mut versions: Vec<i64> = events.iter().map(|e| e.aggregate_version).collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=100).collect::<Vec<_>>());
    let repeated = events
        .iter()
        .filter(|e| e.event_type == CallbackRequestRepeated::EVENT_TYPE)
        .count();
    assert_eq!(repeated, 99);
    drop(tap);
    Arc::into_inner(mesh).unwrap().stop().await;
}

#[tokio::test]
async fn a_push_that_fails_writes_nothing() {
    let mesh = Mesh::start().await;
    let tap = EventTap::start(&mesh.gateway, &[CallbackRegistered::FAMILY_BINDING]).await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let first = mesh.push("f-1", "010-1111-2222", "main").await.unwrap();
    let first = first.callback.unwrap();

    // The intake record is written last on both paths; refusing it must undo the rest.
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_intake() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
         CREATE TRIGGER refuse_intake BEFORE INSERT ON intake_requests
           FOR EACH ROW EXECUTE FUNCTION refuse_intake();",
    )
    .execute(&mesh.pool)
    .await
    .unwrap();
    let attach = mesh.push("f-2", "010-1111-2222", "main").await.unwrap_err();
    assert_eq!(attach.code(), Code::Internal, "{attach:?}");
    let create = mesh.push("f-3", "010-3333-2222", "main").await.unwrap_err();
    assert_eq!(create.code(), Code::Internal, "{create:?}");
    sqlx::raw_sql("DROP TRIGGER refuse_intake ON intake_requests")
        .execute(&mesh.pool)
        .await
        .unwrap();

    assert_eq!(count(&mesh, "SELECT count(*) FROM callbacks").await, 1);
    assert_eq!(
        count(&mesh, "SELECT count(*) FROM callback_history").await,
        1
    );
    let (request_count, version): (i32, i64) =
        sqlx::query_as("SELECT request_count, version FROM callbacks")
            .fetch_one(&mesh.pool)
            .await
            .unwrap();
    assert_eq!((request_count, version), (1, 1));
    let last = mesh.push("f-4", "010-4444-2222", "main").await.unwrap();
    let last = last.callback.unwrap().id;
    tap.wait_for("the last push's registration", |e| e.aggregate_id == last)
        .await;
    let others: Vec<_> = tap
        .events()
        .into_iter()
        .filter(|e| e.aggregate_id != last)
        .map(|e| (e.aggregate_id, e.event_type))
        .collect();
    assert_eq!(
        others,
        [(first.id, CallbackRegistered::EVENT_TYPE.to_owned())]
    );
    mesh.stop().await;
}

#[tokio::test]
async fn a_push_that_fails_inside_a_batch_fails_alone() {
    // One writer: while it writes, every other push waits for the next batch.
    let mesh = Arc::new(Mesh::start_with(|s| s.intake_batch_writers = 1).await);
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.ivr_call_id = 'poison' THEN RAISE EXCEPTION 'refused by the test'; END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER refuse_poison BEFORE INSERT ON intake_requests
           FOR EACH ROW EXECUTE FUNCTION refuse_poison();",
    )
    .execute(&mesh.pool)
    .await
    .unwrap();

    // 200 pushes at once, the poison one in the middle, and 20 of them sent twice.
    let calls: Vec<String> = (0..200)
        .map(|i| match i {
            100 => "poison".to_owned(),
            i => format!("b-{i}"),
        })
        .collect();
    let pushes: Vec<_> = calls
        .iter()
        .chain(calls.iter().take(20))
        .enumerate()
        .map(|(i, call)| {
            let (mesh, call) = (mesh.clone(), call.clone());
            let phone = format!("010-5{:03}-{:04}", i % 200, i % 200);
            tokio::spawn(async move { (call.clone(), mesh.push(&call, &phone, "main").await) })
        })
        .collect();
    let mut created = HashSet::new();
    let mut replayed = 0;
    for push in pushes {
        let (call, answer) = push.await.unwrap();
        match answer {
            Ok(answer) if answer.replayed => replayed += 1,
            Ok(answer) => assert!(created.insert(answer.callback.unwrap().ivr_call_id)),
            Err(status) => {
                assert_eq!(call, "poison", "{status:?}");
                assert_eq!(status.code(), Code::Internal, "{status:?}");
            }
        }
    }
    assert_eq!((created.len(), replayed), (199, 20), "{created:?}");
    assert!(!created.contains("poison"));
    assert_eq!(count(&mesh, "SELECT count(*) FROM callbacks").await, 199);
    assert_eq!(
        count(&mesh, "SELECT count(*) FROM callback_history").await,
        199
    );
    assert_eq!(
        count(&mesh, "SELECT count(*) FROM intake_requests").await,
        199
    );
    // Pushes were written together: rows of one transaction share its id.
    let transactions = count(&mesh, "SELECT count(DISTINCT xmin::text) FROM callbacks").await;
    assert!(
        transactions < 150,
        "{transactions} transactions for 199 pushes"
    );
    Arc::into_inner(mesh).unwrap().stop().await;
}
