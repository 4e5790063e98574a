//! The evaluation half of `switchboard bench triggers`: 1,000 compiled triggers against one
//! ticket, in this process, beside the cheapest work a trigger could cost (one substring search
//! of the normalised subject each) as the baseline.

use std::{hint::black_box, time::Instant};

use chrono::Utc;
use switchboard_platform::{error::FieldViolations, text::normalise};
use switchboard_proto::{
    ticket::v1::{Ticket, TicketChannel, TicketPriority, TicketRequester, TicketStatus},
    trigger::v1::{
        Action, AddTagsAction, Condition, ConditionField, ConditionOperator, SetPriorityAction,
        Trigger, UpdateType, action,
    },
};
use switchboard_trigger_engine::eval::{
    CompiledTrigger, Context, Event, Purpose, compile_trigger, evaluate,
};

/// Words of the triggers' subject conditions; the ticket's subject holds a few of them.
const WORDS: [&str; 20] = [
    "환불",
    "배송",
    "교환",
    "취소",
    "결제",
    "오류",
    "로그인",
    "비밀번호",
    "쿠폰",
    "적립금",
    "반품",
    "주소",
    "영수증",
    "세금계산서",
    "회원탈퇴",
    "재고",
    "예약",
    "지연",
    "파손",
    "문의",
];

/// Trigger `i` of the bench: a mix of what admins write (a subject word, the channel, the
/// priority, a requester domain, tags), most of which do not match the ticket.
fn trigger(i: usize) -> Trigger {
    let word = WORDS[i % WORDS.len()];
    let mut all = vec![Condition {
        field: ConditionField::Subject as i32,
        operator: ConditionOperator::ContainsAny as i32,
        values: vec![format!("{word}{}", i % 7)],
        ..Default::default()
    }];
    match i % 4 {
        0 => all.push(Condition {
            field: ConditionField::Channel as i32,
            operator: ConditionOperator::Is as i32,
            channels: vec![TicketChannel::Email as i32],
            ..Default::default()
        }),
        1 => all.push(Condition {
            field: ConditionField::Priority as i32,
            operator: ConditionOperator::GreaterThan as i32,
            priorities: vec![TicketPriority::Normal as i32],
            ..Default::default()
        }),
        2 => all.push(Condition {
            field: ConditionField::RequesterDomain as i32,
            operator: ConditionOperator::Is as i32,
            values: vec![format!("partner{i}.co.kr")],
            ..Default::default()
        }),
        _ => all.push(Condition {
            field: ConditionField::Tags as i32,
            operator: ConditionOperator::ContainsNone as i32,
            values: vec![format!("tag{i}")],
            ..Default::default()
        }),
    }
    let action = if i.is_multiple_of(2) {
        action::Action::AddTags(AddTagsAction {
            tags: vec![format!("t{i}")],
        })
    } else {
        action::Action::SetPriority(SetPriorityAction {
            priority: TicketPriority::High as i32,
        })
    };
    Trigger {
        id: uuid::Uuid::new_v4().to_string(),
        name: format!("trigger {i}"),
        active: true,
        position: i as i32 + 1,
        all_conditions: all,
        actions: vec![Action {
            action: Some(action),
        }],
        ..Default::default()
    }
}

fn ticket() -> Ticket {
    Ticket {
        id: uuid::Uuid::new_v4().to_string(),
        subject: "주문한 상품 배송 지연 및 환불 문의드립니다".into(),
        status: TicketStatus::Unassigned as i32,
        channel: TicketChannel::Email as i32,
        priority: TicketPriority::Normal as i32,
        requester: Some(TicketRequester {
            name: "김민수".into(),
            email: "minsu.kim@example.co.kr".into(),
            ..Default::default()
        }),
        version: 1,
        ..Default::default()
    }
}

/// What the evaluation half measured, per evaluation of the whole list, in microseconds.
pub struct Eval {
    pub triggers: usize,
    pub fired: usize,
    /// The engine's own evaluation of an event.
    pub p50_us: f64,
    /// The same as `TestTriggers` runs it: every trigger that did not fire explained.
    pub dry_run_p50_us: f64,
    pub baseline_p50_us: f64,
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

pub fn run(count: usize, repeat: usize) -> anyhow::Result<Eval> {
    let mut violations = FieldViolations::new();
    let compiled: Vec<CompiledTrigger> = (0..count)
        .filter_map(|i| compile_trigger(&trigger(i), "trigger", &mut violations))
        .collect();
    if !violations.is_empty() || compiled.len() != count {
        anyhow::bail!("the bench's triggers do not compile: {violations:?}");
    }
    let ticket = ticket();
    let context = Context::default();
    let event = Event {
        update_type: UpdateType::Created,
        body: "어제 주문한 상품이 아직 도착하지 않았습니다. 환불 가능한가요?",
        changes: &[],
        time: Utc::now(),
        automated: false,
    };
    let fired = evaluate(&compiled, &ticket, &event, &context, Purpose::Live)
        .fired
        .len();
    let time = |purpose: Purpose| {
        let mut samples = Vec::with_capacity(repeat);
        for _ in 0..repeat {
            let start = Instant::now();
            black_box(evaluate(&compiled, &ticket, &event, &context, purpose));
            samples.push(start.elapsed().as_secs_f64() * 1e6);
        }
        median(samples)
    };
    let p50_us = time(Purpose::Live);
    let dry_run_p50_us = time(Purpose::DryRun {
        include_inactive: false,
    });
    let needles: Vec<String> = (0..count)
        .map(|i| format!("{}{}", WORDS[i % WORDS.len()], i % 7))
        .collect();
    let mut baseline = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let start = Instant::now();
        let subject = normalise(&ticket.subject);
        let hits = needles
            .iter()
            .filter(|n| subject.contains(n.as_str()))
            .count();
        black_box(hits);
        baseline.push(start.elapsed().as_secs_f64() * 1e6);
    }
    Ok(Eval {
        triggers: count,
        fired,
        p50_us,
        dry_run_p50_us,
        baseline_p50_us: median(baseline),
    })
}
