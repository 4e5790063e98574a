//! Assignment (docs/product.md §2.4, §2.5), admin only: the summary counts, the candidate agents, even and
//! manual assignment reported row by row, cancelling assignments, and unfinished counts. The
//! changes take explicit ids or a whole search (the list's filter), locked the same way.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use switchboard_platform::error::quote;
use switchboard_platform::{db, error::FieldViolations, paging::Page, principal::PrincipalExt};
use switchboard_proto::{
    callback::v1::{
        AgentRef, AgentUnfinishedCount, AssignEvenlyRequest, AssignEvenlyResponse,
        AssignManuallyRequest, AssignManuallyResponse, AssignmentMethod, CallbackAssignment,
        CallbackFilter, CancelAssignmentRequest, CancelAssignmentResponse, CandidateAgent,
        GetAssignmentSummaryRequest, GetAssignmentSummaryResponse, ListCandidateAgentsRequest,
        ListCandidateAgentsResponse, ListUnfinishedCountsRequest, ListUnfinishedCountsResponse,
    },
    common::v1::{Principal, RowResult},
    gateway::v1::Agent,
};
use tonic::Status;
use uuid::Uuid;

use super::{
    CallbackApi,
    access::Sight,
    announce::{Happened, announce, next_version},
    filter,
};
use crate::{
    directory::PHONE_PERMISSION,
    domain::{
        balance::plan_even,
        state::{Action, transition},
    },
    store::{CallbackRow, callbacks, search, search::Search},
};

const MAX_CALLBACKS: usize = 1_000;
/// The most callbacks one change by search may touch: the rows of its response stay near
/// 1 MB (under gRPC's 4 MiB; about 85 bytes a row, measured by the test) and its transaction
/// short enough to hold the agents' locks (5,000 assignments take about 2 s).
const MAX_BY_SEARCH: i64 = 10_000;
const MAX_AGENTS: usize = 100;
const MAX_REASON: usize = 500;

pub async fn summary(
    api: &CallbackApi,
    principal: &Principal,
    request: &GetAssignmentSummaryRequest,
) -> Result<GetAssignmentSummaryResponse, Status> {
    principal.require_admin()?;
    let search = filter::search(request.filter.as_ref(), &Sight::Everything, &api.settings)?;
    let (total, assigned) = search::summary(&api.pool, &search).await?;
    Ok(GetAssignmentSummaryResponse {
        total_count: total,
        assigned_count: assigned,
        unassigned_count: total - assigned,
    })
}

/// What a change applies to: explicit ids, or every callback a search matches in a state the
/// action starts from.
enum Selection {
    Ids(Vec<Uuid>),
    Search(Search),
}

/// Reads exactly one of `callback_ids` and `filter`; the filter as the list reads it.
fn selection(
    api: &CallbackApi,
    ids: &[String],
    filter: &Option<CallbackFilter>,
    mut violations: FieldViolations,
) -> Result<Selection, Status> {
    let Some(filter) = filter else {
        let ids = callback_ids(ids, &mut violations);
        violations.into_result()?;
        return Ok(Selection::Ids(ids));
    };
    if !ids.is_empty() {
        violations.add("filter", "must not be set together with callback_ids");
    }
    violations.into_result()?;
    let search = filter::search(Some(filter), &Sight::Everything, &api.settings)?;
    Ok(Selection::Search(search))
}

/// Locks the selected callbacks (in id order) in `tx`; returns the ids to report, in
/// request order for ids and in (request time, id) order for a search, and the rows found.
/// A search matching over [`MAX_BY_SEARCH`] callbacks `action` may change is refused here,
/// before anything is changed.
async fn lock_selected(
    tx: &mut sqlx::PgConnection,
    selection: &Selection,
    action: Action,
) -> Result<(Vec<Uuid>, Vec<CallbackRow>), Status> {
    let search = match selection {
        Selection::Ids(ids) => return Ok((ids.clone(), callbacks::lock(tx, ids).await?)),
        Selection::Search(search) => search,
    };
    let states: Vec<i16> = action.allowed_from().iter().map(|s| *s as i16).collect();
    let too_many = |count: i64| {
        Status::failed_precondition(format!(
            "filter: matches {count} callbacks to change, at most {MAX_BY_SEARCH} per call; \
             narrow the search"
        ))
    };
    let count = search::count_in(tx, search, &states).await?;
    if count > MAX_BY_SEARCH {
        return Err(too_many(count));
    }
    // Callbacks that came to match since the count are locked too; refuse if they pass the bound.
    let mut rows = search::lock_in(tx, search, &states, MAX_BY_SEARCH + 1).await?;
    if rows.len() as i64 > MAX_BY_SEARCH {
        let count = search::count_in(tx, search, &states).await?;
        return Err(too_many(count));
    }
    rows.sort_by_key(|row| (row.request_time, row.id));
    Ok((rows.iter().map(|row| row.id).collect(), rows))
}

/// The selected callback ids: 1 to 1,000 UUIDs, duplicates dropped, order kept.
fn callback_ids(ids: &[String], violations: &mut FieldViolations) -> Vec<Uuid> {
    if ids.is_empty() || ids.len() > MAX_CALLBACKS {
        violations.add(
            "callback_ids",
            format!("must hold 1 to {MAX_CALLBACKS} ids (or set filter instead)"),
        );
        return Vec::new();
    }
    let mut seen = HashSet::new();
    let mut unique = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if let Some(id) = violations.uuid(format!("callback_ids[{i}]"), id)
            && seen.insert(id)
        {
            unique.push(id);
        }
    }
    unique
}

/// The optional `group_id`, as the directory spells group ids.
fn optional_group(group_id: &str, violations: &mut FieldViolations) -> Option<String> {
    violations
        .optional_uuid("group_id", group_id)
        .map(|id| id.to_string())
}

/// Looks the selected agents up and checks each may receive callbacks under `group`; returns
/// their assignee references in selection order. `field(i)` names the i-th login.
async fn receivers(
    api: &CallbackApi,
    logins: &[String],
    group: Option<&str>,
    field: impl Fn(usize) -> String,
) -> Result<Vec<AgentRef>, Status> {
    let found: HashMap<String, Agent> = api
        .directory
        .agents(logins)
        .await?
        .into_iter()
        .map(|agent| (agent.login.clone(), agent))
        .collect();
    let mut refs = Vec::with_capacity(logins.len());
    for (i, login) in logins.iter().enumerate() {
        let Some(agent) = found.get(login) else {
            return Err(Status::not_found(format!(
                "{}: no agent {}",
                field(i),
                quote(login)
            )));
        };
        if agent.disabled || !agent.permissions.iter().any(|p| p == PHONE_PERMISSION) {
            return Err(Status::failed_precondition(format!(
                "{}: {login} cannot receive callbacks (disabled or without the phone permission)",
                field(i)
            )));
        }
        if let Some(group) = group
            && !agent.group_ids.iter().any(|g| g == group)
        {
            return Err(Status::failed_precondition(format!(
                "group_id: {login} does not belong to group {group}"
            )));
        }
        refs.push(AgentRef {
            agent_login: login.clone(),
            group_id: group
                .map(str::to_owned)
                .or_else(|| agent.group_ids.first().cloned())
                .unwrap_or_default(),
            display_name: agent.display_name.clone(),
        });
    }
    Ok(refs)
}

fn distributor(principal: &Principal) -> AgentRef {
    AgentRef {
        agent_login: principal.subject.clone(),
        group_id: principal.group_ids.first().cloned().unwrap_or_default(),
        display_name: principal.display_name.clone(),
    }
}

fn failed(id: Uuid, reason: &str, message: String) -> RowResult {
    RowResult {
        id: id.to_string(),
        ok: false,
        reason: reason.into(),
        message,
    }
}

fn succeeded(id: Uuid) -> RowResult {
    RowResult {
        id: id.to_string(),
        ok: true,
        ..Default::default()
    }
}

/// What an assignment batch did.
struct Assigned {
    results: Vec<RowResult>,
    assignments: Vec<CallbackAssignment>,
    counts: Vec<i64>,
}

/// Assigns the selected callbacks among `agents` (one agent for a manual assignment),
/// balancing unfinished counts, in one transaction; each row succeeds or fails on its own.
async fn assign(
    api: &CallbackApi,
    principal: &Principal,
    selection: &Selection,
    agents: &[AgentRef],
    method: AssignmentMethod,
) -> Result<Assigned, Status> {
    let logins: Vec<String> = agents.iter().map(|a| a.agent_login.clone()).collect();
    let mut tx = db::begin(&api.pool).await?;
    callbacks::lock_agents(&mut tx, &logins).await?;
    let (ids, rows) = lock_selected(&mut tx, selection, Action::Assign).await?;
    let ids = ids.as_slice();
    let counts: HashMap<String, i64> = callbacks::unfinished_counts(&mut tx, &logins)
        .await?
        .into_iter()
        .collect();
    let mut loads: Vec<i64> = logins
        .iter()
        .map(|l| counts.get(l).copied().unwrap_or(0))
        .collect();

    let mut by_id: HashMap<Uuid, CallbackRow> = rows.into_iter().map(|r| (r.id, r)).collect();
    let mut outcome: HashMap<Uuid, Result<usize, RowResult>> = HashMap::new();
    let mut eligible: Vec<&CallbackRow> = Vec::new();
    for id in ids {
        match by_id.get(id) {
            None => {
                outcome.insert(
                    *id,
                    Err(failed(*id, "NOT_FOUND", format!("no callback {id}"))),
                );
            }
            Some(row) => match transition(Action::Assign, row.state()) {
                Ok(_) => eligible.push(row),
                Err(why) => {
                    outcome.insert(*id, Err(failed(*id, "STATE_CHANGED", why)));
                }
            },
        }
    }
    eligible.sort_by_key(|row| (row.request_time, row.id));
    let order: Vec<Uuid> = eligible.iter().map(|row| row.id).collect();
    let plan = plan_even(order.len(), &loads);

    let now = Utc::now();
    let by = distributor(principal);
    let actor = principal.actor();
    for (id, agent) in order.iter().zip(plan) {
        let row = by_id.get_mut(id).expect("eligible rows exist");
        let before = row.clone();
        row.set_state(transition(Action::Assign, row.state()).map_err(Status::internal)?);
        row.set_assignment(Some((agents[agent].clone(), by.clone(), now)));
        next_version(row, now);
        callbacks::save(&mut tx, row).await?;
        announce(
            &mut tx,
            Some(&before),
            row,
            Happened::Assigned { method },
            &actor,
        )
        .await?;
        loads[agent] += 1;
        outcome.insert(*id, Ok(agent));
    }
    db::commit(tx).await?;

    let mut results = Vec::with_capacity(ids.len());
    let mut assignments = Vec::new();
    for id in ids {
        match outcome.remove(id).expect("every row has an outcome") {
            Ok(agent) => {
                results.push(succeeded(*id));
                assignments.push(CallbackAssignment {
                    callback_id: id.to_string(),
                    agent_login: agents[agent].agent_login.clone(),
                    group_id: agents[agent].group_id.clone(),
                });
            }
            Err(result) => results.push(result),
        }
    }
    Ok(Assigned {
        results,
        assignments,
        counts: loads,
    })
}

fn unfinished_count(agent: &AgentRef, count: i64) -> AgentUnfinishedCount {
    AgentUnfinishedCount {
        agent_login: agent.agent_login.clone(),
        display_name: agent.display_name.clone(),
        unfinished_count: count,
    }
}

pub async fn evenly(
    api: &CallbackApi,
    principal: &Principal,
    request: AssignEvenlyRequest,
) -> Result<AssignEvenlyResponse, Status> {
    principal.require_admin()?;
    let mut violations = FieldViolations::new();
    if request.agent_logins.is_empty() || request.agent_logins.len() > MAX_AGENTS {
        violations.add(
            "agent_logins",
            format!("must hold 1 to {MAX_AGENTS} logins"),
        );
    }
    // Duplicates are dropped; each login keeps its first position to be named by.
    let (mut logins, mut positions) = (Vec::<String>::new(), Vec::new());
    for (i, login) in request.agent_logins.iter().enumerate() {
        let login = login.trim().to_lowercase();
        if !logins.contains(&login) {
            logins.push(login);
            positions.push(i);
        }
    }
    let group = optional_group(&request.group_id, &mut violations);
    let selected = selection(api, &request.callback_ids, &request.filter, violations)?;
    let position = |i: usize| format!("agent_logins[{}]", positions[i]);
    let agents = receivers(api, &logins, group.as_deref(), position).await?;
    let done = assign(api, principal, &selected, &agents, AssignmentMethod::Even).await?;
    Ok(AssignEvenlyResponse {
        results: done.results,
        assignments: done.assignments,
        agent_counts: agents
            .iter()
            .zip(done.counts)
            .map(|(agent, count)| unfinished_count(agent, count))
            .collect(),
    })
}

pub async fn manually(
    api: &CallbackApi,
    principal: &Principal,
    request: AssignManuallyRequest,
) -> Result<AssignManuallyResponse, Status> {
    principal.require_admin()?;
    let mut violations = FieldViolations::new();
    let login = request.agent_login.trim().to_lowercase();
    violations.check(login.is_empty(), "agent_login", || "is required".into());
    let group = optional_group(&request.group_id, &mut violations);
    let selected = selection(api, &request.callback_ids, &request.filter, violations)?;
    let agents = receivers(api, std::slice::from_ref(&login), group.as_deref(), |_| {
        "agent_login".into()
    })
    .await?;
    let done = assign(api, principal, &selected, &agents, AssignmentMethod::Manual).await?;
    Ok(AssignManuallyResponse {
        results: done.results,
        agent_count: Some(unfinished_count(&agents[0], done.counts[0])),
    })
}

pub async fn cancel(
    api: &CallbackApi,
    principal: &Principal,
    request: CancelAssignmentRequest,
) -> Result<CancelAssignmentResponse, Status> {
    principal.require_admin()?;
    let mut violations = FieldViolations::new();
    violations.check(
        request.reason.chars().count() > MAX_REASON,
        "reason",
        || format!("at most {MAX_REASON} characters"),
    );
    let selected = selection(api, &request.callback_ids, &request.filter, violations)?;
    let mut tx = db::begin(&api.pool).await?;
    let (ids, rows) = lock_selected(&mut tx, &selected, Action::CancelAssignment).await?;
    let mut by_id: HashMap<Uuid, CallbackRow> = rows.into_iter().map(|r| (r.id, r)).collect();
    let now = Utc::now();
    let actor = principal.actor();
    let mut results = Vec::with_capacity(ids.len());
    for id in &ids {
        let Some(row) = by_id.get_mut(id) else {
            results.push(failed(*id, "NOT_FOUND", format!("no callback {id}")));
            continue;
        };
        let state = match transition(Action::CancelAssignment, row.state()) {
            Ok(state) => state,
            Err(why) => {
                results.push(failed(*id, "STATE_CHANGED", why));
                continue;
            }
        };
        let before = row.clone();
        row.set_state(state);
        row.set_assignment(None);
        next_version(row, now);
        callbacks::save(&mut tx, row).await?;
        let happened = Happened::AssignmentCancelled {
            reason: &request.reason,
        };
        announce(&mut tx, Some(&before), row, happened, &actor).await?;
        results.push(succeeded(*id));
    }
    db::commit(tx).await?;
    Ok(CancelAssignmentResponse { results })
}

fn group_field(group_id: &str) -> Result<Option<String>, Status> {
    let mut violations = FieldViolations::new();
    let group = optional_group(group_id, &mut violations);
    violations.into_result()?;
    Ok(group)
}

pub async fn candidates(
    api: &CallbackApi,
    principal: &Principal,
    request: ListCandidateAgentsRequest,
) -> Result<ListCandidateAgentsResponse, Status> {
    principal.require_admin()?;
    let page = Page::of(&request, |r| (&mut r.page_size, &mut r.page_token))?;
    let group = group_field(&request.group_id)?;
    let agents = api.directory.phone_agents(group.as_deref()).await?;
    let present = api.directory.present_logins(group.as_deref()).await?;
    let logins: Vec<String> = agents.iter().map(|a| a.login.clone()).collect();
    let mut conn = db::acquire(&api.pool).await?;
    let counts: HashMap<String, i64> = callbacks::unfinished_counts(&mut conn, &logins)
        .await?
        .into_iter()
        .collect();
    let mut rows: Vec<CandidateAgent> = agents
        .into_iter()
        .map(|agent| CandidateAgent {
            cti_logged_in: present.contains(&agent.login),
            unfinished_count: counts.get(&agent.login).copied().unwrap_or(0),
            agent_login: agent.login,
            display_name: agent.display_name,
            group_ids: agent.group_ids,
        })
        .filter(|c| c.cti_logged_in || !request.cti_logged_in_only)
        .collect();
    // Display name, then login; the key keeps that order as text.
    let key = |c: &CandidateAgent| format!("{}\u{1}{}", c.display_name, c.agent_login);
    rows.sort_by_key(key);
    let total = rows.len();
    let next_page_token = page.finish_sorted(&mut rows, key);
    Ok(ListCandidateAgentsResponse {
        agents: rows,
        next_page_token,
        total_size: total as i32,
    })
}

pub async fn unfinished(
    api: &CallbackApi,
    principal: &Principal,
    request: ListUnfinishedCountsRequest,
) -> Result<ListUnfinishedCountsResponse, Status> {
    principal.require_admin()?;
    let page = Page::of(&request, |r| (&mut r.page_size, &mut r.page_token))?;
    let group = group_field(&request.group_id)?;
    let candidates = api.directory.phone_agents(group.as_deref()).await?;
    let all_counts = callbacks::agents_with_unfinished(&api.pool, None).await?;
    let in_group = match &group {
        None => None,
        Some(group) => Some(callbacks::agents_with_unfinished(&api.pool, Some(group)).await?),
    };
    let counts: HashMap<&str, i64> = all_counts
        .iter()
        .map(|(l, _, n)| (l.as_str(), *n))
        .collect();
    let mut rows: HashMap<String, AgentUnfinishedCount> = HashMap::new();
    for agent in candidates {
        rows.insert(
            agent.login.clone(),
            AgentUnfinishedCount {
                unfinished_count: counts.get(agent.login.as_str()).copied().unwrap_or(0),
                agent_login: agent.login,
                display_name: agent.display_name,
            },
        );
    }
    for (login, name, _) in in_group.as_ref().unwrap_or(&all_counts) {
        rows.entry(login.clone())
            .or_insert_with(|| AgentUnfinishedCount {
                unfinished_count: counts.get(login.as_str()).copied().unwrap_or(0),
                agent_login: login.clone(),
                display_name: name.clone(),
            });
    }
    let mut rows: Vec<AgentUnfinishedCount> = rows.into_values().collect();
    // Most unfinished first, then login: the key inverts the count so text order matches.
    let key = |r: &AgentUnfinishedCount| {
        format!(
            "{:020}\u{1}{}",
            i64::MAX - r.unfinished_count,
            r.agent_login
        )
    };
    rows.sort_by_key(key);
    let total = rows.len();
    let next_page_token = page.finish_sorted(&mut rows, key);
    Ok(ListUnfinishedCountsResponse {
        agents: rows,
        next_page_token,
        total_size: total as i32,
    })
}
