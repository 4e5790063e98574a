//! IVR intake through the gateway: E.164 numbers, idempotent pushes, repeat requests per route
//! policy, IVR routes, and the events on RabbitMQ (100 pushes at once: `intake_cost`).

use crate::common::{Mesh, bearer};
use switchboard_platform::error::violated_fields;
use switchboard_proto::callback::v1::{
    CallbackState, CreateCallbackRequest, DeleteIvrRouteRequest, IntakeDisposition, IvrRoute,
    ListIvrRoutesRequest, RepeatRequestPolicy, UpdateIvrRouteRequest,
};
use switchboard_proto::events::{
    Event,
    v1::{CallbackRegistered, CallbackRequestRepeated, IvrRouteChanged, IvrRouteDeleted},
};
use tonic::Code;

#[tokio::test]
async fn pushes_are_normalised_idempotent_and_announced() {
    let mesh = Mesh::start().await;
    let tap = EventTapFor::start(&mesh).await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;

    let first = mesh.push("call-1", "010-1234-5678", "main").await.unwrap();
    let callback = first.callback.clone().unwrap();
    assert_eq!(callback.phone_number, "+821012345678");
    assert_eq!(callback.state(), CallbackState::Registered);
    assert_eq!(callback.request_count, 1);
    assert_eq!(first.disposition(), IntakeDisposition::Created);
    assert!(!first.replayed);

    // The same push again, in another spelling of the same number: nothing changes.
    let again = mesh
        .push("call-1", "+82 10 1234 5678", "main")
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.callback.as_ref().unwrap().id, callback.id);
    assert_eq!(again.disposition(), IntakeDisposition::Created);

    // The same call id with another number is a conflict, not a second callback.
    let conflict = mesh
        .push("call-1", "010-9999-8888", "main")
        .await
        .unwrap_err();
    assert_eq!(conflict.code(), Code::AlreadyExists, "{conflict:?}");

    // Another call from the same number is attached to the open callback.
    let repeat = mesh.push("call-2", "01012345678", "main").await.unwrap();
    assert_eq!(repeat.disposition(), IntakeDisposition::Attached);
    let repeated = repeat.callback.unwrap();
    assert_eq!(repeated.id, callback.id);
    assert_eq!(repeated.request_count, 2);
    assert_eq!(repeated.version, 2);

    let registered = tap
        .0
        .wait_for(CallbackRegistered::EVENT_TYPE, |e| {
            e.event_type == CallbackRegistered::EVENT_TYPE
        })
        .await;
    assert_eq!(registered.aggregate_id, callback.id);
    let payload: CallbackRegistered = registered.payload.unwrap().to_msg().unwrap();
    assert_eq!(payload.phone_number, "+821012345678");
    assert_eq!(payload.ivr_call_id, "call-1");
    let repeated_event = tap
        .0
        .wait_for(CallbackRequestRepeated::EVENT_TYPE, |e| {
            e.event_type == CallbackRequestRepeated::EVENT_TYPE
        })
        .await;
    assert_eq!(repeated_event.aggregate_version, 2);
    let route_event = tap
        .0
        .wait_for(IvrRouteChanged::EVENT_TYPE, |e| {
            e.event_type == IvrRouteChanged::EVENT_TYPE
        })
        .await;
    assert_eq!(route_event.aggregate_type, "ivr_route");
    assert_eq!(route_event.aggregate_version, 1);

    // A route nobody pushed through can be deleted, and that is announced too.
    let spare = mesh.route("spare", RepeatRequestPolicy::Attach).await;
    mesh.routes()
        .await
        .delete_ivr_route(bearer(
            DeleteIvrRouteRequest {
                id: spare.id.clone(),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap();
    let deleted = tap
        .0
        .wait_for(IvrRouteDeleted::EVENT_TYPE, |e| {
            e.event_type == IvrRouteDeleted::EVENT_TYPE
        })
        .await;
    assert_eq!(deleted.aggregate_id, spare.id);
    mesh.stop().await;
}

/// A tap on every callback and route event of the mesh's virtual host.
struct EventTapFor(crate::common::EventTap);

impl EventTapFor {
    async fn start(mesh: &Mesh) -> Self {
        Self(
            crate::common::EventTap::start(
                &mesh.gateway,
                &[
                    CallbackRegistered::FAMILY_BINDING,
                    IvrRouteChanged::FAMILY_BINDING,
                ],
            )
            .await,
        )
    }
}

#[tokio::test]
async fn route_policy_decides_repeat_requests_and_disabled_routes_refuse() {
    let mesh = Mesh::start().await;
    let separate = mesh.route("separate", RepeatRequestPolicy::CreateNew).await;
    let a = mesh.push("a", "02-123-4567", "separate").await.unwrap();
    let b = mesh.push("b", "02-123-4567", "separate").await.unwrap();
    assert_eq!(b.disposition(), IntakeDisposition::Created);
    assert_ne!(a.callback.unwrap().id, b.callback.unwrap().id);

    let unknown = mesh.push("c", "02-123-4567", "nowhere").await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    mesh.routes()
        .await
        .update_ivr_route(bearer(
            UpdateIvrRouteRequest {
                ivr_route: Some(IvrRoute {
                    id: separate.id.clone(),
                    disabled: true,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["disabled".into()],
                }),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap();
    let disabled = mesh.push("d", "02-123-4567", "separate").await.unwrap_err();
    assert_eq!(disabled.code(), Code::FailedPrecondition);

    // A route with callbacks cannot be deleted.
    let refused = mesh
        .routes()
        .await
        .delete_ivr_route(bearer(
            DeleteIvrRouteRequest {
                id: separate.id.clone(),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    mesh.stop().await;
}

#[tokio::test]
async fn bad_pushes_name_their_fields_and_write_nothing() {
    let mesh = Mesh::start().await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let status = mesh
        .push_request(CreateCallbackRequest {
            ivr_call_id: String::new(),
            phone_number: "not a number".into(),
            caller_number: "anonymous".into(),
            ivr_route_code: "main".into(),
            memo: "가".repeat(1_001),
            request_time: Some(prost_types::Timestamp {
                seconds: chrono::Utc::now().timestamp() + 3_600,
                nanos: 0,
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&status),
        ["ivr_call_id", "phone_number", "request_time", "memo"]
    );
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM callbacks")
        .fetch_one(&mesh.pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);

    // A withheld caller ID is dropped, not an error.
    let pushed = mesh
        .push_request(CreateCallbackRequest {
            ivr_call_id: "ok".into(),
            phone_number: "031-123-4567".into(),
            caller_number: "anonymous".into(),
            ivr_route_code: "main".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(pushed.callback.unwrap().caller_number, "");
    mesh.stop().await;
}

#[tokio::test]
async fn only_admins_manage_routes_and_only_the_ivr_pushes() {
    let mesh = Mesh::start().await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let agent = mesh.phone_agent("kim", &[]).await;

    let denied = mesh
        .routes()
        .await
        .update_ivr_route(bearer(
            UpdateIvrRouteRequest::default(),
            &mesh.token(&agent),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    // A phone agent may read the routes (to label lists).
    let listed = mesh
        .routes()
        .await
        .list_ivr_routes(bearer(ListIvrRoutesRequest::default(), &mesh.token(&agent)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_size, 1);
    assert_eq!(listed.ivr_routes[0].display_name, "main 상담 콜백");

    let pushed_by_agent = mesh
        .callbacks()
        .await
        .create_callback(bearer(
            CreateCallbackRequest {
                ivr_call_id: "x".into(),
                phone_number: "010-1234-5678".into(),
                ivr_route_code: "main".into(),
                ..Default::default()
            },
            &mesh.token(&agent),
        ))
        .await
        .unwrap_err();
    assert_eq!(pushed_by_agent.code(), Code::PermissionDenied);

    // A second route with a taken code is refused by field.
    let taken = mesh
        .routes()
        .await
        .create_ivr_route(bearer(
            switchboard_proto::callback::v1::CreateIvrRouteRequest {
                ivr_route: Some(IvrRoute {
                    code: "main".into(),
                    display_name: "다른 경로".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    assert!(taken.message().contains("ivr_route.code"));
    mesh.stop().await;
}
