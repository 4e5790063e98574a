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

use std::{collections::HashSet, sync::Arc};

use futures_util::future::join_all;
use sqlx::PgConnection;
use switchboard_platform::events::{EventHandler, HandlerError};
use switchboard_proto::{
    events::v1::EventEnvelope,
    ticket::v1::{Ticket, TriggerRunOutcome},
};

use crate::{
    eval::{Context, Event, Purpose, Run},
    mesh::is_unreachable,
    rules::{Rules, RulesCache},
    runner::{
        cursors::Session,
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

/// What the ticket service made of a run.
enum Applied {
    /// Applied, or needing nothing (applied before, or the ticket closed meanwhile).
    Done,
    /// The ticket changed since the version the run was computed on: this is it now.
    Conflict(Box<Ticket>),
}

/// Whether a trigger of `run` picked by the agents' open-ticket loads.
fn weighed_loads(rules: &Rules, run: &Run) -> bool {
    run.fired.iter().any(|fired| {
        rules
            .triggers
            .iter()
            .find(|t| t.id == fired.trigger_id)
            .is_some_and(|t| !t.load_groups().is_empty())
    })
}

/// How many runs of a batch are handed to the ticket service at once: with the default four
/// workers, twice the ticket service's default pool at most.
const CONCURRENT_APPLIES: usize = 8;

impl TicketEvents {
    /// Evaluates `source`'s event on `ticket`, starting from the round-robin cursors of
    /// `session` (the caller takes the run's steps), the agents' loads read when
    /// `read_loads`; `None` when nothing fired.
    async fn evaluate(
        &self,
        (rules, mut context): (&Rules, Context),
        session: &mut Session,
        (source, ticket): (&SourceEvent, &Ticket),
        read_loads: bool,
    ) -> Result<Option<Run>, HandlerError> {
        let event = Event {
            update_type: source.update_type,
            body: &source.body,
            changes: &source.changes,
            time: source.time,
            automated: source.automated,
        };
        let run = settle(
            &self.world,
            rules,
            &mut context,
            (ticket, &event),
            Mode {
                purpose: Purpose::Live,
                cursors: Cursors::Step {
                    session: &mut *session,
                    event_id: &source.event_id,
                },
                read_loads,
            },
        )
        .await
        .map_err(|e| call_failed("evaluation", e))?;
        if run.fired.is_empty() && !run.pass_limit_reached {
            return Ok(None);
        }
        Ok(Some(run))
    }

    /// Hands `run`, computed on `ticket`, to the ticket service.
    async fn apply(
        &self,
        source: &SourceEvent,
        ticket: &Ticket,
        run: &Run,
    ) -> Result<Applied, HandlerError> {
        let apply = request::apply_request(&source.event_id, ticket, run);
        let response = self
            .world
            .mesh
            .apply(apply)
            .await
            .map_err(|status| call_failed("ticket service", status.into()))?;
        match response.outcome() {
            TriggerRunOutcome::Applied
            | TriggerRunOutcome::Duplicate
            | TriggerRunOutcome::NotEvaluable => Ok(Applied::Done),
            TriggerRunOutcome::VersionConflict => {
                Ok(Applied::Conflict(Box::new(response.ticket.ok_or_else(
                    || HandlerError("a version conflict came without the ticket".into()),
                )?)))
            }
            TriggerRunOutcome::Unspecified => {
                Err(HandlerError("the ticket service gave no outcome".into()))
            }
        }
    }

    /// One event's run, evaluated on `ticket` and applied; evaluated again on the ticket as it
    /// is now after each version conflict.
    async fn run_alone(
        &self,
        rules: &Rules,
        base: &Context,
        source: &SourceEvent,
        mut ticket: Ticket,
    ) -> Result<(), HandlerError> {
        for _ in 0..self.apply_attempts.max(1) {
            if !evaluable(&ticket) {
                return Ok(());
            }
            let mut session = Session::new(&self.pool, vec![source.event_id.clone()]);
            let run = self
                .evaluate((rules, base.clone()), &mut session, (source, &ticket), true)
                .await?;
            if let Some(run) = &run {
                session.step(&source.event_id, &run.round_robin_used);
            }
            // The steps are committed before the call, so the other runs of the group need not
            // wait for it; unless the run weighed loads, whose groups stay locked until the
            // ticket service has committed the run.
            let held = if session.holds_loads() && run.is_some() {
                Some(session)
            } else {
                session.commit().await?;
                None
            };
            let Some(run) = run else {
                return Ok(());
            };
            let applied = self.apply(source, &ticket, &run).await?;
            if let Some(session) = held {
                session.commit().await?;
            }
            match applied {
                Applied::Done => return Ok(()),
                Applied::Conflict(now) => ticket = *now,
            }
        }
        Err(HandlerError::transient(format!(
            "ticket {} changed under {} evaluations in a row; the event is retried",
            source.ticket.id, self.apply_attempts
        )))
    }

    /// The rules and the evaluation context every event of a delivery starts from; `None`
    /// when no trigger is active.
    async fn prepare(
        &self,
        tx: &mut PgConnection,
    ) -> Result<Option<(Arc<Rules>, Context)>, HandlerError> {
        let rules = self.rules.current(tx).await?;
        if !rules.has_active() {
            return Ok(None);
        }
        let base = base_context(&self.world, &rules, false)
            .await
            .map_err(|e| call_failed("directory", e))?;
        Ok(Some((rules, base)))
    }

    /// A batch of events: the runs evaluated in turn in one cursor session (each starts where
    /// the one before left the round-robin cursors), the steps committed once, then the runs
    /// applied at once. Later events of a ticket already in the batch, runs that weigh the
    /// agents' loads (which must see the runs before them applied; their loads are not read in
    /// the batch) and runs that met a version conflict are then run alone, in order.
    async fn run_batch(
        &self,
        tx: &mut PgConnection,
        sources: Vec<SourceEvent>,
    ) -> Result<(), HandlerError> {
        let Some((rules, base)) = self.prepare(tx).await? else {
            return Ok(());
        };
        let events = sources.iter().map(|s| s.event_id.clone()).collect();
        let mut session = Session::new(&self.pool, events);
        let mut ready = Vec::new();
        let mut alone = Vec::new();
        let mut tickets = HashSet::new();
        for source in sources {
            if !evaluable(&source.ticket) {
                continue;
            }
            if !tickets.insert(source.ticket.id.clone()) {
                let ticket = source.ticket.clone();
                alone.push((source, ticket));
                continue;
            }
            match self
                .evaluate(
                    (&rules, base.clone()),
                    &mut session,
                    (&source, &source.ticket),
                    false,
                )
                .await?
            {
                None => {}
                // Picked without the loads: its steps are taken when it runs alone.
                Some(run) if weighed_loads(&rules, &run) => {
                    let ticket = source.ticket.clone();
                    alone.push((source, ticket));
                }
                Some(run) => {
                    session.step(&source.event_id, &run.round_robin_used);
                    ready.push((source, run));
                }
            }
        }
        session.commit().await?;
        let mut results = Vec::with_capacity(ready.len());
        for chunk in ready.chunks(CONCURRENT_APPLIES) {
            let calls: Vec<_> = chunk
                .iter()
                .map(|(source, run)| self.apply(source, &source.ticket, run))
                .collect();
            results.extend(join_all(calls).await);
        }
        let mut conflicts = Vec::new();
        for ((source, _), result) in ready.into_iter().zip(results) {
            if let Applied::Conflict(now) = result? {
                conflicts.push((source, *now));
            }
        }
        for (source, ticket) in conflicts.into_iter().chain(alone) {
            self.run_alone(&rules, &base, &source, ticket).await?;
        }
        Ok(())
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
        let Some(source) = source::read(envelope).map_err(|e| HandlerError(e.to_string()))? else {
            return Ok(());
        };
        let Some((rules, base)) = self.prepare(tx).await? else {
            return Ok(());
        };
        let ticket = source.ticket.clone();
        self.run_alone(&rules, &base, &source, ticket).await
    }

    async fn handle_batch(
        &self,
        tx: &mut PgConnection,
        envelopes: &[EventEnvelope],
    ) -> Result<(), HandlerError> {
        let mut sources = Vec::new();
        for envelope in envelopes {
            if let Some(source) = source::read(envelope).map_err(|e| HandlerError(e.to_string()))? {
                sources.push(source);
            }
        }
        if sources.is_empty() {
            return Ok(());
        }
        self.run_batch(tx, sources).await
    }
}
