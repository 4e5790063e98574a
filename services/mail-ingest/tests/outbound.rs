//! Replies sent by SMTP: threaded so the customer's answer comes back to the ticket, marked
//! sent on the ticket, waiting while the SMTP server is down and sent when it is back, given
//! up after the retry period and queued again by an admin.

use std::time::Duration;

use mail_parser::MessageParser;
use switchboard_platform::testing;
use switchboard_proto::{
    inbound::v1::{
        GetOutboundMessageRequest, ListOutboundMessagesRequest, OutboundState,
        RetryOutboundMessageRequest,
    },
    ticket::v1::{
        DeliveryState, MailTlsMode, SmtpSettings, TicketIngestOutcome, TicketMessageKind,
    },
};
use tonic::Code;

use crate::{
    common::{Mesh, bearer, mail},
    support::smtp_sink::{SmtpSink, free_port},
};

fn local_smtp(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port: i32::from(port),
        tls_mode: MailTlsMode::None as i32,
        ..Default::default()
    }
}

/// The receiving account help@center.example, sending through the SMTP server on `port`.
async fn smtp_account(mesh: &Mesh, port: u16) -> String {
    mesh.account_with(switchboard_proto::ticket::v1::MailAccount {
        address: "help@center.example".into(),
        display_name: "고객센터".into(),
        smtp: Some(local_smtp(port)),
        ..Default::default()
    })
    .await
}

async fn fast_mesh(give_up_after_s: u64) -> Mesh {
    Mesh::start_with(|settings| {
        settings.allow_insecure_mail = true;
        settings.outbound_retry_initial_s = 1;
        settings.outbound_retry_max_s = 1;
        settings.outbound_give_up_after_s = give_up_after_s;
        settings.outbound_poll_ms = 100;
        settings.smtp_timeout_s = 5;
    })
    .await
}

/// The delivery state of the ticket's public reply, as the ticket service records it.
async fn reply_state(mesh: &Mesh, ticket_id: &str) -> DeliveryState {
    mesh.messages(ticket_id)
        .await
        .iter()
        .find(|m| m.kind() == TicketMessageKind::PublicReply)
        .map(|m| m.delivery_state())
        .unwrap_or_default()
}

async fn outbound(mesh: &Mesh) -> Vec<switchboard_proto::inbound::v1::OutboundMessage> {
    mesh.inbound()
        .await
        .list_outbound_messages(bearer(
            ListOutboundMessagesRequest::default(),
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .outbound_messages
}

#[tokio::test]
async fn a_reply_is_sent_threaded_and_the_customers_answer_comes_back_to_its_ticket() {
    let sink = SmtpSink::start();
    let mesh = fast_mesh(86_400).await;
    let account = smtp_account(&mesh, sink.port).await;
    let first = mesh
        .submit(
            &account,
            &mail(
                "김민준 <kim@example.com>",
                "q1@example.com",
                "환불 문의",
                "환불 부탁드립니다",
            ),
        )
        .await
        .unwrap();
    mesh.reply_as_agent(&first.ticket_id, "환불되었습니다.\n.\nQUIT\n감사합니다.")
        .await;
    let sent = sink.wait_for(1).await;
    let parsed = MessageParser::default().parse(&sent[0]).unwrap();
    assert_eq!(
        parsed.subject(),
        Some(format!("Re: 환불 문의 [#{}]", first.ticket_number).as_str())
    );
    assert_eq!(
        parsed
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("help@center.example")
    );
    assert_eq!(
        parsed
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("kim@example.com")
    );
    assert_eq!(parsed.in_reply_to().as_text(), Some("q1@example.com"));
    assert_eq!(
        parsed
            .body_text(0)
            .unwrap()
            .replace("\r\n", "\n")
            .trim_end(),
        "환불되었습니다.\n.\nQUIT\n감사합니다."
    );
    assert!(parsed.header("Auto-Submitted").is_none());
    let our_id = parsed.message_id().unwrap().to_owned();
    let delivered = testing::eventually(Duration::from_secs(15), || async {
        reply_state(&mesh, &first.ticket_id).await == DeliveryState::Sent
    })
    .await;
    assert!(delivered, "the ticket never learnt the reply was sent");
    let listed = outbound(&mesh).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state(), OutboundState::Sent);
    assert_eq!(
        (listed[0].attempt_count, listed[0].mail_message_id.as_str()),
        (1, our_id.as_str())
    );
    assert!(listed[0].size_bytes > 0);
    // The customer answers our mail: it threads by References into the same ticket.
    let mut answer = mail(
        "kim@example.com",
        "q2@example.com",
        "Re: 환불 문의",
        "확인했습니다",
    );
    answer.splice(
        0..0,
        format!("In-Reply-To: <{our_id}>\r\nReferences: <q1@example.com> <{our_id}>\r\n")
            .into_bytes(),
    );
    let threaded = mesh.submit(&account, &answer).await.unwrap();
    assert_eq!(threaded.outcome(), TicketIngestOutcome::Threaded);
    assert_eq!(threaded.ticket_id, first.ticket_id);
    assert_eq!(sink.messages().len(), 1, "nothing was sent twice");
    mesh.stop().await;
}

#[tokio::test]
async fn replies_wait_while_the_smtp_server_is_down_and_go_when_it_is_back() {
    let port = free_port();
    let mesh = fast_mesh(86_400).await;
    let account = smtp_account(&mesh, port).await;
    let first = mesh
        .submit(
            &account,
            &mail(
                "kim@example.com",
                "d1@example.com",
                "배송 문의",
                "언제 오나요",
            ),
        )
        .await
        .unwrap();
    mesh.reply_as_agent(&first.ticket_id, "내일 도착합니다")
        .await;
    let retried = testing::eventually(Duration::from_secs(15), || async {
        outbound(&mesh)
            .await
            .first()
            .is_some_and(|m| m.attempt_count >= 2 && m.state() == OutboundState::Queued)
    })
    .await;
    assert!(
        retried,
        "the reply was not retried: {:?}",
        outbound(&mesh).await
    );
    let waiting = outbound(&mesh).await.remove(0);
    assert!(!waiting.last_error.is_empty());
    assert!(waiting.next_attempt_time.is_some());
    assert_eq!(
        reply_state(&mesh, &first.ticket_id).await,
        DeliveryState::Queued
    );
    let sink = SmtpSink::start_on(port);
    let sent = sink.wait_for(1).await;
    assert!(String::from_utf8_lossy(&sent[0]).contains("Message-ID"));
    let delivered = testing::eventually(Duration::from_secs(15), || async {
        reply_state(&mesh, &first.ticket_id).await == DeliveryState::Sent
    })
    .await;
    assert!(delivered);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.messages().len(), 1, "sent once");
    mesh.stop().await;
}

#[tokio::test]
async fn a_reply_given_up_is_failed_on_its_ticket_and_an_admin_queues_it_again() {
    let port = free_port();
    let mesh = fast_mesh(2).await;
    let account = smtp_account(&mesh, port).await;
    let first = mesh
        .submit(
            &account,
            &mail("kim@example.com", "f1@example.com", "문의", "본문"),
        )
        .await
        .unwrap();
    mesh.reply_as_agent(&first.ticket_id, "답변입니다").await;
    let failed = testing::eventually(Duration::from_secs(20), || async {
        reply_state(&mesh, &first.ticket_id).await == DeliveryState::Failed
    })
    .await;
    assert!(
        failed,
        "the reply was never given up: {:?}",
        outbound(&mesh).await
    );
    let given_up = outbound(&mesh).await.remove(0);
    assert_eq!(given_up.state(), OutboundState::Failed);
    let admin = mesh.admin();
    let get = |id: String| {
        let mesh = &mesh;
        let admin = admin.clone();
        async move {
            mesh.inbound()
                .await
                .get_outbound_message(bearer(
                    GetOutboundMessageRequest {
                        outbound_message_id: id,
                    },
                    &admin,
                ))
                .await
        }
    };
    assert_eq!(
        get(given_up.id.clone())
            .await
            .unwrap()
            .into_inner()
            .outbound_message
            .unwrap()
            .state(),
        OutboundState::Failed
    );
    assert_eq!(
        get(uuid::Uuid::now_v7().to_string())
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let sink = SmtpSink::start_on(port);
    let retry = |id: String| {
        let mesh = &mesh;
        let admin = admin.clone();
        async move {
            mesh.inbound()
                .await
                .retry_outbound_message(bearer(
                    RetryOutboundMessageRequest {
                        outbound_message_id: id,
                    },
                    &admin,
                ))
                .await
        }
    };
    let queued = retry(given_up.id.clone())
        .await
        .unwrap()
        .into_inner()
        .outbound_message
        .unwrap();
    assert_eq!(queued.state(), OutboundState::Queued);
    sink.wait_for(1).await;
    let sent = testing::eventually(Duration::from_secs(15), || async {
        outbound(&mesh).await[0].state() == OutboundState::Sent
    })
    .await;
    assert!(sent);
    let again = retry(given_up.id.clone()).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    mesh.stop().await;
}

#[tokio::test]
async fn a_bounce_of_our_reply_fails_it_on_its_ticket() {
    let sink = SmtpSink::start();
    let mesh = fast_mesh(86_400).await;
    let account = smtp_account(&mesh, sink.port).await;
    let first = mesh
        .submit(
            &account,
            &mail("kim@example.com", "b1@example.com", "문의", "본문"),
        )
        .await
        .unwrap();
    mesh.reply_as_agent(&first.ticket_id, "답변입니다").await;
    let sent = sink.wait_for(1).await;
    let ours = MessageParser::default()
        .parse(&sent[0])
        .unwrap()
        .message_id()
        .unwrap()
        .to_owned();
    testing::eventually(Duration::from_secs(15), || async {
        reply_state(&mesh, &first.ticket_id).await == DeliveryState::Sent
    })
    .await;
    let dsn = format!(
        "From: MAILER-DAEMON@mx.example.com\r\nTo: help@center.example\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.example.com>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
         --r\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n\
         --r\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; kim@example.com\r\n\
         Action: failed\r\nStatus: 5.1.1\r\n\
         --r\r\nContent-Type: text/rfc822-headers\r\n\r\n\
         From: help@center.example\r\nTo: kim@example.com\r\nMessage-ID: <{ours}>\r\n\
         Subject: Re: 문의\r\n\
         --r--\r\n"
    );
    let bounce = mesh
        .submit_request(switchboard_proto::inbound::v1::SubmitRawEmailRequest {
            raw: dsn.into_bytes(),
            mail_account_id: account.clone(),
            envelope_sender: Some(String::new()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        bounce.automation(),
        switchboard_proto::ticket::v1::MessageAutomation::DeliveryStatus
    );
    let failed = testing::eventually(Duration::from_secs(15), || async {
        reply_state(&mesh, &first.ticket_id).await == DeliveryState::Failed
    })
    .await;
    assert!(failed, "the bounce did not fail the reply");
    let listed = outbound(&mesh).await;
    assert_eq!(listed[0].state(), OutboundState::Failed);
    assert!(
        listed[0].last_error.starts_with("bounced:"),
        "{:?}",
        listed[0]
    );
    mesh.stop().await;
}

/// An acknowledgement (a notification) to `to` queued as the outbound queue queues it from the
/// trigger engine's `ticket_message.reply_requested`, due now; `in_reply_to` the mail it
/// answers.
async fn queue_notification(
    mesh: &Mesh,
    account: &str,
    ticket: (&str, i64),
    to: &str,
    in_reply_to: &str,
) {
    use prost::Message as _;
    use switchboard_proto::events::v1::{TicketReplyDelivery, TicketReplyRequested};
    let (ticket_id, ticket_number) = ticket;
    let reply = TicketReplyRequested {
        ticket_id: ticket_id.into(),
        ticket_number,
        ticket_message_id: uuid::Uuid::now_v7().to_string(),
        kind: TicketMessageKind::Notification as i32,
        delivery: TicketReplyDelivery::Email as i32,
        mail_account_id: account.into(),
        from_address: "help@center.example".into(),
        to_addresses: vec![to.into()],
        subject: format!("접수되었습니다 [#{ticket_number}]"),
        body_text: "문의가 접수되었습니다.".into(),
        mail_message_id: format!("{}.{ticket_number}@center.example", uuid::Uuid::now_v7()),
        in_reply_to: in_reply_to.into(),
        ..Default::default()
    };
    sqlx::query(
        "INSERT INTO outbound_messages (id, ticket_message_id, ticket_id, ticket_number, kind,
             mail_account_id, from_address, to_addresses, cc_addresses, subject,
             mail_message_id, request, state, create_time, give_up_time, next_attempt_time)
         VALUES ($1, $2::uuid, $3::uuid, $4, 4, $5::uuid, $6, $7, '{}', $8, $9, $10, 1, now(),
             now() + interval '1 day', now())",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(&reply.ticket_message_id)
    .bind(&reply.ticket_id)
    .bind(reply.ticket_number)
    .bind(&reply.mail_account_id)
    .bind(&reply.from_address)
    .bind(vec![to.to_lowercase()])
    .bind(&reply.subject)
    .bind(&reply.mail_message_id)
    .bind(reply.encode_to_vec())
    .execute(&mesh.pool)
    .await
    .unwrap();
}

/// Waits until no outgoing mail is queued.
async fn settle(mesh: &Mesh) {
    let settled = testing::eventually(Duration::from_secs(20), || async {
        outbound(mesh)
            .await
            .iter()
            .all(|m| m.state() != OutboundState::Queued)
    })
    .await;
    assert!(settled, "mail still queued: {:?}", outbound(mesh).await);
}

#[tokio::test]
async fn automatic_mail_to_one_address_is_throttled_so_a_loop_with_an_auto_responder_stops() {
    let sink = SmtpSink::start();
    let mesh = fast_mesh(86_400).await;
    let account = smtp_account(&mesh, sink.port).await;
    // Eight acknowledgements to one auto-responder, due at once, as a loop would queue them
    // (the trigger engine's notifications come through the same queue).
    for _ in 0..8 {
        let ticket = uuid::Uuid::now_v7().to_string();
        queue_notification(&mesh, &account, (&ticket, 7), "Robot@Example.com", "").await;
    }
    settle(&mesh).await;
    let all = outbound(&mesh).await;
    let throttled = all
        .iter()
        .filter(|m| m.state() == OutboundState::Failed && m.last_error.starts_with("throttled"))
        .count();
    assert_eq!((sink.messages().len(), throttled), (5, 3), "{all:?}");
    mesh.stop().await;
}

#[tokio::test]
async fn automated_mail_gets_no_automatic_answer() {
    let sink = SmtpSink::start();
    let mesh = fast_mesh(86_400).await;
    let account = smtp_account(&mesh, sink.port).await;
    let mut auto = mail(
        "robot@example.com",
        "ooo-7@example.com",
        "Out of office",
        "I am away",
    );
    auto.splice(0..0, b"Auto-Submitted: auto-replied\r\n".iter().copied());
    let auto = mesh.submit(&account, &auto).await.unwrap();
    let human = mesh
        .submit(
            &account,
            &mail("kim@example.com", "hi-7@example.com", "문의", "안녕하세요"),
        )
        .await
        .unwrap();
    // An acknowledgement of each, as the trigger engine would queue them.
    for (ticket, answered, to) in [
        (&auto, "ooo-7@example.com", "robot@example.com"),
        (&human, "hi-7@example.com", "kim@example.com"),
    ] {
        let id = (ticket.ticket_id.as_str(), ticket.ticket_number);
        queue_notification(&mesh, &account, id, to, answered).await;
    }
    settle(&mesh).await;
    let sent = sink.messages();
    assert_eq!(sent.len(), 1);
    assert!(String::from_utf8_lossy(&sent[0]).contains("kim@example.com"));
    let suppressed = outbound(&mesh)
        .await
        .into_iter()
        .find(|m| m.to_addresses == ["robot@example.com"])
        .unwrap();
    assert_eq!(suppressed.state(), OutboundState::Failed);
    assert!(
        suppressed.last_error.starts_with("suppressed"),
        "{suppressed:?}"
    );
    mesh.stop().await;
}
