//! Customer messages through `IngestTicketMessage`: threading in the rpc's order, re-opening,
//! follow-ups of closed tickets, and one message however often it is delivered.

use std::sync::Arc;

use switchboard_platform::time::timestamp;
use switchboard_proto::ticket::v1::{
    IngestTicketMessageRequest, IngestTicketMessageResponse, ListTicketEventsRequest,
    ListTicketMessagesRequest, ReplyDisposition, TicketChannel, TicketEventKind,
    TicketIngestOutcome, TicketMessageKind, TicketRequester, TicketStatus,
};
use tonic::{Code, Status};

use crate::common::{Mesh, bearer};

fn mail(account: &str, message_id: &str, from: &str, subject: &str) -> IngestTicketMessageRequest {
    IngestTicketMessageRequest {
        dedup_key: format!("mail:{account}:{message_id}"),
        channel: TicketChannel::Email as i32,
        mail_account_id: account.into(),
        requester: Some(TicketRequester {
            name: "김민수".into(),
            email: from.into(),
            ..Default::default()
        }),
        subject: subject.into(),
        body_text: "주문한 상품 환불 부탁드립니다 🙏".into(),
        to_addresses: vec!["help@example.co.kr".into()],
        mail_message_id: message_id.into(),
        receive_time: Some(timestamp(chrono::Utc::now())),
        ..Default::default()
    }
}

async fn ingest(
    mesh: &Mesh,
    request: IngestTicketMessageRequest,
) -> Result<IngestTicketMessageResponse, Status> {
    let response = mesh
        .ingest()
        .await
        .ingest_ticket_message(bearer(request, &mesh.ingest_key))
        .await?;
    Ok(response.into_inner())
}

async fn messages(mesh: &Mesh, ticket: &str) -> Vec<switchboard_proto::ticket::v1::TicketMessage> {
    mesh.tickets()
        .await
        .list_ticket_messages(bearer(
            ListTicketMessagesRequest {
                ticket_id: ticket.into(),
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .messages
}

#[tokio::test]
async fn replies_thread_by_message_id_and_reopen_a_solved_ticket_to_its_assignee() {
    let mesh = Mesh::start().await;
    let account = mesh.reply_account("help@example.co.kr").await;
    let group = mesh.group("결제").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let first = ingest(
        &mesh,
        mail(
            &account,
            "a1@mail.example.com",
            "Minsu@Example.com",
            "환불 문의",
        ),
    )
    .await
    .unwrap();
    assert_eq!(first.outcome(), TicketIngestOutcome::Created);
    let ticket = mesh.get(&mesh.admin(), &first.ticket_id).await.unwrap();
    assert_eq!(ticket.status(), TicketStatus::Unassigned);
    assert_eq!(ticket.channel(), TicketChannel::Email);
    assert_eq!(ticket.subject, "환불 문의");
    assert_eq!(ticket.requester.unwrap().email, "Minsu@example.com");
    // The agent takes it (into their only group) and solves it with a reply.
    mesh.take(&mesh.token(&kim), &ticket.id).await.unwrap();
    let solved = mesh
        .reply(
            &mesh.token(&kim),
            &ticket.id,
            ReplyDisposition::Solve,
            "환불 처리되었습니다.",
        )
        .await
        .unwrap();
    assert_eq!(solved.status(), TicketStatus::Solved);
    let reply = messages(&mesh, &ticket.id).await.pop().unwrap();
    assert_eq!(reply.kind(), TicketMessageKind::PublicReply);
    assert_eq!(reply.subject, format!("Re: 환불 문의 [#{}]", ticket.number));
    assert!(
        reply.mail_message_id.ends_with("@example.co.kr"),
        "{}",
        reply.mail_message_id
    );
    // The customer answers the reply: the same ticket, back in progress with the same agent.
    let mut answer = mail(
        &account,
        "a2@mail.example.com",
        "minsu@example.com",
        "Re: 환불 문의",
    );
    answer.in_reply_to = vec![reply.mail_message_id.clone()];
    answer.references = vec!["a1@mail.example.com".into(), reply.mail_message_id.clone()];
    let threaded = ingest(&mesh, answer).await.unwrap();
    assert_eq!(threaded.outcome(), TicketIngestOutcome::Threaded);
    assert_eq!(threaded.ticket_id, ticket.id);
    let reopened = mesh.get(&mesh.admin(), &ticket.id).await.unwrap();
    assert_eq!(reopened.status(), TicketStatus::InProgress);
    assert_eq!(reopened.assignee_login, kim);
    assert!(reopened.auto_close_time.is_none());
    assert!(reopened.solve_time.is_some(), "kept when re-opened");
    assert_eq!(reopened.message_count, 3);
    let bodies: Vec<String> = messages(&mesh, &ticket.id)
        .await
        .into_iter()
        .map(|m| m.body_text)
        .collect();
    assert_eq!(bodies[0], "주문한 상품 환불 부탁드립니다 🙏");
    mesh.stop().await;
}

#[tokio::test]
async fn a_subject_number_threads_only_for_the_same_requester_and_the_help_center_never_threads() {
    let mesh = Mesh::start().await;
    let account = mesh.reply_account("help@example.co.kr").await;
    let first = ingest(
        &mesh,
        mail(&account, "b1@x.com", "kim@example.com", "배송 문의"),
    )
    .await
    .unwrap();
    let subject = format!("Re: 배송 문의 [#{}]", first.ticket_number);
    let same = ingest(
        &mesh,
        mail(&account, "b2@x.com", "KIM@example.com", &subject),
    )
    .await
    .unwrap();
    assert_eq!(same.outcome(), TicketIngestOutcome::Threaded);
    assert_eq!(same.ticket_id, first.ticket_id);
    let stranger = ingest(
        &mesh,
        mail(&account, "b3@x.com", "lee@example.com", &subject),
    )
    .await
    .unwrap();
    assert_eq!(stranger.outcome(), TicketIngestOutcome::Created);
    let mut form = mail(&account, "", "kim@example.com", &subject);
    form.channel = TicketChannel::HelpCenter as i32;
    form.dedup_key = "helpcenter:1".into();
    form.mail_account_id = String::new();
    let help = ingest(&mesh, form).await.unwrap();
    assert_eq!(help.outcome(), TicketIngestOutcome::Created);
    mesh.stop().await;
}

#[tokio::test]
async fn external_channel_messages_thread_by_their_conversation_key() {
    let mesh = Mesh::start().await;
    let chat = |n: u32| IngestTicketMessageRequest {
        dedup_key: format!("channel:kakaotalk:{n}"),
        channel: TicketChannel::External as i32,
        external_channel: "kakaotalk".into(),
        external_thread_key: "room-77".into(),
        external_message_id: n.to_string(),
        requester: Some(TicketRequester {
            name: "카카오 고객".into(),
            external_user_id: "kakao-user-1".into(),
            ..Default::default()
        }),
        body_text: format!("메시지 {n}"),
        receive_time: Some(timestamp(chrono::Utc::now())),
        ..Default::default()
    };
    let first = ingest(&mesh, chat(1)).await.unwrap();
    assert_eq!(first.outcome(), TicketIngestOutcome::Created);
    let second = ingest(&mesh, chat(2)).await.unwrap();
    assert_eq!(second.outcome(), TicketIngestOutcome::Threaded);
    assert_eq!(second.ticket_id, first.ticket_id);
    let ticket = mesh.get(&mesh.admin(), &first.ticket_id).await.unwrap();
    assert_eq!(ticket.external_channel, "kakaotalk");
    assert_eq!(ticket.subject, "(no subject)");
    mesh.stop().await;
}

#[tokio::test]
async fn a_message_about_a_closed_ticket_makes_a_linked_follow_up() {
    let mesh = Mesh::start().await;
    let account = mesh.reply_account("help@example.co.kr").await;
    let first = ingest(
        &mesh,
        mail(&account, "c1@x.com", "kim@example.com", "교환 문의"),
    )
    .await
    .unwrap();
    mesh.close(&mesh.admin(), &first.ticket_id).await.unwrap();
    let mut again = mail(&account, "c2@x.com", "kim@example.com", "Re: 교환 문의");
    again.in_reply_to = vec!["c1@x.com".into()];
    let follow = ingest(&mesh, again).await.unwrap();
    assert_eq!(follow.outcome(), TicketIngestOutcome::FollowUpCreated);
    assert_eq!(follow.linked_ticket_id, first.ticket_id);
    assert_ne!(follow.ticket_id, first.ticket_id);
    let new = mesh.get(&mesh.admin(), &follow.ticket_id).await.unwrap();
    assert_eq!(new.linked_ticket_id, first.ticket_id);
    assert_eq!(new.linked_ticket_number, first.ticket_number);
    assert_eq!(new.status(), TicketStatus::Unassigned);
    let closed = mesh.get(&mesh.admin(), &first.ticket_id).await.unwrap();
    assert_eq!(closed.status(), TicketStatus::Closed);
    let history = mesh
        .tickets()
        .await
        .list_ticket_events(bearer(
            ListTicketEventsRequest {
                ticket_id: first.ticket_id.clone(),
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    let last = history.last().unwrap();
    assert_eq!(last.kind(), TicketEventKind::FollowUpCreated);
    assert_eq!(last.related_ticket_id, follow.ticket_id);
    mesh.stop().await;
}

#[tokio::test]
async fn one_message_delivered_a_hundred_times_at_once_is_stored_once() {
    let mesh = Arc::new(Mesh::start().await);
    let account = mesh.reply_account("help@example.co.kr").await;
    let other = mesh.reply_account("sales@example.co.kr").await;
    let mut calls = Vec::new();
    for i in 0..100 {
        let mesh = Arc::clone(&mesh);
        // Half by one account's key, half by another's: the same Message-ID either way.
        let account = if i % 2 == 0 {
            account.clone()
        } else {
            other.clone()
        };
        calls.push(tokio::spawn(async move {
            ingest(
                &mesh,
                mail(&account, "storm@x.com", "kim@example.com", "폭주"),
            )
            .await
            .unwrap()
        }));
    }
    let mut created = 0;
    let mut tickets = std::collections::HashSet::new();
    let mut message_ids = std::collections::HashSet::new();
    for call in calls {
        let response = call.await.unwrap();
        match response.outcome() {
            TicketIngestOutcome::Created => created += 1,
            TicketIngestOutcome::Duplicate => {}
            other => panic!("{other:?}"),
        }
        tickets.insert(response.ticket_id);
        message_ids.insert(response.message_id);
    }
    assert_eq!(created, 1);
    assert_eq!(tickets.len(), 1);
    assert_eq!(message_ids.len(), 1);
    let (stored,): (i64,) = sqlx::query_as("SELECT count(*) FROM messages")
        .fetch_one(&mesh.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    Arc::into_inner(mesh).unwrap().stop().await;
}

#[tokio::test]
async fn ingest_is_for_its_scope_and_names_bad_fields() {
    let mesh = Mesh::start().await;
    let account = mesh.reply_account("help@example.co.kr").await;
    let group = mesh.group("결제").await.id;
    let kim = mesh.agent("kim", &[group]).await;
    let denied = mesh
        .ingest()
        .await
        .ingest_ticket_message(bearer(
            mail(&account, "d@x.com", "a@b.com", "x"),
            &mesh.token(&kim),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let mut bad = mail("not-a-uuid", "d@x.com", "no-address", "x");
    bad.dedup_key = String::new();
    bad.receive_time = None;
    let refused = ingest(&mesh, bad).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields = switchboard_platform::error::violated_fields(&refused);
    for field in [
        "dedup_key",
        "mail_account_id",
        "requester.email",
        "receive_time",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }
    let unknown = ingest(
        &mesh,
        mail(&uuid::Uuid::now_v7().to_string(), "e@x.com", "a@b.com", "x"),
    )
    .await
    .unwrap_err();
    assert_eq!(
        switchboard_platform::error::violated_fields(&unknown),
        ["mail_account_id"]
    );
    let (stored,): (i64,) = sqlx::query_as("SELECT count(*) FROM tickets")
        .fetch_one(&mesh.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0, "nothing half-written");
    mesh.stop().await;
}

#[tokio::test]
async fn messages_ingested_together_end_as_each_would_alone_and_a_refused_one_fails_alone() {
    let mesh = Arc::new(Mesh::start().await);
    let account = mesh.reply_account("help@example.co.kr").await;
    let mut parents = Vec::new();
    for j in 0..20 {
        let id = format!("p{j}@x.com");
        let first = ingest(&mesh, mail(&account, &id, "lee@example.com", "배송 문의"))
            .await
            .unwrap();
        parents.push(first.ticket_id);
    }
    // 60 new mails, 20 of them delivered twice, and 20 replies to the tickets above, all at
    // once: batches of the ticket service's writer.
    let mut requests = Vec::new();
    for i in 0..60 {
        requests.push(mail(
            &account,
            &format!("n{i}@x.com"),
            "kim@example.com",
            "환불",
        ));
    }
    for i in 0..20 {
        requests.push(mail(
            &account,
            &format!("n{i}@x.com"),
            "kim@example.com",
            "환불",
        ));
    }
    for j in 0..20 {
        let mut reply = mail(
            &account,
            &format!("r{j}@x.com"),
            "lee@example.com",
            "Re: 배송",
        );
        reply.in_reply_to = vec![format!("p{j}@x.com")];
        requests.push(reply);
    }
    let answers: Vec<IngestTicketMessageResponse> = all_at_once(&mesh, requests)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    for i in 0..20 {
        let (a, b) = (&answers[i], &answers[60 + i]);
        let mut outcomes = [a.outcome(), b.outcome()];
        outcomes.sort_by_key(|o| *o as i32);
        assert_eq!(
            outcomes,
            [TicketIngestOutcome::Created, TicketIngestOutcome::Duplicate]
        );
        assert_eq!((&a.ticket_id, &a.message_id), (&b.ticket_id, &b.message_id));
    }
    for answer in &answers[20..60] {
        assert_eq!(answer.outcome(), TicketIngestOutcome::Created);
    }
    for (j, answer) in answers[80..100].iter().enumerate() {
        assert_eq!(answer.outcome(), TicketIngestOutcome::Threaded);
        assert_eq!(answer.ticket_id, parents[j]);
    }
    let numbers: std::collections::HashSet<i64> =
        answers[..60].iter().map(|a| a.ticket_number).collect();
    assert_eq!(numbers.len(), 60, "each new ticket its own number");
    let count = |sql: &'static str| {
        let pool = mesh.pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
            n
        }
    };
    assert_eq!(count("SELECT count(*) FROM tickets").await, 80);
    assert_eq!(count("SELECT count(*) FROM messages").await, 100);
    let burst = count(
        "SELECT count(DISTINCT xmin::text) FROM messages
         WHERE mail_message_id LIKE 'n%' OR mail_message_id LIKE 'r%'",
    )
    .await;
    assert!(
        burst < 80,
        "{burst} transactions for the 80 messages stored"
    );
    // One for a mail account that does not exist, among 40 new ones: it fails its batch, which
    // is ingested again message by message, so it alone fails.
    let nobody = uuid::Uuid::now_v7().to_string();
    let mut requests: Vec<_> = (0..40)
        .map(|i| mail(&account, &format!("m{i}@x.com"), "kim@example.com", "환불"))
        .collect();
    requests.insert(20, mail(&nobody, "lost@x.com", "kim@example.com", "환불"));
    let mut answers = all_at_once(&mesh, requests).await;
    let refused = answers.remove(20).unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("mail_account_id"), "{refused:?}");
    for answer in answers {
        assert_eq!(answer.unwrap().outcome(), TicketIngestOutcome::Created);
    }
    assert_eq!(count("SELECT count(*) FROM messages").await, 140);
    Arc::into_inner(mesh).unwrap().stop().await;
}

/// Each of `requests` ingested at once; the answers in their order.
async fn all_at_once(
    mesh: &Arc<Mesh>,
    requests: Vec<IngestTicketMessageRequest>,
) -> Vec<Result<IngestTicketMessageResponse, Status>> {
    let calls: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let mesh = Arc::clone(mesh);
            tokio::spawn(async move { ingest(&mesh, request).await })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap());
    }
    answers
}
