//! Triggers acting on real ticket events: assignment, the version check against a concurrent
//! take, redelivered events, notifications to automated mail and the pass bound.

use switchboard_platform::testing;
use switchboard_proto::{
    events::v1::EventEnvelope,
    ticket::v1::{
        MessageAutomation, TicketEventKind, TicketMessageKind, TicketPriority, TicketStatus,
    },
    trigger::v1::Trigger,
};

use crate::common::{EventTap, Mesh, rules::*};

#[tokio::test]
async fn an_ingested_message_gets_the_group_and_agent_its_trigger_names() {
    let mesh = Mesh::start().await;
    let billing = mesh.group("결제").await;
    let kim = mesh
        .agent(
            &format!("kim{}", testing::unique_id()),
            std::slice::from_ref(&billing.id),
        )
        .await;
    mesh.trigger(
        "환불 문의는 김 상담원에게",
        vec![created(), subject_contains(&["환불"])],
        vec![assign_agent(&kim, &billing.id)],
    )
    .await;

    let refund = mesh
        .ingest(
            "환불요청 드립니다",
            "주문을 취소하고 싶어요",
            "a@example.com",
        )
        .await;
    let other = mesh
        .ingest("배송 문의", "언제 오나요", "b@example.com")
        .await;

    let assigned = mesh
        .ticket_when(&refund.id, "was assigned by the trigger", |t| {
            t.assignee_login == kim
        })
        .await;
    assert_eq!(assigned.group_id, billing.id);
    assert_eq!(assigned.status(), TicketStatus::InProgress);
    let history = mesh.history(&refund.id).await;
    let applied: Vec<_> = history
        .iter()
        .filter(|e| e.kind() == TicketEventKind::TriggerApplied)
        .collect();
    assert_eq!(applied.len(), 1, "{history:?}");
    assert_eq!(applied[0].trigger_name, "환불 문의는 김 상담원에게");

    // The other ticket matched no trigger: its events are evaluated too (the marker below
    // comes after it in the queue) and it stays as it was.
    let marker = mesh.ingest("환불 마커", "", "c@example.com").await;
    mesh.ticket_when(&marker.id, "was assigned", |t| t.assignee_login == kim)
        .await;
    let untouched = mesh.ticket(&other.id).await;
    assert_eq!(untouched.assignee_login, "");
    assert_eq!(untouched.version, other.version);
    mesh.stop().await;
}

#[tokio::test]
async fn a_take_between_the_event_and_the_engines_update_is_never_overwritten() {
    let mut mesh = Mesh::start().await;
    let billing = mesh.group("결제").await;
    let kim = mesh
        .agent(
            &format!("kim{}", testing::unique_id()),
            std::slice::from_ref(&billing.id),
        )
        .await;
    let lee = mesh
        .agent(
            &format!("lee{}", testing::unique_id()),
            std::slice::from_ref(&billing.id),
        )
        .await;
    mesh.trigger(
        "새 티켓은 김에게",
        vec![created(), unassigned()],
        vec![assign_agent(&kim, &billing.id)],
    )
    .await;
    mesh.trigger(
        "새 티켓은 높음",
        vec![created()],
        vec![priority(TicketPriority::High)],
    )
    .await;
    let schema = mesh.schema();
    mesh.pause_engines().await;

    let ticket = mesh
        .ingest("결제 오류", "카드가 안 돼요", "a@example.com")
        .await;
    let taken = mesh.take(&lee, &ticket.id, &billing.id).await;
    assert_eq!(taken.version, ticket.version + 1);
    mesh.resume_engines(&schema, 1, |_| {}).await;

    // Evaluated on version 1, refused at version 2, evaluated again on version 2: the
    // assignment no longer applies (the ticket has an assignee), the priority does.
    let after = mesh
        .ticket_when(&ticket.id, "got the priority", |t| {
            t.priority() == TicketPriority::High
        })
        .await;
    assert_eq!(
        after.assignee_login, lee,
        "the agent's take was overwritten"
    );
    assert_eq!(after.version, taken.version + 1);
    let history = mesh.history(&ticket.id).await;
    let names: Vec<_> = history
        .iter()
        .filter(|e| e.kind() == TicketEventKind::TriggerApplied)
        .map(|e| e.trigger_name.as_str())
        .collect();
    assert_eq!(names, ["새 티켓은 높음"]);
    mesh.stop().await;
}

#[tokio::test]
async fn an_event_delivered_three_times_changes_the_ticket_once_and_notifies_once() {
    let mut mesh = Mesh::start().await;
    let template = mesh.template().await;
    mesh.trigger(
        "접수 확인",
        vec![created(), subject_contains(&["문의"])],
        vec![add_tag("ack"), notify_requester(&template)],
    )
    .await;
    let schema = mesh.schema();
    mesh.pause_engines().await;
    let tap = EventTap::start(&mesh.gateway, &["ticket.created"]).await;

    let ticket = mesh
        .ingest("상품 문의", "재고 있나요", "a@example.com")
        .await;
    let created: EventEnvelope = tap
        .wait_for("ticket.created", |e| e.aggregate_id == ticket.id)
        .await;
    // Twice more, as a broker redelivers, then a marker ticket behind them.
    testing::publish(&mesh.gateway.amqp, &[created.clone(), created]).await;
    let marker = mesh.ingest("마커 문의", "", "m@example.com").await;
    // One worker: the queue's order is the order applied, so the marker comes last.
    mesh.resume_engines(&schema, 1, |s| s.workers = 1).await;
    mesh.ticket_when(&marker.id, "was tagged", |t| {
        t.tags.contains(&"ack".to_string())
    })
    .await;

    let after = mesh.ticket(&ticket.id).await;
    assert_eq!(after.tags, ["ack"]);
    let notifications = mesh
        .messages(&ticket.id)
        .await
        .into_iter()
        .filter(|m| m.kind() == TicketMessageKind::Notification)
        .count();
    assert_eq!(notifications, 1);
    let history = mesh.history(&ticket.id).await;
    let applied = history
        .iter()
        .filter(|e| e.kind() == TicketEventKind::TriggerApplied)
        .count();
    assert_eq!(applied, 1, "{history:?}");
    mesh.stop().await;
}

#[tokio::test]
async fn automated_mail_gets_no_acknowledgement() {
    let mesh = Mesh::start().await;
    let template = mesh.template().await;
    mesh.trigger(
        "접수 확인",
        vec![created()],
        vec![add_tag("ack"), notify_requester(&template)],
    )
    .await;

    let human = mesh.ingest("문의", "안녕하세요", "a@example.com").await;
    let auto_reply = mesh
        .ingest_as(
            "부재중 자동 응답",
            "휴가 중입니다",
            "b@example.com",
            MessageAutomation::AutoReply,
        )
        .await;
    let bounce = mesh
        .ingest_as(
            "Undelivered Mail Returned to Sender",
            "",
            "mailer-daemon@example.com",
            MessageAutomation::DeliveryStatus,
        )
        .await;
    for ticket in [&human, &auto_reply, &bounce] {
        mesh.ticket_when(&ticket.id, "was tagged", |t| {
            t.tags.contains(&"ack".to_string())
        })
        .await;
    }

    let notified = |messages: Vec<switchboard_proto::ticket::v1::TicketMessage>| {
        messages
            .iter()
            .filter(|m| m.kind() == TicketMessageKind::Notification)
            .count()
    };
    assert_eq!(notified(mesh.messages(&human.id).await), 1);
    for ticket in [&auto_reply, &bounce] {
        assert_eq!(notified(mesh.messages(&ticket.id).await), 0);
        let history = mesh.history(&ticket.id).await;
        let suppressed = history.iter().any(|e| {
            e.kind() == TicketEventKind::NotificationSent && e.note.contains("AUTOMATED_MESSAGE")
        });
        assert!(
            suppressed,
            "no suppressed notification recorded: {history:?}"
        );
    }
    mesh.stop().await;
}

#[tokio::test]
async fn a_chain_longer_than_the_pass_bound_stops_and_says_so() {
    let mesh = Mesh::start().await;
    // Trigger k adds tag t{k} once t{k-1} is there; written last to first, so each pass over
    // the list fires only the next link.
    for k in (1..=12).rev() {
        let condition = if k == 1 {
            created()
        } else {
            has_tag(&format!("t{}", k - 1))
        };
        mesh.trigger_with(Trigger {
            name: format!("chain {k}"),
            active: true,
            all_conditions: vec![condition],
            actions: vec![add_tag(&format!("t{k}"))],
            ..Default::default()
        })
        .await;
    }

    let ticket = mesh.ingest("연쇄", "", "a@example.com").await;
    let after = mesh
        .ticket_when(&ticket.id, "was tagged", |t| !t.tags.is_empty())
        .await;
    let mut expected: Vec<String> = (1..=10).map(|k| format!("t{k}")).collect();
    expected.sort();
    assert_eq!(after.tags, expected);
    let history = mesh.history(&ticket.id).await;
    let stopped: Vec<_> = history
        .iter()
        .filter(|e| e.kind() == TicketEventKind::TriggerLoopStopped)
        .collect();
    assert_eq!(stopped.len(), 1, "{history:?}");
    assert!(
        stopped[0].note.contains("chain 11"),
        "{:?}",
        stopped[0].note
    );
    mesh.stop().await;
}

#[tokio::test]
async fn a_trigger_change_takes_effect_for_the_next_event_on_every_replica() {
    let mut mesh = Mesh::start().await;
    mesh.add_replica(|_| {}).await;
    let tagger = mesh
        .trigger("태그", vec![created()], vec![add_tag("first")])
        .await;
    // Both replicas compile the rules once, on their first events.
    for i in 0..6 {
        let warm = mesh.ingest(&format!("준비 {i}"), "", "w@example.com").await;
        mesh.ticket_when(&warm.id, "was tagged", |t| t.tags == ["first"])
            .await;
    }
    mesh.triggers()
        .await
        .update_trigger(crate::common::bearer(
            switchboard_proto::trigger::v1::UpdateTriggerRequest {
                trigger: Some(Trigger {
                    actions: vec![add_tag("second")],
                    ..tagger
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["actions".into()],
                }),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap();
    // Whichever replica takes them, every later event sees the new action.
    for i in 0..6 {
        let ticket = mesh.ingest(&format!("이후 {i}"), "", "n@example.com").await;
        let after = mesh
            .ticket_when(&ticket.id, "was tagged", |t| !t.tags.is_empty())
            .await;
        assert_eq!(after.tags, ["second"]);
    }
    mesh.stop().await;
}
