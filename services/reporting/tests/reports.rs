//! The reports' rules at their edges: local midnight against UTC midnight, out-of-order
//! delivery, the model's freshness and lag metric, the export, who may read, bad input, and an
//! event that cannot be applied.

use std::time::Duration;

use crate::common::{
    Mesh, bearer,
    scenario::{Agent, Life},
};
use chrono::{TimeZone, Utc};
use lapin::options::QueueDeclareOptions;
use switchboard_platform::{
    error::violated_fields, events::amqp, grpc::MeshInterceptor, metrics::Metrics, testing,
};
use switchboard_proto::{
    callback::v1::IvrRoute,
    common::v1::{LocalDate, Principal, PrincipalKind},
    events::{
        Event,
        v1::{EventEnvelope, IvrRouteChanged},
    },
    gateway::v1::AgentRole,
    reporting::v1::{
        AssigneeFilter, ExportCallbackProcessingStatusRequest, GetCallbackProcessingStatusRequest,
        GetReadModelStatusRequest, ListUnfinishedCallbacksPerAgentRequest, ReportGranularity,
        ReportPeriod, assignee_filter::Assignee, reporting_service_client::ReportingServiceClient,
    },
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;
use uuid::Uuid;

const ROUTE: &str = "0193a000-0000-7000-8000-00000000a001";

fn day(year: i32, month: i32, day: i32) -> Option<LocalDate> {
    Some(LocalDate { year, month, day })
}

fn status_request(
    start: Option<LocalDate>,
    end: Option<LocalDate>,
    granularity: ReportGranularity,
) -> GetCallbackProcessingStatusRequest {
    GetCallbackProcessingStatusRequest {
        period: Some(ReportPeriod {
            start_date: start,
            end_date: end,
        }),
        granularity: granularity as i32,
        ..Default::default()
    }
}

fn seoul(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> chrono::DateTime<Utc> {
    chrono_tz::Asia::Seoul
        .with_ymd_and_hms(y, m, d, h, min, s)
        .unwrap()
        .with_timezone(&Utc)
}

fn route_changed() -> EventEnvelope {
    let route = IvrRoute {
        id: ROUTE.into(),
        code: "sales".into(),
        display_name: "판매 상담".into(),
        ..Default::default()
    };
    EventEnvelope {
        event_id: Uuid::new_v4().to_string(),
        event_type: IvrRouteChanged::EVENT_TYPE.into(),
        occur_time: Some(switchboard_platform::time::timestamp(seoul(
            2025, 1, 1, 9, 0, 0,
        ))),
        aggregate_type: IvrRouteChanged::AGGREGATE_TYPE.into(),
        aggregate_id: ROUTE.into(),
        aggregate_version: 1,
        payload: Some(
            prost_types::Any::from_msg(&IvrRouteChanged {
                ivr_route: Some(route),
            })
            .unwrap(),
        ),
        ..Default::default()
    }
}

/// The boundary callbacks: 23:59:59 on 31 January and 00:00:00 on 1 February (Seoul), and
/// either side of UTC midnight (08:59:59 and 09:00:00 on 1 February, Seoul), plus one left
/// registered and one cancelled. Returns their events newest first (completions before
/// assignments).
fn boundary_events() -> Vec<EventEnvelope> {
    let kim = Agent::new("kim", "0191d3b4-aaaa-7000-8000-00000000000a");
    let lee = Agent::new("lee", "0191d3b4-bbbb-7000-8000-00000000000b");
    let life = |n: u128, time| Life::register(Uuid::from_u128(n), ROUTE, time);
    let mut before_midnight = life(1, seoul(2025, 1, 31, 23, 59, 59));
    before_midnight.assign(&kim);
    before_midnight.complete();
    let mut at_midnight = life(2, seoul(2025, 2, 1, 0, 0, 0));
    at_midnight.assign(&kim);
    let mut before_utc_midnight = life(3, seoul(2025, 2, 1, 8, 59, 59));
    before_utc_midnight.assign(&lee);
    before_utc_midnight.complete();
    let mut at_utc_midnight = life(4, seoul(2025, 2, 1, 9, 0, 0));
    at_utc_midnight.assign(&lee);
    let registered = life(5, seoul(2025, 2, 1, 12, 0, 0));
    let mut cancelled = life(6, seoul(2025, 2, 1, 13, 0, 0));
    cancelled.assign(&kim);
    cancelled.cancel();
    let mut events: Vec<_> = [
        before_midnight,
        at_midnight,
        before_utc_midnight,
        at_utc_midnight,
        registered,
        cancelled,
    ]
    .into_iter()
    .flat_map(|life| life.events)
    .collect();
    events.reverse();
    events.push(route_changed());
    events
}

/// `(assigned, completed, unprocessed, rate)` of each bucket.
fn figures(
    response: &switchboard_proto::reporting::v1::GetCallbackProcessingStatusResponse,
) -> Vec<(i64, i64, i64, Option<f64>)> {
    response
        .buckets
        .iter()
        .map(|b| {
            (
                b.assigned_count,
                b.completed_count,
                b.unprocessed_count,
                b.processing_rate,
            )
        })
        .collect()
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_midnight_splits_days_utc_midnight_does_not_and_order_does_not_matter() {
    let mesh = Mesh::start(1).await;
    let events = boundary_events();
    let distinct = events.len() as i64;
    mesh.publish(&events).await;
    mesh.wait_applied(distinct, Duration::from_secs(30)).await;

    let daily = mesh
        .report(status_request(
            day(2025, 1, 31),
            day(2025, 2, 1),
            ReportGranularity::Day,
        ))
        .await;
    assert_eq!(
        figures(&daily),
        [(1, 1, 0, Some(1.0)), (3, 1, 2, Some(1.0 / 3.0))],
        "23:59:59 and 00:00:00 are different days; 08:59:59 and 09:00:00 (UTC midnight) are not"
    );
    assert_eq!(daily.total.as_ref().unwrap().assigned_count, 4);
    let newest = events.iter().map(|e| e.occur_time.unwrap().seconds).max();
    assert_eq!(daily.data_as_of_time.map(|t| t.seconds), newest);

    let monthly = mesh
        .report(status_request(
            day(2024, 12, 15),
            day(2025, 2, 1),
            ReportGranularity::Month,
        ))
        .await;
    assert_eq!(
        figures(&monthly),
        [
            (0, 0, 0, None),
            (1, 1, 0, Some(1.0)),
            (3, 1, 2, Some(1.0 / 3.0))
        ]
    );
    assert_eq!(
        monthly.buckets[0].start_date,
        day(2024, 12, 15),
        "clipped to the period"
    );
    assert_eq!(monthly.buckets[2].end_date, day(2025, 2, 1));

    let by_group = mesh
        .report(GetCallbackProcessingStatusRequest {
            assignee: Some(AssigneeFilter {
                assignee: Some(Assignee::GroupId(
                    "0191d3b4-bbbb-7000-8000-00000000000b".into(),
                )),
            }),
            ..status_request(day(2025, 1, 31), day(2025, 2, 1), ReportGranularity::Day)
        })
        .await;
    assert_eq!(figures(&by_group), [(0, 0, 0, None), (2, 1, 1, Some(0.5))]);

    // Freshness: in the call and as a metric.
    let status = mesh.model_status().await;
    assert_eq!(status.applied_event_count, distinct);
    assert_eq!(status.newest_event_time.map(|t| t.seconds), newest);
    assert!(
        status.age.unwrap().seconds > 0,
        "the events happened in 2025"
    );
    assert!(status.last_apply_time.is_some());
    let metrics = Metrics::default();
    metrics.register(std::sync::Arc::new(mesh.lag.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = listener.local_addr().unwrap();
    let (stop_metrics, shutdown) = switchboard_platform::Shutdown::new();
    tokio::spawn(metrics.serve(listener, shutdown));
    let scraped = http_get(metrics_addr, "/metrics").await;
    assert!(scraped.starts_with("HTTP/1.1 200"), "{scraped}");
    assert!(
        scraped.contains("# TYPE switchboard_read_model_age_seconds gauge"),
        "{scraped}"
    );
    let age_line = scraped
        .lines()
        .find(|l| l.starts_with("switchboard_read_model_age_seconds{model=\"callbacks\"}"))
        .expect("the age is exported");
    let age: f64 = age_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        (age - status.age.unwrap().seconds as f64).abs() < 60.0,
        "{age_line}"
    );
    assert!(scraped.contains(&format!(
        "switchboard_read_model_applied_events{{model=\"callbacks\"}} {distinct}"
    )));
    stop_metrics.trigger();

    // The export: filters, a row per bucket, the total, the rate as a percentage.
    let mut stream = mesh
        .reports()
        .await
        .export_callback_processing_status(bearer(
            ExportCallbackProcessingStatusRequest {
                period: Some(ReportPeriod {
                    start_date: day(2025, 1, 31),
                    end_date: day(2025, 2, 1),
                }),
                ivr_route_ids: vec![ROUTE.into()],
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.file_name, "callback-status-20250131-20250201.xlsx");
    assert_eq!(first.content_type, switchboard_xlsx::CONTENT_TYPE);
    let mut file = first.data;
    while let Some(chunk) = stream.message().await.unwrap() {
        assert!(chunk.file_name.is_empty());
        file.extend(chunk.data);
    }
    let entries = switchboard_xlsx::read_entries(&file).expect("a valid workbook");
    let sheet = String::from_utf8(entries.last().unwrap().1.clone()).unwrap();
    for text in [
        "콜백 처리현황",
        "2025-01-31 ~ 2025-02-01",
        "판매 상담 (sales)",
        "처리율",
        "2025-02-01",
        "합계",
        "Asia/Seoul",
    ] {
        assert!(sheet.contains(text), "the sheet shows {text}: {sheet}");
    }
    assert!(
        sheet.contains(r#" s="2"><v>0.3333333333333333</v>"#),
        "{sheet}"
    );
    assert!(sheet.contains("<v>4</v>"), "the total's assigned count");
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_and_the_reporting_scope_read_and_bad_input_names_its_field() {
    let mesh = Mesh::start(1).await;
    let kim = mesh
        .gateway
        .create_agent("kim", AgentRole::Agent, &["phone"], &[])
        .await
        .login;
    let (_, reader_key) = mesh.gateway.create_api_key("bi", &["reporting:read"]).await;
    let (_, crm_key) = mesh
        .gateway
        .create_api_key("crm", &["callbacks:read"])
        .await;
    let mut reports = mesh.reports().await;
    let good = || status_request(day(2025, 1, 1), day(2025, 1, 31), ReportGranularity::Day);

    for credential in [mesh.gateway.token(&kim), crm_key.clone()] {
        let denied = reports
            .get_callback_processing_status(bearer(good(), &credential))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
        let denied = reports
            .list_unfinished_callbacks_per_agent(bearer(Default::default(), &credential))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
        let denied = reports
            .get_read_model_status(bearer(Default::default(), &credential))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
    let read = reports
        .get_callback_processing_status(bearer(good(), &reader_key))
        .await
        .expect("the reporting:read key reads reports")
        .into_inner();
    assert_eq!(read.buckets.len(), 31);
    assert!(
        read.buckets
            .iter()
            .all(|b| b.assigned_count == 0 && b.processing_rate.is_none())
    );
    assert_eq!(read.data_as_of_time, None, "no event applied yet");

    // The service decides on its own, whatever reaches it past the gateway: an agent and a
    // service without the scope are refused by every method.
    let agent = Principal {
        subject: "kim".into(),
        kind: PrincipalKind::Agent as i32,
        permissions: vec!["phone".into()],
        ..Default::default()
    };
    let crm = Principal {
        subject: "crm".into(),
        kind: PrincipalKind::Service as i32,
        scopes: vec!["callbacks:read".into()],
        ..Default::default()
    };
    for principal in [agent, crm] {
        let mut direct = ReportingServiceClient::with_interceptor(
            testing::connect(mesh.reporting_addr).await,
            MeshInterceptor::with_principal(
                testing::principal_key(),
                principal,
                Duration::from_secs(60),
            ),
        );
        let codes = [
            direct.get_callback_processing_status(good()).await.err(),
            direct
                .export_callback_processing_status(ExportCallbackProcessingStatusRequest::default())
                .await
                .err(),
            direct
                .list_unfinished_callbacks_per_agent(
                    ListUnfinishedCallbacksPerAgentRequest::default(),
                )
                .await
                .err(),
            direct
                .get_read_model_status(GetReadModelStatusRequest::default())
                .await
                .err(),
        ]
        .map(|status| status.map(|s| s.code()));
        assert_eq!(codes, [Some(Code::PermissionDenied); 4]);
    }

    let admin = mesh.admin();
    let bad_filters = GetCallbackProcessingStatusRequest {
        ivr_route_ids: vec![ROUTE.into(), "sales".into()],
        assignee: Some(AssigneeFilter {
            assignee: Some(Assignee::AgentLogin(String::new())),
        }),
        ..good()
    };
    let cases: [(GetCallbackProcessingStatusRequest, &[&str]); 5] = [
        (Default::default(), &["period"]),
        (
            status_request(day(2025, 2, 1), day(2025, 1, 1), ReportGranularity::Day),
            &["period.end_date"],
        ),
        (
            status_request(day(2025, 2, 29), None, ReportGranularity::Day),
            &["period.end_date", "period.start_date"],
        ),
        (
            status_request(day(2020, 1, 1), day(2025, 1, 1), ReportGranularity::Day),
            &["period"],
        ),
        (bad_filters, &["ivr_route_ids[1]", "assignee.agent_login"]),
    ];
    for (request, fields) in cases {
        let status = reports
            .get_callback_processing_status(bearer(request, &admin))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(violated_fields(&status), fields);
    }
    let status = reports
        .list_unfinished_callbacks_per_agent(bearer(
            ListUnfinishedCallbacksPerAgentRequest {
                page_size: -1,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["page_size"]);
    let status = reports
        .get_read_model_status(bearer(
            GetReadModelStatusRequest {
                name: "parcels".into(),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let all = reports
        .get_read_model_status(bearer(GetReadModelStatusRequest::default(), &admin))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = all.read_models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["callbacks", "tickets"]);
    assert_eq!(all.read_models[0].name, "callbacks");
    assert_eq!(all.read_models[0].age, None);
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_cannot_be_applied_is_dead_lettered_without_holding_up_the_rest() {
    let mesh = Mesh::start(1).await;
    let mut broken = boundary_events().remove(0);
    broken.event_id = Uuid::new_v4().to_string();
    broken.payload = Some(prost_types::Any {
        type_url: "type.googleapis.com/switchboard.events.v1.CallbackCompleted".into(),
        value: vec![0xff, 0xff, 0xff],
    });
    let mut good = Life::register(Uuid::from_u128(9), ROUTE, seoul(2025, 3, 1, 10, 0, 0));
    good.assign(&Agent::new("kim", "0191d3b4-aaaa-7000-8000-00000000000a"));
    let mut events = vec![broken];
    events.extend(good.events);
    mesh.publish(&events).await;
    mesh.wait_applied(2, Duration::from_secs(30)).await;

    let connection = amqp::connect(&mesh.gateway.amqp, "test-inspector")
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let dead_letters = amqp::dead_letter_queue(switchboard_reporting::CALLBACK_QUEUE);
    let dead_lettered = testing::eventually(Duration::from_secs(30), || async {
        channel
            .queue_declare(
                dead_letters.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .map(|queue| queue.message_count() == 1)
            .unwrap_or(false)
    })
    .await;
    assert!(dead_lettered, "the broken event waits in {dead_letters}");
    let failures = mesh.stats[0]
        .failures
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        failures >= 1,
        "the broken event was tried before it was set aside"
    );
    let report = mesh
        .report(status_request(
            day(2025, 3, 1),
            day(2025, 3, 1),
            ReportGranularity::Day,
        ))
        .await;
    assert_eq!(report.buckets[0].unprocessed_count, 1);
    let status = mesh.model_status().await;
    assert_eq!(
        status.applied_event_count, 2,
        "nothing of the broken event was kept"
    );
    let _ = connection.close(200, "done".into()).await;
    mesh.stop().await;
}
