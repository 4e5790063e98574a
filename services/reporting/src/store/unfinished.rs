//! Unfinished (UNPROCESSED) callbacks per agent: counts kept per agent and group in
//! `agent_unfinished`, each agent's oldest and newest from the facts' partial indexes (one
//! index lookup per agent, however long the backlog).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::Result;
use switchboard_proto::callback::v1::CallbackState;

use crate::domain::fact::UnfinishedKey;

/// Adds `changes` (distinct keys, in key order) to the counts, in one statement.
pub async fn add(tx: &mut PgConnection, changes: &[(UnfinishedKey, i64)]) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO agent_unfinished (assignee_login, assignee_group_id, unfinished)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[])
         ON CONFLICT (assignee_login, assignee_group_id) DO UPDATE SET
             unfinished = agent_unfinished.unfinished + EXCLUDED.unfinished",
    )
    .bind(
        changes
            .iter()
            .map(|((l, _), _)| l.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        changes
            .iter()
            .map(|((_, g), _)| g.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(changes.iter().map(|(_, n)| *n).collect::<Vec<_>>())
    .execute(tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AgentUnfinished {
    pub login: String,
    /// The name the agent's newest unfinished assignment carried.
    pub display_name: String,
    pub unfinished: i64,
    pub oldest_request_time: DateTime<Utc>,
}

/// Every agent with unfinished callbacks (only those assigned under `group_id` when given),
/// most first, then by login.
pub async fn per_agent(pool: &PgPool, group_id: &str) -> Result<Vec<AgentUnfinished>> {
    // The state is written into the text, not bound: only then can the planner use the partial
    // indexes, which hold UNPROCESSED facts only.
    let unprocessed = CallbackState::Unprocessed as i16;
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT agents.login, coalesce(newest.assignee_name, '') AS display_name,
                agents.unfinished, oldest.request_time AS oldest_request_time
         FROM (SELECT assignee_login AS login, sum(unfinished)::int8 AS unfinished
               FROM agent_unfinished WHERE $1 = '' OR assignee_group_id = $1
               GROUP BY assignee_login HAVING sum(unfinished) > 0) AS agents
         CROSS JOIN LATERAL (
             SELECT request_time FROM callback_facts
             WHERE state = {unprocessed} AND assignee_login = agents.login
               AND ($1 = '' OR assignee_group_id = $1)
             ORDER BY request_time LIMIT 1) AS oldest
         CROSS JOIN LATERAL (
             SELECT assignee_name FROM callback_facts
             WHERE state = {unprocessed} AND assignee_login = agents.login
             ORDER BY assign_time DESC NULLS LAST, callback_id LIMIT 1) AS newest
         ORDER BY agents.unfinished DESC, agents.login"
    )))
    .bind(group_id)
    .fetch_all(pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `per_agent` writes the state into its text to match these partial indexes.
    #[test]
    fn the_unfinished_indexes_hold_unprocessed_facts() {
        let migration = include_str!("../../migrations/0001_callback_model.sql");
        let predicate = format!("WHERE state = {};", CallbackState::Unprocessed as i16);
        assert_eq!(migration.matches(&predicate).count(), 2, "{predicate}");
    }
}
