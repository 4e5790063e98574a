//! `TriggerService` and `BusinessHoursService` as an admin client finds them: the ordered list,
//! what is refused and why, who may call, and the dry run that changes nothing.

use switchboard_platform::{error::violated_fields, testing};
use switchboard_proto::{
    common::v1::LocalDate,
    ticket::v1::{Ticket, TicketPriority, TicketStatus},
    trigger::v1::{
        BusinessHours, BusinessHoursInterval, Condition, ConditionField, ConditionOperator,
        CreateBusinessHoursRequest, CreateTriggerRequest, DayOfWeek, DeleteBusinessHoursRequest,
        DeleteTriggerRequest, Holiday, ListTriggersRequest, ReorderTriggersRequest,
        TestTriggersRequest, Trigger, UpdateTriggerRequest, test_triggers_request::Target,
    },
};
use tonic::Code;

use crate::common::{Mesh, bearer, rules::*};

fn named(name: &str) -> Trigger {
    Trigger {
        name: name.into(),
        all_conditions: vec![created()],
        actions: vec![add_tag("x")],
        ..Default::default()
    }
}

async fn names(mesh: &Mesh) -> Vec<(i32, String)> {
    mesh.triggers()
        .await
        .list_triggers(bearer(ListTriggersRequest::default(), &mesh.admin()))
        .await
        .unwrap()
        .into_inner()
        .triggers
        .into_iter()
        .map(|t| (t.position, t.name))
        .collect()
}

#[tokio::test]
async fn positions_stay_one_to_n_through_inserts_deletes_and_reorders() {
    let mesh = Mesh::start().await;
    let a = mesh.trigger_with(named("a")).await;
    let b = mesh.trigger_with(named("b")).await;
    let c = mesh
        .trigger_with(Trigger {
            position: 1,
            ..named("c")
        })
        .await;
    assert!(!a.active, "a trigger created without active is off");
    assert_eq!(
        names(&mesh).await,
        [(1, "c".into()), (2, "a".into()), (3, "b".into())]
    );
    let beyond = mesh
        .triggers()
        .await
        .create_trigger(bearer(
            CreateTriggerRequest {
                request_id: String::new(),
                trigger: Some(Trigger {
                    position: 5,
                    ..named("d")
                }),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&beyond), ["trigger.position"]);

    mesh.triggers()
        .await
        .delete_trigger(bearer(
            DeleteTriggerRequest {
                trigger_id: c.id.clone(),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap();
    assert_eq!(names(&mesh).await, [(1, "a".into()), (2, "b".into())]);

    let reordered = mesh
        .triggers()
        .await
        .reorder_triggers(bearer(
            ReorderTriggersRequest {
                trigger_ids: vec![b.id.clone(), a.id.clone()],
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .triggers;
    assert_eq!(reordered[0].id, b.id);
    assert_eq!(names(&mesh).await, [(1, "b".into()), (2, "a".into())]);
    // A reorder that misses one (deleted or created meanwhile) changes nothing.
    let stale = mesh
        .triggers()
        .await
        .reorder_triggers(bearer(
            ReorderTriggersRequest {
                trigger_ids: vec![a.id.clone(), c.id.clone()],
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition);
    let repeated = mesh
        .triggers()
        .await
        .reorder_triggers(bearer(
            ReorderTriggersRequest {
                trigger_ids: vec![a.id.clone(), a.id.clone()],
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&repeated), ["trigger_ids[1]"]);
    mesh.stop().await;
}

#[tokio::test]
async fn bad_triggers_are_refused_naming_the_field_and_names_are_unique() {
    let mesh = Mesh::start().await;
    let admin = mesh.admin();
    let create = async |trigger: Trigger| {
        mesh.triggers()
            .await
            .create_trigger(bearer(
                CreateTriggerRequest {
                    request_id: String::new(),
                    trigger: Some(trigger),
                },
                &admin,
            ))
            .await
    };
    let cases = [
        (
            Trigger {
                name: "  ".into(),
                ..named("x")
            },
            "trigger.name",
        ),
        (
            Trigger {
                actions: vec![],
                ..named("x")
            },
            "trigger.actions",
        ),
        (
            Trigger {
                all_conditions: vec![Condition {
                    field: ConditionField::Channel as i32,
                    operator: ConditionOperator::LessThan as i32,
                    ..Default::default()
                }],
                ..named("x")
            },
            "trigger.all_conditions[0].operator",
        ),
        (
            Trigger {
                all_conditions: vec![
                    created(),
                    Condition {
                        field: ConditionField::Subject as i32,
                        operator: ConditionOperator::ContainsAny as i32,
                        values: vec!["환불".into()],
                        statuses: vec![TicketStatus::Solved as i32],
                        ..Default::default()
                    },
                ],
                ..named("x")
            },
            "trigger.all_conditions[1].statuses",
        ),
    ];
    for (trigger, field) in cases {
        let refused = create(trigger).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert!(
            violated_fields(&refused).iter().any(|f| f == field),
            "{field}: {refused:?}"
        );
    }
    create(named("환불 배정")).await.unwrap();
    let taken = create(named(" 환불 배정 ")).await.unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);

    // An update may not move it, and names only known fields.
    let trigger = create(named("다른 트리거"))
        .await
        .unwrap()
        .into_inner()
        .trigger
        .unwrap();
    let moved = mesh
        .triggers()
        .await
        .update_trigger(bearer(
            UpdateTriggerRequest {
                trigger: Some(trigger.clone()),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["position".into()],
                }),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&moved), ["update_mask"]);
    let renamed = mesh
        .triggers()
        .await
        .update_trigger(bearer(
            UpdateTriggerRequest {
                trigger: Some(Trigger {
                    name: "새 이름".into(),
                    active: true,
                    ..trigger
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into()],
                }),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .trigger
        .unwrap();
    assert_eq!(renamed.name, "새 이름");
    assert!(!renamed.active, "active was not in the mask");
    mesh.stop().await;
}

#[tokio::test]
async fn only_admins_may_call_and_a_create_is_idempotent_on_its_request_id() {
    let mesh = Mesh::start().await;
    let group = mesh.group("g").await;
    let agent = mesh
        .agent(&format!("ag{}", testing::unique_id()), &[group.id])
        .await;
    let denied = mesh
        .triggers()
        .await
        .list_triggers(bearer(
            ListTriggersRequest::default(),
            &mesh.gateway.token(&agent),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let bad_token = mesh
        .triggers()
        .await
        .list_triggers(bearer(ListTriggersRequest::default(), "not-a-token"))
        .await
        .unwrap_err();
    assert_eq!(bad_token.code(), Code::Unauthenticated);

    let request = CreateTriggerRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        trigger: Some(named("한 번만")),
    };
    let first = mesh
        .triggers()
        .await
        .create_trigger(bearer(request.clone(), &mesh.admin()))
        .await
        .unwrap()
        .into_inner();
    let again = mesh
        .triggers()
        .await
        .create_trigger(bearer(request.clone(), &mesh.admin()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    let other = mesh
        .triggers()
        .await
        .create_trigger(bearer(
            CreateTriggerRequest {
                trigger: Some(named("다른 본문")),
                ..request
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists);
    assert_eq!(names(&mesh).await.len(), 1);
    mesh.stop().await;
}

#[tokio::test]
async fn test_triggers_explains_what_does_not_fire_and_changes_nothing() {
    let mesh = Mesh::start().await;
    let urgent = mesh
        .trigger(
            "긴급은 높음",
            vec![created(), subject_contains(&["긴급"])],
            vec![priority(TicketPriority::High)],
        )
        .await;
    let refund = mesh
        .trigger(
            "환불 태그",
            vec![created(), subject_contains(&["환불"])],
            vec![add_tag("refund")],
        )
        .await;
    let inactive = mesh
        .trigger_with(Trigger {
            name: "꺼진 트리거".into(),
            all_conditions: vec![created()],
            actions: vec![add_tag("off")],
            ..Default::default()
        })
        .await;

    let response = mesh
        .triggers()
        .await
        .test_triggers(bearer(
            TestTriggersRequest {
                target: Some(Target::SampleTicket(Ticket {
                    subject: "긴급 배송 문의".into(),
                    ..Default::default()
                })),
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.fired_triggers.len(), 1);
    assert_eq!(response.fired_triggers[0].trigger_id, urgent.id);
    assert_eq!(
        response.ticket_after.as_ref().unwrap().priority(),
        TicketPriority::High
    );
    assert_eq!(response.not_fired_triggers.len(), 1, "{response:?}");
    let not_fired = &response.not_fired_triggers[0];
    assert_eq!(not_fired.trigger_id, refund.id);
    assert_eq!(not_fired.failed_condition, "all_conditions[1]");
    assert!(!not_fired.reason.is_empty());
    assert!(
        !response
            .not_fired_triggers
            .iter()
            .any(|t| t.trigger_id == inactive.id),
        "inactive triggers are not evaluated unless asked"
    );

    // On a real ticket (one no active trigger changes), the dry run writes nothing: the
    // version stays.
    let ticket = mesh.ingest("일반 문의", "", "a@example.com").await;
    let before = mesh.ticket(&ticket.id).await;
    let dry = mesh
        .triggers()
        .await
        .test_triggers(bearer(
            TestTriggersRequest {
                target: Some(Target::TicketId(ticket.id.clone())),
                update_type: switchboard_proto::trigger::v1::UpdateType::Created as i32,
                include_inactive: true,
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        dry.fired_triggers
            .iter()
            .any(|f| f.trigger_id == inactive.id)
    );
    assert_eq!(mesh.ticket(&ticket.id).await.version, before.version);

    let missing = mesh
        .triggers()
        .await
        .test_triggers(bearer(TestTriggersRequest::default(), &mesh.admin()))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&missing), ["target"]);
    mesh.stop().await;
}

#[tokio::test]
async fn a_schedule_in_use_cannot_be_deleted() {
    let mesh = Mesh::start().await;
    let schedule = mesh
        .business_hours()
        .await
        .create_business_hours(bearer(
            CreateBusinessHoursRequest {
                request_id: String::new(),
                business_hours: Some(BusinessHours {
                    name: "본사 업무시간".into(),
                    time_zone: "Asia/Seoul".into(),
                    weekly_intervals: vec![BusinessHoursInterval {
                        day_of_week: DayOfWeek::Monday as i32,
                        start_minute: 540,
                        end_minute: 1080,
                    }],
                    holidays: vec![Holiday {
                        date: Some(LocalDate {
                            year: 2026,
                            month: 9,
                            day: 25,
                        }),
                        name: "추석".into(),
                    }],
                    ..Default::default()
                }),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .business_hours
        .unwrap();
    let bad_zone = mesh
        .business_hours()
        .await
        .create_business_hours(bearer(
            CreateBusinessHoursRequest {
                request_id: String::new(),
                business_hours: Some(BusinessHours {
                    name: "잘못된 시간대".into(),
                    time_zone: "Asia/Nowhere".into(),
                    ..Default::default()
                }),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad_zone), ["business_hours.time_zone"]);
    mesh.trigger(
        "업무시간 외",
        vec![
            created(),
            Condition {
                field: ConditionField::BusinessHours as i32,
                operator: ConditionOperator::Outside as i32,
                business_hours_id: schedule.id.clone(),
                ..Default::default()
            },
        ],
        vec![add_tag("after-hours")],
    )
    .await;
    let in_use = mesh
        .business_hours()
        .await
        .delete_business_hours(bearer(
            DeleteBusinessHoursRequest {
                business_hours_id: schedule.id.clone(),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap_err();
    assert_eq!(in_use.code(), Code::FailedPrecondition);
    assert!(in_use.message().contains("업무시간 외"), "{in_use:?}");
    mesh.stop().await;
}
