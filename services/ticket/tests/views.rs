//! The eight views against a random scenario: for an admin and several agents, every view's
//! members in every order (paged to the end) and its count equal a direct computation from the
//! tickets as they ended up.

use std::collections::HashSet;

use switchboard_platform::time::timestamp;
use switchboard_proto::ticket::v1::{
    CountTicketViewsRequest, IngestTicketMessageRequest, ListTicketsRequest, ReplyDisposition,
    ResolutionReason, Ticket, TicketChannel, TicketOrderBy, TicketRequester, TicketStatus,
    TicketView,
};

use crate::common::{Mesh, bearer};

/// A small deterministic generator (xorshift), so a failing scenario can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

struct Caller {
    login: String,
    token: String,
    groups: Vec<String>,
    admin: bool,
}

fn sees(caller: &Caller, t: &Ticket) -> bool {
    caller.admin
        || t.group_id.is_empty()
        || caller.groups.contains(&t.group_id)
        || t.assignee_login == caller.login
}

fn in_view(caller: &Caller, view: TicketView, t: &Ticket) -> bool {
    use TicketStatus::*;
    let status = t.status();
    let mine = t.assignee_login == caller.login;
    match view {
        TicketView::All => sees(caller, t) && status != Spam,
        TicketView::Unassigned => sees(caller, t) && status == Unassigned,
        TicketView::MyGroups => caller.groups.contains(&t.group_id) && status != Spam,
        TicketView::MyInProgress => mine && status == InProgress,
        TicketView::MyOnHold => mine && status == OnHold,
        TicketView::MySolved => mine && status == Solved,
        TicketView::MyClosed => mine && status == Closed,
        TicketView::Spam => sees(caller, t) && status == Spam,
        TicketView::Unspecified => unreachable!(),
    }
}

fn sort(tickets: &mut [Ticket], order: TicketOrderBy) {
    let time = |t: &Option<prost_types::Timestamp>| t.map(|t| (t.seconds, t.nanos)).unwrap();
    tickets.sort_by(|a, b| {
        let key = match order {
            TicketOrderBy::CreateTimeAsc => time(&a.create_time).cmp(&time(&b.create_time)),
            TicketOrderBy::UpdateTimeDesc => time(&b.update_time).cmp(&time(&a.update_time)),
            TicketOrderBy::PriorityDesc => b
                .priority
                .cmp(&a.priority)
                .then(time(&b.create_time).cmp(&time(&a.create_time))),
            _ => time(&b.create_time).cmp(&time(&a.create_time)),
        };
        key.then(b.number.cmp(&a.number))
    });
}

#[tokio::test]
async fn every_view_in_every_order_equals_a_direct_computation_for_every_caller() {
    let mesh = Mesh::start().await;
    let account = mesh.reply_account("help@example.co.kr").await;
    let groups = [
        mesh.group("결제").await.id,
        mesh.group("배송").await.id,
        mesh.group("기술").await.id,
    ];
    let members: [(&str, Vec<String>); 3] = [
        ("kim", vec![groups[0].clone()]),
        ("lee", vec![groups[1].clone()]),
        ("park", vec![groups[0].clone(), groups[1].clone()]),
    ];
    for (login, of) in &members {
        mesh.agent(login, of).await;
    }
    let admin = mesh.admin();
    let mut rng = Rng(0x5eed_1234_abcd);
    let mut ids = Vec::new();
    for i in 0..120 {
        // A fifth come in by e-mail with no group; the rest are created by an agent of a group.
        let ticket = if rng.below(5) == 0 {
            let request = IngestTicketMessageRequest {
                dedup_key: format!("mail:{i}"),
                channel: TicketChannel::Email as i32,
                mail_account_id: account.clone(),
                requester: Some(TicketRequester {
                    email: format!("c{i}@example.com"),
                    ..Default::default()
                }),
                subject: format!("메일 문의 {i}"),
                receive_time: Some(timestamp(chrono::Utc::now())),
                ..Default::default()
            };
            let id = mesh
                .ingest()
                .await
                .ingest_ticket_message(bearer(request, &mesh.ingest_key))
                .await
                .unwrap()
                .into_inner()
                .ticket_id;
            mesh.get(&admin, &id).await.unwrap()
        } else {
            let (login, of) = &members[rng.below(3) as usize];
            let group = &of[rng.below(of.len() as u64) as usize];
            mesh.create(&mesh.token(login), group, &format!("문의 {i}"))
                .await
                .unwrap()
        };
        let id = ticket.id.clone();
        // Then a random path through the life cycle, by a member who may take it.
        let takers: Vec<(&str, &Vec<String>)> = members
            .iter()
            .filter(|(_, of)| ticket.group_id.is_empty() || of.contains(&ticket.group_id))
            .map(|(login, of)| (*login, of))
            .collect();
        let (taker, of) = takers[rng.below(takers.len() as u64) as usize];
        let token = mesh.token(taker);
        let into = if ticket.group_id.is_empty() {
            of[0].clone()
        } else {
            String::new()
        };
        match rng.below(7) {
            0 => {}
            1 => {
                mesh.take_into(&token, &id, &into).await.unwrap();
            }
            2 | 3 => {
                mesh.take_into(&token, &id, &into).await.unwrap();
                let disposition = if rng.below(2) == 0 {
                    ReplyDisposition::Hold
                } else {
                    ReplyDisposition::Solve
                };
                mesh.reply(&token, &id, disposition, "답변").await.unwrap();
            }
            4 => {
                mesh.take_into(&token, &id, &into).await.unwrap();
                mesh.reply(&token, &id, ReplyDisposition::Solve, "답변")
                    .await
                    .unwrap();
                mesh.close(&admin, &id).await.unwrap();
            }
            5 => {
                mesh.resolve(&token, &id, ResolutionReason::Spam)
                    .await
                    .unwrap();
            }
            _ => {
                mesh.set_priority(&token, &id, 1 + rng.below(4) as i32)
                    .await
                    .unwrap();
            }
        }
        ids.push(id);
    }
    let mut all = Vec::new();
    for id in &ids {
        all.push(mesh.get(&admin, id).await.unwrap());
    }
    let mut callers = vec![Caller {
        login: "admin".into(),
        token: admin.clone(),
        groups: Vec::new(),
        admin: true,
    }];
    for (login, of) in &members {
        callers.push(Caller {
            login: login.to_string(),
            token: mesh.token(login),
            groups: of.clone(),
            admin: false,
        });
    }
    let views = [
        TicketView::All,
        TicketView::Unassigned,
        TicketView::MyGroups,
        TicketView::MyInProgress,
        TicketView::MyOnHold,
        TicketView::MySolved,
        TicketView::MyClosed,
        TicketView::Spam,
    ];
    let orders = [
        TicketOrderBy::CreateTimeDesc,
        TicketOrderBy::CreateTimeAsc,
        TicketOrderBy::UpdateTimeDesc,
        TicketOrderBy::PriorityDesc,
    ];
    let client = &mut mesh.tickets().await;
    for caller in &callers {
        let counts = client
            .count_ticket_views(bearer(CountTicketViewsRequest {}, &caller.token))
            .await
            .unwrap()
            .into_inner()
            .counts;
        for (view, count) in views.iter().zip(&counts) {
            let mut expected: Vec<Ticket> = all
                .iter()
                .filter(|t| in_view(caller, *view, t))
                .cloned()
                .collect();
            assert_eq!(count.view(), *view);
            assert_eq!(
                count.count,
                expected.len() as i64,
                "{} {view:?}",
                caller.login
            );
            for order in orders {
                sort(&mut expected, order);
                let mut listed = Vec::new();
                let mut token = String::new();
                loop {
                    let page = client
                        .list_tickets(bearer(
                            ListTicketsRequest {
                                view: *view as i32,
                                page_size: 7,
                                page_token: token,
                                order_by: order as i32,
                            },
                            &caller.token,
                        ))
                        .await
                        .unwrap()
                        .into_inner();
                    assert_eq!(
                        page.total_size as usize,
                        expected.len(),
                        "{} {view:?}",
                        caller.login
                    );
                    listed.extend(page.tickets.into_iter().map(|t| t.number));
                    if page.next_page_token.is_empty() {
                        break;
                    }
                    token = page.next_page_token;
                }
                let want: Vec<i64> = expected.iter().map(|t| t.number).collect();
                assert_eq!(listed, want, "{} {view:?} {order:?}", caller.login);
            }
        }
        // Nothing an agent may not see, in any view.
        if !caller.admin {
            let seen: HashSet<i64> = all
                .iter()
                .filter(|t| sees(caller, t))
                .map(|t| t.number)
                .collect();
            for view in views {
                for t in all.iter().filter(|t| in_view(caller, view, t)) {
                    assert!(seen.contains(&t.number));
                }
            }
        }
    }
    mesh.stop().await;
}
