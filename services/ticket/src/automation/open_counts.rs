//! `CountOpenTickets`: the open tickets (in progress or on hold) of each agent asked for, for
//! the trigger engine's distribution.

use std::collections::HashMap;

use sqlx::PgPool;
use switchboard_platform::error::{Error, FieldViolations};
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{CountOpenTicketsRequest, CountOpenTicketsResponse, TicketStatus},
};
use tonic::Status;

use crate::tickets::{AUTOMATE_SCOPE, access};

const MAX_AGENTS: usize = 1_000;

/// The statuses counted as an agent's open tickets.
const OPEN: [TicketStatus; 2] = [TicketStatus::InProgress, TicketStatus::OnHold];

pub async fn count(
    pool: &PgPool,
    principal: &Principal,
    request: CountOpenTicketsRequest,
) -> Result<CountOpenTicketsResponse, Status> {
    access::require_scope(principal, AUTOMATE_SCOPE)?;
    let logins = request.agent_logins;
    let mut violations = FieldViolations::new();
    if logins.is_empty() || logins.len() > MAX_AGENTS {
        violations.add(
            "agent_logins",
            format!("must name 1 to {MAX_AGENTS} agents"),
        );
    }
    for (i, login) in logins.iter().enumerate() {
        if login.is_empty() {
            violations.add(format!("agent_logins[{i}]"), "must not be empty");
        }
    }
    violations.into_result()?;
    let open: Vec<i16> = OPEN.iter().map(|s| *s as i16).collect();
    // One range of tickets_by_assignee (assignee_login, status, …) per agent and status,
    // however many tickets the center holds. Asked as one `= ANY` over both columns, the
    // planner may AND in the status index instead, a scan of every open ticket of the center.
    let counted: Vec<(String, i64)> = sqlx::query_as(
        "SELECT login, (SELECT count(*) FROM tickets
                        WHERE assignee_login = login AND status = ANY($2))
         FROM unnest($1::text[]) AS login",
    )
    .bind(&logins)
    .bind(&open)
    .fetch_all(pool)
    .await
    .map_err(Error::from)?;
    let counted: HashMap<String, i64> = counted.into_iter().collect();
    let open_tickets = logins
        .into_iter()
        .map(|login| {
            let n = counted.get(&login).copied().unwrap_or(0);
            (login, i32::try_from(n).unwrap_or(i32::MAX))
        })
        .collect();
    Ok(CountOpenTicketsResponse { open_tickets })
}
