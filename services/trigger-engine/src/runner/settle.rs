//! One evaluation with what it needs: the rules are evaluated, and when the triggers that fired
//! distribute by load in groups whose agents' loads were not read yet, among present agents
//! before presence was read, or by round robin in groups whose cursors are not held yet, those
//! are read (or locked) and the rules evaluated again, until an evaluation asks for nothing
//! new. Evaluation is pure and takes microseconds; the reads are what cost, so they are made
//! only for what fires.

use std::collections::BTreeSet;

use sqlx::PgConnection;
use switchboard_platform::error::Error;
use switchboard_proto::ticket::v1::Ticket;

use super::{
    cursors::{self, Session},
    world::World,
};
use crate::{
    eval::{CompiledTrigger, Context, Event, Purpose, Run, evaluate},
    rules::Rules,
};

/// Whether the run steps round-robin cursors (a live run, in its batch's session) or only
/// looks at them (`TestTriggers`).
pub enum Cursors<'a> {
    Step {
        session: &'a mut Session,
        event_id: &'a str,
    },
    Read(&'a mut PgConnection),
}

/// The evaluation context every event starts from: the members of the groups and the groups
/// of the agents the rules name (cached), and the schedules.
pub async fn base_context(
    world: &World,
    rules: &Rules,
    include_inactive: bool,
) -> Result<Context, Error> {
    let used = || {
        rules
            .triggers
            .iter()
            .filter(move |t| t.active || include_inactive)
    };
    let groups = distinct(used().flat_map(CompiledTrigger::groups));
    let agents = distinct(used().flat_map(CompiledTrigger::agents));
    let mut context = Context {
        group_members: world.members(&groups).await?,
        agent_groups: world.groups_of(&agents).await?,
        ..Context::default()
    };
    context.schedules = rules.schedules.clone();
    Ok(context)
}

fn distinct(items: impl Iterator<Item = String>) -> Vec<String> {
    items.collect::<BTreeSet<_>>().into_iter().collect()
}

/// How a run evaluates: live or as a test (with inactive triggers or not), and what it may do
/// with cursors.
pub struct Mode<'a> {
    pub purpose: Purpose,
    pub cursors: Cursors<'a>,
    /// Whether the agents' loads are read for the distributions that weigh them. A batch's
    /// first pass does not: such a run is evaluated again alone, after the runs before it were
    /// applied, and the batch's cursors need not wait on the ticket service meanwhile.
    pub read_loads: bool,
}

/// Evaluates until the run needs nothing it has not been given.
pub async fn settle(
    world: &World,
    rules: &Rules,
    context: &mut Context,
    (ticket, event): (&Ticket, &Event<'_>),
    mode: Mode<'_>,
) -> Result<Run, Error> {
    let Mode {
        purpose,
        cursors: mut cursors_mode,
        read_loads,
    } = mode;
    let mut loaded: BTreeSet<String> = BTreeSet::new();
    let mut presence_loaded = false;
    let mut held: BTreeSet<String> = BTreeSet::new();
    loop {
        let run = evaluate(&rules.triggers, ticket, event, context, purpose);
        let fired: Vec<&CompiledTrigger> = run
            .fired
            .iter()
            .filter_map(|f| rules.triggers.iter().find(|t| t.id == f.trigger_id))
            .collect();
        let mut asked = false;
        let groups: Vec<String> = distinct(fired.iter().flat_map(|t| t.load_groups()))
            .into_iter()
            .filter(|g| !loaded.contains(g))
            .collect();
        if !groups.is_empty() && read_loads {
            // A live run reads loads under its groups' locks, held until it is applied: two
            // runs on two replicas never both count the same agent as the least loaded.
            if let Cursors::Step { session, .. } = &mut cursors_mode {
                session.hold_for_loads(&groups).await?;
            }
            let loads = world.open_tickets(&context.group_members, &groups).await?;
            context.open_tickets.extend(loads);
            loaded.extend(groups);
            asked = true;
        }
        if !presence_loaded && fired.iter().any(|t| t.needs_presence()) {
            context.present = world.present().await?;
            presence_loaded = true;
            asked = true;
        }
        let round_robin: Vec<String> = run
            .round_robin_used
            .keys()
            .filter(|g| !held.contains(*g))
            .cloned()
            .collect();
        if !round_robin.is_empty() {
            let cursors = match &mut cursors_mode {
                Cursors::Step { session, event_id } => {
                    session.starting(event_id, &round_robin).await?
                }
                Cursors::Read(conn) => cursors::read(conn, &round_robin).await?,
            };
            for group in &round_robin {
                match cursors.get(group) {
                    Some(login) => context.round_robin.insert(group.clone(), login.clone()),
                    None => context.round_robin.remove(group),
                };
            }
            held.extend(round_robin);
            asked = true;
        }
        if !asked {
            return Ok(run);
        }
    }
}
