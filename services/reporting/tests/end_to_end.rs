//! The callback service's own events, through RabbitMQ, into the report: what an admin does
//! in the callback API shows in the processing status and the unfinished list.

use std::time::Duration;

use crate::common::{Mesh, ZONE, bearer};
use chrono::{Datelike, Utc};
use switchboard_proto::{
    callback::v1::{
        AssignManuallyRequest, CompleteCallbackRequest, CreateCallbackRequest,
        CreateIvrRouteRequest, IvrRoute, ivr_route_service_client::IvrRouteServiceClient,
    },
    common::v1::LocalDate,
    gateway::v1::AgentRole,
    reporting::v1::{
        AssigneeFilter, GetCallbackProcessingStatusRequest, ReportPeriod, assignee_filter::Assignee,
    },
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_callback_service_announces_is_reported() {
    let mesh = Mesh::start_with_callbacks().await;
    let admin = mesh.admin();
    let group = mesh.gateway.create_group("상담 1팀").await;
    let kim = mesh
        .gateway
        .create_agent(
            "kim",
            AgentRole::Agent,
            &["phone"],
            std::slice::from_ref(&group.id),
        )
        .await;
    let (_, ivr_key) = mesh
        .gateway
        .create_api_key("ivr", &["callbacks:create"])
        .await;
    let route = IvrRouteServiceClient::new(mesh.gateway.channel().await)
        .create_ivr_route(bearer(
            CreateIvrRouteRequest {
                ivr_route: Some(IvrRoute {
                    code: "sales".into(),
                    display_name: "판매 상담".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .ivr_route
        .unwrap();
    let mut callbacks = mesh.callbacks().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let pushed = callbacks
            .create_callback(bearer(
                CreateCallbackRequest {
                    ivr_call_id: format!("call-{i}"),
                    phone_number: format!("010-2000-000{i}"),
                    ivr_route_code: "sales".into(),
                    ..Default::default()
                },
                &ivr_key,
            ))
            .await
            .expect("the IVR pushes")
            .into_inner();
        ids.push(pushed.callback.unwrap().id);
    }
    callbacks
        .assign_manually(bearer(
            AssignManuallyRequest {
                callback_ids: ids[..2].to_vec(),
                agent_login: kim.login.clone(),
                group_id: group.id.clone(),
                filter: None,
            },
            &admin,
        ))
        .await
        .expect("the admin assigns two callbacks to kim");
    callbacks
        .complete_callback(bearer(
            CompleteCallbackRequest {
                id: ids[0].clone(),
                note: "통화 완료".into(),
                request_id: String::new(),
            },
            &mesh.gateway.token(&kim.login),
        ))
        .await
        .expect("kim completes one");

    // route changed 1 + registered 3 + assigned 2 + completed 1
    mesh.wait_applied(7, Duration::from_secs(30)).await;
    let today = Utc::now()
        .with_timezone(&ZONE.parse::<chrono_tz::Tz>().unwrap())
        .date_naive();
    let today = LocalDate {
        year: today.year(),
        month: today.month() as i32,
        day: today.day() as i32,
    };
    let report = mesh
        .report(GetCallbackProcessingStatusRequest {
            period: Some(ReportPeriod {
                start_date: Some(today),
                end_date: Some(today),
            }),
            ivr_route_ids: vec![route.id.clone()],
            assignee: Some(AssigneeFilter {
                assignee: Some(Assignee::GroupId(group.id.clone())),
            }),
            ..Default::default()
        })
        .await;
    let bucket = &report.buckets[0];
    assert_eq!(
        (
            bucket.assigned_count,
            bucket.completed_count,
            bucket.unprocessed_count,
            bucket.processing_rate
        ),
        (2, 1, 1, Some(0.5))
    );
    let unfinished = mesh.unfinished("").await;
    assert_eq!(unfinished.agents.len(), 1);
    assert_eq!(unfinished.agents[0].agent_login, "kim");
    assert_eq!(unfinished.agents[0].display_name, kim.display_name);
    assert_eq!(unfinished.agents[0].unfinished_count, 1);
    mesh.stop().await;
}
