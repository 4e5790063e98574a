//! `CreateTicket`: idempotent on `request_id` under concurrency, a first reply sent to the
//! requester, and every bad field of the working rpcs named, with nothing written.

use std::sync::Arc;

use switchboard_platform::error::violated_fields;
use switchboard_proto::ticket::v1::{
    AddCommentRequest, CreateTicketRequest, ForwardTicketRequest, ListTicketEventsRequest,
    ListTicketMessagesRequest, ReplyDisposition, ReplyTicketRequest, ResolveInternallyRequest,
    TakeTicketRequest, Ticket, TicketChannel, TicketMessageKind, TicketRequester, TicketStatus,
    UpdateTicketRequest,
};
use tonic::{Code, Status};

use crate::common::{Mesh, bearer};

fn request(group: &str, request_id: &str) -> CreateTicketRequest {
    CreateTicketRequest {
        request_id: request_id.into(),
        ticket: Some(Ticket {
            subject: "전화 문의: 요금제 변경".into(),
            group_id: group.into(),
            channel: TicketChannel::Phone as i32,
            requester: Some(TicketRequester {
                name: "박지은".into(),
                email: "jieun@example.com".into(),
                phone_number: "+821012345678".into(),
                ..Default::default()
            }),
            tags: vec!["요금제".into(), "VIP".into()],
            customer_fields: [("plan".to_string(), "5G 프리미엄".to_string())].into(),
            ..Default::default()
        }),
        body: "고객이 요금제 변경을 원함 😀".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_hundred_concurrent_creates_with_one_request_id_make_one_ticket() {
    let mesh = Arc::new(Mesh::start().await);
    let group = mesh.group("요금").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut calls = Vec::new();
    for _ in 0..100 {
        let (mesh, group, request_id, token) = (
            Arc::clone(&mesh),
            group.clone(),
            request_id.clone(),
            mesh.token(&kim),
        );
        calls.push(tokio::spawn(async move {
            mesh.tickets()
                .await
                .create_ticket(bearer(request(&group, &request_id), &token))
                .await
                .unwrap()
                .into_inner()
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for call in calls {
        let response = call.await.unwrap();
        let ticket = response.ticket.unwrap();
        assert_eq!(ticket.subject, "전화 문의: 요금제 변경");
        assert_eq!(ticket.tags, ["vip", "요금제"]);
        assert_eq!(ticket.customer_fields["plan"], "5G 프리미엄");
        assert_eq!(
            response.message.unwrap().body_text,
            "고객이 요금제 변경을 원함 😀"
        );
        ids.insert(ticket.id);
    }
    assert_eq!(ids.len(), 1);
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM tickets")
        .fetch_one(&mesh.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    // The same id with another body is refused.
    let mut other = request(&group, &request_id);
    other.body = "다른 내용".into();
    let reused = mesh
        .tickets()
        .await
        .create_ticket(bearer(other, &mesh.token(&kim)))
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::AlreadyExists);
    // Another agent sending the very same request gets no part of the first one's answer.
    let park = mesh.agent("park", std::slice::from_ref(&group)).await;
    let copied = mesh
        .tickets()
        .await
        .create_ticket(bearer(request(&group, &request_id), &mesh.token(&park)))
        .await
        .unwrap_err();
    assert_eq!(copied.code(), Code::AlreadyExists);
    // Ids come back in their canonical form whatever form they were sent in.
    let shouted = mesh
        .tickets()
        .await
        .create_ticket(bearer(
            request(&group.to_uppercase(), ""),
            &mesh.token(&kim),
        ))
        .await
        .unwrap()
        .into_inner()
        .ticket
        .unwrap();
    assert_eq!(shouted.group_id, group);
    Arc::into_inner(mesh).unwrap().stop().await;
}

#[tokio::test]
async fn a_ticket_created_with_a_reply_to_the_requester_is_assigned_and_solved() {
    let mesh = Mesh::start().await;
    mesh.reply_account("help@example.co.kr").await;
    let group = mesh.group("요금").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let mut create = request(&group, "");
    create.send_to_requester = true;
    create.disposition = ReplyDisposition::Solve as i32;
    let response = mesh
        .tickets()
        .await
        .create_ticket(bearer(create, &mesh.token(&kim)))
        .await
        .unwrap()
        .into_inner();
    let ticket = response.ticket.unwrap();
    assert_eq!(ticket.status(), TicketStatus::Solved);
    assert_eq!(ticket.assignee_login, kim, "defaults to the agent writing");
    assert_eq!(ticket.first_reply_time, ticket.create_time);
    let message = response.message.unwrap();
    assert_eq!(message.kind(), TicketMessageKind::PublicReply);
    assert_eq!(message.to_addresses, ["jieun@example.com"]);
    // Without an address the reply cannot be sent.
    let mut no_address = request(&group, "");
    no_address.send_to_requester = true;
    no_address
        .ticket
        .as_mut()
        .unwrap()
        .requester
        .as_mut()
        .unwrap()
        .email
        .clear();
    let refused = mesh
        .tickets()
        .await
        .create_ticket(bearer(no_address, &mesh.token(&kim)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    mesh.stop().await;
}

/// A create with a bad value in every field it checks (and `request_id`).
fn bad_create(request_id: &str) -> CreateTicketRequest {
    let mut bad = request("not-a-group", request_id);
    let t = bad.ticket.as_mut().unwrap();
    t.subject = " ".into();
    t.channel = TicketChannel::Email as i32;
    t.tags = vec!["ok".into(), "two words".into()];
    t.requester = Some(TicketRequester {
        email: "nope".into(),
        phone_number: "010".into(),
        ..Default::default()
    });
    t.inquiry_type_id = "x".into();
    bad.disposition = ReplyDisposition::Hold as i32;
    bad.attachment_ids = (0..21).map(|i| i.to_string()).collect();
    bad
}

fn fields_of(result: Result<impl std::fmt::Debug, Status>) -> Vec<String> {
    let status = result.expect_err("bad input is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    violated_fields(&status)
}

#[tokio::test]
async fn every_working_rpc_names_its_bad_fields_and_writes_nothing() {
    let mesh = Mesh::start().await;
    let group = mesh.group("요금").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let token = mesh.token(&kim);
    let ticket = mesh.create(&token, &group, "문의").await.unwrap();
    let client = &mut mesh.tickets().await;
    let got = fields_of(
        client
            .create_ticket(bearer(bad_create("not-a-uuid"), &token))
            .await,
    );
    assert_eq!(got, ["request_id"], "the request id is checked first");
    let got = fields_of(client.create_ticket(bearer(bad_create(""), &token)).await);
    for field in [
        "ticket.group_id",
        "ticket.channel",
        "ticket.requester.email",
        "ticket.requester.phone_number",
        "ticket.inquiry_type_id",
        "ticket.tags[1]",
        "disposition",
        "attachment_ids",
        "ticket.subject",
    ] {
        assert!(got.iter().any(|f| f == field), "{field} in {got:?}");
    }
    let got = fields_of(
        client
            .take_ticket(bearer(
                TakeTicketRequest {
                    ticket_id: "x".into(),
                    group_id: "y".into(),
                },
                &token,
            ))
            .await,
    );
    assert_eq!(got, ["ticket_id", "group_id"]);
    let got = fields_of(
        client
            .forward_ticket(bearer(
                ForwardTicketRequest {
                    ticket_id: ticket.id.clone(),
                    group_id: "y".into(),
                    assignee_login: String::new(),
                    note: "메모".into(),
                },
                &mesh.admin(),
            ))
            .await,
    );
    assert_eq!(got, ["group_id"]);
    let got = fields_of(
        client
            .forward_ticket(bearer(
                ForwardTicketRequest {
                    ticket_id: ticket.id.clone(),
                    group_id: group.clone(),
                    assignee_login: String::new(),
                    note: "가".repeat(10_001),
                },
                &mesh.admin(),
            ))
            .await,
    );
    assert_eq!(got, ["note"]);
    let got = fields_of(
        client
            .reply_ticket(bearer(
                ReplyTicketRequest {
                    ticket_id: ticket.id.clone(),
                    cc_addresses: vec!["a@example.com".into(), "not an address".into()],
                    ..Default::default()
                },
                &token,
            ))
            .await,
    );
    assert_eq!(got, ["disposition", "body", "cc_addresses[1]"]);
    let got = fields_of(
        client
            .add_comment(bearer(
                AddCommentRequest {
                    ticket_id: ticket.id.clone(),
                    body: "가".repeat(100_001),
                    ..Default::default()
                },
                &token,
            ))
            .await,
    );
    assert_eq!(got, ["body"]);
    let got = fields_of(
        client
            .resolve_internally(bearer(
                ResolveInternallyRequest {
                    ticket_id: ticket.id.clone(),
                    reason: 7,
                    note: String::new(),
                    duplicate_of_ticket_id: "z".into(),
                },
                &token,
            ))
            .await,
    );
    assert_eq!(got, ["note", "duplicate_of_ticket_id"]);
    let got = fields_of(
        client
            .update_ticket(bearer(
                UpdateTicketRequest {
                    ticket: Some(Ticket {
                        id: ticket.id.clone(),
                        tags: vec!["".into()],
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["tags".into(), "status".into()],
                    }),
                    expected_version: 0,
                },
                &token,
            ))
            .await,
    );
    assert_eq!(got, ["update_mask", "ticket.tags[0]"]);
    let got = fields_of(
        client
            .list_ticket_messages(bearer(
                ListTicketMessagesRequest {
                    ticket_id: ticket.id.clone(),
                    kinds: vec![0],
                    page_size: 10,
                    page_token: String::new(),
                },
                &token,
            ))
            .await,
    );
    assert_eq!(got, ["kinds[0]"]);
    let got = fields_of(
        client
            .list_ticket_events(bearer(
                ListTicketEventsRequest {
                    ticket_id: ticket.id.clone(),
                    page_size: -1,
                    page_token: String::new(),
                },
                &token,
            ))
            .await,
    );
    assert_eq!(got, ["page_size"]);
    let got = fields_of(
        client
            .list_ticket_events(bearer(
                ListTicketEventsRequest {
                    ticket_id: ticket.id.clone(),
                    page_size: 0,
                    page_token: "garbage".into(),
                },
                &token,
            ))
            .await,
    );
    assert_eq!(got, ["page_token"]);
    for got in [
        mesh.get(&token, "x").await.map(|_| ()),
        mesh.restore(&token, "x").await.map(|_| ()),
        mesh.delete(&token, "x").await,
        mesh.close(&mesh.admin(), "x").await.map(|_| ()),
    ] {
        assert_eq!(fields_of(got), ["ticket_id"]);
    }
    // Nothing of it was written: one ticket, one version.
    let after = mesh.get(&token, &ticket.id).await.unwrap();
    assert_eq!(after.version, 1);
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM tickets")
        .fetch_one(&mesh.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    mesh.stop().await;
}

#[tokio::test]
async fn an_update_names_its_fields_changes_only_them_and_checks_the_version() {
    let mesh = Mesh::start().await;
    let group = mesh.group("요금").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let token = mesh.token(&kim);
    let ticket = mesh.create(&token, &group, "문의").await.unwrap();
    let update = |tags: Vec<String>, expected_version: i64| UpdateTicketRequest {
        ticket: Some(Ticket {
            id: ticket.id.clone(),
            tags,
            priority: 4,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["tags".into()],
        }),
        expected_version,
    };
    let client = &mut mesh.tickets().await;
    let updated = client
        .update_ticket(bearer(
            update(vec!["환불".into(), "긴급".into()], 1),
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .ticket
        .unwrap();
    assert_eq!(updated.tags, ["긴급", "환불"]);
    assert_eq!(updated.priority, ticket.priority, "not in the mask");
    assert_eq!(updated.version, 2);
    let stale = client
        .update_ticket(bearer(update(vec![], 1), &token))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let events = client
        .list_ticket_events(bearer(
            ListTicketEventsRequest {
                ticket_id: ticket.id.clone(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    let change = &events.last().unwrap().changes[0];
    assert_eq!(change.added_tags, ["긴급", "환불"]);
    assert_eq!(change.after, "긴급 환불");
    mesh.stop().await;
}
