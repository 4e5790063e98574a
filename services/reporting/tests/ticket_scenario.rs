//! A random scenario of 10,000 tickets (every channel; taken, forwarded, held, replied, solved,
//! re-opened, closed, spam restored or deleted) over days across a month boundary, whose events
//! arrive twice and shuffled at two consumer replicas: every row of every ticket report equals
//! what is computed here directly from the tickets' lives, for the admin and for an agent, and
//! a rebuild from the retained log gives the identical reports.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use switchboard_proto::{
    gateway::v1::AgentRole,
    reporting::v1::{
        GetTicketBacklogReportRequest, GetTicketTimesReportRequest, GetTicketVolumeReportRequest,
        ReportGranularity, ReportPeriod, TicketBacklogRow, TicketReportDimension,
        TicketReportFilter, TicketReportRowKey, TicketTimeStatistics, TicketTimesRow,
        TicketVolumeRow,
    },
    ticket::v1::{Ticket, TicketChannel, TicketStatus},
};
use tonic::Code;

use crate::common::{
    Mesh, ZONE, bearer, local_date,
    scenario::Rng,
    spans,
    tickets::{Life, World, generate, instant},
};

const TICKETS: usize = 10_000;

/// The report period: a day before the first ticket to well after the last change.
fn period() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(2025, 1, 27).unwrap(),
        NaiveDate::from_ymd_opt(2025, 2, 14).unwrap(),
    )
}

fn report_period() -> Option<ReportPeriod> {
    let (first, last) = period();
    Some(ReportPeriod {
        start_date: Some(local_date(first)),
        end_date: Some(local_date(last)),
    })
}

fn day(t: DateTime<Utc>, zone: Tz) -> NaiveDate {
    t.with_timezone(&zone).date_naive()
}

/// One report question: granularity, filter, breakdown.
#[derive(Debug, Clone)]
struct Ask {
    month: bool,
    filter: TicketReportFilter,
    dimension: TicketReportDimension,
}

impl Ask {
    fn granularity(&self) -> i32 {
        if self.month {
            ReportGranularity::Month as i32
        } else {
            ReportGranularity::Day as i32
        }
    }

    /// Whether the ticket's dimensions (a snapshot's) pass the filter.
    fn selects(&self, ticket: &Ticket) -> bool {
        let f = &self.filter;
        (f.channels.is_empty() || f.channels.contains(&ticket.channel))
            && (f.group_ids.is_empty() || f.group_ids.contains(&ticket.group_id))
            && (f.agent_logins.is_empty() || f.agent_logins.contains(&ticket.assignee_login))
            && (f.inquiry_type_ids.is_empty()
                || f.inquiry_type_ids.contains(&ticket.inquiry_type_id))
            && (f.mail_account_ids.is_empty()
                || f.mail_account_ids.contains(&ticket.mail_account_id))
    }

    /// The breakdown value of a snapshot.
    fn value(&self, ticket: &Ticket) -> String {
        use TicketReportDimension as D;
        match self.dimension {
            D::Unspecified => String::new(),
            D::Channel => TicketChannel::try_from(ticket.channel)
                .unwrap()
                .as_str_name()
                .to_owned(),
            D::Group => ticket.group_id.clone(),
            D::Agent => ticket.assignee_login.clone(),
            D::InquiryType => ticket.inquiry_type_id.clone(),
            D::MailAccount => ticket.mail_account_id.clone(),
        }
    }

    fn spans(&self) -> Vec<(NaiveDate, NaiveDate)> {
        let (first, last) = period();
        spans(first, last, self.month)
    }

    fn span_of(&self, day: NaiveDate) -> Option<usize> {
        self.spans()
            .iter()
            .position(|(a, b)| *a <= day && day <= *b)
    }
}

fn key(span: (NaiveDate, NaiveDate), value: &str) -> Option<TicketReportRowKey> {
    Some(TicketReportRowKey {
        start_date: Some(local_date(span.0)),
        end_date: Some(local_date(span.1)),
        value: value.to_owned(),
    })
}

fn resolved(ticket: &Ticket) -> bool {
    ticket.status == TicketStatus::Solved as i32 || ticket.status == TicketStatus::Closed as i32
}

fn expected_volume(ask: &Ask, lives: &[Life], zone: Tz) -> (Vec<TicketVolumeRow>, [i64; 3]) {
    let spans = ask.spans();
    let mut cells: BTreeMap<(usize, String), [i64; 3]> = BTreeMap::new();
    if ask.dimension == TicketReportDimension::Unspecified {
        for index in 0..spans.len() {
            cells.insert((index, String::new()), [0; 3]);
        }
    }
    let mut total = [0; 3];
    for life in lives.iter().filter(|l| !l.excluded()) {
        let ticket = &life.last().ticket;
        if !ask.selects(ticket) {
            continue;
        }
        let mut count = |time: Option<&prost_types::Timestamp>, which: usize| {
            let Some(index) = time.and_then(|t| ask.span_of(day(instant(t), zone))) else {
                return;
            };
            cells.entry((index, ask.value(ticket))).or_default()[which] += 1;
            total[which] += 1;
        };
        count(ticket.create_time.as_ref(), 0);
        if resolved(ticket) {
            count(ticket.solve_time.as_ref(), 1);
        }
        if ticket.status == TicketStatus::Closed as i32 {
            count(ticket.close_time.as_ref(), 2);
        }
    }
    let rows = cells
        .into_iter()
        .filter(|(_, c)| ask.dimension == TicketReportDimension::Unspecified || *c != [0; 3])
        .map(
            |((index, value), [created, solved, closed])| TicketVolumeRow {
                key: key(spans[index], &value),
                created_count: created,
                solved_count: solved,
                closed_count: closed,
            },
        )
        .collect();
    (rows, total)
}

/// The open tickets at the end of each bucket (the state in effect at the local midnight after
/// its last day), and now.
fn expected_backlog(
    ask: &Ask,
    lives: &[Life],
    zone: Tz,
) -> (Vec<TicketBacklogRow>, Vec<TicketBacklogRow>) {
    let open_index = |status: i32| match TicketStatus::try_from(status).unwrap() {
        TicketStatus::Unassigned => Some(0),
        TicketStatus::InProgress => Some(1),
        TicketStatus::OnHold => Some(2),
        _ => None,
    };
    let row = |key: Option<TicketReportRowKey>, open: [i64; 3]| TicketBacklogRow {
        key,
        unassigned_count: open[0],
        in_progress_count: open[1],
        on_hold_count: open[2],
        open_count: open.iter().sum(),
    };
    let mut rows = Vec::new();
    for span in ask.spans() {
        let midnight = zone
            .from_local_datetime(&span.1.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc);
        let mut cells: BTreeMap<String, [i64; 3]> = BTreeMap::new();
        if ask.dimension == TicketReportDimension::Unspecified {
            cells.insert(String::new(), [0; 3]);
        }
        for life in lives {
            let Some(version) = life.versions.iter().rev().find(|v| v.at < midnight) else {
                continue;
            };
            if version.deleted || !ask.selects(&version.ticket) {
                continue;
            }
            if let Some(index) = open_index(version.ticket.status) {
                cells.entry(ask.value(&version.ticket)).or_default()[index] += 1;
            }
        }
        rows.extend(
            cells
                .into_iter()
                .filter(|(_, open)| {
                    ask.dimension == TicketReportDimension::Unspecified || *open != [0; 3]
                })
                .map(|(value, open)| row(key(span, &value), open)),
        );
    }
    let mut now: BTreeMap<String, [i64; 3]> = BTreeMap::new();
    if ask.dimension == TicketReportDimension::Unspecified {
        now.insert(String::new(), [0; 3]);
    }
    for life in lives {
        let last = life.last();
        if last.deleted || !ask.selects(&last.ticket) {
            continue;
        }
        if let Some(index) = open_index(last.ticket.status) {
            now.entry(ask.value(&last.ticket)).or_default()[index] += 1;
        }
    }
    let current = now
        .into_iter()
        .map(|(value, open)| {
            let key = TicketReportRowKey {
                value,
                ..Default::default()
            };
            row(Some(key), open)
        })
        .collect();
    (rows, current)
}

/// Count, median, p90 and mean (percentiles interpolated between ranks), in seconds.
type Stats = (i64, Option<f64>, Option<f64>, Option<f64>);

fn stats(mut values: Vec<f64>) -> Stats {
    if values.is_empty() {
        return (0, None, None, None);
    }
    values.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let rank = p * (values.len() - 1) as f64;
        let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
        values[lo] + (rank - lo as f64) * (values[hi] - values[lo])
    };
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (
        values.len() as i64,
        Some(at(0.5)),
        Some(at(0.9)),
        Some(mean),
    )
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap() as f64 / 1e6
}

/// A times row: its key and [first reply, first resolution, final resolution].
type TimesRow = (Option<TicketReportRowKey>, [Stats; 3]);

/// The rows and the total.
fn expected_times(ask: &Ask, lives: &[Life], zone: Tz) -> (Vec<TimesRow>, [Stats; 3]) {
    let spans = ask.spans();
    let mut values: BTreeMap<(usize, String), [Vec<f64>; 3]> = BTreeMap::new();
    if ask.dimension == TicketReportDimension::Unspecified {
        for index in 0..spans.len() {
            values.insert((index, String::new()), Default::default());
        }
    }
    let mut all: [Vec<f64>; 3] = Default::default();
    for life in lives.iter().filter(|l| !l.excluded()) {
        let ticket = &life.last().ticket;
        if !ask.selects(ticket) {
            continue;
        }
        let created = instant(ticket.create_time.as_ref().unwrap());
        let ends = [
            ticket.first_reply_time.as_ref().map(instant),
            life.first_solve(),
            ticket
                .solve_time
                .as_ref()
                .filter(|_| resolved(ticket))
                .map(instant),
        ];
        for (measure, end) in ends.into_iter().enumerate() {
            let Some(end) = end else { continue };
            let Some(index) = ask.span_of(day(end, zone)) else {
                continue;
            };
            values.entry((index, ask.value(ticket))).or_default()[measure]
                .push(seconds(created, end));
            all[measure].push(seconds(created, end));
        }
    }
    let rows = values
        .into_iter()
        .map(|((index, value), measures)| (key(spans[index], &value), measures.map(stats)))
        .collect();
    (rows, all.map(stats))
}

fn from_message(s: Option<&TicketTimeStatistics>) -> Stats {
    let s = s.expect("statistics present");
    let secs =
        |d: Option<&prost_types::Duration>| d.map(|d| d.seconds as f64 + d.nanos as f64 / 1e9);
    (
        s.count,
        secs(s.median.as_ref()),
        secs(s.p90.as_ref()),
        secs(s.mean.as_ref()),
    )
}

fn assert_stats_eq(got: Stats, want: Stats, context: &str) {
    assert_eq!(got.0, want.0, "{context}: count");
    for (g, w) in [(got.1, want.1), (got.2, want.2), (got.3, want.3)] {
        match (g, w) {
            (Some(g), Some(w)) => assert!((g - w).abs() < 1e-3, "{context}: {g} vs {w}"),
            (g, w) => assert_eq!(g.is_some(), w.is_some(), "{context}"),
        }
    }
}

fn times_rows(rows: &[TicketTimesRow]) -> Vec<TimesRow> {
    rows.iter()
        .map(|r| {
            (
                r.key.clone(),
                [
                    from_message(r.first_reply.as_ref()),
                    from_message(r.first_resolution.as_ref()),
                    from_message(r.final_resolution.as_ref()),
                ],
            )
        })
        .collect()
}

/// The questions asked: every filter alone and some together, every breakdown, days and months.
fn asks(world: &World) -> Vec<Ask> {
    use TicketReportDimension as D;
    let none = TicketReportFilter::default();
    let mut asks = Vec::new();
    for dimension in [
        D::Unspecified,
        D::Channel,
        D::Group,
        D::Agent,
        D::InquiryType,
        D::MailAccount,
    ] {
        for month in [false, true] {
            asks.push(Ask {
                month,
                filter: none.clone(),
                dimension,
            });
        }
    }
    let filters = [
        TicketReportFilter {
            channels: vec![TicketChannel::Email as i32, TicketChannel::Phone as i32],
            ..Default::default()
        },
        TicketReportFilter {
            group_ids: vec![world.groups[0].clone()],
            ..Default::default()
        },
        TicketReportFilter {
            agent_logins: vec!["kim".into(), "park".into()],
            ..Default::default()
        },
        TicketReportFilter {
            inquiry_type_ids: vec![world.inquiry_types[1].clone()],
            ..Default::default()
        },
        TicketReportFilter {
            mail_account_ids: vec![world.mail_accounts[0].clone()],
            ..Default::default()
        },
        TicketReportFilter {
            channels: vec![TicketChannel::Email as i32],
            group_ids: vec![world.groups[1].clone(), world.groups[2].clone()],
            inquiry_type_ids: vec![world.inquiry_types[0].clone()],
            ..Default::default()
        },
    ];
    for (index, filter) in filters.into_iter().enumerate() {
        asks.push(Ask {
            month: index % 2 == 1,
            filter,
            dimension: if index % 3 == 0 {
                D::Agent
            } else {
                D::Unspecified
            },
        });
    }
    asks
}

/// The asks a backlog answers: group and agent filters and breakdowns only.
fn backlog_asks(world: &World) -> Vec<Ask> {
    use TicketReportDimension as D;
    let mut asks = Vec::new();
    let filters = [
        TicketReportFilter::default(),
        TicketReportFilter {
            group_ids: vec![world.groups[2].clone()],
            ..Default::default()
        },
        TicketReportFilter {
            agent_logins: vec!["lee".into()],
            ..Default::default()
        },
    ];
    for filter in filters {
        for (month, dimension) in [
            (false, D::Unspecified),
            (true, D::Unspecified),
            (false, D::Group),
            (false, D::Agent),
        ] {
            asks.push(Ask {
                month,
                filter: filter.clone(),
                dimension,
            });
        }
    }
    asks
}

/// Asks every report of the scenario and checks each row against the direct computation.
async fn check_reports(mesh: &Mesh, world: &World, lives: &[Life], zone: Tz) -> usize {
    let admin = mesh.admin();
    let mut reports = mesh.reports().await;
    let mut checked = 0;
    for ask in asks(world) {
        let context = format!("{ask:?}");
        let volume = reports
            .get_ticket_volume_report(bearer(
                GetTicketVolumeReportRequest {
                    period: report_period(),
                    granularity: ask.granularity(),
                    filter: Some(ask.filter.clone()),
                    dimension: ask.dimension as i32,
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        let (rows, total) = expected_volume(&ask, lives, zone);
        assert_eq!(volume.rows, rows, "volume {context}");
        let got_total = volume.total.unwrap();
        assert_eq!(
            [
                got_total.created_count,
                got_total.solved_count,
                got_total.closed_count
            ],
            total,
            "volume total {context}"
        );
        let times = reports
            .get_ticket_times_report(bearer(
                GetTicketTimesReportRequest {
                    period: report_period(),
                    granularity: ask.granularity(),
                    filter: Some(ask.filter.clone()),
                    dimension: ask.dimension as i32,
                    business_hours_id: String::new(),
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        let (rows, total) = expected_times(&ask, lives, zone);
        let got = times_rows(&times.rows);
        assert_eq!(
            got.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
            rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
            "times keys {context}"
        );
        for ((key, got), (_, want)) in got.iter().zip(&rows) {
            for (got, want) in got.iter().zip(want) {
                assert_stats_eq(*got, *want, &format!("{context} {key:?}"));
            }
        }
        let got_total = times_rows(std::slice::from_ref(times.total.as_ref().unwrap()));
        for (got, want) in got_total[0].1.iter().zip(&total) {
            assert_stats_eq(*got, *want, &context);
        }
        checked += 2;
    }
    for ask in backlog_asks(world) {
        let backlog = reports
            .get_ticket_backlog_report(bearer(
                GetTicketBacklogReportRequest {
                    period: report_period(),
                    granularity: ask.granularity(),
                    filter: Some(ask.filter.clone()),
                    dimension: ask.dimension as i32,
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner();
        let (rows, current) = expected_backlog(&ask, lives, zone);
        assert_eq!(backlog.rows, rows, "backlog {ask:?}");
        assert_eq!(backlog.current, current, "backlog now {ask:?}");
        checked += 1;
    }
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_random_ticket_scenario_delivered_twice_and_shuffled_gives_the_directly_computed_reports()
{
    let mesh = Mesh::start(2).await;
    let zone: Tz = ZONE.parse().unwrap();
    let seed = std::env::var("SCENARIO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_203);
    eprintln!("ticket scenario seed {seed} (set SCENARIO_SEED to replay another)");
    let mut rng = Rng::new(seed);
    let world = World::new();
    // 28 January to 4 February: across a month boundary.
    let first_day = NaiveDate::from_ymd_opt(2025, 1, 28).unwrap();
    let lives = generate(&mut rng, TICKETS, first_day, 8, zone, &world);
    let events: Vec<_> = lives
        .iter()
        .flat_map(|l| l.versions.iter().map(|v| v.event.clone()))
        .collect();
    let distinct = events.len();
    // Every kind of life happened.
    let final_status = |s: TicketStatus| {
        lives
            .iter()
            .filter(|l| l.last().ticket.status == s as i32 && !l.last().deleted)
            .count()
    };
    for status in [
        TicketStatus::Unassigned,
        TicketStatus::InProgress,
        TicketStatus::OnHold,
        TicketStatus::Solved,
        TicketStatus::Closed,
        TicketStatus::Spam,
    ] {
        assert!(final_status(status) > 20, "{status:?}");
    }
    assert!(lives.iter().filter(|l| l.last().deleted).count() > 20);
    let reopened = lives
        .iter()
        .filter(|l| {
            l.first_solve().is_some()
                && l.last().ticket.solve_time.map(|t| instant(&t)) != l.first_solve()
        })
        .count();
    assert!(reopened > 20, "{reopened} tickets solved twice");

    let mut deliveries = events.clone();
    deliveries.extend(events);
    rng.shuffle(&mut deliveries);
    let began = std::time::Instant::now();
    mesh.publish(&deliveries).await;
    mesh.wait_model_applied("tickets", distinct as i64, Duration::from_secs(900))
        .await;
    eprintln!(
        "{distinct} ticket events ({} deliveries) applied in {:.1} s",
        deliveries.len(),
        began.elapsed().as_secs_f64()
    );
    assert!(
        mesh.ticket_stats
            .iter()
            .all(|s| s.applied.load(std::sync::atomic::Ordering::Relaxed) > 0),
        "both replicas took part"
    );

    let checked = check_reports(&mesh, &world, &lives, zone).await;
    eprintln!("{checked} reports equal the direct computation");

    // An agent sees their own figures, and only theirs.
    mesh.gateway
        .create_agent("kim", AgentRole::Agent, &[], &[])
        .await;
    let kim_token = mesh.gateway.token("kim");
    let mut reports = mesh.reports().await;
    let own = reports
        .get_ticket_volume_report(bearer(
            GetTicketVolumeReportRequest {
                period: report_period(),
                ..Default::default()
            },
            &kim_token,
        ))
        .await
        .unwrap()
        .into_inner();
    let kim = Ask {
        month: false,
        filter: TicketReportFilter {
            agent_logins: vec!["kim".into()],
            ..Default::default()
        },
        dimension: TicketReportDimension::Unspecified,
    };
    assert_eq!(own.rows, expected_volume(&kim, &lives, zone).0);
    let denied = reports
        .get_ticket_backlog_report(bearer(
            GetTicketBacklogReportRequest {
                period: report_period(),
                filter: Some(TicketReportFilter {
                    agent_logins: vec!["lee".into()],
                    ..Default::default()
                }),
                ..Default::default()
            },
            &kim_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // A rebuild from the retained log gives the same model.
    let before = model_rows(&mesh).await;
    let rebuilt = switchboard_reporting::rebuild(
        &switchboard_platform::testing::database_config(),
        &mesh.schema,
        ZONE,
    )
    .await
    .expect("the rebuild runs");
    assert_eq!(rebuilt.tickets, TICKETS as u64);
    assert_eq!(
        model_rows(&mesh).await,
        before,
        "the rebuilt model is identical"
    );
    assert_eq!(check_reports(&mesh, &world, &lives, zone).await, checked);
    mesh.stop().await;
}

/// The rows of `sql` (one text column each).
async fn texts(mesh: &Mesh, sql: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mesh.pool)
        .await
        .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

/// Every row of the ticket model's count tables, in key order. The volume counts without the
/// agent are checked to be the counts summed over the agents.
async fn model_rows(mesh: &Mesh) -> (Vec<String>, Vec<String>) {
    let without_agents = |table: &str| {
        format!(
            "SELECT concat_ws('|', day, channel, group_id, inquiry_type_id, mail_account_id,
                 sum(created), sum(solved), sum(closed))
             FROM {table} GROUP BY day, channel, group_id, inquiry_type_id, mail_account_id
             HAVING sum(created) <> 0 OR sum(solved) <> 0 OR sum(closed) <> 0
             ORDER BY 1"
        )
    };
    let summed = texts(mesh, &without_agents("ticket_volume_counts")).await;
    assert!(!summed.is_empty());
    assert_eq!(
        texts(mesh, &without_agents("ticket_volume_group_counts")).await,
        summed,
        "the group counts are the counts without the agent"
    );
    assert_eq!(
        texts(
            mesh,
            "SELECT count(*)::text FROM ticket_facts f
             WHERE (group_key, assignee_key, inquiry_type_key, mail_account_key)
                 IS DISTINCT FROM (
                     (SELECT key FROM ticket_dimension_keys WHERE value = f.group_id),
                     (SELECT key FROM ticket_dimension_keys WHERE value = f.assignee_login),
                     (SELECT key FROM ticket_dimension_keys WHERE value = f.inquiry_type_id),
                     (SELECT key FROM ticket_dimension_keys WHERE value = f.mail_account_id))"
        )
        .await,
        ["0"],
        "every fact's dimension keys are its values' keys"
    );
    let volume = texts(
        mesh,
        "SELECT concat_ws('|', day, channel, group_id, assignee_login, inquiry_type_id,
             mail_account_id, created, solved, closed)
         FROM ticket_volume_counts WHERE created <> 0 OR solved <> 0 OR closed <> 0
         ORDER BY 1",
    )
    .await;
    let backlog = texts(
        mesh,
        "SELECT concat_ws('|', day, status, group_id, assignee_login, delta)
         FROM ticket_backlog_changes WHERE delta <> 0 ORDER BY 1",
    )
    .await;
    (volume, backlog)
}
