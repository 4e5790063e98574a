//! `SubmitRawEmail` as an MTA uses it: a mail becomes a ticket with exactly its text, a repeat
//! or the same mail to a second address of ours changes nothing, replies thread by their
//! references and by the `[#n]` tag, automated mail is marked so, and bad input is named.

use switchboard_proto::{
    inbound::v1::SubmitRawEmailRequest,
    ticket::v1::{MessageAutomation, TicketChannel, TicketIngestOutcome},
};
use tonic::Code;

use crate::common::{Mesh, bearer, mail};

#[tokio::test]
async fn a_mail_becomes_a_ticket_once_however_often_it_is_submitted() {
    let mesh = Mesh::start().await;
    let account = mesh.account("help@center.example").await;
    let raw = mail(
        "김민준 <minjun@example.com>",
        "first-1@example.com",
        "환불 요청드립니다 😀",
        "주문번호 1234 환불 부탁드립니다.",
    );
    let first = mesh.submit(&account, &raw).await.unwrap();
    assert_eq!(first.outcome(), TicketIngestOutcome::Created);
    assert_eq!(first.mail_message_id, "first-1@example.com");
    assert_eq!(first.automation(), MessageAutomation::Human);
    assert!(!first.quarantined);
    let ticket = mesh.ticket(&first.ticket_id).await;
    assert_eq!(ticket.subject, "환불 요청드립니다 😀");
    assert_eq!(ticket.channel(), TicketChannel::Email);
    let requester = ticket.requester.unwrap();
    assert_eq!(
        (requester.name.as_str(), requester.email.as_str()),
        ("김민준", "minjun@example.com")
    );
    let messages = mesh.messages(&first.ticket_id).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].body_text.trim_end(),
        "주문번호 1234 환불 부탁드립니다."
    );
    assert_eq!(messages[0].mail_message_id, "first-1@example.com");

    let again = mesh.submit(&account, &raw).await.unwrap();
    assert_eq!(again.outcome(), TicketIngestOutcome::Duplicate);
    assert_eq!(
        (again.ticket_id.as_str(), again.inbound_message_id.as_str()),
        (first.ticket_id.as_str(), first.inbound_message_id.as_str())
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM inbound_messages")
        .fetch_one(&mesh.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the original is stored once");
    assert_eq!(mesh.messages(&first.ticket_id).await.len(), 1);

    // The same mail to a second address of ours (both accounts receive it) is one ticket.
    let sales = mesh.account("sales@center.example").await;
    let copy = mesh.submit(&sales, &raw).await.unwrap();
    assert_eq!(copy.outcome(), TicketIngestOutcome::Duplicate);
    assert_eq!(copy.ticket_id, first.ticket_id);
    assert_eq!(mesh.messages(&first.ticket_id).await.len(), 1);
    mesh.stop().await;
}

#[tokio::test]
async fn replies_thread_by_their_references_and_by_the_subject_tag() {
    let mesh = Mesh::start().await;
    let account = mesh.account("help@center.example").await;
    let first = mesh
        .submit(
            &account,
            &mail(
                "kim@example.com",
                "a1@example.com",
                "배송 문의",
                "언제 오나요?",
            ),
        )
        .await
        .unwrap();
    let mut reply = mail(
        "kim@example.com",
        "a2@example.com",
        "Re: 배송 문의",
        "아직 안 왔어요",
    );
    let header = b"In-Reply-To: <a1@example.com>\r\nReferences: <a1@example.com>\r\n";
    reply.splice(0..0, header.iter().copied());
    let threaded = mesh.submit(&account, &reply).await.unwrap();
    assert_eq!(threaded.outcome(), TicketIngestOutcome::Threaded);
    assert_eq!(threaded.ticket_id, first.ticket_id);
    // No references, but the ticket's number in the subject, from the same requester.
    let tagged = mail(
        "Kim@Example.com",
        "a3@example.com",
        &format!("Re: [#{}] 배송 문의", first.ticket_number),
        "다시 문의드립니다",
    );
    let by_tag = mesh.submit(&account, &tagged).await.unwrap();
    assert_eq!(by_tag.outcome(), TicketIngestOutcome::Threaded);
    assert_eq!(by_tag.ticket_id, first.ticket_id);
    // The same tag from someone else is a new ticket.
    let stranger = mail(
        "lee@example.com",
        "a4@example.com",
        &format!("[#{}] 배송 문의", first.ticket_number),
        "저도요",
    );
    let new = mesh.submit(&account, &stranger).await.unwrap();
    assert_eq!(new.outcome(), TicketIngestOutcome::Created);
    assert_ne!(new.ticket_id, first.ticket_id);
    assert_eq!(mesh.messages(&first.ticket_id).await.len(), 3);
    mesh.stop().await;
}

#[tokio::test]
async fn automated_mail_is_marked_and_a_mail_without_message_id_gets_one_from_its_content() {
    let mesh = Mesh::start().await;
    let account = mesh.account("help@center.example").await;
    let mut auto = mail(
        "kim@example.com",
        "ooo@example.com",
        "부재중: 배송 문의",
        "휴가 중입니다",
    );
    auto.splice(0..0, b"Auto-Submitted: auto-replied\r\n".iter().copied());
    let answered = mesh.submit(&account, &auto).await.unwrap();
    assert_eq!(answered.automation(), MessageAutomation::AutoReply);
    let messages = mesh.messages(&answered.ticket_id).await;
    assert_eq!(messages[0].automation(), MessageAutomation::AutoReply);

    let bounce = mesh
        .submit_request(SubmitRawEmailRequest {
            raw: mail(
                "mailer@example.com",
                "b1@example.com",
                "Undelivered",
                "failed",
            ),
            mail_account_id: account.clone(),
            envelope_sender: Some(String::new()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(bounce.automation(), MessageAutomation::DeliveryStatus);

    let without_id = b"From: park@example.com\r\nSubject: no id\r\n\r\nhello\r\n";
    let made_up = mesh.submit(&account, without_id).await.unwrap();
    assert!(
        made_up.mail_message_id.ends_with("@switchboard.invalid")
            && made_up.mail_message_id.len() == 64 + "@switchboard.invalid".len(),
        "{}",
        made_up.mail_message_id
    );
    let again = mesh.submit(&account, without_id).await.unwrap();
    assert_eq!(again.outcome(), TicketIngestOutcome::Duplicate);
    assert_eq!(again.mail_message_id, made_up.mail_message_id);
    mesh.stop().await;
}

#[tokio::test]
async fn the_account_comes_from_its_id_or_the_envelope_and_bad_input_is_named() {
    let mesh = Mesh::start().await;
    let account = mesh.account("Help@Center.example").await;
    let raw = mail("kim@example.com", "e1@example.com", "문의", "본문");
    let by_recipient = mesh
        .submit_request(SubmitRawEmailRequest {
            raw: raw.clone(),
            envelope_recipients: vec!["nobody@else.example".into(), "help@center.EXAMPLE".into()],
            envelope_sender: Some("kim@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_recipient.outcome(), TicketIngestOutcome::Created);
    let named = |result: Result<_, tonic::Status>, code: Code, field: &str| {
        let status = result.expect_err("refused");
        assert_eq!(status.code(), code, "{status:?}");
        assert!(status.message().contains(field), "{field}: {status:?}");
    };
    named(
        mesh.submit_request(SubmitRawEmailRequest {
            raw: raw.clone(),
            envelope_recipients: vec!["nobody@else.example".into()],
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "envelope_recipients",
    );
    named(
        mesh.submit_request(SubmitRawEmailRequest {
            raw: raw.clone(),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "mail_account_id",
    );
    named(
        mesh.submit(&uuid::Uuid::now_v7().to_string(), &raw).await,
        Code::InvalidArgument,
        "mail_account_id",
    );
    named(
        mesh.submit("42", &raw).await,
        Code::InvalidArgument,
        "mail_account_id",
    );
    named(
        mesh.submit(&account, b"").await,
        Code::InvalidArgument,
        "raw",
    );
    named(
        mesh.submit_request(SubmitRawEmailRequest {
            raw: raw.clone(),
            mail_account_id: account.clone(),
            envelope_sender: Some("kim@example.com\r\nRCPT TO:<x@evil>".into()),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "envelope_sender",
    );
    let mut big = Vec::with_capacity(30 * 1024 * 1024 + 64);
    big.extend_from_slice(b"From: kim@example.com\r\nSubject: big\r\n\r\n");
    big.resize(30 * 1024 * 1024 + 1, b'a');
    named(
        mesh.submit(&account, &big).await,
        Code::ResourceExhausted,
        "raw",
    );
    // Only the scope may submit: an admin's or an agent's token, and no credentials at all,
    // are refused.
    let admin = mesh
        .inbound()
        .await
        .submit_raw_email(bearer(
            SubmitRawEmailRequest {
                raw: raw.clone(),
                mail_account_id: account.clone(),
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(admin.code(), Code::PermissionDenied, "{admin:?}");
    mesh.gateway
        .create_agent(
            "kim",
            switchboard_proto::gateway::v1::AgentRole::Agent,
            &[],
            &[],
        )
        .await;
    let agent = mesh
        .inbound()
        .await
        .submit_raw_email(bearer(
            SubmitRawEmailRequest {
                raw: raw.clone(),
                mail_account_id: account.clone(),
                ..Default::default()
            },
            &mesh.gateway.token("kim"),
        ))
        .await
        .unwrap_err();
    assert_eq!(agent.code(), Code::PermissionDenied, "{agent:?}");
    let anonymous = mesh
        .inbound()
        .await
        .submit_raw_email(SubmitRawEmailRequest {
            raw,
            mail_account_id: account,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated, "{anonymous:?}");
    mesh.stop().await;
}

#[tokio::test]
async fn korean_mail_in_every_charset_becomes_a_ticket_with_exactly_the_text_written() {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let mesh = Mesh::start().await;
    let account = mesh.account("help@center.example").await;
    let euc_kr = |text: &str| encoding_rs::EUC_KR.encode(text).0.into_owned();
    // The subject in two EUC-KR encoded words split inside 환 (its two bytes apart).
    let subject = euc_kr("환불 요청");
    let (head, tail) = subject.split_at(1);
    let body = "똠방각하, 환불은 언제 되나요? 😀 없는 글자 없이.";
    let raw = format!(
        "From: =?ks_c_5601-1987?B?{}?= <kim@example.com>\r\n\
         Subject: =?EUC-KR?B?{}?= =?EUC-KR?B?{}?=\r\n\
         Message-ID: <korean-1@example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n\
         --m\r\nContent-Type: text/plain; charset=cp949\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n\
         --m\r\nContent-Type: application/pdf\r\n\
         Content-Disposition: attachment; filename*=UTF-8''%EA%B2%AC%EC%A0%81%EC%84%9C.pdf\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--m--\r\n",
        STANDARD.encode(euc_kr("김민준")),
        STANDARD.encode(head),
        STANDARD.encode(tail),
        // CP949 has no emoji: the body is the text without it, in CP949.
        STANDARD.encode(euc_kr(&body.replace(" 😀", ""))),
        STANDARD.encode(b"%PDF-1.4 estimate"),
    );
    let done = mesh.submit(&account, raw.as_bytes()).await.unwrap();
    assert_eq!(done.outcome(), TicketIngestOutcome::Created);
    let ticket = mesh.ticket(&done.ticket_id).await;
    assert_eq!(ticket.subject, "환불 요청");
    assert_eq!(ticket.requester.unwrap().name, "김민준");
    let message = &mesh.messages(&done.ticket_id).await[0];
    assert_eq!(message.body_text.trim_end(), body.replace(" 😀", ""));
    assert_eq!(message.attachments.len(), 1);
    assert_eq!(message.attachments[0].file_name, "견적서.pdf");
    // Emoji in UTF-8, split across two encoded words.
    let smile = "웃음 😀".as_bytes();
    let (a, b) = smile.split_at(smile.len() - 2);
    let raw = format!(
        "From: lee@example.com\r\nSubject: =?UTF-8?B?{}?=\r\n =?UTF-8?B?{}?=\r\n\
         Message-ID: <korean-2@example.com>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p>안녕하세요<br>감사합니다</p><script>alert(1)</script>\r\n",
        STANDARD.encode(a),
        STANDARD.encode(b)
    );
    let done = mesh.submit(&account, raw.as_bytes()).await.unwrap();
    assert_eq!(mesh.ticket(&done.ticket_id).await.subject, "웃음 😀");
    let message = &mesh.messages(&done.ticket_id).await[0];
    assert!(
        message.body_text.contains("안녕하세요"),
        "{:?}",
        message.body_text
    );
    assert!(
        message.body_text.contains("감사합니다"),
        "{:?}",
        message.body_text
    );
    assert!(
        !message.body_html.contains("script"),
        "{:?}",
        message.body_html
    );
    mesh.stop().await;
}

#[tokio::test]
async fn a_reply_to_a_closed_ticket_makes_a_new_ticket_linked_to_it() {
    use switchboard_proto::ticket::v1::CloseTicketRequest;
    let mesh = Mesh::start().await;
    let account = mesh.account("help@center.example").await;
    let first = mesh
        .submit(
            &account,
            &mail(
                "kim@example.com",
                "c1@example.com",
                "교환 문의",
                "교환 가능한가요",
            ),
        )
        .await
        .unwrap();
    mesh.reply_as_agent(&first.ticket_id, "가능합니다").await;
    mesh.tickets()
        .await
        .close_ticket(bearer(
            CloseTicketRequest {
                ticket_id: first.ticket_id.clone(),
            },
            &mesh.admin(),
        ))
        .await
        .expect("the admin closes the solved ticket");
    let mut late = mail(
        "kim@example.com",
        "c2@example.com",
        "Re: 교환 문의",
        "하나 더 여쭤봅니다",
    );
    late.splice(0..0, b"In-Reply-To: <c1@example.com>\r\n".iter().copied());
    let follow_up = mesh.submit(&account, &late).await.unwrap();
    assert_eq!(follow_up.outcome(), TicketIngestOutcome::FollowUpCreated);
    assert_ne!(follow_up.ticket_id, first.ticket_id);
    let ticket = mesh.ticket(&follow_up.ticket_id).await;
    assert_eq!(ticket.linked_ticket_id, first.ticket_id);
    mesh.stop().await;
}

#[tokio::test]
async fn an_account_created_before_mail_ingest_ever_ran_is_known_once_it_starts() {
    use switchboard_proto::ticket::v1::{
        CreateMailAccountRequest, MailAccount, MailTlsMode, SmtpSettings,
        mail_account_service_client::MailAccountServiceClient,
    };
    let mut early = String::new();
    let mesh = Mesh::start_after(
        |_| {},
        async |gateway| {
            let request = CreateMailAccountRequest {
                request_id: String::new(),
                mail_account: Some(MailAccount {
                    address: "early@center.example".into(),
                    smtp: Some(SmtpSettings {
                        host: "smtp.example.co.kr".into(),
                        tls_mode: MailTlsMode::Starttls as i32,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            };
            early = MailAccountServiceClient::new(gateway.channel().await)
                .create_mail_account(bearer(request, &gateway.token(crate::common::ADMIN)))
                .await
                .expect("the admin creates a mail account")
                .into_inner()
                .mail_account
                .unwrap()
                .id;
            // Its announcement reaches the broker while mail-ingest has never run.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        },
    )
    .await;
    let known =
        switchboard_platform::testing::eventually(std::time::Duration::from_secs(15), || async {
            mesh.submit(
                &early,
                &mail("kim@example.com", "early-1@example.com", "문의", "본문"),
            )
            .await
            .is_ok()
        })
        .await;
    assert!(known, "the early account was never mirrored");
    mesh.stop().await;
}

#[tokio::test]
async fn mails_submitted_together_are_stored_and_recorded_in_batches_each_once() {
    let mesh = std::sync::Arc::new(Mesh::start().await);
    let account = mesh.account("help@center.example").await;
    // 60 mails, the first 20 of them submitted twice, all at once.
    let raws: Vec<Vec<u8>> = (0..80)
        .map(|i| {
            let n = if i < 60 { i } else { i - 60 };
            mail(
                "김민준 <minjun@example.com>",
                &format!("together-{n}@example.com"),
                &format!("환불 {n}"),
                "주문번호 1234 환불 부탁드립니다.",
            )
        })
        .collect();
    let calls: Vec<_> = raws
        .into_iter()
        .map(|raw| {
            let (mesh, account) = (mesh.clone(), account.clone());
            tokio::spawn(async move { mesh.submit(&account, &raw).await.unwrap() })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap());
    }
    for answer in &answers[20..60] {
        assert_eq!(answer.outcome(), TicketIngestOutcome::Created);
    }
    for i in 0..20 {
        let (a, b) = (&answers[i], &answers[60 + i]);
        let mut outcomes = [a.outcome() as i32, b.outcome() as i32];
        outcomes.sort();
        assert_eq!(
            outcomes,
            [
                TicketIngestOutcome::Created as i32,
                TicketIngestOutcome::Duplicate as i32
            ]
        );
        assert_eq!(
            (&a.ticket_id, &a.inbound_message_id),
            (&b.ticket_id, &b.inbound_message_id)
        );
    }
    let tickets: std::collections::HashSet<&str> =
        answers.iter().map(|a| a.ticket_id.as_str()).collect();
    assert_eq!(tickets.len(), 60);
    let (stored, ingested, transactions): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE state = 2), count(DISTINCT xmin::text)
         FROM inbound_messages",
    )
    .fetch_one(&mesh.pool)
    .await
    .unwrap();
    assert_eq!((stored, ingested), (60, 60), "each original stored once");
    assert!(
        transactions < 60,
        "{transactions} transactions recorded the 60 mails"
    );
    std::sync::Arc::into_inner(mesh).unwrap().stop().await;
}
