//! `TestTriggers`: the rules evaluated against a real or a sample ticket as an event would
//! evaluate them, changing nothing (no ticket change, no notification, no cursor moved).

use chrono::Utc;
use sqlx::PgPool;
use switchboard_platform::{db, error::FieldViolations, principal::PrincipalExt, time::instant};
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{
        MessageAutomation, Ticket, TicketField, TicketFieldChange, TicketPriority, TicketStatus,
    },
    trigger::v1::{
        TestTriggersRequest, TestTriggersResponse, UpdateType, test_triggers_request::Target,
    },
};
use tonic::Status;

use crate::{
    eval::{Event, Purpose},
    rules::RulesCache,
    runner::{
        settle::{Cursors, Mode, base_context, settle},
        world::World,
    },
};

#[derive(Clone)]
pub struct DryRun {
    pub pool: PgPool,
    pub rules: RulesCache,
    pub world: World,
}

/// The ticket of a test and the customer message its body conditions see.
struct TestTarget {
    ticket: Ticket,
    body: String,
    automated: bool,
    real: bool,
}

fn check_changes(changes: &[TicketFieldChange], violations: &mut FieldViolations) {
    for (i, change) in changes.iter().enumerate() {
        if !matches!(TicketField::try_from(change.field), Ok(f) if f != TicketField::Unspecified) {
            violations.add(format!("changes[{i}].field"), "must name a ticket field");
        }
    }
}

/// A sample ticket as a create would make it.
fn sample(mut ticket: Ticket) -> Ticket {
    if ticket.status() == TicketStatus::Unspecified {
        ticket.set_status(TicketStatus::Unassigned);
    }
    if ticket.priority() == TicketPriority::Unspecified {
        ticket.set_priority(TicketPriority::Normal);
    }
    ticket.version = 0;
    ticket
}

impl DryRun {
    async fn target(&self, request: &TestTriggersRequest) -> Result<TestTarget, Status> {
        let mut violations = FieldViolations::new();
        check_changes(&request.changes, &mut violations);
        match &request.target {
            None => {
                violations.add("target", "give a ticket_id or a sample_ticket");
                Err(violations.into_status())
            }
            Some(Target::SampleTicket(ticket)) => {
                if ticket.subject.trim().is_empty() {
                    violations.add("sample_ticket.subject", "a sample ticket needs a subject");
                }
                violations.into_result()?;
                Ok(TestTarget {
                    ticket: sample(ticket.clone()),
                    body: request.message_body.clone(),
                    automated: false,
                    real: false,
                })
            }
            Some(Target::TicketId(id)) => {
                violations.uuid("ticket_id", id);
                violations.into_result()?;
                let ticket = self.world.mesh.ticket(id).await?;
                let (body, automated) = if request.message_body.is_empty() {
                    match self.world.mesh.latest_customer_message(id).await? {
                        Some(m) => (
                            m.body_text.clone(),
                            !matches!(
                                m.automation(),
                                MessageAutomation::Unspecified | MessageAutomation::Human
                            ),
                        ),
                        None => (String::new(), false),
                    }
                } else {
                    (request.message_body.clone(), false)
                };
                Ok(TestTarget {
                    ticket,
                    body,
                    automated,
                    real: true,
                })
            }
        }
    }

    pub async fn test(
        &self,
        principal: &Principal,
        request: TestTriggersRequest,
    ) -> Result<TestTriggersResponse, Status> {
        principal.require_admin()?;
        let target = self.target(&request).await?;
        let update_type = match request.update_type() {
            UpdateType::Unspecified if target.real => UpdateType::Updated,
            UpdateType::Unspecified => UpdateType::Created,
            given => given,
        };
        let time = request
            .event_time
            .as_ref()
            .and_then(instant)
            .unwrap_or_else(Utc::now);
        let event = Event {
            update_type,
            body: &target.body,
            changes: &request.changes,
            time,
            automated: target.automated,
        };
        let mut conn = db::acquire(&self.pool).await?;
        let rules = self.rules.current(&mut conn).await?;
        let mut context = base_context(&self.world, &rules, request.include_inactive).await?;
        let run = settle(
            &self.world,
            &rules,
            &mut context,
            (&target.ticket, &event),
            Mode {
                purpose: Purpose::DryRun {
                    include_inactive: request.include_inactive,
                },
                cursors: Cursors::Read(&mut conn),
                read_loads: true,
            },
        )
        .await?;
        Ok(TestTriggersResponse {
            fired_triggers: run.fired,
            ticket_after: Some(run.ticket_after),
            changes: run.changes,
            passes: run.passes,
            pass_limit_reached: run.pass_limit_reached,
            not_fired_triggers: run.not_fired,
        })
    }
}
