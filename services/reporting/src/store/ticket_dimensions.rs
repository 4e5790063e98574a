//! `ticket_dimension_keys`: the integer key of every dimension value the ticket facts hold,
//! which the times report's indexes keep instead of the text.

use sqlx::PgExecutor;
use switchboard_platform::error::Result;

/// The text columns of `ticket_facts` kept as keys too, each with its key column.
pub const KEYED: [(&str, &str); 4] = [
    ("group_id", "group_key"),
    ("assignee_login", "assignee_key"),
    ("inquiry_type_id", "inquiry_type_key"),
    ("mail_account_id", "mail_account_key"),
];

/// The key column of text column `column`, if it has one.
pub fn key_column_of(column: &str) -> Option<&'static str> {
    KEYED
        .iter()
        .find(|(text, _)| *text == column)
        .map(|(_, key)| *key)
}

/// The key of dimension value `value` (a text expression) in SQL. Every value a statement
/// writes has been given a key first by [`ensure`].
pub fn key_of(value: &str) -> String {
    format!("(SELECT key FROM ticket_dimension_keys WHERE value = {value})")
}

/// The keys of the values of text array parameter `$parameter`, in SQL, for a filter.
pub fn keys_of_parameter(parameter: usize) -> String {
    format!("ARRAY(SELECT key FROM ticket_dimension_keys WHERE value = ANY(${parameter}::text[]))")
}

/// Gives a key to each of `values` that has none. Only the missing values are inserted, so the
/// key sequence is not spent on values already keyed; they are inserted in order, so two folds
/// keying the same new values wait for each other rather than deadlock over them.
pub async fn ensure<'e>(executor: impl PgExecutor<'e>, values: &[&str]) -> Result<()> {
    if values.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO ticket_dimension_keys (value)
         SELECT value FROM (SELECT DISTINCT unnest($1::text[]) AS value) AS wanted
         WHERE NOT EXISTS (SELECT 1 FROM ticket_dimension_keys k WHERE k.value = wanted.value)
         ORDER BY value
         ON CONFLICT (value) DO NOTHING",
    )
    .bind(values)
    .execute(executor)
    .await?;
    Ok(())
}
