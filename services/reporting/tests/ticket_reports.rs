//! The ticket reports as a client meets them through the gateway: times in the business hours
//! of a calendar kept by the trigger engine (a weekend, holidays and midnight in Asia/Seoul),
//! the `.xlsx` export, who may ask, and bad input named by field.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use switchboard_platform::{error::violated_fields, time::timestamp};
use switchboard_proto::{
    common::v1::LocalDate,
    events::v1::{EventEnvelope, TicketCreated, TicketMessageAdded},
    gateway::v1::AgentRole,
    reporting::v1::{
        ExportTicketReportRequest, GetTicketBacklogReportRequest, GetTicketTimesReportRequest,
        GetTicketVolumeReportRequest, ReportPeriod, TicketReportDimension, TicketReportFilter,
        export_ticket_report_request::Report,
    },
    ticket::v1::{Ticket, TicketChannel, TicketStatus},
    trigger::v1::{
        BusinessHours, BusinessHoursInterval, CreateBusinessHoursRequest, DayOfWeek, Holiday,
        business_hours_service_client::BusinessHoursServiceClient,
    },
};
use tonic::Code;
use uuid::Uuid;

use crate::common::{Mesh, bearer, local_date};

fn seoul(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Seoul
        .with_ymd_and_hms(2025, 1, d, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn period() -> Option<ReportPeriod> {
    Some(ReportPeriod {
        start_date: Some(LocalDate {
            year: 2025,
            month: 1,
            day: 20,
        }),
        end_date: Some(LocalDate {
            year: 2025,
            month: 2,
            day: 2,
        }),
    })
}

fn event<E: switchboard_proto::events::Event>(
    payload: &E,
    ticket: &Ticket,
    at: DateTime<Utc>,
) -> EventEnvelope {
    EventEnvelope {
        event_id: Uuid::new_v4().to_string(),
        event_type: E::EVENT_TYPE.into(),
        aggregate_type: E::AGGREGATE_TYPE.into(),
        aggregate_id: ticket.id.clone(),
        aggregate_version: ticket.version,
        occur_time: Some(timestamp(at)),
        payload: Some(prost_types::Any::from_msg(payload).unwrap()),
        ..Default::default()
    }
}

/// A ticket created at `created` and solved by its first reply at `replied`, assigned to kim.
fn replied_ticket(created: DateTime<Utc>, replied: DateTime<Utc>) -> Vec<EventEnvelope> {
    let mut ticket = Ticket {
        id: Uuid::new_v4().to_string(),
        status: TicketStatus::InProgress as i32,
        channel: TicketChannel::Email as i32,
        assignee_login: "kim".into(),
        create_time: Some(timestamp(created)),
        update_time: Some(timestamp(created)),
        version: 1,
        ..Default::default()
    };
    let first = event(
        &TicketCreated {
            ticket: Some(ticket.clone()),
            ..Default::default()
        },
        &ticket,
        created,
    );
    ticket.version = 2;
    ticket.status = TicketStatus::Solved as i32;
    ticket.first_reply_time = Some(timestamp(replied));
    ticket.solve_time = Some(timestamp(replied));
    ticket.update_time = Some(timestamp(replied));
    let second = event(
        &TicketMessageAdded {
            ticket: Some(ticket.clone()),
            first_reply: true,
            ..Default::default()
        },
        &ticket,
        replied,
    );
    vec![first, second]
}

/// Monday to Friday 09:00–18:00 in Seoul, with 설날 (28 to 30 January 2025) off.
async fn office_hours(mesh: &Mesh) -> String {
    let weekdays = [
        DayOfWeek::Monday,
        DayOfWeek::Tuesday,
        DayOfWeek::Wednesday,
        DayOfWeek::Thursday,
        DayOfWeek::Friday,
    ];
    BusinessHoursServiceClient::new(mesh.gateway.channel().await)
        .create_business_hours(bearer(
            CreateBusinessHoursRequest {
                request_id: String::new(),
                business_hours: Some(BusinessHours {
                    name: "본사 업무시간".into(),
                    time_zone: "Asia/Seoul".into(),
                    weekly_intervals: weekdays
                        .iter()
                        .map(|day| BusinessHoursInterval {
                            day_of_week: *day as i32,
                            start_minute: 540,
                            end_minute: 1080,
                        })
                        .collect(),
                    holidays: (28..=30)
                        .map(|day| Holiday {
                            date: Some(LocalDate {
                                year: 2025,
                                month: 1,
                                day,
                            }),
                            name: "설날".into(),
                        })
                        .collect(),
                    ..Default::default()
                }),
            },
            &mesh.admin(),
        ))
        .await
        .expect("the admin creates a calendar")
        .into_inner()
        .business_hours
        .unwrap()
        .id
}

fn seconds(d: Option<&prost_types::Duration>) -> f64 {
    let d = d.expect("a duration");
    d.seconds as f64 + d.nanos as f64 / 1e9
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_in_business_hours_skip_the_weekend_the_holidays_and_the_night() {
    let mesh = Mesh::start_with_trigger_engine().await;
    let calendar = office_hours(&mesh).await;
    let mut events = Vec::new();
    // Friday 24 January 18:00 → Monday 27 09:30: the weekend is closed, 30 minutes.
    events.extend(replied_ticket(seoul(24, 18, 0), seoul(27, 9, 30)));
    // Monday 27 17:30 → Friday 31 09:15: 설날 Tuesday to Thursday, 30 + 15 minutes.
    events.extend(replied_ticket(seoul(27, 17, 30), seoul(31, 9, 15)));
    // Thursday 23 23:50 → Friday 24 00:10: across midnight, all of it at night.
    events.extend(replied_ticket(seoul(23, 23, 50), seoul(24, 0, 10)));
    mesh.publish(&events).await;
    mesh.wait_model_applied("tickets", events.len() as i64, Duration::from_secs(60))
        .await;

    let mut reports = mesh.reports().await;
    let times = |business_hours_id: String| GetTicketTimesReportRequest {
        period: period(),
        business_hours_id,
        ..Default::default()
    };
    let in_hours = reports
        .get_ticket_times_report(bearer(times(calendar.clone()), &mesh.admin()))
        .await
        .expect("times in business hours")
        .into_inner();
    let total = in_hours.total.unwrap().first_reply.unwrap();
    assert_eq!(total.count, 3);
    // Sorted: 0, 1800, 2700 seconds.
    assert_eq!(seconds(total.median.as_ref()), 1800.0);
    assert_eq!(seconds(total.mean.as_ref()), 1500.0);
    assert!((seconds(total.p90.as_ref()) - 2520.0).abs() < 1e-6);
    assert_eq!(in_hours.business_hours_id, calendar);
    // The 27th's bucket holds the first ticket (answered that day), in business time.
    let monday = in_hours
        .rows
        .iter()
        .find(|r| r.key.as_ref().unwrap().start_date.as_ref().unwrap().day == 27)
        .unwrap();
    assert_eq!(
        seconds(monday.first_reply.as_ref().unwrap().median.as_ref()),
        1800.0
    );

    // Wall-clock: 63.5 hours, 20 minutes and 3 days 15 h 45 min.
    let wall = reports
        .get_ticket_times_report(bearer(times(String::new()), &mesh.admin()))
        .await
        .unwrap()
        .into_inner();
    let wall_total = wall.total.unwrap().first_reply.unwrap();
    assert_eq!(seconds(wall_total.median.as_ref()), 63.5 * 3600.0);
    assert_eq!(wall_total.count, 3);

    // An unknown calendar, and one that is not an id.
    let missing = reports
        .get_ticket_times_report(bearer(times(Uuid::new_v4().to_string()), &mesh.admin()))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    assert!(missing.message().contains("business_hours_id"));
    let bad = reports
        .get_ticket_times_report(bearer(times("office".into()), &mesh.admin()))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), ["business_hours_id"]);

    // The export of the same report: Korean headers, times as h:mm:ss.
    let mut stream = reports
        .export_ticket_report(bearer(
            ExportTicketReportRequest {
                report: Some(Report::Times(times(calendar))),
            },
            &mesh.admin(),
        ))
        .await
        .expect("the export starts")
        .into_inner();
    let mut file = Vec::new();
    let mut name = String::new();
    while let Some(chunk) = stream.message().await.expect("the export streams") {
        if name.is_empty() {
            name = chunk.file_name;
        }
        file.extend(chunk.data);
    }
    assert_eq!(name, "ticket-times-20250120-20250202.xlsx");
    let entries = switchboard_xlsx::read_entries(&file).expect("a zip");
    let sheet = entries
        .iter()
        .find(|(path, _)| path.ends_with("sheet1.xml"))
        .map(|(_, bytes)| String::from_utf8(bytes.clone()).unwrap())
        .expect("a sheet");
    for text in [
        "티켓 처리 시간",
        "첫 응답 중앙값",
        "업무시간",
        "0:30:00",
        "Asia/Seoul",
    ] {
        assert!(sheet.contains(text), "{text} in the sheet");
    }
    mesh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_read_only_their_own_figures_and_bad_input_names_its_field() {
    let mesh = Mesh::start(1).await;
    let mut events = replied_ticket(seoul(21, 10, 0), seoul(21, 11, 0));
    let mut lee = replied_ticket(seoul(22, 10, 0), seoul(22, 12, 0));
    for event in &mut lee {
        // The same life, assigned to lee.
        let mut created: TicketCreated = event.unpack().unwrap_or_default();
        if let Some(ticket) = created.ticket.as_mut() {
            ticket.assignee_login = "lee".into();
            event.payload = Some(prost_types::Any::from_msg(&created).unwrap());
        } else {
            let mut added: TicketMessageAdded = event.unpack().unwrap();
            added.ticket.as_mut().unwrap().assignee_login = "lee".into();
            event.payload = Some(prost_types::Any::from_msg(&added).unwrap());
        }
    }
    events.extend(lee);
    mesh.publish(&events).await;
    mesh.wait_model_applied("tickets", events.len() as i64, Duration::from_secs(60))
        .await;
    mesh.gateway
        .create_agent("kim", AgentRole::Agent, &[], &[])
        .await;
    let kim = mesh.gateway.token("kim");
    let (_, reader) = mesh.gateway.create_api_key("bi", &["reporting:read"]).await;
    let (_, crm) = mesh.gateway.create_api_key("crm", &["tickets:read"]).await;
    let mut reports = mesh.reports().await;
    let volume = |filter: TicketReportFilter| GetTicketVolumeReportRequest {
        period: period(),
        filter: Some(filter),
        dimension: TicketReportDimension::Agent as i32,
        ..Default::default()
    };
    let created_by = |credential: &str, filter| {
        let mut reports = reports.clone();
        let request = bearer(volume(filter), credential);
        async move {
            reports.get_ticket_volume_report(request).await.map(|r| {
                r.into_inner()
                    .rows
                    .into_iter()
                    .map(|row| (row.key.unwrap().value, row.created_count))
                    .collect::<Vec<_>>()
            })
        }
    };
    let everyone = vec![("kim".to_owned(), 1), ("lee".to_owned(), 1)];
    assert_eq!(
        created_by(&mesh.admin(), Default::default()).await.unwrap(),
        everyone
    );
    assert_eq!(
        created_by(&reader, Default::default()).await.unwrap(),
        everyone
    );
    // The agent asking for everything gets their own figures.
    assert_eq!(
        created_by(&kim, Default::default()).await.unwrap(),
        [("kim".to_owned(), 1)]
    );
    let lee_only = TicketReportFilter {
        agent_logins: vec!["lee".into()],
        ..Default::default()
    };
    let denied = created_by(&kim, lee_only).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = created_by(&crm, Default::default()).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = reports
        .get_ticket_volume_report(bearer(volume(Default::default()), "not-a-token"))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::Unauthenticated);

    // Bad input, named by field.
    let missing_period = reports
        .get_ticket_volume_report(bearer(
            GetTicketVolumeReportRequest::default(),
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&missing_period), ["period"]);
    let backlog = reports
        .get_ticket_backlog_report(bearer(
            GetTicketBacklogReportRequest {
                period: period(),
                filter: Some(TicketReportFilter {
                    channels: vec![TicketChannel::Email as i32],
                    ..Default::default()
                }),
                dimension: TicketReportDimension::Channel as i32,
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&backlog), ["filter.channels", "dimension"]);
    let long = reports
        .get_ticket_volume_report(bearer(
            GetTicketVolumeReportRequest {
                period: Some(ReportPeriod {
                    start_date: Some(local_date(
                        chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                    )),
                    end_date: Some(local_date(
                        chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
                    )),
                }),
                filter: Some(TicketReportFilter {
                    channels: vec![0],
                    ..Default::default()
                }),
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&long), ["filter.channels[0]", "period"]);
    let admin = mesh.admin();
    let refused_export = |report: Option<Report>| {
        let mut reports = reports.clone();
        let request = bearer(ExportTicketReportRequest { report }, &admin);
        async move {
            match reports.export_ticket_report(request).await {
                Ok(_) => panic!("the export is refused"),
                Err(status) => violated_fields(&status),
            }
        }
    };
    assert_eq!(refused_export(None).await, ["report"]);
    // A report's bad input in an export is named by its path in the export's request.
    let times = |period, business_hours_id: &str| {
        Some(Report::Times(GetTicketTimesReportRequest {
            period,
            business_hours_id: business_hours_id.into(),
            ..Default::default()
        }))
    };
    assert_eq!(
        refused_export(times(None, "not-a-uuid")).await,
        ["times.period"]
    );
    assert_eq!(
        refused_export(times(period(), "not-a-uuid")).await,
        ["times.business_hours_id"]
    );
    let by_channel = Report::Backlog(GetTicketBacklogReportRequest {
        period: period(),
        dimension: TicketReportDimension::Channel as i32,
        ..Default::default()
    });
    assert_eq!(
        refused_export(Some(by_channel)).await,
        ["backlog.dimension"]
    );
    // Times in business hours without a trigger engine: unavailable, the rest still answers.
    let unavailable = reports
        .get_ticket_times_report(bearer(
            GetTicketTimesReportRequest {
                period: period(),
                business_hours_id: Uuid::new_v4().to_string(),
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(unavailable.code(), Code::Unavailable);
    mesh.stop().await;
}
