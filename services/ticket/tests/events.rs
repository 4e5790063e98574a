//! What the bus sees: every change's event with the ticket's version, the request to send a
//! reply, and delivery reports coming back without changing the ticket's version.

use std::time::Duration;

use switchboard_platform::{
    events::{NewEvent, publish},
    testing,
};
use switchboard_proto::{
    events::{
        Event,
        v1::{MailFailed, MailSent, TicketCreated, TicketMessageAdded, TicketReplyRequested},
    },
    inbound::v1::OutboundMessage,
    ticket::v1::{
        DeliveryState, ListTicketEventsRequest, ListTicketMessagesRequest, ReplyDisposition,
        TicketEventKind, TicketMessageKind,
    },
};

use crate::common::{EventTap, Mesh, bearer};

#[tokio::test]
async fn every_change_reaches_rabbitmq_with_the_ticket_version() {
    let mesh = Mesh::start().await;
    let tap = EventTap::start(&mesh.gateway, &["ticket.*", "ticket_message.*"]).await;
    mesh.reply_account("help@example.co.kr").await;
    let group = mesh.group("결제").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let token = mesh.token(&kim);
    let ticket = mesh.create(&token, &group, "환불 문의").await.unwrap();
    mesh.take(&token, &ticket.id).await.unwrap();
    mesh.reply(
        &token,
        &ticket.id,
        ReplyDisposition::Hold,
        "확인 중입니다 🙇",
    )
    .await
    .unwrap();
    let last = mesh.comment(&token, &ticket.id, "내부 메모").await.unwrap();
    assert_eq!(last.version, 4);
    tap.wait_for("the comment's event", |e| {
        e.aggregate_id == ticket.id && e.aggregate_version == 4
    })
    .await;
    let mut of_ticket: Vec<_> = tap
        .events()
        .into_iter()
        .filter(|e| e.aggregate_id == ticket.id)
        .collect();
    of_ticket.sort_by_key(|e| e.aggregate_version);
    let seen: Vec<(i64, &str)> = of_ticket
        .iter()
        .map(|e| (e.aggregate_version, e.event_type.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (1, "ticket.created"),
            (2, "ticket.assigned"),
            (3, "ticket.message_added"),
            (4, "ticket.message_added")
        ]
    );
    let created: TicketCreated = of_ticket[0].unpack().unwrap();
    assert_eq!(created.ticket.unwrap().subject, "환불 문의");
    let replied: TicketMessageAdded = of_ticket[2].unpack().unwrap();
    assert!(replied.first_reply);
    assert_eq!(replied.kind(), TicketEventKind::Replied);
    assert_eq!(replied.ticket.as_ref().unwrap().version, 3);
    let send = tap
        .wait_for("the reply's send request", |e| {
            e.event_type == TicketReplyRequested::EVENT_TYPE
        })
        .await;
    let send: TicketReplyRequested = send.unpack().unwrap();
    assert_eq!(send.ticket_id, ticket.id);
    assert_eq!(send.to_addresses, ["minsu.kim@example.co.kr"]);
    assert_eq!(send.from_address, "help@example.co.kr");
    assert_eq!(send.body_text, "확인 중입니다 🙇");
    assert_eq!(send.subject, format!("환불 문의 [#{}]", ticket.number));
    assert_eq!(send.kind(), TicketMessageKind::PublicReply);
    // Internal comments are never sent.
    let sends = tap
        .events()
        .iter()
        .filter(|e| e.event_type == TicketReplyRequested::EVENT_TYPE)
        .count();
    assert_eq!(sends, 1);
    mesh.stop().await;
}

/// Publishes a delivery report as mail-ingest would: through an outbox (the gateway's, in the
/// test) and RabbitMQ.
async fn report<E: Event>(mesh: &Mesh, payload: &E, outbound_id: &str) {
    let mut conn = mesh.gateway.pool.acquire().await.unwrap();
    publish(
        &mut conn,
        "mail-ingest",
        NewEvent::new(payload, outbound_id, 1),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn delivery_reports_set_the_reply_state_without_a_new_ticket_version() {
    let mesh = Mesh::start().await;
    mesh.reply_account("help@example.co.kr").await;
    let group = mesh.group("결제").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let token = mesh.token(&kim);
    let ticket = mesh.create(&token, &group, "배송 문의").await.unwrap();
    mesh.take(&token, &ticket.id).await.unwrap();
    let solved = mesh
        .reply(&token, &ticket.id, ReplyDisposition::Solve, "발송했습니다")
        .await
        .unwrap();
    mesh.reply(&token, &ticket.id, ReplyDisposition::Solve, "추가 안내")
        .await
        .unwrap();
    let replies: Vec<_> = mesh
        .tickets()
        .await
        .list_ticket_messages(bearer(
            ListTicketMessagesRequest {
                ticket_id: ticket.id.clone(),
                kinds: vec![TicketMessageKind::PublicReply as i32],
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .messages;
    assert_eq!(replies.len(), 2);
    assert!(
        replies
            .iter()
            .all(|m| m.delivery_state() == DeliveryState::Queued)
    );
    let outbound = |message: &str, error: &str| OutboundMessage {
        id: uuid::Uuid::now_v7().to_string(),
        ticket_id: ticket.id.clone(),
        ticket_message_id: message.into(),
        last_error: error.into(),
        ..Default::default()
    };
    let sent = outbound(&replies[0].id, "");
    report(
        &mesh,
        &MailSent {
            outbound_message: Some(sent.clone()),
            smtp_response: "250 ok".into(),
        },
        &sent.id,
    )
    .await;
    let failed = outbound(&replies[1].id, "550 mailbox unavailable");
    report(
        &mesh,
        &MailFailed {
            outbound_message: Some(failed.clone()),
            permanent: true,
        },
        &failed.id,
    )
    .await;
    let states = || async {
        mesh.tickets()
            .await
            .list_ticket_messages(bearer(
                ListTicketMessagesRequest {
                    ticket_id: ticket.id.clone(),
                    kinds: vec![TicketMessageKind::PublicReply as i32],
                    ..Default::default()
                },
                &mesh.admin(),
            ))
            .await
            .unwrap()
            .into_inner()
            .messages
            .into_iter()
            .map(|m| (m.delivery_state(), m.delivery_error))
            .collect::<Vec<_>>()
    };
    let reported = testing::eventually(Duration::from_secs(15), || async {
        states().await
            == [
                (DeliveryState::Sent, String::new()),
                (DeliveryState::Failed, "550 mailbox unavailable".to_string()),
            ]
    })
    .await;
    assert!(reported, "{:?}", states().await);
    let after = mesh.get(&mesh.admin(), &ticket.id).await.unwrap();
    assert_eq!(
        after.version,
        solved.version + 1,
        "reports change no version"
    );
    let history = mesh
        .tickets()
        .await
        .list_ticket_events(bearer(
            ListTicketEventsRequest {
                ticket_id: ticket.id.clone(),
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    let failure = history.last().unwrap();
    assert_eq!(failure.kind(), TicketEventKind::DeliveryFailed);
    assert_eq!(failure.note, "550 mailbox unavailable");
    assert_eq!(failure.message_id, replies[1].id);
    mesh.stop().await;
}
