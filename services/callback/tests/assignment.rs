//! Assignment through the gateway: the summary, candidates following CTI presence, even
//! assignment balanced from the agents' loads, two admins at once, unfinished counts, export.

use std::sync::Arc;

use crate::common::{Mesh, bearer};
use switchboard_proto::callback::v1::{
    AssignEvenlyRequest, AssignManuallyRequest, CallbackFilter, CallbackState,
    ExportCallbacksRequest, GetAssignmentSummaryRequest, ListCandidateAgentsRequest,
    ListUnfinishedCountsRequest, RepeatRequestPolicy,
};
use switchboard_proto::gateway::v1::{
    AgentRole, LoginRequest, LogoutRequest, presence_service_client::PresenceServiceClient,
};
use tonic::Code;

#[tokio::test]
async fn even_assignment_balances_from_current_loads() {
    let mesh = Mesh::start().await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let team = mesh.gateway.create_group("1팀").await.id;
    let (a, b, c) = (
        mesh.phone_agent("a", std::slice::from_ref(&team)).await,
        mesh.phone_agent("b", std::slice::from_ref(&team)).await,
        mesh.phone_agent("c", &[]).await,
    );
    let ids = mesh.push_many(12, "main").await;
    let mut client = mesh.callbacks().await;
    let admin = mesh.admin();
    // a starts with 4 unfinished.
    client
        .assign_manually(bearer(
            AssignManuallyRequest {
                callback_ids: ids[..4].to_vec(),
                agent_login: a.clone(),
                group_id: String::new(),
                filter: None,
            },
            &admin,
        ))
        .await
        .unwrap();

    let summary = client
        .get_assignment_summary(bearer(GetAssignmentSummaryRequest::default(), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            summary.total_count,
            summary.assigned_count,
            summary.unassigned_count
        ),
        (12, 4, 8)
    );

    // 8 more among a, b, c, plus one already assigned and one unknown id.
    let unknown = uuid::Uuid::new_v4().to_string();
    let mut selected = ids[4..].to_vec();
    selected.push(ids[0].clone());
    selected.push(unknown.clone());
    let even = client
        .assign_evenly(bearer(
            AssignEvenlyRequest {
                callback_ids: selected,
                agent_logins: vec![a.clone(), b.clone(), c.clone()],
                group_id: String::new(),
                filter: None,
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(even.results.len(), 10);
    assert!(even.results[..8].iter().all(|r| r.ok));
    assert_eq!(even.results[8].reason, "STATE_CHANGED");
    assert_eq!(even.results[9].reason, "NOT_FOUND");
    let counts: Vec<(String, i64)> = even
        .agent_counts
        .iter()
        .map(|c| (c.agent_login.clone(), c.unfinished_count))
        .collect();
    // 4 + 0 + 0 with 8 more: b and c catch up to 4 first, then one each in selection order.
    assert_eq!(
        counts,
        [(a.clone(), 4), (b.clone(), 4), (c.clone(), 4)].map(|(l, n)| (l, n))
    );
    assert_eq!(even.assignments.len(), 8);
    // The oldest callback goes first, to the least loaded agent selected first: b.
    assert_eq!(even.assignments[0].agent_login, b);
    assert_eq!(even.assignments[0].group_id, team);

    // An agent outside the group named is refused by field; so is one without the phone
    // permission, and an unknown one.
    let plain = mesh
        .gateway
        .create_agent("plain", AgentRole::Agent, &[], &[])
        .await
        .login;
    for (logins, group, code, field) in [
        (
            vec![a.clone(), c.clone()],
            team.clone(),
            Code::FailedPrecondition,
            "group_id",
        ),
        (
            vec![plain.clone()],
            String::new(),
            Code::FailedPrecondition,
            "agent_logins[0]",
        ),
        (
            vec![a.clone(), "nobody".into()],
            String::new(),
            Code::NotFound,
            "agent_logins[1]",
        ),
    ] {
        let refused = client
            .assign_evenly(bearer(
                AssignEvenlyRequest {
                    callback_ids: vec![ids[0].clone()],
                    agent_logins: logins,
                    group_id: group,
                    filter: None,
                },
                &admin,
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), code, "{refused:?}");
        assert!(refused.message().starts_with(field), "{refused:?}");
    }

    let unfinished = client
        .list_unfinished_counts(bearer(ListUnfinishedCountsRequest::default(), &admin))
        .await
        .unwrap()
        .into_inner();
    let listed: Vec<(String, i64)> = unfinished
        .agents
        .iter()
        .map(|a| (a.agent_login.clone(), a.unfinished_count))
        .collect();
    assert_eq!(listed, [(a, 4), (b, 4), (c, 4)]);
    mesh.stop().await;
}

#[tokio::test]
async fn two_admins_assigning_at_once_never_make_two_assignees() {
    let mesh = Arc::new(Mesh::start().await);
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let kim = mesh.phone_agent("kim", &[]).await;
    let lee = mesh.phone_agent("lee", &[]).await;
    mesh.gateway
        .create_agent("admin2", AgentRole::Admin, &[], &[])
        .await;
    let ids = mesh.push_many(40, "main").await;
    let race = [
        (mesh.admin(), kim.clone()),
        (mesh.token("admin2"), lee.clone()),
    ]
    .map(|(token, agent)| {
        let mesh = mesh.clone();
        let ids = ids.clone();
        tokio::spawn(async move {
            mesh.callbacks()
                .await
                .assign_manually(bearer(
                    AssignManuallyRequest {
                        callback_ids: ids,
                        agent_login: agent,
                        group_id: String::new(),
                        filter: None,
                    },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner()
        })
    });
    let mut succeeded = 0;
    for handle in race {
        let response = handle.await.unwrap();
        succeeded += response.results.iter().filter(|r| r.ok).count();
        for failed in response.results.iter().filter(|r| !r.ok) {
            assert_eq!(failed.reason, "STATE_CHANGED");
        }
    }
    assert_eq!(succeeded, 40, "each callback assigned exactly once");
    // Each callback went from version 1 (registered) to 2 (assigned) once: one history entry.
    let (assigned, entries): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM callbacks WHERE state = $1 AND version = 2),
                (SELECT count(*) FROM callback_history)",
    )
    .bind(CallbackState::Unprocessed as i16)
    .fetch_one(&mesh.pool)
    .await
    .unwrap();
    assert_eq!((assigned, entries), (40, 80));
    Arc::into_inner(mesh).unwrap().stop().await;
}

#[tokio::test]
async fn candidates_follow_cti_presence() {
    let mesh = Mesh::start().await;
    let team = mesh.gateway.create_group("2팀").await.id;
    let kim = mesh.phone_agent("kim", std::slice::from_ref(&team)).await;
    let lee = mesh.phone_agent("lee", std::slice::from_ref(&team)).await;
    mesh.gateway
        .create_agent(
            "nophone",
            AgentRole::Agent,
            &[],
            std::slice::from_ref(&team),
        )
        .await;
    let mut client = mesh.callbacks().await;
    let admin = mesh.admin();
    let candidates = |cti_only: bool| {
        let mut client = client.clone();
        let (admin, team) = (admin.clone(), team.clone());
        async move {
            client
                .list_candidate_agents(bearer(
                    ListCandidateAgentsRequest {
                        group_id: team,
                        cti_logged_in_only: cti_only,
                        ..Default::default()
                    },
                    &admin,
                ))
                .await
                .unwrap()
                .into_inner()
                .agents
                .into_iter()
                .map(|a| (a.agent_login, a.cti_logged_in))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        candidates(false).await,
        [(kim.clone(), false), (lee.clone(), false)]
    );
    assert!(candidates(true).await.is_empty());

    let mut presence = PresenceServiceClient::new(mesh.gateway.channel().await);
    presence
        .login(bearer(
            LoginRequest {
                agent_login: lee.clone(),
                extension: "2001".into(),
                ..Default::default()
            },
            &mesh.token(&lee),
        ))
        .await
        .unwrap();
    assert_eq!(candidates(true).await, [(lee.clone(), true)]);
    presence
        .logout(bearer(
            LogoutRequest {
                agent_login: lee.clone(),
            },
            &mesh.token(&lee),
        ))
        .await
        .unwrap();
    assert!(candidates(true).await.is_empty());

    let denied = client
        .list_candidate_agents(bearer(
            ListCandidateAgentsRequest::default(),
            &mesh.token(&kim),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    mesh.stop().await;
}

#[tokio::test]
async fn the_export_is_a_workbook_in_korean_and_local_time() {
    let mesh = Mesh::start().await;
    mesh.route("main", RepeatRequestPolicy::Attach).await;
    let team = mesh.gateway.create_group("상담 1팀").await.id;
    let kim = mesh.phone_agent("kim", std::slice::from_ref(&team)).await;
    let request_time = chrono::DateTime::parse_from_rfc3339("2025-03-01T15:30:00Z").unwrap();
    let pushed = mesh
        .push_request(switchboard_proto::callback::v1::CreateCallbackRequest {
            ivr_call_id: "seoul".into(),
            phone_number: "010-1234-5678".into(),
            ivr_route_code: "main".into(),
            memo: "주문 문의 <급함> & 재전화".into(),
            request_time: Some(prost_types::Timestamp {
                seconds: request_time.timestamp(),
                nanos: 0,
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let id = pushed.callback.unwrap().id;
    mesh.push_many(30, "main").await;
    let mut client = mesh.callbacks().await;
    client
        .assign_manually(bearer(
            AssignManuallyRequest {
                callback_ids: vec![id.clone()],
                agent_login: kim,
                group_id: String::new(),
                filter: None,
            },
            &mesh.admin(),
        ))
        .await
        .unwrap();
    let mut stream = client
        .export_callbacks(bearer(
            ExportCallbacksRequest {
                filter: Some(CallbackFilter {
                    start_date: Some(switchboard_proto::common::v1::LocalDate {
                        year: 2025,
                        month: 3,
                        day: 2,
                    }),
                    end_date: Some(switchboard_proto::common::v1::LocalDate {
                        year: 2025,
                        month: 3,
                        day: 2,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.file_name, "callbacks-20250302-20250302.xlsx");
    assert_eq!(
        first.content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let mut file = first.data;
    while let Some(chunk) = stream.message().await.unwrap() {
        assert!(chunk.file_name.is_empty());
        file.extend(chunk.data);
    }
    let entries = switchboard_xlsx::read_entries(&file).unwrap();
    let sheet = String::from_utf8(entries.last().unwrap().1.clone()).unwrap();
    // 15:30 UTC on March 1st is 00:30 on March 2nd in Seoul: in the period, shown locally.
    assert!(sheet.contains(">2025-03-02 00:30:00<"), "{sheet}");
    assert!(sheet.contains(">요청일시<") && sheet.contains(">미처리<"));
    assert!(sheet.contains(">상담 1팀<"), "group names, not ids");
    assert!(sheet.contains("주문 문의 &lt;급함&gt; &amp; 재전화"));
    assert!(sheet.contains(">01012345678<"));
    assert_eq!(
        sheet.matches("<row ").count(),
        2,
        "the header and the one callback"
    );

    // Beyond the configured limit the export is refused before any data.
    mesh.stop().await;
    let small = Mesh::start_with(|s| s.export_max_rows = 2).await;
    small.route("main", RepeatRequestPolicy::Attach).await;
    small.push_many(3, "main").await;
    let refused = small
        .callbacks()
        .await
        .export_callbacks(bearer(ExportCallbacksRequest::default(), &small.admin()))
        .await
        .expect_err("over the limit");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    small.stop().await;
}
