//! 티켓 일괄 처리 through the gateway: every ticket of a batch changed on its own (its message,
//! history entry and `batch` event), failed rows reported by reason in request order, an
//! idempotent retry that sends nothing twice, and whole-call errors naming the field.

use switchboard_platform::error::violated_fields;
use switchboard_proto::{
    common::v1::RowResult,
    events::{
        Event,
        v1::{TicketForwarded, TicketMessageAdded, TicketReplyRequested},
    },
    gateway::v1::AgentRole,
    ticket::v1::{
        BatchForwardTicketsRequest, BatchReplyTicketsRequest, BatchReplyTicketsResponse,
        CreateTicketRequest, ReplyDisposition, ResolutionReason, Ticket, TicketRequester,
        TicketStatus,
    },
};
use tonic::{Code, Status};

use crate::common::{EventTap, Mesh, bearer};

async fn batch_reply(
    mesh: &Mesh,
    token: &str,
    request: BatchReplyTicketsRequest,
) -> Result<BatchReplyTicketsResponse, Status> {
    let response = mesh
        .tickets()
        .await
        .batch_reply_tickets(bearer(request, token))
        .await?;
    Ok(response.into_inner())
}

async fn batch_forward(
    mesh: &Mesh,
    token: &str,
    request: BatchForwardTicketsRequest,
) -> Result<Vec<RowResult>, Status> {
    let response = mesh
        .tickets()
        .await
        .batch_forward_tickets(bearer(request, token))
        .await?;
    Ok(response.into_inner().results)
}

/// (ok, reason) of each row, and the rows' ids.
fn outcomes(results: &[RowResult]) -> Vec<(String, bool, String)> {
    results
        .iter()
        .map(|r| (r.id.clone(), r.ok, r.reason.clone()))
        .collect()
}

fn assert_invalid(result: Result<impl std::fmt::Debug, Status>, field: &str) {
    let status = result.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(violated_fields(&status), [field], "{status:?}");
}

/// A template written straight into the service's table, for every group.
async fn template(mesh: &Mesh, body: &str) -> String {
    let id = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO templates (id, name, subject, body, group_ids) VALUES ($1, $2, '', $3, $4)",
    )
    .bind(id)
    .bind("일괄 답변")
    .bind(body)
    .bind(Vec::<uuid::Uuid>::new())
    .execute(&mesh.pool)
    .await
    .unwrap();
    id.to_string()
}

/// A ticket whose requester left only a phone number (nothing to reply to).
async fn phone_only(mesh: &Mesh, token: &str, group: &str) -> Ticket {
    let request = CreateTicketRequest {
        ticket: Some(Ticket {
            subject: "전화 문의".into(),
            group_id: group.into(),
            requester: Some(TicketRequester {
                name: "최유진".into(),
                phone_number: "+821012345678".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        body: "전화로만 연락 가능".into(),
        ..Default::default()
    };
    mesh.tickets()
        .await
        .create_ticket(bearer(request, token))
        .await
        .unwrap()
        .into_inner()
        .ticket
        .unwrap()
}

#[tokio::test]
async fn a_bulk_reply_changes_each_ticket_alone_and_a_retry_sends_nothing_twice() {
    let mesh = Mesh::start().await;
    let tap = EventTap::start(&mesh.gateway, &["ticket.*", "ticket_message.*"]).await;
    mesh.reply_account("help@example.co.kr").await;
    let group = mesh.group("결제").await.id;
    let other = mesh.group("배송").await.id;
    let kim = mesh.token(&mesh.agent("kim", std::slice::from_ref(&group)).await);
    let lee = mesh.token(&mesh.agent("lee", std::slice::from_ref(&group)).await);
    let park = mesh.token(&mesh.agent("park", std::slice::from_ref(&other)).await);
    let mut mine = Vec::new();
    for i in 0..5 {
        let ticket = mesh
            .create(&kim, &group, &format!("환불 문의 {i}"))
            .await
            .unwrap();
        mine.push(mesh.take(&kim, &ticket.id).await.unwrap());
    }
    let mut theirs = Vec::new();
    for _ in 0..2 {
        let ticket = mesh.create(&lee, &group, "남의 티켓").await.unwrap();
        theirs.push(mesh.take(&lee, &ticket.id).await.unwrap());
    }
    let unassigned = mesh.create(&kim, &group, "미배정").await.unwrap();
    let elsewhere = mesh.create(&park, &other, "배송 문의").await.unwrap();
    let missing = uuid::Uuid::now_v7().to_string();
    let no_address = phone_only(&mesh, &kim, &group).await;
    let no_address = mesh.take(&kim, &no_address.id).await.unwrap();
    let ids = vec![
        mine[0].id.clone(),
        theirs[0].id.clone(),
        mine[1].id.clone(),
        unassigned.id.clone(),
        mine[2].id.clone(),
        elsewhere.id.clone(),
        missing.clone(),
        mine[3].id.clone(),
        no_address.id.clone(),
        theirs[1].id.clone(),
        mine[4].id.clone(),
    ];
    let greeting = template(
        &mesh,
        "{{requester.name}}님, {{ticket.number}} 건 해결되었습니다.",
    )
    .await;
    let request = BatchReplyTicketsRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        ticket_ids: ids.clone(),
        disposition: ReplyDisposition::Solve as i32,
        template_id: greeting.clone(),
        ..Default::default()
    };
    let first = batch_reply(&mesh, &kim, request.clone()).await.unwrap();
    let ok = |id: &str| (id.to_string(), true, String::new());
    let failed = |id: &str, reason: &str| (id.to_string(), false, reason.to_string());
    assert_eq!(
        outcomes(&first.results),
        [
            ok(&mine[0].id),
            failed(&theirs[0].id, "PERMISSION_DENIED"),
            ok(&mine[1].id),
            failed(&unassigned.id, "INVALID_STATUS"),
            ok(&mine[2].id),
            failed(&elsewhere.id, "NOT_FOUND"),
            failed(&missing, "NOT_FOUND"),
            ok(&mine[3].id),
            failed(&no_address.id, "NO_REPLY_ADDRESS"),
            failed(&theirs[1].id, "PERMISSION_DENIED"),
            ok(&mine[4].id),
        ]
    );
    assert!(
        first.results[3].message.contains("UNASSIGNED"),
        "{:?}",
        first.results[3]
    );
    for ticket in &mine {
        let now = mesh.get(&kim, &ticket.id).await.unwrap();
        assert_eq!(now.status(), TicketStatus::Solved);
        assert_eq!(now.message_count, 2, "the first message and the reply");
    }
    for ticket in theirs.iter().chain([&unassigned, &no_address]) {
        let now = mesh.get(&mesh.admin(), &ticket.id).await.unwrap();
        assert_eq!(
            now.status(),
            ticket.status(),
            "a failed row changes nothing"
        );
        assert_eq!(now.message_count, 1);
    }
    // The retry answers as the first call did and writes nothing.
    let again = batch_reply(&mesh, &kim, request.clone()).await.unwrap();
    assert_eq!(again, first);
    // So does a retry after a crash before the final response (rows stored, call unfinished).
    let claimed = sqlx::query("UPDATE request_ids SET response = '' WHERE request_id = $1::uuid")
        .bind(&request.request_id)
        .execute(&mesh.pool)
        .await
        .unwrap();
    assert_eq!(claimed.rows_affected(), 1);
    let resumed = batch_reply(&mesh, &kim, request.clone()).await.unwrap();
    assert_eq!(resumed, first);
    for ticket in &mine {
        assert_eq!(mesh.get(&kim, &ticket.id).await.unwrap().message_count, 2);
    }
    let reused = batch_reply(
        &mesh,
        &kim,
        BatchReplyTicketsRequest {
            disposition: ReplyDisposition::Hold as i32,
            ..request.clone()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(reused.code(), Code::AlreadyExists, "{reused:?}");
    // Everything before this comment's event was published before it.
    let last = mesh.comment(&kim, &mine[0].id, "끝").await.unwrap();
    tap.wait_for("the closing comment", |e| {
        e.aggregate_id == last.id && e.aggregate_version == last.version
    })
    .await;
    let events = tap.events();
    for ticket in &mine {
        let sends: Vec<TicketReplyRequested> = events
            .iter()
            .filter(|e| e.event_type == TicketReplyRequested::EVENT_TYPE)
            .map(|e| e.unpack::<TicketReplyRequested>().unwrap())
            .filter(|send| send.ticket_id == ticket.id)
            .collect();
        assert_eq!(sends.len(), 1, "one send request for {}", ticket.id);
        assert_eq!(
            sends[0].body_text,
            format!("김민수님, #{} 건 해결되었습니다.", ticket.number),
            "the template filled for its own ticket"
        );
        let added: Vec<TicketMessageAdded> = events
            .iter()
            .filter(|e| {
                e.aggregate_id == ticket.id && e.event_type == TicketMessageAdded::EVENT_TYPE
            })
            .map(|e| e.unpack::<TicketMessageAdded>().unwrap())
            .filter(|added| added.batch)
            .collect();
        assert_eq!(added.len(), 1, "one batch event for {}", ticket.id);
    }
    mesh.stop().await;
}

#[tokio::test]
async fn a_failure_midway_keeps_the_rows_done_and_the_retry_does_only_the_rest() {
    let mesh = Mesh::start().await;
    mesh.reply_account("help@example.co.kr").await;
    let group = mesh.group("결제").await.id;
    let kim = mesh.token(&mesh.agent("kim", std::slice::from_ref(&group)).await);
    let mut ids = Vec::new();
    for i in 0..3 {
        let ticket = mesh
            .create(&kim, &group, &format!("문의 {i}"))
            .await
            .unwrap();
        ids.push(mesh.take(&kim, &ticket.id).await.unwrap().id);
    }
    // The database fails the second ticket's change as if it went away.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE FUNCTION fail_second() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.id = '{}' THEN
                 RAISE EXCEPTION 'gone' USING ERRCODE = '57P01';
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER fail_second BEFORE UPDATE ON tickets
             FOR EACH ROW EXECUTE FUNCTION fail_second();",
        ids[1]
    )))
    .execute(&mesh.pool)
    .await
    .unwrap();
    let request = BatchReplyTicketsRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        ticket_ids: ids.clone(),
        disposition: ReplyDisposition::Hold as i32,
        body: "확인 중입니다".into(),
        ..Default::default()
    };
    let failed = batch_reply(&mesh, &kim, request.clone()).await.unwrap_err();
    assert_eq!(failed.code(), Code::Unavailable, "{failed:?}");
    let counts = async || {
        let mut counts = Vec::new();
        for id in &ids {
            counts.push(mesh.get(&kim, id).await.unwrap().message_count);
        }
        counts
    };
    assert_eq!(counts().await, [2, 1, 1], "the first row stays done");
    sqlx::raw_sql("DROP TRIGGER fail_second ON tickets")
        .execute(&mesh.pool)
        .await
        .unwrap();
    let resumed = batch_reply(&mesh, &kim, request.clone()).await.unwrap();
    assert!(resumed.results.iter().all(|r| r.ok), "{resumed:?}");
    assert_eq!(
        counts().await,
        [2, 2, 2],
        "the first row is not replied twice"
    );
    mesh.stop().await;
}

#[tokio::test]
async fn a_bulk_forward_is_for_admins_and_reports_each_row() {
    let mesh = Mesh::start().await;
    let tap = EventTap::start(&mesh.gateway, &["ticket.*"]).await;
    mesh.reply_account("help@example.co.kr").await;
    let group = mesh.group("결제").await.id;
    let other = mesh.group("배송").await.id;
    let kim_login = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let kim = mesh.token(&kim_login);
    let park = mesh.agent("park", std::slice::from_ref(&other)).await;
    let admin = mesh.admin();
    let open = mesh.create(&kim, &group, "미배정").await.unwrap();
    let taken = mesh.create(&kim, &group, "진행 중").await.unwrap();
    mesh.take(&kim, &taken.id).await.unwrap();
    let spam = mesh.create(&kim, &group, "광고").await.unwrap();
    mesh.take(&kim, &spam.id).await.unwrap();
    mesh.resolve(&kim, &spam.id, ResolutionReason::Spam)
        .await
        .unwrap();
    let closed = mesh.create(&kim, &group, "완료").await.unwrap();
    mesh.take(&kim, &closed.id).await.unwrap();
    mesh.reply(&kim, &closed.id, ReplyDisposition::Solve, "해결")
        .await
        .unwrap();
    mesh.close(&admin, &closed.id).await.unwrap();
    let missing = uuid::Uuid::now_v7().to_string();
    let request = BatchForwardTicketsRequest {
        ticket_ids: vec![
            open.id.clone(),
            spam.id.clone(),
            missing.clone(),
            taken.id.clone(),
            closed.id.clone(),
        ],
        group_id: other.clone(),
        assignee_login: park.clone(),
        note: "배송팀으로 이관".into(),
        request_id: String::new(),
    };
    let refused = batch_forward(&mesh, &kim, request.clone())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let results = batch_forward(&mesh, &admin, request.clone()).await.unwrap();
    assert_eq!(
        outcomes(&results),
        [
            (open.id.clone(), true, String::new()),
            (spam.id.clone(), false, "INVALID_STATUS".into()),
            (missing.clone(), false, "NOT_FOUND".into()),
            (taken.id.clone(), true, String::new()),
            (closed.id.clone(), false, "INVALID_STATUS".into()),
        ]
    );
    for id in [&open.id, &taken.id] {
        let now = mesh.get(&admin, id).await.unwrap();
        assert_eq!(
            (now.group_id.as_str(), now.assignee_login.as_str()),
            (other.as_str(), park.as_str())
        );
        assert_eq!(now.status(), TicketStatus::InProgress);
        let event = tap
            .wait_for("the forward", |e| {
                e.aggregate_id == *id && e.event_type == TicketForwarded::EVENT_TYPE
            })
            .await;
        let forwarded: TicketForwarded = event.unpack().unwrap();
        assert!(forwarded.batch);
        assert_eq!(forwarded.note, "배송팀으로 이관");
    }
    assert_eq!(
        mesh.get(&admin, &spam.id).await.unwrap().status(),
        TicketStatus::Spam
    );
    // With a request_id the forward is done once: the retry answers the same and changes
    // nothing (no new version, no second note); another caller's use of the id is refused.
    let back = BatchForwardTicketsRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        ticket_ids: vec![open.id.clone(), taken.id.clone()],
        group_id: group.clone(),
        assignee_login: String::new(),
        note: "다시 이관".into(),
    };
    let first = batch_forward(&mesh, &admin, back.clone()).await.unwrap();
    assert!(first.iter().all(|row| row.ok), "{first:?}");
    let versions = [
        mesh.get(&admin, &open.id).await.unwrap().version,
        mesh.get(&admin, &taken.id).await.unwrap().version,
    ];
    let again = batch_forward(&mesh, &admin, back.clone()).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(
        [
            mesh.get(&admin, &open.id).await.unwrap().version,
            mesh.get(&admin, &taken.id).await.unwrap().version,
        ],
        versions,
        "the retry forwarded nothing again"
    );
    mesh.gateway
        .create_agent("forward-admin2", AgentRole::Admin, &[], &[])
        .await;
    let other_admin = mesh.token("forward-admin2");
    let reused = batch_forward(&mesh, &other_admin, back.clone())
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::AlreadyExists, "{reused:?}");
    // Whole-call errors name the field.
    let with = |ticket_ids: Vec<String>| BatchForwardTicketsRequest {
        ticket_ids,
        ..request.clone()
    };
    assert_invalid(
        batch_forward(&mesh, &admin, with(vec![])).await,
        "ticket_ids",
    );
    assert_invalid(
        batch_forward(
            &mesh,
            &admin,
            with(vec![open.id.clone(), taken.id.clone(), open.id.clone()]),
        )
        .await,
        "ticket_ids[2]",
    );
    assert_invalid(
        batch_forward(&mesh, &admin, with(vec![open.id.clone(), "42".into()])).await,
        "ticket_ids[1]",
    );
    let many = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    assert_invalid(batch_forward(&mesh, &admin, with(many)).await, "ticket_ids");
    assert_invalid(
        batch_forward(
            &mesh,
            &admin,
            BatchForwardTicketsRequest {
                group_id: "결제".into(),
                ..request.clone()
            },
        )
        .await,
        "group_id",
    );
    assert_invalid(
        batch_forward(
            &mesh,
            &admin,
            BatchForwardTicketsRequest {
                assignee_login: kim_login.clone(),
                ..request.clone()
            },
        )
        .await,
        "assignee_login",
    );
    let reply = BatchReplyTicketsRequest {
        ticket_ids: vec![open.id.clone()],
        disposition: ReplyDisposition::Solve as i32,
        body: "해결되었습니다".into(),
        ..Default::default()
    };
    let bad = [
        (
            "disposition",
            BatchReplyTicketsRequest {
                disposition: 0,
                ..reply.clone()
            },
        ),
        (
            "body",
            BatchReplyTicketsRequest {
                body: String::new(),
                ..reply.clone()
            },
        ),
        (
            "request_id",
            BatchReplyTicketsRequest {
                request_id: "x".into(),
                ..reply.clone()
            },
        ),
        (
            "ticket_ids[1]",
            BatchReplyTicketsRequest {
                ticket_ids: vec![open.id.clone(), open.id.to_uppercase()],
                ..reply.clone()
            },
        ),
    ];
    for (field, request) in bad {
        assert_invalid(batch_reply(&mesh, &kim, request).await, field);
    }
    mesh.stop().await;
}
