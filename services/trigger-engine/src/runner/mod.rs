//! The live run: every ticket change event (queue `trigger-engine.ticket-events`) is evaluated
//! against the rules and its result handed to the ticket service with the ticket version it was
//! computed from. When the ticket changed meanwhile, the same event is evaluated again on the
//! ticket as it is now, so the result never overwrites a later change. The ticket service
//! applies a run once (by the event's id), so however often the event is delivered, it changes
//! the ticket once and sends each notification once.

mod cursors;
mod request;
pub mod settle;
pub mod source;
pub mod world;

use sqlx::PgConnection;
use switchboard_platform::events::{EventHandler, HandlerError};
use switchboard_proto::{events::v1::EventEnvelope, ticket::v1::TriggerRunOutcome};

use crate::{
    eval::{Event, Purpose},
    mesh::is_unreachable,
    rules::RulesCache,
    runner::{
        settle::{Cursors, Mode, base_context, settle},
        source::{SourceEvent, evaluable},
        world::World,
    },
};

/// The queue of ticket change events.
pub const QUEUE: &str = "trigger-engine.ticket-events";
/// Every ticket change event (`ticket.deleted` and the triggers' own are skipped).
pub const BINDINGS: [&str; 1] = ["ticket.*"];

#[derive(Clone)]
pub struct TicketEvents {
    /// For the runs' short transactions on the round-robin cursors.
    pub pool: sqlx::PgPool,
    pub rules: RulesCache,
    pub world: World,
    pub apply_attempts: u32,
}

/// A failed call: the callee's absence is retried without counting as a delivery; any other
/// answer is the event's failure.
fn call_failed(what: &str, error: switchboard_platform::error::Error) -> HandlerError {
    match &error {
        switchboard_platform::error::Error::Status(status) if is_unreachable(status) => {
            HandlerError::transient(format!("{what}: {error}"))
        }
        _ => HandlerError::from(error),
    }
}

impl TicketEvents {
    async fn run(&self, tx: &mut PgConnection, source: SourceEvent) -> Result<(), HandlerError> {
        let rules = self.rules.current(tx).await?;
        if !rules.has_active() {
            return Ok(());
        }
        let event = Event {
            update_type: source.update_type,
            body: &source.body,
            changes: &source.changes,
            time: source.time,
            automated: source.automated,
        };
        let mut context = base_context(&self.world, &rules, false)
            .await
            .map_err(|e| call_failed("directory", e))?;
        let mut ticket = source.ticket.clone();
        for _ in 0..self.apply_attempts.max(1) {
            if !evaluable(&ticket) {
                return Ok(());
            }
            // The cursors are held only while the run is evaluated, in a transaction of its
            // own: its steps are committed before the call, which the other runs of the group
            // need not wait for. Rules that take no step need none.
            let mut steps = match rules.steps_round_robin() {
                true => Some(self.pool.begin().await?),
                false => None,
            };
            let conn: &mut PgConnection = match steps.as_mut() {
                Some(steps) => steps,
                None => &mut *tx,
            };
            let run = settle(
                conn,
                &self.world,
                &rules,
                &mut context,
                (&ticket, &event),
                Mode {
                    purpose: Purpose::Live,
                    cursors: Cursors::Lock {
                        event_id: &source.event_id,
                    },
                },
            )
            .await
            .map_err(|e| call_failed("evaluation", e))?;
            if run.fired.is_empty() && !run.pass_limit_reached {
                return Ok(());
            }
            if let Some(mut steps) = steps {
                if !run.round_robin_used.is_empty() {
                    cursors::reserve(
                        &mut steps,
                        &source.event_id,
                        &run.round_robin_used,
                        &context.round_robin,
                    )
                    .await?;
                }
                steps.commit().await?;
            }
            let apply = request::apply_request(&source.event_id, &ticket, &run);
            let response = self
                .world
                .mesh
                .apply(apply)
                .await
                .map_err(|status| call_failed("ticket service", status.into()))?;
            match response.outcome() {
                TriggerRunOutcome::Applied => return Ok(()),
                TriggerRunOutcome::Duplicate | TriggerRunOutcome::NotEvaluable => return Ok(()),
                TriggerRunOutcome::VersionConflict => {
                    ticket = response.ticket.ok_or_else(|| {
                        HandlerError("a version conflict came without the ticket".into())
                    })?;
                }
                TriggerRunOutcome::Unspecified => {
                    return Err(HandlerError("the ticket service gave no outcome".into()));
                }
            }
        }
        Err(HandlerError::transient(format!(
            "ticket {} changed under {} evaluations in a row; the event is retried",
            source.ticket.id, self.apply_attempts
        )))
    }
}

/// How often the round-robin steps older than a day are forgotten.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Forgets old round-robin steps every hour until `shutdown` (any replica may; the delete is
/// the same whoever runs it). A failed round is logged and tried again.
pub async fn prune_steps(pool: sqlx::PgPool, mut shutdown: switchboard_platform::Shutdown) {
    while !shutdown.is_triggered() {
        let pruned = async {
            let mut conn = pool.acquire().await?;
            cursors::prune(&mut conn).await
        };
        match pruned.await {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "forgot round-robin steps older than a day"),
            Err(error) => tracing::warn!(%error, "pruning round-robin steps failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = shutdown.wait() => {}
        }
    }
}

impl EventHandler for TicketEvents {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        envelope: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        let source = source::read(envelope).map_err(|e| HandlerError(e.to_string()))?;
        match source {
            Some(source) => self.run(tx, source).await,
            None => Ok(()),
        }
    }
}
