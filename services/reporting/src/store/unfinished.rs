//! Unfinished (UNPROCESSED) callbacks per agent, from the facts (a partial index holds just
//! those rows).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AgentUnfinished {
    pub login: String,
    /// The name the agent's newest assignment carried.
    pub display_name: String,
    pub unfinished: i64,
    pub oldest_request_time: DateTime<Utc>,
}

/// Every agent with unfinished callbacks (only those of `group_id`'s callbacks when given), most
/// first, then by login.
pub async fn per_agent(pool: &PgPool, group_id: &str) -> sqlx::Result<Vec<AgentUnfinished>> {
    sqlx::query_as(
        "SELECT assignee_login AS login,
                coalesce((array_agg(assignee_name ORDER BY assign_time DESC NULLS LAST,
                    callback_id))[1], '') AS display_name,
                count(*) AS unfinished, min(request_time) AS oldest_request_time
         FROM callback_facts
         WHERE state = 2 AND assignee_login IS NOT NULL
           AND ($1 = '' OR assignee_group_id = $1)
         GROUP BY assignee_login
         ORDER BY unfinished DESC, login",
    )
    .bind(group_id)
    .fetch_all(pool)
    .await
}
