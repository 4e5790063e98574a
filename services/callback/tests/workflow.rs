//! A callback's life through the gateway: assigned, listed, connected, its outcome recorded,
//! completed; the row-level rules for agents; every state change in the history and on the bus.

use crate::common::{EventTap, Mesh, bearer};
use switchboard_proto::callback::v1::{
    AssignManuallyRequest, AttemptOutcome, CallbackFilter, CallbackHistoryKind, CallbackOrder,
    CallbackState, CancelAssignmentRequest, CompleteCallbackRequest, ConnectCallbackRequest,
    ExportCallbacksRequest, GetCallbackRequest, ListCallbacksRequest, PhoneMatch,
    RecordAttemptOutcomeRequest, RepeatRequestPolicy,
};
use switchboard_proto::events::{
    Event,
    v1::{
        CallbackAssigned, CallbackAssignmentCancelled, CallbackAttemptRecorded, CallbackCompleted,
        CallbackConnectRequested, CallbackRegistered,
    },
};
use switchboard_proto::gateway::v1::AgentRole;
use tonic::Code;

#[tokio::test]
async fn a_callback_from_push_to_completion() {
    let mesh = Mesh::start().await;
    let tap = EventTap::start(&mesh.gateway, &[CallbackRegistered::FAMILY_BINDING]).await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let kim = mesh.phone_agent("kim", &[]).await;
    let ids = mesh.push_many(1, "main").await;
    let id = ids[0].clone();
    let mut client = mesh.callbacks().await;
    let kim_token = mesh.token(&kim);

    // Not assigned yet: completing it is refused, naming both states.
    let early = client
        .complete_callback(bearer(
            CompleteCallbackRequest {
                id: id.clone(),
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert_eq!(
        early.message(),
        "callback is REGISTERED, complete needs UNPROCESSED"
    );

    mesh.assign(&ids, &kim).await;
    let connected = client
        .connect_callback(bearer(
            ConnectCallbackRequest {
                id: id.clone(),
                request_id: uuid::Uuid::new_v4().to_string(),
            },
            &kim_token,
        ))
        .await
        .unwrap()
        .into_inner();
    let attempt = connected.attempt.unwrap();
    assert_eq!(attempt.attempt_number, 1);
    assert_eq!(connected.callback.unwrap().attempt_count, 1);

    let recorded = client
        .record_attempt_outcome(bearer(
            RecordAttemptOutcomeRequest {
                callback_id: id.clone(),
                attempt_id: attempt.attempt_id.clone(),
                outcome: AttemptOutcome::NoAnswer as i32,
                talk_duration: None,
            },
            &kim_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        recorded.attempt.unwrap().outcome(),
        AttemptOutcome::NoAnswer
    );
    // Another outcome for the same attempt is refused, naming both.
    let other = client
        .record_attempt_outcome(bearer(
            RecordAttemptOutcomeRequest {
                callback_id: id.clone(),
                attempt_id: attempt.attempt_id.clone(),
                outcome: AttemptOutcome::Answered as i32,
                talk_duration: None,
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::FailedPrecondition);
    assert!(other.message().contains("NO_ANSWER") && other.message().contains("ANSWERED"));

    let request_id = uuid::Uuid::new_v4().to_string();
    let complete = CompleteCallbackRequest {
        id: id.clone(),
        note: "고객과 통화 완료".into(),
        request_id: request_id.clone(),
    };
    let completed = client
        .complete_callback(bearer(complete.clone(), &kim_token))
        .await
        .unwrap()
        .into_inner()
        .callback
        .unwrap();
    assert_eq!(completed.state(), CallbackState::Completed);
    assert_eq!(completed.completed_by.unwrap().subject, "kim");
    // A retry with the request id gets the first answer; without it, the state refuses.
    let retried = client
        .complete_callback(bearer(complete, &kim_token))
        .await
        .unwrap()
        .into_inner()
        .callback
        .unwrap();
    assert_eq!(retried.version, completed.version);
    let again = client
        .complete_callback(bearer(
            CompleteCallbackRequest {
                id: id.clone(),
                ..Default::default()
            },
            &kim_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        again.message(),
        "callback is COMPLETED, complete needs UNPROCESSED"
    );

    let got = client
        .get_callback(bearer(GetCallbackRequest { id: id.clone() }, &kim_token))
        .await
        .unwrap()
        .into_inner();
    let kinds: Vec<CallbackHistoryKind> = got.history.iter().map(|h| h.kind()).collect();
    assert_eq!(
        kinds,
        [
            CallbackHistoryKind::Registered,
            CallbackHistoryKind::Assigned,
            CallbackHistoryKind::ConnectRequested,
            CallbackHistoryKind::AttemptRecorded,
            CallbackHistoryKind::Completed
        ]
    );
    let versions: Vec<i64> = got.history.iter().map(|h| h.version).collect();
    assert_eq!(versions, [1, 2, 3, 4, 5]);
    let assigned = &got.history[1];
    assert_eq!(assigned.state_before(), CallbackState::Registered);
    assert_eq!(assigned.state_after(), CallbackState::Unprocessed);
    assert_eq!(assigned.assignee_after.as_ref().unwrap().agent_login, "kim");
    assert_eq!(assigned.actor.as_ref().unwrap().subject, "admin");
    assert_eq!(got.attempts.len(), 1);

    // Every change reached RabbitMQ, with the callback's versions.
    for (event_type, version) in [
        (CallbackRegistered::EVENT_TYPE, 1),
        (CallbackAssigned::EVENT_TYPE, 2),
        (CallbackConnectRequested::EVENT_TYPE, 3),
        (CallbackAttemptRecorded::EVENT_TYPE, 4),
        (CallbackCompleted::EVENT_TYPE, 5),
    ] {
        let event = tap
            .wait_for(event_type, |e| {
                e.event_type == event_type && e.aggregate_id == id
            })
            .await;
        assert_eq!(event.aggregate_version, version, "{event_type}");
    }
    mesh.stop().await;
}

#[tokio::test]
async fn agents_see_and_work_only_their_own_callbacks() {
    let mesh = Mesh::start().await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let kim = mesh.phone_agent("kim", &[]).await;
    let lee = mesh.phone_agent("lee", &[]).await;
    let park = mesh
        .gateway
        .create_agent("park", AgentRole::Agent, &[], &[])
        .await
        .login;
    let ids = mesh.push_many(3, "main").await;
    mesh.assign(&ids[..2], &kim).await;
    mesh.assign(&ids[2..], &lee).await;
    let mut client = mesh.callbacks().await;
    let lee_token = mesh.token(&lee);

    // Lee lists only his own, even when asking for kim's.
    let listed = client
        .list_callbacks(bearer(
            ListCallbacksRequest {
                filter: Some(CallbackFilter {
                    assignee_agent_login: kim.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &lee_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_size, 1);
    assert_eq!(listed.callbacks[0].id, ids[2]);

    // Kim's callback, by id: not found, not connectable, not completable for lee; and an id
    // that does not exist looks the same to him.
    let missing = uuid::Uuid::new_v4().to_string();
    for id in [&ids[0], &missing] {
        let get = client
            .get_callback(bearer(GetCallbackRequest { id: id.clone() }, &lee_token))
            .await
            .unwrap_err();
        assert_eq!(get.code(), Code::PermissionDenied, "{get:?}");
        let connect = client
            .connect_callback(bearer(
                ConnectCallbackRequest {
                    id: id.clone(),
                    ..Default::default()
                },
                &lee_token,
            ))
            .await
            .unwrap_err();
        assert_eq!(connect.code(), Code::PermissionDenied);
        let complete = client
            .complete_callback(bearer(
                CompleteCallbackRequest {
                    id: id.clone(),
                    ..Default::default()
                },
                &lee_token,
            ))
            .await
            .unwrap_err();
        assert_eq!(complete.code(), Code::PermissionDenied);
    }
    // Lee's export holds his one callback only.
    let mut stream = client
        .export_callbacks(bearer(
            ExportCallbacksRequest {
                filter: Some(CallbackFilter {
                    assignee_agent_login: kim.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &lee_token,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut file = Vec::new();
    while let Some(chunk) = stream.message().await.unwrap() {
        file.extend(chunk.data);
    }
    let sheet = sheet_xml(&file);
    assert!(sheet.contains(&ids[2]) && !sheet.contains(&ids[0]) && !sheet.contains(&ids[1]));

    // Without the phone permission: nothing at all.
    let park_token = mesh.token(&park);
    let denied = client
        .list_callbacks(bearer(ListCallbacksRequest::default(), &park_token))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = client
        .get_callback(bearer(
            GetCallbackRequest { id: ids[0].clone() },
            &park_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    // Agents cannot assign or cancel.
    let denied = client
        .assign_manually(bearer(
            AssignManuallyRequest {
                callback_ids: vec![ids[0].clone()],
                agent_login: lee.clone(),
                group_id: String::new(),
                filter: None,
            },
            &lee_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = client
        .cancel_assignment(bearer(
            CancelAssignmentRequest {
                callback_ids: vec![ids[0].clone()],
                reason: String::new(),
                filter: None,
            },
            &lee_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    mesh.stop().await;
}

/// The worksheet's XML of an exported workbook.
pub fn sheet_xml(file: &[u8]) -> String {
    let entries = switchboard_xlsx::read_entries(file).expect("a valid zip");
    let (_, sheet) = entries
        .into_iter()
        .find(|(name, _)| name == "xl/worksheets/sheet1.xml")
        .expect("a worksheet");
    String::from_utf8(sheet).unwrap()
}

#[tokio::test]
async fn search_filters_paging_and_cancelled_callbacks_reassigned() {
    let mesh = Mesh::start().await;
    let tap = EventTap::start(&mesh.gateway, &[CallbackAssignmentCancelled::EVENT_TYPE]).await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let other = mesh.route("other", RepeatRequestPolicy::Attach).await;
    let kim = mesh.phone_agent("kim", &[]).await;
    let ids = mesh.push_many(7, "main").await;
    let elsewhere = mesh.push("x-1", "070-4321-9876", "other").await.unwrap();
    mesh.assign(&ids[..3], &kim).await;
    let mut client = mesh.callbacks().await;
    let admin = mesh.admin();

    // Pages of 3, oldest first, cover the 8 callbacks once, each page with the total.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_callbacks(bearer(
                ListCallbacksRequest {
                    order: CallbackOrder::RequestTimeAsc as i32,
                    page_size: 3,
                    page_token: token.clone(),
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.total_size, 8);
        seen.extend(page.callbacks.into_iter().map(|c| c.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let mut expected = ids.clone();
    expected.push(elsewhere.callback.unwrap().id);
    assert_eq!(seen, expected);

    let count = |filter: CallbackFilter| {
        let mut client = client.clone();
        let admin = admin.clone();
        async move {
            client
                .list_callbacks(bearer(
                    ListCallbacksRequest {
                        filter: Some(filter),
                        ..Default::default()
                    },
                    &admin,
                ))
                .await
                .unwrap()
                .into_inner()
                .total_size
        }
    };
    let states = |states: &[CallbackState]| CallbackFilter {
        states: states.iter().map(|s| *s as i32).collect(),
        ..Default::default()
    };
    assert_eq!(count(states(&[CallbackState::Unprocessed])).await, 3);
    assert_eq!(count(states(&[CallbackState::Registered])).await, 5);
    let route = CallbackFilter {
        ivr_route_ids: vec![other.id.clone()],
        ..Default::default()
    };
    assert_eq!(count(route).await, 1);
    let partial = CallbackFilter {
        phone_number: "4321-98".into(),
        ..Default::default()
    };
    assert_eq!(count(partial).await, 1);
    let exact = CallbackFilter {
        phone_number: "+82 70 4321 9876".into(),
        phone_match: PhoneMatch::Exact as i32,
        ..Default::default()
    };
    assert_eq!(count(exact).await, 1);
    let assignee = CallbackFilter {
        assignee_agent_login: kim.clone(),
        distributor_agent_login: "admin".into(),
        ..Default::default()
    };
    assert_eq!(count(assignee).await, 3);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Seoul)
        .date_naive();
    let day = |d: chrono::NaiveDate| {
        use chrono::Datelike;
        Some(switchboard_proto::common::v1::LocalDate {
            year: d.year(),
            month: d.month() as i32,
            day: d.day() as i32,
        })
    };
    let this_period = CallbackFilter {
        start_date: day(today),
        end_date: day(today),
        ..Default::default()
    };
    assert_eq!(count(this_period).await, 8);
    let tomorrow = today.succ_opt().unwrap();
    let later = CallbackFilter {
        start_date: day(tomorrow),
        ..Default::default()
    };
    assert_eq!(count(later).await, 0);
    // A page token reused with another filter is refused.
    let first = client
        .list_callbacks(bearer(
            ListCallbacksRequest {
                page_size: 1,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let reused = client
        .list_callbacks(bearer(
            ListCallbacksRequest {
                page_size: 1,
                page_token: first.next_page_token,
                filter: Some(states(&[CallbackState::Registered])),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::InvalidArgument);

    // Cancelling clears the assignee; the callback can be assigned again.
    let cancelled = client
        .cancel_assignment(bearer(
            CancelAssignmentRequest {
                callback_ids: vec![ids[0].clone(), ids[5].clone()],
                reason: "담당자 변경".into(),
                filter: None,
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(cancelled.results[0].ok);
    assert!(!cancelled.results[1].ok);
    assert_eq!(cancelled.results[1].reason, "STATE_CHANGED");
    let got = client
        .get_callback(bearer(GetCallbackRequest { id: ids[0].clone() }, &admin))
        .await
        .unwrap()
        .into_inner();
    let callback = got.callback.unwrap();
    assert_eq!(callback.state(), CallbackState::Cancelled);
    assert!(callback.assignee.is_none());
    let last = got.history.last().unwrap();
    assert_eq!(last.assignee_before.as_ref().unwrap().agent_login, "kim");
    assert_eq!(last.note, "담당자 변경");
    let event = tap
        .wait_for(CallbackAssignmentCancelled::EVENT_TYPE, |e| {
            e.aggregate_id == ids[0]
        })
        .await;
    assert_eq!(event.aggregate_version, 3);
    mesh.assign(&ids[..1], &kim).await;
    mesh.stop().await;
}

#[tokio::test]
async fn api_keys_act_by_scope_and_agents_record_only_their_own_attempts() {
    let mesh = Mesh::start().await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let kim = mesh.phone_agent("kim", &[]).await;
    let lee = mesh.phone_agent("lee", &[]).await;
    let ids = mesh.push_many(2, "main").await;
    mesh.assign(&ids, &kim).await;
    let (_, cti) = mesh
        .gateway
        .create_api_key("cti", &["callbacks:attempts"])
        .await;
    let (_, crm) = mesh
        .gateway
        .create_api_key("crm", &["callbacks:read"])
        .await;
    let mut client = mesh.callbacks().await;
    let kim_client = client.clone();
    let started = |id: &str| {
        let (mut client, token, id) = (kim_client.clone(), mesh.token(&kim), id.to_owned());
        async move {
            client
                .connect_callback(bearer(
                    ConnectCallbackRequest {
                        id,
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner()
                .attempt
                .unwrap()
                .attempt_id
        }
    };
    let record = |id: &str, attempt: &str| RecordAttemptOutcomeRequest {
        callback_id: id.to_owned(),
        attempt_id: attempt.to_owned(),
        outcome: AttemptOutcome::Busy as i32,
        talk_duration: None,
    };

    // Lee cannot record kim's attempt; the CTI can.
    let first = started(&ids[0]).await;
    let denied = client
        .record_attempt_outcome(bearer(record(&ids[0], &first), &mesh.token(&lee)))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let recorded = client
        .record_attempt_outcome(bearer(record(&ids[0], &first), &cti))
        .await
        .unwrap()
        .into_inner();
    let attempt = recorded.attempt.unwrap();
    assert_eq!(attempt.outcome(), AttemptOutcome::Busy);
    assert_eq!(attempt.outcome_recorded_by.unwrap().kind, "service");
    // An attempt of another callback is not found under this one.
    let second = started(&ids[1]).await;
    let mismatched = client
        .record_attempt_outcome(bearer(record(&ids[0], &second), &cti))
        .await
        .unwrap_err();
    assert_eq!(mismatched.code(), Code::NotFound);

    // The CRM reads every callback but works none; the CTI and the IVR read nothing.
    let listed = client
        .list_callbacks(bearer(ListCallbacksRequest::default(), &crm))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_size, 2);
    let connect = client
        .connect_callback(bearer(
            ConnectCallbackRequest {
                id: ids[1].clone(),
                ..Default::default()
            },
            &crm,
        ))
        .await
        .unwrap_err();
    assert_eq!(connect.code(), Code::PermissionDenied);
    for key in [&cti, &mesh.ivr_key] {
        let denied = client
            .list_callbacks(bearer(ListCallbacksRequest::default(), key))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
    mesh.stop().await;
}
