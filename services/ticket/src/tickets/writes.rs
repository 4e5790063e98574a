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
    statements: Vec<Statement>,
    args: PgArguments,
    bound: usize,
}

/// One statement of the CTEs: an INSERT of rows given by VALUES tuples (the rows of several
/// inserts into the same columns, merged), or any other statement as written.
enum Statement {
    Rows { head: String, tuples: Vec<String> },
    Other(String),
}

impl Statement {
    fn sql(&self) -> String {
        match self {
            Self::Rows { head, tuples } => {
                format!("{head} VALUES {} RETURNING 1", tuples.join(", "))
            }
            Self::Other(sql) => format!("{sql} RETURNING 1"),
        }
    }
}

/// `sql` as `INSERT … ` and its one VALUES tuple, when it is a plain insert of one row whose
/// values are all in that tuple (nothing after it, no placeholder before it).
fn insert_of_one_row(sql: &str) -> Option<(&str, &str)> {
    let sql = sql.trim();
    if !sql.starts_with("INSERT INTO ") {
        return None;
    }
    let at = sql.find(" VALUES ").or_else(|| sql.find("\nVALUES "))?;
    let (head, rest) = (sql[..at].trim_end(), sql[at..].trim_start());
    let tuple = rest.strip_prefix("VALUES")?.trim_start();
    if head.contains('$') || !tuple.starts_with('(') || !tuple.ends_with(')') {
        return None;
    }
    // The tuple must be one: its first parenthesis closes at its end.
    let mut depth = 0usize;
    for (i, c) in tuple.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && i + 1 != tuple.len() {
                    return None;
                }
            }
            '\'' => return None,
            _ => {}
        }
    }
    Some((head, tuple))
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
    /// them). The rows the first statement writes are [`Writes::execute`]'s answer. An INSERT of
    /// one row into the same columns as an earlier one adds its row to that statement.
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
        let sql = renumber(sql, offset);
        let Some((head, tuple)) = insert_of_one_row(&sql) else {
            self.statements.push(Statement::Other(sql));
            return Ok(());
        };
        // Rows for the same columns of a table as an earlier insert join its VALUES: one
        // statement writes the rows of many tickets.
        for statement in &mut self.statements {
            if let Statement::Rows {
                head: earlier,
                tuples,
            } = statement
                && earlier == head
            {
                tuples.push(tuple.to_owned());
                return Ok(());
            }
        }
        self.statements.push(Statement::Rows {
            head: head.to_owned(),
            tuples: vec![tuple.to_owned()],
        });
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
            .map(|(i, statement)| format!("w{i} AS ({})", statement.sql()))
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
    fn rows_into_the_same_columns_make_one_insert() {
        let mut writes = Writes::new();
        for (table, id) in [("a", 1), ("b", 2), ("a", 3)] {
            let sql = format!("INSERT INTO {table} (id, tags)\n VALUES ($1, ARRAY[$2])");
            writes
                .add(&sql, |b| {
                    b.bind(id).bind("x");
                })
                .unwrap();
        }
        writes
            .add("UPDATE a SET id = $1 WHERE id = $2", |b| {
                b.bind(4).bind(5);
            })
            .unwrap();
        let sql: Vec<String> = writes.statements.iter().map(Statement::sql).collect();
        assert_eq!(
            sql,
            [
                "INSERT INTO a (id, tags) VALUES ($1, ARRAY[$2]), ($5, ARRAY[$6]) RETURNING 1",
                "INSERT INTO b (id, tags) VALUES ($3, ARRAY[$4]) RETURNING 1",
                "UPDATE a SET id = $7 WHERE id = $8 RETURNING 1",
            ]
        );
        assert!(
            insert_of_one_row("INSERT INTO a (x) VALUES ($1) ON CONFLICT DO NOTHING").is_none()
        );
        assert!(insert_of_one_row("INSERT INTO a (x) VALUES ($1), ($2)").is_none());
        assert!(insert_of_one_row("INSERT INTO a (x) VALUES ('(')").is_none());
    }

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
