//! Reading and locking tickets (table `tickets`); writing is [`super::row::write`].

use sqlx::PgConnection;
use switchboard_platform::error::Result;
use switchboard_proto::ticket::v1::Ticket;
use uuid::Uuid;

use super::row::{COLUMNS, TicketRow};

/// The ticket `id`; with `lock`, its row stays locked until the transaction ends, so the
/// change computed from it is the only one.
pub async fn load(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Option<Ticket>> {
    let statement = format!(
        "SELECT {COLUMNS} FROM tickets WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row: Option<TicketRow> = sqlx::query_as(sqlx::AssertSqlSafe(statement.as_str()))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(Ticket::from))
}

/// The ticket with this number.
pub async fn by_number(conn: &mut PgConnection, number: i64, lock: bool) -> Result<Option<Ticket>> {
    let statement = format!(
        "SELECT {COLUMNS} FROM tickets WHERE number = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row: Option<TicketRow> = sqlx::query_as(sqlx::AssertSqlSafe(statement.as_str()))
        .bind(number)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(Ticket::from))
}

/// The next ticket number (never reused, even when the transaction rolls back).
pub async fn next_number(conn: &mut PgConnection) -> Result<i64> {
    let (number,): (i64,) = sqlx::query_as("SELECT nextval('ticket_numbers')")
        .fetch_one(conn)
        .await?;
    Ok(number)
}

/// Runs `statement` (a `SELECT {COLUMNS} FROM tickets …` with its binds applied by `bind`).
pub async fn select(
    conn: &mut PgConnection,
    query: sqlx::query::QueryAs<'_, sqlx::Postgres, TicketRow, sqlx::postgres::PgArguments>,
) -> Result<Vec<Ticket>> {
    let rows = query.fetch_all(conn).await?;
    Ok(rows.into_iter().map(Ticket::from).collect())
}
