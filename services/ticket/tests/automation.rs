//! `TicketAutomationService` as the trigger engine calls it: a run applied once at the version it
//! was computed from (one version, one entry per trigger, one event), notifications sent or
//! recorded as suppressed, and the open tickets of agents counted.

use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    events::{
        Event,
        v1::{TicketAssigned, TicketMessageAdded, TicketReplyRequested, TicketUpdated},
    },
    ticket::v1::{
        ApplyTriggerRunRequest, ApplyTriggerRunResponse, CountOpenTicketsRequest,
        CreateTicketRequest, DeliveryState, ListTicketEventsRequest, ListTicketMessagesRequest,
        ReplyDisposition, ResolutionReason, Ticket, TicketChangeOrigin, TicketEvent,
        TicketEventKind, TicketField, TicketFieldChange, TicketMessage, TicketMessageKind,
        TicketPriority, TicketRequester, TicketStatus, TriggerNotification, TriggerRunOutcome,
        TriggerRunStep, ticket_automation_service_client::TicketAutomationServiceClient,
    },
};
use tonic::{Code, Status};

use crate::common::{
    EventTap, Mesh, bearer,
    catalog_clients::{invalid, refused},
};

/// The trigger engine's principal.
fn engine() -> Principal {
    Principal {
        subject: "trigger-engine".into(),
        kind: PrincipalKind::Service as i32,
        scopes: vec!["tickets:automate".into()],
        display_name: "trigger engine".into(),
        ..Default::default()
    }
}

async fn apply(
    mesh: &Mesh,
    request: ApplyTriggerRunRequest,
) -> Result<ApplyTriggerRunResponse, Status> {
    let response = mesh
        .automation(engine())
        .await
        .apply_trigger_run(request)
        .await?;
    Ok(response.into_inner())
}

/// A run of the engine on `ticket` at its version, changing nothing yet.
fn run(id: &str, ticket: &Ticket) -> ApplyTriggerRunRequest {
    ApplyTriggerRunRequest {
        ticket_id: ticket.id.clone(),
        run_id: id.into(),
        expected_version: ticket.version,
        ..Default::default()
    }
}

fn change(field: TicketField, before: &str, after: &str) -> TicketFieldChange {
    TicketFieldChange {
        field: field as i32,
        before: before.into(),
        after: after.into(),
        ..Default::default()
    }
}

fn step(id: &str, name: &str, changes: Vec<TicketFieldChange>) -> TriggerRunStep {
    TriggerRunStep {
        trigger_id: id.into(),
        trigger_name: name.into(),
        changes,
        warnings: Vec::new(),
    }
}

/// What one trigger does to a ticket: the ticket after it, and its changes.
struct Effect {
    after: Ticket,
    changes: Vec<TicketFieldChange>,
}

/// `ticket`, unassigned, given to `login`.
fn given_to(ticket: &Ticket, login: &str) -> Effect {
    let mut after = ticket.clone();
    after.status = TicketStatus::InProgress as i32;
    after.assignee_login = login.into();
    let status = |s: TicketStatus| s.as_str_name();
    let changes = vec![
        change(
            TicketField::Status,
            status(ticket.status()),
            status(TicketStatus::InProgress),
        ),
        change(TicketField::Assignee, &ticket.assignee_login, login),
    ];
    Effect { after, changes }
}

fn prioritised(ticket: &Ticket, priority: TicketPriority) -> Effect {
    let mut after = ticket.clone();
    after.priority = priority as i32;
    let changes = vec![change(
        TicketField::Priority,
        ticket.priority().as_str_name(),
        priority.as_str_name(),
    )];
    Effect { after, changes }
}

/// `ticket`, without tags, given `tag`.
fn tagged(ticket: &Ticket, tag: &str) -> Effect {
    let mut after = ticket.clone();
    after.tags = vec![tag.into()];
    let changes = vec![change(TicketField::Tags, "", tag)];
    Effect { after, changes }
}

/// A run in which the trigger `name` alone fired, with `effect`.
fn one_trigger(id: &str, ticket: &Ticket, name: &str, effect: Effect) -> ApplyTriggerRunRequest {
    ApplyTriggerRunRequest {
        changes: effect.changes.clone(),
        ticket_after: Some(effect.after),
        steps: vec![step("t-1", name, effect.changes)],
        ..run(id, ticket)
    }
}

/// A run in which the trigger "접수 안내" (t-1) fired only to ask for `notifications`.
fn notifying(
    id: &str,
    ticket: &Ticket,
    notifications: Vec<TriggerNotification>,
) -> ApplyTriggerRunRequest {
    ApplyTriggerRunRequest {
        steps: vec![step("t-1", "접수 안내", Vec::new())],
        notifications,
        ..run(id, ticket)
    }
}

fn to_requester(trigger: &str, template: &str) -> TriggerNotification {
    TriggerNotification {
        trigger_id: trigger.into(),
        template_id: template.into(),
        to_requester: true,
        ..Default::default()
    }
}

/// A mesh with the group 결제 and in it an unassigned ticket "환불 문의" the admin created.
async fn refund_inquiry() -> (Mesh, String, Ticket) {
    let mesh = Mesh::start().await;
    let group = mesh.group("결제").await.id;
    let ticket = mesh
        .create(&mesh.admin(), &group, "환불 문의")
        .await
        .unwrap();
    (mesh, group, ticket)
}

async fn history(mesh: &Mesh, ticket: &str) -> Vec<TicketEvent> {
    let request = ListTicketEventsRequest {
        ticket_id: ticket.into(),
        ..Default::default()
    };
    mesh.tickets()
        .await
        .list_ticket_events(bearer(request, &mesh.admin()))
        .await
        .unwrap()
        .into_inner()
        .events
}

async fn notifications(mesh: &Mesh, ticket: &str) -> Vec<TicketMessage> {
    let request = ListTicketMessagesRequest {
        ticket_id: ticket.into(),
        kinds: vec![TicketMessageKind::Notification as i32],
        ..Default::default()
    };
    mesh.tickets()
        .await
        .list_ticket_messages(bearer(request, &mesh.admin()))
        .await
        .unwrap()
        .into_inner()
        .messages
}

/// A template written straight into the service's table, for every group.
async fn template(mesh: &Mesh, subject: &str, body: &str) -> String {
    let id = uuid::Uuid::now_v7();
    sqlx::query("INSERT INTO templates (id, name, subject, body) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(format!("template {id}"))
        .bind(subject)
        .bind(body)
        .execute(&mesh.pool)
        .await
        .unwrap();
    id.to_string()
}

#[tokio::test]
async fn a_run_applies_its_net_changes_as_one_version_with_an_entry_per_trigger() {
    let (mesh, group, ticket) = refund_inquiry().await;
    let tap = EventTap::start(&mesh.gateway, &["ticket.*"]).await;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    // One trigger assigns; the next raises the priority and tags (the tag stored lowercase).
    let assign = given_to(&ticket, &kim);
    let high = prioritised(&assign.after, TicketPriority::High);
    let vip = tagged(&high.after, "VIP");
    let mut after = vip.after;
    after.subject = "not a field triggers change".into();
    let tag = [high.changes, vip.changes].concat();
    let mut distribute = step("t-1", "결제 배분", assign.changes.clone());
    distribute.warnings = vec!["no agent present".into(), "kept the group".into()];
    let first = ApplyTriggerRunRequest {
        changes: [assign.changes, tag.clone()].concat(),
        ticket_after: Some(after),
        steps: vec![distribute, step("t-2", "VIP 태그", tag)],
        ..run("event-1", &ticket)
    };
    let applied = apply(&mesh, first.clone()).await.unwrap();
    assert_eq!(applied.outcome(), TriggerRunOutcome::Applied);
    let changed = applied.ticket.unwrap();
    assert_eq!(changed.version, 2);
    assert_eq!(changed.status(), TicketStatus::InProgress);
    assert_eq!(
        (
            changed.assignee_login.as_str(),
            changed.assignee_display_name.as_str()
        ),
        (kim.as_str(), "상담원 kim")
    );
    assert_eq!(changed.priority(), TicketPriority::High);
    assert_eq!(changed.tags, ["vip"]);
    assert_eq!(
        changed.subject, "환불 문의",
        "only the listed fields change"
    );
    let stored = mesh.get(&mesh.admin(), &ticket.id).await.unwrap();
    assert_eq!((stored.version, stored.tags), (2, changed.tags.clone()));

    let entries = history(&mesh, &ticket.id).await;
    let steps: Vec<_> = entries
        .iter()
        .filter(|e| e.kind() == TicketEventKind::TriggerApplied)
        .collect();
    assert_eq!(steps.len(), 2);
    assert_eq!(
        (steps[0].trigger_name.as_str(), steps[0].note.as_str()),
        ("결제 배분", "no agent present; kept the group")
    );
    assert_eq!(steps[0].changes[1].after_display, "상담원 kim");
    assert_eq!(steps[1].trigger_id, "t-2");
    assert_eq!(steps[1].changes.len(), 2);
    for entry in &steps {
        assert_eq!(entry.origin(), TicketChangeOrigin::Trigger);
        assert_eq!(entry.actor.as_ref().unwrap().kind, "system");
    }

    // Only the priority next: an update, not an assignment.
    let urgent = prioritised(&changed, TicketPriority::Urgent);
    let second = one_trigger("event-2", &changed, "긴급", urgent);
    let raised = apply(&mesh, second).await.unwrap().ticket.unwrap();
    assert_eq!(raised.version, 3);

    let assigned = tap
        .wait_for("the run's assignment", |e| {
            e.aggregate_id == ticket.id && e.aggregate_version == 2
        })
        .await;
    assert_eq!(assigned.event_type, TicketAssigned::EVENT_TYPE);
    let assigned: TicketAssigned = assigned.unpack().unwrap();
    assert_eq!(assigned.origin(), TicketChangeOrigin::Trigger);
    assert_eq!(assigned.kind(), TicketEventKind::TriggerApplied);
    let fields: Vec<TicketField> = assigned.changes.iter().map(|c| c.field()).collect();
    assert_eq!(
        fields,
        [
            TicketField::Status,
            TicketField::Assignee,
            TicketField::Priority,
            TicketField::Tags
        ]
    );
    assert_eq!(assigned.ticket.unwrap().version, 2);
    let updated = tap
        .wait_for("the run's update", |e| {
            e.aggregate_id == ticket.id && e.aggregate_version == 3
        })
        .await;
    assert_eq!(updated.event_type, TicketUpdated::EVENT_TYPE);
    let updated: TicketUpdated = updated.unpack().unwrap();
    assert_eq!(updated.origin(), TicketChangeOrigin::Trigger);
    assert_eq!(updated.kind(), TicketEventKind::TriggerApplied);

    // The first run again, as a redelivered event: nothing changes, whatever the version now.
    let again = apply(&mesh, first).await.unwrap();
    assert_eq!(again.outcome(), TriggerRunOutcome::Duplicate);
    assert_eq!(again.ticket.unwrap().version, raised.version);
    assert_eq!(history(&mesh, &ticket.id).await.len(), entries.len() + 1);
    mesh.stop().await;
}

#[tokio::test]
async fn a_run_computed_before_an_agents_take_never_overwrites_it() {
    let mesh = Mesh::start().await;
    let group = mesh.group("배송").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let lee = mesh.agent("lee", std::slice::from_ref(&group)).await;
    let ticket = mesh
        .create(&mesh.admin(), &group, "배송 문의")
        .await
        .unwrap();
    let taken = mesh.take(&mesh.token(&kim), &ticket.id).await.unwrap();
    // Computed on version 1, when the ticket had nobody: give it to lee.
    let stale = one_trigger("event-1", &ticket, "배분", given_to(&ticket, &lee));
    let conflict = apply(&mesh, stale).await.unwrap();
    assert_eq!(conflict.outcome(), TriggerRunOutcome::VersionConflict);
    let now = conflict.ticket.unwrap();
    assert_eq!(
        (now.version, now.assignee_login.as_str()),
        (2, kim.as_str())
    );
    assert_eq!(mesh.get(&mesh.admin(), &ticket.id).await.unwrap(), now);
    let entries = history(&mesh, &ticket.id).await;
    assert!(
        entries
            .iter()
            .all(|e| e.kind() != TicketEventKind::TriggerApplied)
    );

    // Evaluated again on the taken ticket, under the same run id: only the priority now.
    let high = prioritised(&taken, TicketPriority::High);
    let retry = one_trigger("event-1", &taken, "우선순위", high);
    let applied = apply(&mesh, retry.clone()).await.unwrap();
    assert_eq!(applied.outcome(), TriggerRunOutcome::Applied);
    let applied = applied.ticket.unwrap();
    assert_eq!(applied.version, taken.version + 1);
    assert_eq!(applied.assignee_login, kim);
    assert_eq!(applied.priority(), TicketPriority::High);
    let again = apply(&mesh, retry).await.unwrap();
    assert_eq!(again.outcome(), TriggerRunOutcome::Duplicate);
    mesh.stop().await;
}

#[tokio::test]
async fn the_same_run_arriving_twice_at_once_is_applied_once() {
    let (mesh, _, ticket) = refund_inquiry().await;
    let request = one_trigger("event-1", &ticket, "VIP 태그", tagged(&ticket, "vip"));
    let (one, other) = tokio::join!(apply(&mesh, request.clone()), apply(&mesh, request));
    let mut outcomes = [one.unwrap().outcome(), other.unwrap().outcome()];
    outcomes.sort();
    assert_eq!(
        outcomes,
        [TriggerRunOutcome::Applied, TriggerRunOutcome::Duplicate]
    );
    let stored = mesh.get(&mesh.admin(), &ticket.id).await.unwrap();
    assert_eq!(stored.version, 2);
    mesh.stop().await;
}

/// A run id is kept for its retention: a run older than that is forgotten by the sweep, a
/// younger one is still found, and the forgotten one arriving again meets the ticket's newer
/// version instead of its claim.
#[tokio::test]
async fn trigger_runs_past_their_retention_are_forgotten_and_younger_ones_kept() {
    let (mesh, _, ticket) = refund_inquiry().await;
    let old = one_trigger("event-old", &ticket, "VIP 태그", tagged(&ticket, "vip"));
    assert_eq!(
        apply(&mesh, old.clone()).await.unwrap().outcome(),
        TriggerRunOutcome::Applied
    );
    let tagged_now = mesh.get(&mesh.admin(), &ticket.id).await.unwrap();
    let young = one_trigger(
        "event-young",
        &tagged_now,
        "긴급",
        tagged(&tagged_now, "urgent"),
    );
    assert_eq!(
        apply(&mesh, young.clone()).await.unwrap().outcome(),
        TriggerRunOutcome::Applied
    );
    let aged = switchboard_ticket::testing::TRIGGER_RUN_RETENTION + chrono::TimeDelta::hours(1);
    sqlx::query("UPDATE trigger_runs SET apply_time = apply_time - $1 WHERE run_id = 'event-old'")
        .bind(aged)
        .execute(&mesh.pool)
        .await
        .unwrap();
    let mut conn = mesh.pool.acquire().await.unwrap();
    let forgotten =
        switchboard_ticket::testing::forget_expired_trigger_runs(&mut conn, chrono::Utc::now())
            .await
            .unwrap();
    drop(conn);
    assert_eq!(forgotten, 1);
    let kept: Vec<String> = sqlx::query_scalar("SELECT run_id FROM trigger_runs")
        .fetch_all(&mesh.pool)
        .await
        .unwrap();
    assert_eq!(kept, ["event-young"]);
    assert_eq!(
        apply(&mesh, young).await.unwrap().outcome(),
        TriggerRunOutcome::Duplicate
    );
    assert_eq!(
        apply(&mesh, old).await.unwrap().outcome(),
        TriggerRunOutcome::VersionConflict
    );
    mesh.stop().await;
}

#[tokio::test]
async fn closed_and_spam_tickets_are_not_evaluated_and_the_run_is_kept() {
    let mesh = Mesh::start().await;
    let group = mesh.group("결제").await.id;
    let admin = mesh.admin();
    let ticket = mesh.create(&admin, &group, "테스트 문의").await.unwrap();
    mesh.resolve(&admin, &ticket.id, ResolutionReason::Test)
        .await
        .unwrap();
    let closed = mesh.close(&admin, &ticket.id).await.unwrap();
    let spam = mesh.create(&admin, &group, "광고").await.unwrap();
    let spam = mesh
        .resolve(&admin, &spam.id, ResolutionReason::Spam)
        .await
        .unwrap();
    for (id, ticket) in [("event-closed", &closed), ("event-spam", &spam)] {
        let late = one_trigger(id, ticket, "태그", tagged(ticket, "late"));
        let refused = apply(&mesh, late.clone()).await.unwrap();
        assert_eq!(refused.outcome(), TriggerRunOutcome::NotEvaluable);
        let now = refused.ticket.unwrap();
        assert_eq!(now.version, ticket.version);
        assert_eq!(mesh.get(&admin, &ticket.id).await.unwrap(), now);
        // Kept: a redelivery is answered as a repeat.
        let again = apply(&mesh, late).await.unwrap();
        assert_eq!(again.outcome(), TriggerRunOutcome::Duplicate);
    }
    let missing = ApplyTriggerRunRequest {
        ticket_id: uuid::Uuid::now_v7().to_string(),
        ..run("event-missing", &closed)
    };
    refused(apply(&mesh, missing).await, Code::NotFound);
    mesh.stop().await;
}

#[tokio::test]
async fn notifications_are_sent_as_messages_or_recorded_as_suppressed() {
    let (mesh, _, ticket) = refund_inquiry().await;
    let tap = EventTap::start(&mesh.gateway, &["ticket.*", "ticket_message.*"]).await;
    mesh.reply_account("help@example.co.kr").await;
    let ack = template(
        &mesh,
        "접수 안내: {{ticket.subject}}",
        "{{requester.name}}님, {{ticket.number}} 문의가 접수되었습니다.",
    )
    .await;
    let retired = template(&mesh, "", "더 이상 쓰지 않는 안내").await;
    sqlx::query("UPDATE templates SET active = false WHERE id = $1::uuid")
        .bind(&retired)
        .execute(&mesh.pool)
        .await
        .unwrap();
    let automated = TriggerNotification {
        suppressed: true,
        suppress_reason: "AUTOMATED_MESSAGE".into(),
        ..to_requester("t-1", &ack)
    };
    let team = TriggerNotification {
        trigger_id: "t-1".into(),
        template_id: ack.clone(),
        to_addresses: vec!["Team@Example.com".into()],
        ..Default::default()
    };
    let request = notifying(
        "event-1",
        &ticket,
        vec![
            to_requester("t-1", &ack),
            automated,
            to_requester("t-1", &retired),
            team,
        ],
    );
    let applied = apply(&mesh, request).await.unwrap();
    assert_eq!(applied.outcome(), TriggerRunOutcome::Applied);
    let after = applied.ticket.unwrap();
    assert_eq!(after.version, 3, "one version per notification sent");
    assert_eq!(after.message_count, ticket.message_count + 2);

    let sent = notifications(&mesh, &ticket.id).await;
    assert_eq!(sent.len(), 2);
    let subject = format!("접수 안내: 환불 문의 [#{}]", ticket.number);
    assert_eq!(sent[0].to_addresses, ["minsu.kim@example.co.kr"]);
    assert_eq!(sent[1].to_addresses, ["Team@example.com"]);
    for message in &sent {
        assert_eq!(message.subject, subject);
        assert_eq!(
            message.body_text,
            format!("김민수님, #{} 문의가 접수되었습니다.", ticket.number)
        );
        assert_eq!(message.sender_address, "help@example.co.kr");
        assert_eq!(message.author.as_ref().unwrap().kind, "system");
        assert_eq!(message.template_id, ack);
        assert_eq!(message.delivery_state(), DeliveryState::Queued);
    }

    let entries: Vec<TicketEvent> = history(&mesh, &ticket.id)
        .await
        .into_iter()
        .filter(|e| e.kind() == TicketEventKind::NotificationSent)
        .collect();
    let recorded: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.message_id.as_str(), e.note.as_str()))
        .collect();
    assert_eq!(
        recorded,
        [
            (sent[0].id.as_str(), ""),
            ("", "suppressed: AUTOMATED_MESSAGE"),
            ("", "suppressed: TEMPLATE_INACTIVE"),
            (sent[1].id.as_str(), ""),
        ]
    );
    assert!(entries.iter().all(|e| e.trigger_name == "접수 안내"));

    let last = tap
        .wait_for("the second notification's change", |e| {
            e.aggregate_id == ticket.id && e.aggregate_version == 3
        })
        .await;
    let added: TicketMessageAdded = last.unpack().unwrap();
    assert_eq!(added.origin(), TicketChangeOrigin::Trigger);
    assert_eq!(added.kind(), TicketEventKind::NotificationSent);
    assert_eq!(added.message.unwrap().id, sent[1].id);
    tap.wait_for("the second send request", |e| {
        e.event_type == TicketReplyRequested::EVENT_TYPE && e.aggregate_id == sent[1].id
    })
    .await;
    let sends: Vec<TicketReplyRequested> = tap
        .events()
        .iter()
        .filter(|e| e.event_type == TicketReplyRequested::EVENT_TYPE)
        .map(|e| e.unpack().unwrap())
        .collect();
    assert_eq!(sends.len(), 2, "nothing sent for the suppressed ones");
    assert_eq!(sends[0].ticket_message_id, sent[0].id);
    assert_eq!(sends[0].kind(), TicketMessageKind::Notification);
    assert_eq!(sends[0].to_addresses, ["minsu.kim@example.co.kr"]);
    assert_eq!(sends[0].from_address, "help@example.co.kr");
    assert_eq!(sends[0].subject, subject);
    assert_eq!(sends[0].mail_message_id, sent[0].mail_message_id);
    assert!(sends[0].mail_message_id.ends_with("@example.co.kr"));
    assert_eq!(sends[1].to_addresses, ["Team@example.com"]);
    mesh.stop().await;
}

#[tokio::test]
async fn a_requester_gets_at_most_five_notifications_an_hour() {
    let mesh = Mesh::start().await;
    mesh.reply_account("help@example.co.kr").await;
    let group = mesh.group("결제").await.id;
    let admin = mesh.admin();
    let ack = template(&mesh, "접수 안내", "문의가 접수되었습니다.").await;
    let first = mesh.create(&admin, &group, "첫 문의").await.unwrap();
    let six = notifying("event-1", &first, vec![to_requester("t-1", &ack); 6]);
    let after = apply(&mesh, six).await.unwrap().ticket.unwrap();
    assert_eq!(after.version, first.version + 5);
    assert_eq!(notifications(&mesh, &first.id).await.len(), 5);
    let last = history(&mesh, &first.id).await.pop().unwrap();
    assert_eq!(last.note, "suppressed: THROTTLED");

    // Another ticket of the same requester: the hour counts across tickets, for the requester
    // only.
    let second = mesh.create(&admin, &group, "두 번째 문의").await.unwrap();
    let team = TriggerNotification {
        trigger_id: "t-1".into(),
        template_id: ack.clone(),
        to_addresses: vec!["team@example.com".into()],
        ..Default::default()
    };
    let more = notifying("event-2", &second, vec![to_requester("t-1", &ack), team]);
    let after = apply(&mesh, more).await.unwrap().ticket.unwrap();
    assert_eq!(after.version, second.version + 1);
    let sent = notifications(&mesh, &second.id).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to_addresses, ["team@example.com"]);

    // A requester known only by phone has nowhere to receive one.
    let by_phone = CreateTicketRequest {
        ticket: Some(Ticket {
            subject: "전화 문의".into(),
            group_id: group.clone(),
            requester: Some(TicketRequester {
                name: "박지훈".into(),
                phone_number: "+821012345678".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        body: "전화로 문의하셨습니다".into(),
        ..Default::default()
    };
    let phoned = mesh
        .tickets()
        .await
        .create_ticket(bearer(by_phone, &admin))
        .await
        .unwrap()
        .into_inner()
        .ticket
        .unwrap();
    let nowhere = notifying("event-3", &phoned, vec![to_requester("t-1", &ack)]);
    let after = apply(&mesh, nowhere).await.unwrap().ticket.unwrap();
    assert_eq!(after.version, phoned.version);
    let last = history(&mesh, &phoned.id).await.pop().unwrap();
    assert_eq!(last.note, "suppressed: NO_ADDRESS");
    mesh.stop().await;
}

#[tokio::test]
async fn a_run_stopped_at_its_pass_bound_says_which_triggers_loop() {
    let (mesh, _, ticket) = refund_inquiry().await;
    let request = ApplyTriggerRunRequest {
        steps: vec![
            step("t-1", "태그 추가", vec![change(TicketField::Tags, "", "a")]),
            step("t-2", "태그 제거", vec![change(TicketField::Tags, "a", "")]),
        ],
        pass_limit_reached: true,
        looping_triggers: vec!["태그 추가".into(), "태그 제거".into()],
        ..run("event-1", &ticket)
    };
    let applied = apply(&mesh, request).await.unwrap();
    assert_eq!(applied.outcome(), TriggerRunOutcome::Applied);
    let now = applied.ticket.unwrap();
    assert_eq!(
        (now.version, now.tags),
        (1, Vec::<String>::new()),
        "nothing changed in all"
    );
    let entries = history(&mesh, &ticket.id).await;
    let kinds: Vec<TicketEventKind> = entries.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [
            TicketEventKind::Created,
            TicketEventKind::TriggerApplied,
            TicketEventKind::TriggerApplied,
            TicketEventKind::TriggerLoopStopped
        ]
    );
    assert_eq!(entries[2].changes[0].before, "a");
    assert_eq!(
        entries[3].note,
        "stopped at the pass bound; still changing the ticket: 태그 추가, 태그 제거"
    );
    mesh.stop().await;
}

#[tokio::test]
async fn only_services_with_the_automate_scope_may_call() {
    let mesh = Mesh::start().await;
    let count = || CountOpenTicketsRequest {
        agent_logins: vec!["kim".into()],
    };
    let admin = Principal {
        subject: "admin".into(),
        kind: PrincipalKind::Admin as i32,
        ..Default::default()
    };
    let ingest = Principal {
        scopes: vec!["tickets:ingest".into()],
        ..engine()
    };
    // The service decides on its own, whatever reaches it past the gateway.
    for principal in [admin, ingest] {
        let mut direct = mesh.automation(principal).await;
        refused(
            direct.count_open_tickets(count()).await,
            Code::PermissionDenied,
        );
        let request = ApplyTriggerRunRequest {
            ticket_id: uuid::Uuid::now_v7().to_string(),
            run_id: "event-1".into(),
            expected_version: 1,
            ..Default::default()
        };
        refused(
            direct.apply_trigger_run(request).await,
            Code::PermissionDenied,
        );
    }
    let through_gateway = mesh
        .automation_through_gateway(engine())
        .await
        .count_open_tickets(count())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(through_gateway.open_tickets["kim"], 0);
    let as_admin = TicketAutomationServiceClient::new(mesh.gateway.channel().await)
        .count_open_tickets(bearer(count(), &mesh.admin()))
        .await;
    refused(as_admin, Code::PermissionDenied);
    mesh.stop().await;
}

#[tokio::test]
async fn bad_runs_name_their_fields_and_record_nothing() {
    let (mesh, group, ticket) = refund_inquiry().await;
    let other = mesh.group("배송").await.id;
    let lee = mesh.agent("lee", std::slice::from_ref(&other)).await;
    let malformed = ApplyTriggerRunRequest {
        expected_version: 0,
        changes: vec![change(TicketField::Subject, "환불 문의", "x")],
        ticket_after: Some(ticket.clone()),
        steps: vec![step("t-1", "", Vec::new())],
        notifications: vec![TriggerNotification {
            trigger_id: "t-1".into(),
            to_requester: true,
            ..Default::default()
        }],
        ..run("", &ticket)
    };
    invalid(
        apply(&mesh, malformed).await,
        &[
            "run_id",
            "expected_version",
            "changes[0].field",
            "steps[0].trigger_name",
            "notifications[0].template_id",
        ],
    );
    // Fields the ticket service checks against what it knows.
    let mut nowhere = ticket.clone();
    nowhere.group_id = uuid::Uuid::now_v7().to_string();
    let regroup = Effect {
        changes: vec![change(TicketField::Group, &group, &nowhere.group_id)],
        after: nowhere,
    };
    let unknown_group = one_trigger("event-1", &ticket, "이관", regroup);
    invalid(
        apply(&mesh, unknown_group).await,
        &["ticket_after.group_id"],
    );
    let outsider = one_trigger("event-1", &ticket, "배분", given_to(&ticket, &lee));
    invalid(
        apply(&mesh, outsider).await,
        &["ticket_after.assignee_login"],
    );
    assert_eq!(
        mesh.get(&mesh.admin(), &ticket.id).await.unwrap().version,
        1
    );
    let (runs,): (i64,) = sqlx::query_as("SELECT count(*) FROM trigger_runs")
        .fetch_one(&mesh.pool)
        .await
        .unwrap();
    assert_eq!(runs, 0, "a refused run can be sent again");
    mesh.stop().await;
}

#[tokio::test]
async fn open_tickets_are_counted_per_agent() {
    let mesh = Mesh::start().await;
    mesh.reply_account("help@example.co.kr").await;
    let group = mesh.group("결제").await.id;
    let kim = mesh.agent("kim", std::slice::from_ref(&group)).await;
    let lee = mesh.agent("lee", std::slice::from_ref(&group)).await;
    let admin = mesh.admin();
    let mut ids = Vec::new();
    for subject in ["하나", "둘", "셋", "넷"] {
        ids.push(mesh.create(&admin, &group, subject).await.unwrap().id);
    }
    let (kim_token, lee_token) = (mesh.token(&kim), mesh.token(&lee));
    for id in &ids[..3] {
        mesh.take(&kim_token, id).await.unwrap();
    }
    mesh.take(&lee_token, &ids[3]).await.unwrap();
    mesh.reply(&kim_token, &ids[1], ReplyDisposition::Hold, "확인 중입니다")
        .await
        .unwrap();
    mesh.reply(&kim_token, &ids[2], ReplyDisposition::Solve, "처리했습니다")
        .await
        .unwrap();
    let mut client = mesh.automation(engine()).await;
    let counts = client
        .count_open_tickets(CountOpenTicketsRequest {
            agent_logins: vec![kim.clone(), lee.clone(), "park".into()],
        })
        .await
        .unwrap()
        .into_inner()
        .open_tickets;
    assert_eq!(counts.len(), 3);
    assert_eq!((counts[&kim], counts[&lee], counts["park"]), (2, 1, 0));
    for agent_logins in [Vec::new(), vec!["kim".to_string(); 1_001]] {
        invalid(
            client
                .count_open_tickets(CountOpenTicketsRequest { agent_logins })
                .await,
            &["agent_logins"],
        );
    }
    mesh.stop().await;
}
