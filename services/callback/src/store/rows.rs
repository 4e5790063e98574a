//! Rows as read from the tables, and their API forms.

use chrono::{DateTime, Utc};
use switchboard_platform::time::timestamp;
use switchboard_proto::{
    callback::v1::{
        AgentRef, AttemptOutcome, Callback, CallbackAttempt, CallbackState, IvrRoute,
        RepeatRequestPolicy, TimeWindow,
    },
    common::v1::Actor,
    events::v1::CallbackSnapshot,
};
use uuid::Uuid;

/// A callback with its route's name and its latest attempt (columns `la_*`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallbackRow {
    pub id: Uuid,
    pub phone_number: String,
    pub phone_national: String,
    pub caller_number: String,
    pub ivr_route_id: Uuid,
    pub route_name: String,
    pub ivr_call_id: String,
    pub request_time: DateTime<Utc>,
    pub last_request_time: DateTime<Utc>,
    pub request_count: i32,
    pub preferred_start: Option<DateTime<Utc>>,
    pub preferred_end: Option<DateTime<Utc>>,
    pub memo: String,
    pub state: i16,
    pub assignee_login: Option<String>,
    pub assignee_group_id: Option<String>,
    pub assignee_name: Option<String>,
    pub distributor_login: Option<String>,
    pub distributor_group_id: Option<String>,
    pub distributor_name: Option<String>,
    pub assign_time: Option<DateTime<Utc>>,
    pub attempt_count: i32,
    pub last_attempt_id: Option<Uuid>,
    pub complete_time: Option<DateTime<Utc>>,
    pub completed_by_subject: Option<String>,
    pub completed_by_kind: Option<String>,
    pub completed_by_name: Option<String>,
    pub completion_note: String,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    pub version: i64,
    #[sqlx(flatten)]
    pub last_attempt: LastAttemptColumns,
}

/// The latest attempt, joined in; all `None` when there is none.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct LastAttemptColumns {
    pub la_id: Option<Uuid>,
    pub la_number: Option<i32>,
    pub la_agent: Option<String>,
    pub la_start: Option<DateTime<Utc>>,
    pub la_outcome: Option<i16>,
    pub la_outcome_time: Option<DateTime<Utc>>,
    pub la_talk_ms: Option<i64>,
    pub la_by_subject: Option<String>,
    pub la_by_kind: Option<String>,
    pub la_by_name: Option<String>,
}

/// An agent reference as stored in three nullable columns.
pub fn agent_ref(
    login: &Option<String>,
    group_id: &Option<String>,
    name: &Option<String>,
) -> Option<AgentRef> {
    login.as_ref().map(|login| AgentRef {
        agent_login: login.clone(),
        group_id: group_id.clone().unwrap_or_default(),
        display_name: name.clone().unwrap_or_default(),
    })
}

fn actor(subject: &Option<String>, kind: &Option<String>, name: &Option<String>) -> Option<Actor> {
    subject.as_ref().map(|subject| Actor {
        subject: subject.clone(),
        kind: kind.clone().unwrap_or_default(),
        display_name: name.clone().unwrap_or_default(),
    })
}

impl CallbackRow {
    pub fn state(&self) -> CallbackState {
        CallbackState::try_from(i32::from(self.state)).unwrap_or(CallbackState::Unspecified)
    }

    pub fn set_state(&mut self, state: CallbackState) {
        self.state = state as i16;
    }

    pub fn assignee(&self) -> Option<AgentRef> {
        agent_ref(
            &self.assignee_login,
            &self.assignee_group_id,
            &self.assignee_name,
        )
    }

    pub fn distributor(&self) -> Option<AgentRef> {
        agent_ref(
            &self.distributor_login,
            &self.distributor_group_id,
            &self.distributor_name,
        )
    }

    /// Sets or clears the assignment (assignee, distributor, time).
    pub fn set_assignment(&mut self, assignment: Option<(AgentRef, AgentRef, DateTime<Utc>)>) {
        let (assignee, distributor, time) = match assignment {
            Some((assignee, distributor, time)) => (Some(assignee), Some(distributor), Some(time)),
            None => (None, None, None),
        };
        self.assignee_login = assignee.as_ref().map(|a| a.agent_login.clone());
        self.assignee_group_id = assignee.as_ref().map(|a| a.group_id.clone());
        self.assignee_name = assignee.map(|a| a.display_name);
        self.distributor_login = distributor.as_ref().map(|d| d.agent_login.clone());
        self.distributor_group_id = distributor.as_ref().map(|d| d.group_id.clone());
        self.distributor_name = distributor.map(|d| d.display_name);
        self.assign_time = time;
    }

    pub fn last_attempt(&self) -> Option<AttemptRow> {
        let la = &self.last_attempt;
        Some(AttemptRow {
            id: la.la_id?,
            callback_id: self.id,
            attempt_number: la.la_number?,
            agent_login: la.la_agent.clone()?,
            start_time: la.la_start?,
            outcome: la.la_outcome.unwrap_or(0),
            outcome_time: la.la_outcome_time,
            talk_duration_ms: la.la_talk_ms,
            recorded_by_subject: la.la_by_subject.clone(),
            recorded_by_kind: la.la_by_kind.clone(),
            recorded_by_name: la.la_by_name.clone(),
        })
    }

    /// Keeps the joined latest attempt in step after `attempt` changed or started.
    pub fn set_last_attempt(&mut self, attempt: &AttemptRow) {
        self.last_attempt_id = Some(attempt.id);
        self.last_attempt = LastAttemptColumns {
            la_id: Some(attempt.id),
            la_number: Some(attempt.attempt_number),
            la_agent: Some(attempt.agent_login.clone()),
            la_start: Some(attempt.start_time),
            la_outcome: Some(attempt.outcome),
            la_outcome_time: attempt.outcome_time,
            la_talk_ms: attempt.talk_duration_ms,
            la_by_subject: attempt.recorded_by_subject.clone(),
            la_by_kind: attempt.recorded_by_kind.clone(),
            la_by_name: attempt.recorded_by_name.clone(),
        };
    }

    pub fn to_proto(&self) -> Callback {
        Callback {
            id: self.id.to_string(),
            phone_number: self.phone_number.clone(),
            caller_number: self.caller_number.clone(),
            ivr_route_id: self.ivr_route_id.to_string(),
            ivr_route_display_name: self.route_name.clone(),
            ivr_call_id: self.ivr_call_id.clone(),
            request_time: Some(timestamp(self.request_time)),
            last_request_time: Some(timestamp(self.last_request_time)),
            request_count: self.request_count,
            preferred_window: match (self.preferred_start, self.preferred_end) {
                (Some(start), Some(end)) => Some(TimeWindow {
                    start_time: Some(timestamp(start)),
                    end_time: Some(timestamp(end)),
                }),
                _ => None,
            },
            memo: self.memo.clone(),
            state: i32::from(self.state),
            assignee: self.assignee(),
            distributor: self.distributor(),
            assign_time: self.assign_time.map(timestamp),
            attempt_count: self.attempt_count,
            last_attempt: self.last_attempt().map(|a| a.to_proto()),
            complete_time: self.complete_time.map(timestamp),
            completed_by: actor(
                &self.completed_by_subject,
                &self.completed_by_kind,
                &self.completed_by_name,
            ),
            completion_note: self.completion_note.clone(),
            create_time: Some(timestamp(self.create_time)),
            update_time: Some(timestamp(self.update_time)),
            version: self.version,
        }
    }

    /// The reporting-relevant state carried by every event.
    pub fn snapshot(&self) -> CallbackSnapshot {
        CallbackSnapshot {
            callback_id: self.id.to_string(),
            ivr_route_id: self.ivr_route_id.to_string(),
            request_time: Some(timestamp(self.request_time)),
            state: i32::from(self.state),
            request_count: self.request_count,
            assignee: self.assignee(),
            distributor: self.distributor(),
            assign_time: self.assign_time.map(timestamp),
            attempt_count: self.attempt_count,
            last_attempt_time: self.last_attempt.la_start.map(timestamp),
            complete_time: self.complete_time.map(timestamp),
            create_time: Some(timestamp(self.create_time)),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: Uuid,
    pub callback_id: Uuid,
    pub attempt_number: i32,
    pub agent_login: String,
    pub start_time: DateTime<Utc>,
    pub outcome: i16,
    pub outcome_time: Option<DateTime<Utc>>,
    pub talk_duration_ms: Option<i64>,
    pub recorded_by_subject: Option<String>,
    pub recorded_by_kind: Option<String>,
    pub recorded_by_name: Option<String>,
}

impl AttemptRow {
    pub fn outcome(&self) -> AttemptOutcome {
        AttemptOutcome::try_from(i32::from(self.outcome)).unwrap_or(AttemptOutcome::Unspecified)
    }

    pub fn talk_duration(&self) -> Option<prost_types::Duration> {
        self.talk_duration_ms.map(|ms| prost_types::Duration {
            seconds: ms / 1_000,
            nanos: ((ms % 1_000) * 1_000_000) as i32,
        })
    }

    pub fn to_proto(&self) -> CallbackAttempt {
        CallbackAttempt {
            attempt_id: self.id.to_string(),
            attempt_number: self.attempt_number,
            agent_login: self.agent_login.clone(),
            start_time: Some(timestamp(self.start_time)),
            outcome: i32::from(self.outcome),
            outcome_time: self.outcome_time.map(timestamp),
            talk_duration: self.talk_duration(),
            outcome_recorded_by: actor(
                &self.recorded_by_subject,
                &self.recorded_by_kind,
                &self.recorded_by_name,
            ),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RouteRow {
    pub id: Uuid,
    pub code: String,
    pub display_name: String,
    pub description: String,
    pub repeat_request_policy: i16,
    pub disabled: bool,
    pub version: i64,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

impl RouteRow {
    pub fn policy(&self) -> RepeatRequestPolicy {
        RepeatRequestPolicy::try_from(i32::from(self.repeat_request_policy))
            .unwrap_or(RepeatRequestPolicy::Attach)
    }

    pub fn to_proto(&self) -> IvrRoute {
        IvrRoute {
            id: self.id.to_string(),
            code: self.code.clone(),
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            repeat_request_policy: i32::from(self.repeat_request_policy),
            disabled: self.disabled,
            create_time: Some(timestamp(self.create_time)),
            update_time: Some(timestamp(self.update_time)),
        }
    }
}
