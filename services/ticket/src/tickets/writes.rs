//! The rows one change writes (the ticket, its message, its history entry, its events), sent
//! to PostgreSQL as one statement of data-modifying CTEs instead of one round trip each.

use sqlx::{Arguments, Encode, PgConnection, Postgres, Type, postgres::PgArguments};
use switchboard_platform::{
    error::{Error, Result},
    events::{NewEvent, outbox::outbox_row},
};

use super::SOURCE;

#[derive(Default)]
pub struct Writes {
    statements: Vec<String>,
    args: PgArguments,
    bound: usize,
}

/// The values of one statement, numbered after those of the statements before it.
pub struct Binds<'w> {
    args: &'w mut PgArguments,
    bound: &'w mut usize,
    error: Option<Error>,
}

impl Binds<'_> {
    pub fn bind<'q, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'q, Postgres> + Type<Postgres> + Send + 'q,
    {
        if let Err(error) = self.args.add(value) {
            self.error.get_or_insert(Error::internal(error));
        }
        *self.bound += 1;
        self
    }
}

/// `sql` with its placeholders `$1…` moved by `offset`.
fn renumber(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while let Some((j, d)) = chars.peek().copied() {
            if !d.is_ascii_digit() {
                break;
            }
            end = j + 1;
            chars.next();
        }
        match sql[start..end].parse::<usize>() {
            Ok(n) => out.push_str(&format!("${}", n + offset)),
            Err(_) => out.push('$'),
        }
    }
    out
}

impl Writes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `sql` (an INSERT or UPDATE whose placeholders are `$1…` in the order `bind` binds
    /// them). The rows the first statement writes are [`Writes::execute`]'s answer.
    pub fn add(&mut self, sql: &str, bind: impl FnOnce(&mut Binds<'_>)) -> Result<()> {
        let offset = self.bound;
        let mut binds = Binds {
            args: &mut self.args,
            bound: &mut self.bound,
            error: None,
        };
        bind(&mut binds);
        if let Some(error) = binds.error {
            return Err(error);
        }
        self.statements
            .push(format!("{} RETURNING 1", renumber(sql, offset)));
        Ok(())
    }

    /// Adds `event` to the outbox.
    pub fn event(&mut self, event: NewEvent) -> Result<()> {
        let row = outbox_row(SOURCE, event);
        self.add(
            "INSERT INTO outbox (event_id, routing_key, envelope, traceparent, tracestate)
             VALUES ($1, $2, $3, $4, $5)",
            |b| {
                b.bind(row.event_id)
                    .bind(row.routing_key)
                    .bind(row.envelope)
                    .bind(row.traceparent)
                    .bind(row.tracestate);
            },
        )
    }

    /// Runs every statement in one round trip; returns the number of rows the first wrote.
    pub async fn execute(self, conn: &mut PgConnection) -> Result<i64> {
        if self.statements.is_empty() {
            return Ok(0);
        }
        let ctes: Vec<String> = self
            .statements
            .iter()
            .enumerate()
            .map(|(i, sql)| format!("w{i} AS ({sql})"))
            .collect();
        let sql = format!("WITH {} SELECT count(*) FROM w0", ctes.join(",\n"));
        let (written,): (i64,) = sqlx::query_as_with(sqlx::AssertSqlSafe(sql), self.args)
            .fetch_one(conn)
            .await?;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_move_past_the_earlier_statements_values() {
        assert_eq!(renumber("VALUES ($1, $2, $10)", 3), "VALUES ($4, $5, $13)");
        assert_eq!(renumber("a $ b $x", 3), "a $ b $x");
        assert_eq!(
            renumber("WHERE id = $1 AND $2::text <> ''", 0),
            "WHERE id = $1 AND $2::text <> ''"
        );
    }
}
