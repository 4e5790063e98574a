//! Builders that keep the evaluation tests readable: triggers, conditions and actions as a
//! client would send them, a sample ticket and events.

use chrono::{DateTime, TimeZone, Utc};
use switchboard_platform::error::{FieldViolations, violated_fields};
use switchboard_proto::{
    ticket::v1::{
        Ticket, TicketChannel, TicketField, TicketFieldChange, TicketPriority, TicketRequester,
        TicketStatus,
    },
    trigger::v1::{
        Action, AddTagsAction, AssignAgentAction, AssignGroupAction, Condition, ConditionField,
        ConditionOperator, DistributeAction, DistributionStrategy, NotificationRecipient,
        RemoveTagsAction, SendNotificationAction, SetInquiryTypeAction, SetPriorityAction,
        SetProcessingTypeAction, Trigger, UpdateType, action::Action as Kind,
    },
};

use super::{CompiledTrigger, Context, Event, Purpose, Run, compile_trigger, evaluate};

/// A trigger under construction: active, its id and name both `name`, position 1.
pub struct TriggerBuilder(Trigger);

pub fn trigger(name: &str) -> TriggerBuilder {
    TriggerBuilder(Trigger {
        id: name.to_owned(),
        name: name.to_owned(),
        active: true,
        position: 1,
        ..Default::default()
    })
}

impl TriggerBuilder {
    pub fn at(mut self, position: i32) -> Self {
        self.0.position = position;
        self
    }

    pub fn inactive(mut self) -> Self {
        self.0.active = false;
        self
    }

    pub fn all(mut self, condition: Condition) -> Self {
        self.0.all_conditions.push(condition);
        self
    }

    pub fn any(mut self, condition: Condition) -> Self {
        self.0.any_conditions.push(condition);
        self
    }

    pub fn then(mut self, action: Action) -> Self {
        self.0.actions.push(action);
        self
    }

    pub fn proto(self) -> Trigger {
        self.0
    }

    /// Compiled; panics naming the violations when it is not valid.
    pub fn build(self) -> CompiledTrigger {
        let mut violations = FieldViolations::new();
        match compile_trigger(&self.0, "trigger", &mut violations) {
            Some(compiled) => compiled,
            None => panic!("invalid trigger: {:?}", violations.into_result()),
        }
    }
}

/// The field paths `compile_trigger` names for `trigger` (checking that it compiles exactly
/// when there are none).
pub fn violations(trigger: Trigger) -> Vec<String> {
    let mut violations = FieldViolations::new();
    let compiled = compile_trigger(&trigger, "trigger", &mut violations);
    let fields = match violations.into_result() {
        Ok(()) => Vec::new(),
        Err(status) => violated_fields(&status),
    };
    assert_eq!(compiled.is_none(), !fields.is_empty(), "{fields:?}");
    fields
}

pub fn when(field: ConditionField, operator: ConditionOperator) -> Condition {
    Condition {
        field: field as i32,
        operator: operator as i32,
        ..Default::default()
    }
}

pub fn values(field: ConditionField, operator: ConditionOperator, values: &[&str]) -> Condition {
    Condition {
        values: strings(values),
        ..when(field, operator)
    }
}

pub fn statuses(operator: ConditionOperator, statuses: &[TicketStatus]) -> Condition {
    Condition {
        statuses: statuses.iter().map(|s| *s as i32).collect(),
        ..when(ConditionField::Status, operator)
    }
}

pub fn priorities(operator: ConditionOperator, priorities: &[TicketPriority]) -> Condition {
    Condition {
        priorities: priorities.iter().map(|p| *p as i32).collect(),
        ..when(ConditionField::Priority, operator)
    }
}

pub fn channels(operator: ConditionOperator, channels: &[TicketChannel]) -> Condition {
    Condition {
        channels: channels.iter().map(|c| *c as i32).collect(),
        ..when(ConditionField::Channel, operator)
    }
}

pub fn update_type(update_type: UpdateType) -> Condition {
    Condition {
        update_type: update_type as i32,
        ..when(ConditionField::UpdateType, ConditionOperator::Is)
    }
}

pub fn customer(key: &str, operator: ConditionOperator, words: &[&str]) -> Condition {
    Condition {
        field_key: key.to_owned(),
        ..values(ConditionField::CustomerField, operator, words)
    }
}

pub fn hours(id: &str, operator: ConditionOperator) -> Condition {
    Condition {
        business_hours_id: id.to_owned(),
        ..when(ConditionField::BusinessHours, operator)
    }
}

fn action(kind: Kind) -> Action {
    Action { action: Some(kind) }
}

pub fn assign_group(group_id: &str) -> Action {
    action(Kind::AssignGroup(AssignGroupAction {
        group_id: group_id.to_owned(),
    }))
}

pub fn assign_agent(login: &str, group_id: &str) -> Action {
    action(Kind::AssignAgent(AssignAgentAction {
        agent_login: login.to_owned(),
        group_id: group_id.to_owned(),
    }))
}

pub fn distribution(group_id: &str, strategy: DistributionStrategy) -> DistributeAction {
    DistributeAction {
        group_id: group_id.to_owned(),
        strategy: strategy as i32,
        ..Default::default()
    }
}

pub fn distribute(distribute: DistributeAction) -> Action {
    action(Kind::Distribute(distribute))
}

pub fn set_priority(priority: TicketPriority) -> Action {
    action(Kind::SetPriority(SetPriorityAction {
        priority: priority as i32,
    }))
}

pub fn set_inquiry_type(id: &str) -> Action {
    action(Kind::SetInquiryType(SetInquiryTypeAction {
        inquiry_type_id: id.to_owned(),
    }))
}

pub fn set_processing_type(id: &str) -> Action {
    action(Kind::SetProcessingType(SetProcessingTypeAction {
        processing_type_id: id.to_owned(),
    }))
}

pub fn add_tags(tags: &[&str]) -> Action {
    action(Kind::AddTags(AddTagsAction {
        tags: strings(tags),
    }))
}

pub fn remove_tags(tags: &[&str]) -> Action {
    action(Kind::RemoveTags(RemoveTagsAction {
        tags: strings(tags),
    }))
}

pub fn notify_requester(template_id: &str) -> Action {
    action(Kind::SendNotification(SendNotificationAction {
        template_id: template_id.to_owned(),
        recipient: NotificationRecipient::Requester as i32,
        email_addresses: Vec::new(),
    }))
}

pub fn notify(template_id: &str, addresses: &[&str]) -> Action {
    action(Kind::SendNotification(SendNotificationAction {
        template_id: template_id.to_owned(),
        recipient: NotificationRecipient::Addresses as i32,
        email_addresses: strings(addresses),
    }))
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// An unassigned e-mail ticket of normal priority from kim@example.com.
pub fn ticket() -> Ticket {
    Ticket {
        id: "ticket-1".into(),
        subject: "Refund request".into(),
        status: TicketStatus::Unassigned as i32,
        channel: TicketChannel::Email as i32,
        priority: TicketPriority::Normal as i32,
        requester: Some(TicketRequester {
            name: "Kim".into(),
            email: "kim@example.com".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Monday 3 March 2025, 10:00 UTC.
pub fn event_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 10, 0, 0).unwrap()
}

pub fn created() -> Event<'static> {
    Event {
        update_type: UpdateType::Created,
        body: "",
        changes: &[],
        time: event_time(),
        automated: false,
    }
}

pub fn updated(changes: &[TicketFieldChange]) -> Event<'_> {
    Event {
        update_type: UpdateType::Updated,
        body: "",
        changes,
        time: event_time(),
        automated: false,
    }
}

pub fn change(field: TicketField, before: &str, after: &str) -> TicketFieldChange {
    TicketFieldChange {
        field: field as i32,
        before: before.to_owned(),
        after: after.to_owned(),
        ..Default::default()
    }
}

/// Evaluates the active triggers.
pub fn run(
    triggers: &[CompiledTrigger],
    ticket: &Ticket,
    event: &Event<'_>,
    context: &Context,
) -> Run {
    evaluate(
        triggers,
        ticket,
        event,
        context,
        Purpose::DryRun {
            include_inactive: false,
        },
    )
}

/// Whether a trigger with only `condition` (and a tag action) fires.
pub fn holds(condition: Condition, ticket: &Ticket, event: &Event<'_>) -> bool {
    holds_in(condition, ticket, event, &Context::default())
}

pub fn holds_in(
    condition: Condition,
    ticket: &Ticket,
    event: &Event<'_>,
    context: &Context,
) -> bool {
    let probe = trigger("probe")
        .all(condition)
        .then(add_tags(&["probe"]))
        .build();
    !run(&[probe], ticket, event, context).fired.is_empty()
}

pub fn fired_names(run: &Run) -> Vec<&str> {
    run.fired.iter().map(|f| f.trigger_name.as_str()).collect()
}

/// A context of groups and their members; every member's groups are filled in too.
pub fn groups(groups: &[(&str, &[&str])]) -> Context {
    let mut context = Context::default();
    for (group, members) in groups {
        context
            .group_members
            .insert(group.to_string(), strings(members));
        for member in *members {
            context
                .agent_groups
                .entry(member.to_string())
                .or_default()
                .push(group.to_string());
        }
    }
    context
}
