//! `SearchTickets`: a seeded scenario of several hundred tickets over groups, agents, statuses,
//! channels and Korean, mixed and full-width subjects; every filter alone and in combinations,
//! in every order, paged to the end, equals the same search computed directly over the
//! scenario, for an admin and for two agents (who never get a ticket they may not see).

use std::cmp::Ordering;

use chrono::{DateTime, Duration, Utc};
use switchboard_platform::{
    error::violated_fields,
    time::{instant, timestamp},
};
use switchboard_proto::ticket::v1::{
    SearchTicketsRequest, Ticket, TicketChannel, TicketOrderBy, TicketPriority, TicketRequester,
    TicketStatus,
};
use switchboard_ticket::domain::text;
use tonic::{Code, Status};
use uuid::Uuid;

use crate::common::{Mesh, bearer};

/// xorshift64*: the scenario is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SUBJECTS: &[&str] = &[
    "환불요청",
    "환불은 언제 되나요",
    "배송 지연 문의",
    "배송지연",
    "Refund ＡＢＣ",
    "REFUND please",
    "요금제 변경",
    "로그인이 안 돼요",
    "50% 할인_쿠폰",
    "a",
    "주문 취소 및 환불",
];
const NAMES: &[&str] = &["김민수", "ＫＩＭ Minsu", "이재현", "Park Ji-eun", ""];
const EMAILS: &[&str] = &[
    "minsu@example.com",
    "Minsu@Example.com",
    "jh.lee@example.co.kr",
    "",
];
const TAGS: &[&str] = &["vip", "refund", "repeat"];

/// Who searches, as the service's visibility rule sees them.
struct Viewer {
    token: String,
    login: String,
    groups: Vec<String>,
    admin: bool,
}

impl Viewer {
    fn admin(mesh: &Mesh) -> Self {
        Self {
            token: mesh.admin(),
            login: "admin".into(),
            groups: vec![],
            admin: true,
        }
    }

    fn agent(mesh: &Mesh, login: &str, groups: &[String]) -> Self {
        Self {
            token: mesh.token(login),
            login: login.into(),
            groups: groups.to_vec(),
            admin: false,
        }
    }

    fn sees(&self, t: &Ticket) -> bool {
        self.admin
            || t.group_id.is_empty()
            || self.groups.contains(&t.group_id)
            || t.assignee_login == self.login
    }
}

fn micros(at: &Option<prost_types::Timestamp>) -> i64 {
    instant(at.as_ref().unwrap()).unwrap().timestamp_micros()
}

/// Whether `t` matches every filter of `r` (computed directly, not through SQL).
fn matches(r: &SearchTicketsRequest, t: &Ticket) -> bool {
    let any =
        |values: &[String], value: &str| values.is_empty() || values.iter().any(|v| v == value);
    let any_enum = |values: &[i32], value: i32| values.is_empty() || values.contains(&value);
    let requester = t.requester.clone().unwrap_or_default();
    let subject = text::normalise(&t.subject);
    let created = micros(&t.create_time);
    (r.statuses.is_empty() && t.status != TicketStatus::Spam as i32
        || r.statuses.contains(&t.status))
        && r.create_start_time
            .is_none_or(|s| created >= micros(&Some(s)))
        && r.create_end_time.is_none_or(|e| created < micros(&Some(e)))
        && any_enum(&r.priorities, t.priority)
        && (r.number == 0 || r.number == t.number)
        && text::words(&r.subject_query)
            .iter()
            .all(|w| subject.contains(w.as_str()))
        && any(&r.group_ids, &t.group_id)
        && (r.assignee_logins.is_empty()
            || !t.assignee_login.is_empty() && r.assignee_logins.contains(&t.assignee_login))
        && (!r.unassigned_only || t.assignee_login.is_empty())
        && any_enum(&r.channels, t.channel)
        && any(&r.external_channels, &t.external_channel)
        && any(&r.inquiry_type_ids, &t.inquiry_type_id)
        && any(&r.processing_type_ids, &t.processing_type_id)
        && any(&r.mail_account_ids, &t.mail_account_id)
        && text::normalise(&requester.name).contains(&text::normalise(r.requester_name.trim()))
        && (r.requester_email.is_empty()
            || !requester.email.is_empty()
                && requester.email.to_lowercase() == r.requester_email.to_lowercase())
        && r.tags.iter().all(|tag| t.tags.contains(tag))
}

fn order(by: TicketOrderBy, a: &Ticket, b: &Ticket) -> Ordering {
    let created = micros(&b.create_time).cmp(&micros(&a.create_time));
    let first = match by {
        TicketOrderBy::Unspecified | TicketOrderBy::CreateTimeDesc => created,
        TicketOrderBy::CreateTimeAsc => created.reverse(),
        TicketOrderBy::UpdateTimeDesc => micros(&b.update_time).cmp(&micros(&a.update_time)),
        TicketOrderBy::PriorityDesc => b.priority.cmp(&a.priority).then(created),
    };
    first.then(b.number.cmp(&a.number))
}

/// The numbers `viewer` should get for `r`, in order.
fn expected(scenario: &[Ticket], viewer: &Viewer, r: &SearchTicketsRequest) -> Vec<i64> {
    let mut hits: Vec<&Ticket> = scenario
        .iter()
        .filter(|t| viewer.sees(t) && matches(r, t))
        .collect();
    let by = TicketOrderBy::try_from(r.order_by).unwrap();
    hits.sort_by(|a, b| order(by, a, b));
    hits.iter().map(|t| t.number).collect()
}

async fn search(
    mesh: &Mesh,
    token: &str,
    r: SearchTicketsRequest,
) -> Result<(Vec<Ticket>, String, i32), Status> {
    let response = mesh
        .tickets()
        .await
        .search_tickets(bearer(r, token))
        .await?
        .into_inner();
    Ok((
        response.tickets,
        response.next_page_token,
        response.total_size,
    ))
}

/// Every page of `r`, concatenated; checks `total_size` on each page.
async fn all_pages(
    mesh: &Mesh,
    viewer: &Viewer,
    r: &SearchTicketsRequest,
    want: usize,
) -> Vec<i64> {
    let mut numbers = Vec::new();
    let mut token = String::new();
    loop {
        let request = SearchTicketsRequest {
            page_token: token.clone(),
            ..r.clone()
        };
        let (tickets, next, total) = search(mesh, &viewer.token, request).await.unwrap();
        assert_eq!(total as usize, want, "total_size of {r:?}");
        assert!(tickets.len() <= r.page_size.max(1) as usize || r.page_size == 0);
        assert!(
            tickets.iter().all(|t| viewer.sees(t)),
            "{} sees only theirs",
            viewer.login
        );
        numbers.extend(tickets.iter().map(|t| t.number));
        if next.is_empty() {
            return numbers;
        }
        token = next;
    }
}

struct Ids {
    groups: Vec<String>,
    inquiry: Vec<String>,
    processing: Vec<String>,
    accounts: Vec<String>,
}

/// Writes `n` tickets straight into the service's table, with the search columns the
/// service's writer gives them (domain/text.rs).
async fn seed(
    mesh: &Mesh,
    n: usize,
    ids: &Ids,
    subject: impl Fn(usize, &mut Rng) -> String,
) -> Vec<Ticket> {
    let mut rng = Rng(0x5EED_2026_1202);
    let base = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut tickets = Vec::new();
    let mut tx = mesh.pool.begin().await.unwrap();
    for i in 0..n {
        let status = [1, 2, 3, 4, 5, 6][rng.below(6)];
        let assignee = match status {
            1 => "",
            2 => *rng.pick(&["kim", "lee", "park"]),
            _ => *rng.pick(&["kim", "lee", "park", ""]),
        };
        // Some tickets share a creation time (ties are broken by number).
        let created = base + Duration::seconds((i / 3 * 3600) as i64 + rng.below(2) as i64);
        let updated = created + Duration::minutes(rng.below(100_000) as i64);
        let mut group = String::new();
        if rng.below(5) > 0 {
            group = rng.pick(&ids.groups).clone();
        }
        let optional = |rng: &mut Rng, values: &[String]| {
            if rng.below(3) == 0 {
                String::new()
            } else {
                rng.pick(values).clone()
            }
        };
        let channel = 1 + rng.below(5) as i32;
        let ticket = Ticket {
            id: Uuid::now_v7().to_string(),
            number: 10_000 + i as i64,
            subject: subject(i, &mut rng),
            status,
            group_id: group,
            assignee_login: assignee.into(),
            channel,
            external_channel: if channel == TicketChannel::External as i32 {
                rng.pick(&["kakaotalk", "line"]).to_string()
            } else {
                String::new()
            },
            requester: Some(TicketRequester {
                name: rng.pick(NAMES).to_string(),
                email: rng.pick(EMAILS).to_string(),
                ..Default::default()
            }),
            inquiry_type_id: optional(&mut rng, &ids.inquiry),
            processing_type_id: optional(&mut rng, &ids.processing),
            mail_account_id: optional(&mut rng, &ids.accounts),
            priority: 1 + rng.below(4) as i32,
            tags: TAGS
                .iter()
                .filter(|_| rng.below(3) == 0)
                .map(|t| t.to_string())
                .collect(),
            create_time: Some(timestamp(created)),
            update_time: Some(timestamp(updated)),
            version: 1,
            ..Default::default()
        };
        let requester = ticket.requester.clone().unwrap();
        let norm = text::normalise(&ticket.subject);
        let uuid = |text: &str| (!text.is_empty()).then(|| Uuid::parse_str(text).unwrap());
        sqlx::query(
            "INSERT INTO tickets (id, number, subject, status, group_id, assignee_login, channel,
                 external_channel, requester_name, requester_email, mail_account_id,
                 inquiry_type_id, processing_type_id, priority, tags, create_time, update_time,
                 auto_close_time, version, subject_norm, subject_bigrams, requester_name_norm)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, 1, $19, $20, $21)",
        )
        .bind(Uuid::parse_str(&ticket.id).unwrap())
        .bind(ticket.number)
        .bind(&ticket.subject)
        .bind(status as i16)
        .bind(uuid(&ticket.group_id))
        .bind((!assignee.is_empty()).then_some(assignee))
        .bind(channel as i16)
        .bind(&ticket.external_channel)
        .bind(&requester.name)
        .bind(&requester.email)
        .bind(uuid(&ticket.mail_account_id))
        .bind(uuid(&ticket.inquiry_type_id))
        .bind(uuid(&ticket.processing_type_id))
        .bind(ticket.priority as i16)
        .bind(&ticket.tags)
        .bind(created)
        .bind(updated)
        .bind((status == 4).then_some(updated + Duration::days(14)))
        .bind(&norm)
        .bind(text::bigrams(&norm))
        .bind(text::normalise(&requester.name))
        .execute(&mut *tx)
        .await
        .unwrap();
        tickets.push(ticket);
    }
    tx.commit().await.unwrap();
    tickets
}

fn at(text: &str) -> Option<prost_types::Timestamp> {
    Some(timestamp(
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc),
    ))
}

#[tokio::test]
async fn search_every_filter_and_order_equals_the_direct_computation_for_each_caller() {
    let mesh = Mesh::start().await;
    let groups: Vec<String> = vec![
        mesh.group("환불팀").await.id,
        mesh.group("배송팀").await.id,
        mesh.group("VIP팀").await.id,
    ];
    let kim = mesh.agent("kim", &groups[..1]).await;
    let lee = mesh.agent("lee", &groups[1..]).await;
    let random_ids = |n| {
        (0..n)
            .map(|_| Uuid::now_v7().to_string())
            .collect::<Vec<_>>()
    };
    let ids = Ids {
        groups: groups.clone(),
        inquiry: random_ids(2),
        processing: random_ids(2),
        accounts: random_ids(2),
    };
    // Through CreateTicket, so that the service's own writer fills the search columns.
    let admin = mesh.admin();
    let mut scenario = Vec::new();
    for subject in ["Refund ＡＢＣ", "환불은 괜찮나요", "배송 지연"] {
        scenario.push(mesh.create(&admin, &groups[0], subject).await.unwrap());
    }
    scenario.extend(seed(&mesh, 700, &ids, |_, rng| rng.pick(SUBJECTS).to_string()).await);
    let viewers = [
        Viewer::admin(&mesh),
        Viewer::agent(&mesh, &kim, &groups[..1]),
        Viewer::agent(&mesh, &lee, &groups[1..]),
    ];

    let s = |query: &str| SearchTicketsRequest {
        subject_query: query.into(),
        ..Default::default()
    };
    let mut requests = vec![
        SearchTicketsRequest::default(),
        SearchTicketsRequest {
            create_start_time: at("2026-01-05T00:00:00Z"),
            create_end_time: at("2026-01-12T00:00:00Z"),
            ..Default::default()
        },
        SearchTicketsRequest {
            create_start_time: at("2026-01-20T00:00:00Z"),
            ..Default::default()
        },
        SearchTicketsRequest {
            priorities: vec![TicketPriority::High as i32, TicketPriority::Urgent as i32],
            ..Default::default()
        },
        SearchTicketsRequest {
            number: 10_123,
            ..Default::default()
        },
        SearchTicketsRequest {
            number: scenario[0].number,
            ..Default::default()
        },
        s("환불"),
        s("배송 지연"),
        s("ｒｅｆｕｎｄ"),
        s("ABC"),
        s("a"),
        s("50%"),
        s("_"),
        s("환불 주문"),
        s("없는말"),
        SearchTicketsRequest {
            group_ids: vec![groups[1].clone()],
            ..Default::default()
        },
        SearchTicketsRequest {
            assignee_logins: vec!["kim".into(), "park".into()],
            ..Default::default()
        },
        SearchTicketsRequest {
            unassigned_only: true,
            ..Default::default()
        },
        SearchTicketsRequest {
            statuses: vec![TicketStatus::Spam as i32],
            ..Default::default()
        },
        SearchTicketsRequest {
            statuses: vec![TicketStatus::Solved as i32, TicketStatus::Closed as i32],
            ..Default::default()
        },
        SearchTicketsRequest {
            channels: vec![TicketChannel::External as i32, TicketChannel::Email as i32],
            ..Default::default()
        },
        SearchTicketsRequest {
            external_channels: vec!["kakaotalk".into()],
            ..Default::default()
        },
        SearchTicketsRequest {
            inquiry_type_ids: vec![ids.inquiry[0].clone()],
            ..Default::default()
        },
        SearchTicketsRequest {
            processing_type_ids: ids.processing.clone(),
            ..Default::default()
        },
        SearchTicketsRequest {
            mail_account_ids: vec![ids.accounts[1].clone()],
            ..Default::default()
        },
        SearchTicketsRequest {
            requester_name: "민수".into(),
            ..Default::default()
        },
        SearchTicketsRequest {
            requester_name: "kim m".into(),
            ..Default::default()
        },
        SearchTicketsRequest {
            requester_email: "MINSU@example.COM".into(),
            ..Default::default()
        },
        SearchTicketsRequest {
            tags: vec!["vip".into(), "refund".into()],
            ..Default::default()
        },
        SearchTicketsRequest {
            subject_query: "환불".into(),
            statuses: vec![
                TicketStatus::Unassigned as i32,
                TicketStatus::InProgress as i32,
                TicketStatus::Spam as i32,
            ],
            ..Default::default()
        },
        SearchTicketsRequest {
            group_ids: vec![groups[1].clone(), groups[2].clone()],
            unassigned_only: true,
            tags: vec!["vip".into()],
            ..Default::default()
        },
        SearchTicketsRequest {
            create_start_time: at("2026-01-03T00:00:00Z"),
            channels: vec![TicketChannel::External as i32],
            subject_query: "refund".into(),
            priorities: vec![TicketPriority::Low as i32, TicketPriority::Urgent as i32],
            ..Default::default()
        },
        SearchTicketsRequest {
            requester_name: "ＫＩＭ".into(),
            requester_email: "minsu@example.com".into(),
            assignee_logins: vec!["lee".into()],
            ..Default::default()
        },
    ];
    // Every order, for some of them.
    for (i, by) in [
        TicketOrderBy::CreateTimeAsc,
        TicketOrderBy::UpdateTimeDesc,
        TicketOrderBy::PriorityDesc,
    ]
    .into_iter()
    .enumerate()
    {
        for base in [0, 6, 7, 20, 29] {
            requests.push(SearchTicketsRequest {
                order_by: by as i32,
                page_size: [13, 50, 200][i],
                ..requests[base].clone()
            });
        }
    }
    let mut checked = 0;
    for request in &requests {
        for viewer in &viewers {
            let want = expected(&scenario, viewer, request);
            let got = all_pages(&mesh, viewer, request, want.len()).await;
            assert_eq!(got, want, "{} searching {request:?}", viewer.login);
            checked += want.len();
        }
    }
    assert!(
        checked > 10_000,
        "the searches found enough to mean something: {checked}"
    );

    // Named expectations, beside the direct computation.
    let subjects = |numbers: Vec<i64>| -> Vec<String> {
        let mut found: Vec<String> = numbers
            .iter()
            .map(|n| {
                scenario
                    .iter()
                    .find(|t| t.number == *n)
                    .unwrap()
                    .subject
                    .clone()
            })
            .collect();
        found.sort();
        found.dedup();
        found
    };
    let of = |r| expected(&scenario, &viewers[0], &r);
    assert_eq!(
        subjects(of(s("환불"))),
        [
            "주문 취소 및 환불",
            "환불요청",
            "환불은 괜찮나요",
            "환불은 언제 되나요"
        ]
    );
    assert_eq!(
        subjects(of(s("ｒｅｆｕｎｄ"))),
        ["REFUND please", "Refund ＡＢＣ"]
    );
    let written = scenario[0].number;
    let (found, _, _) = search(
        &mesh,
        &admin,
        SearchTicketsRequest {
            subject_query: "ｒｅｆｕｎｄ abc".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        found.iter().any(|t| t.number == written),
        "CreateTicket's row is found by its normalised subject"
    );
    let (found, _, _) = search(
        &mesh,
        &admin,
        SearchTicketsRequest {
            requester_name: "민수".into(),
            number: written,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1, "and by its normalised requester name");
    mesh.stop().await;
}

#[tokio::test]
async fn search_bad_input_is_named_by_field_and_callers_are_staff_only() {
    let mesh = Mesh::start().await;
    let admin = mesh.admin();
    let bad = |r: SearchTicketsRequest| {
        let (mesh, admin) = (&mesh, admin.clone());
        async move {
            let status = search(mesh, &admin, r).await.unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
            violated_fields(&status)
        }
    };
    assert_eq!(
        bad(SearchTicketsRequest {
            statuses: vec![1, 77],
            group_ids: vec!["x".into()],
            ..Default::default()
        })
        .await,
        ["group_ids[0]", "statuses[1]"]
    );
    assert_eq!(
        bad(SearchTicketsRequest {
            create_start_time: at("2026-02-01T00:00:00Z"),
            create_end_time: at("2026-01-01T00:00:00Z"),
            ..Default::default()
        })
        .await,
        ["create_end_time"]
    );
    assert_eq!(
        bad(SearchTicketsRequest {
            create_start_time: Some(prost_types::Timestamp {
                seconds: 0,
                nanos: -1
            }),
            ..Default::default()
        })
        .await,
        ["create_start_time"]
    );
    assert_eq!(
        bad(SearchTicketsRequest {
            subject_query: "환".repeat(201),
            ..Default::default()
        })
        .await,
        ["subject_query"]
    );
    assert_eq!(
        bad(SearchTicketsRequest {
            unassigned_only: true,
            assignee_logins: vec!["kim".into()],
            ..Default::default()
        })
        .await,
        ["unassigned_only"]
    );
    assert_eq!(
        bad(SearchTicketsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await,
        ["page_size"]
    );
    assert_eq!(
        bad(SearchTicketsRequest {
            priorities: vec![0],
            channels: vec![9],
            inquiry_type_ids: vec!["".into()],
            ..Default::default()
        })
        .await,
        ["priorities[0]", "channels[0]", "inquiry_type_ids[0]"]
    );

    // A token is for the filters it was made with.
    let group = mesh.group("A팀").await.id;
    for subject in ["환불 1", "환불 2"] {
        mesh.create(&admin, &group, subject).await.unwrap();
    }
    let first = SearchTicketsRequest {
        subject_query: "환불".into(),
        page_size: 1,
        ..Default::default()
    };
    let (_, token, total) = search(&mesh, &admin, first.clone()).await.unwrap();
    assert_eq!(total, 2);
    let other = SearchTicketsRequest {
        subject_query: "환".into(),
        page_token: token.clone(),
        ..first.clone()
    };
    assert_eq!(bad(other).await, ["page_token"]);
    let reordered = SearchTicketsRequest {
        order_by: TicketOrderBy::PriorityDesc as i32,
        page_token: token,
        ..first
    };
    assert_eq!(bad(reordered).await, ["page_token"]);

    let service = search(&mesh, &mesh.ingest_key, SearchTicketsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(service.code(), Code::PermissionDenied);
    mesh.stop().await;
}

/// More tickets than the first phase reads (2,000 rows in the order): a word common among the
/// newest tickets fills its pages from them; a word rare among them, common among the oldest,
/// falls back to the bigram index; both page to the end in every order as computed directly.
#[tokio::test]
async fn search_beyond_the_first_phases_rows_finds_every_match_in_order() {
    let mesh = Mesh::start().await;
    let group = mesh.group("환불팀").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let ids = Ids {
        groups: vec![group.clone()],
        inquiry: vec![Uuid::now_v7().to_string()],
        processing: vec![Uuid::now_v7().to_string()],
        accounts: vec![Uuid::now_v7().to_string()],
    };
    let n = 2_400;
    // Numbers (and times) grow with i: the oldest are the first.
    let scenario = seed(&mesh, n, &ids, |i, rng| {
        let rare = i < 200 || rng.below(400) == 0;
        format!("흔한 문의 {}", if rare { "희귀환불" } else { "보통" })
    })
    .await;
    let viewers = [
        Viewer::admin(&mesh),
        Viewer::agent(&mesh, &kim, std::slice::from_ref(&group)),
    ];
    for query in ["흔한", "희귀", "희귀환불 문의"] {
        for by in [
            TicketOrderBy::CreateTimeDesc,
            TicketOrderBy::CreateTimeAsc,
            TicketOrderBy::PriorityDesc,
        ] {
            let request = SearchTicketsRequest {
                subject_query: query.into(),
                order_by: by as i32,
                page_size: 200,
                ..Default::default()
            };
            for viewer in &viewers {
                let want = expected(&scenario, viewer, &request);
                assert!(want.len() > 100, "{query}: {}", want.len());
                let got = all_pages(&mesh, viewer, &request, want.len()).await;
                assert_eq!(got, want, "{} searching {query} by {by:?}", viewer.login);
            }
        }
    }
    mesh.stop().await;
}

/// A ticket as migration 0005 left an older row (its subject lower-cased by SQL, which leaves
/// full-width letters as they are) is matched by its normalised subject once written again.
#[tokio::test]
async fn search_a_backfilled_ticket_is_normalised_by_its_next_write() {
    let mesh = Mesh::start().await;
    let admin = mesh.admin();
    let group = mesh.group("환불팀").await.id;
    let ticket = mesh
        .create(&admin, &group, "ＲＥＦＵＮＤ 환불")
        .await
        .unwrap();
    sqlx::query(
        "UPDATE tickets SET subject_norm = lower(subject), subject_bigrams = '{}',
         requester_name_norm = lower(requester_name) WHERE number = $1",
    )
    .bind(ticket.number)
    .execute(&mesh.pool)
    .await
    .unwrap();
    let refund = SearchTicketsRequest {
        subject_query: "refund".into(),
        ..Default::default()
    };
    let (found, _, total) = search(&mesh, &admin, refund.clone()).await.unwrap();
    assert_eq!((found.len(), total), (0, 0), "not yet normalised");
    mesh.set_priority(&admin, &ticket.id, TicketPriority::High as i32)
        .await
        .unwrap();
    let (found, _, total) = search(&mesh, &admin, refund).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(found[0].number, ticket.number);
    mesh.stop().await;
}
