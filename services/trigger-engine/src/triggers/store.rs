//! The `triggers` table. Positions stay 1..n without gaps: every statement that moves them runs
//! under [`lock_order`], and the unique constraint on position is checked at commit.

use chrono::{DateTime, Utc};
use prost::Message;
use sqlx::{AssertSqlSafe, PgConnection, Row, postgres::PgRow};
use switchboard_platform::{error::Error, time::timestamp};
use switchboard_proto::trigger::v1::Trigger;
use uuid::Uuid;

/// One stored trigger.
#[derive(Debug, Clone)]
pub struct TriggerRow {
    pub id: Uuid,
    pub active: bool,
    pub position: i32,
    /// The trigger as written (name, description, conditions, actions).
    pub definition: Trigger,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

impl TriggerRow {
    pub fn to_proto(&self) -> Trigger {
        Trigger {
            id: self.id.to_string(),
            active: self.active,
            position: self.position,
            create_time: Some(timestamp(self.create_time)),
            update_time: Some(timestamp(self.update_time)),
            ..self.definition.clone()
        }
    }

    fn from_row(row: &PgRow) -> Result<Self, Error> {
        let bytes: Vec<u8> = row.try_get("definition")?;
        let definition = Trigger::decode(bytes.as_slice()).map_err(Error::internal)?;
        Ok(Self {
            id: row.try_get("id")?,
            active: row.try_get("active")?,
            position: row.try_get("position")?,
            definition,
            create_time: row.try_get("create_time")?,
            update_time: row.try_get("update_time")?,
        })
    }

    /// What is stored of the definition: what the client wrote, without the fields kept in
    /// their own columns.
    fn stored_definition(&self) -> Vec<u8> {
        Trigger {
            id: String::new(),
            active: false,
            position: 0,
            create_time: None,
            update_time: None,
            ..self.definition.clone()
        }
        .encode_to_vec()
    }
}

const COLUMNS: &str = "id, active, position, definition, create_time, update_time";

/// Serialises the writers of positions (create, delete, reorder) of this schema.
pub async fn lock_order(conn: &mut PgConnection) -> Result<(), Error> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '.triggers', 0))",
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn count(conn: &mut PgConnection) -> Result<i64, Error> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM triggers")
        .fetch_one(conn)
        .await?)
}

/// Moves the triggers at `from` and after by `by` places.
pub async fn shift(conn: &mut PgConnection, from: i32, by: i32) -> Result<(), Error> {
    sqlx::query("UPDATE triggers SET position = position + $2 WHERE position >= $1")
        .bind(from)
        .bind(by)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert(
    conn: &mut PgConnection,
    row: &TriggerRow,
    name_key: &str,
    business_hours_ids: &[String],
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO triggers (id, name, name_key, active, position, definition,
                               business_hours_ids, create_time, update_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(row.id)
    .bind(&row.definition.name)
    .bind(name_key)
    .bind(row.active)
    .bind(row.position)
    .bind(row.stored_definition())
    .bind(business_hours_ids)
    .bind(row.create_time)
    .bind(row.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn save(
    conn: &mut PgConnection,
    row: &TriggerRow,
    name_key: &str,
    business_hours_ids: &[String],
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE triggers SET name = $2, name_key = $3, active = $4, definition = $5,
                business_hours_ids = $6, update_time = $7
         WHERE id = $1",
    )
    .bind(row.id)
    .bind(&row.definition.name)
    .bind(name_key)
    .bind(row.active)
    .bind(row.stored_definition())
    .bind(business_hours_ids)
    .bind(row.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<TriggerRow>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM triggers WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(TriggerRow::from_row).transpose()
}

/// A page in position order after `after` (a position), and how many match in all.
pub async fn list(
    conn: &mut PgConnection,
    active_only: bool,
    after: i32,
    limit: i64,
) -> Result<(Vec<TriggerRow>, i64), Error> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM triggers
         WHERE position > $1 AND (active OR NOT $2)
         ORDER BY position LIMIT $3"
    )))
    .bind(after)
    .bind(active_only)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM triggers WHERE active OR NOT $1")
        .bind(active_only)
        .fetch_one(conn)
        .await?;
    let rows = rows
        .iter()
        .map(TriggerRow::from_row)
        .collect::<Result<_, _>>()?;
    Ok((rows, total))
}

/// Every trigger in position order.
pub async fn all(conn: &mut PgConnection) -> Result<Vec<TriggerRow>, Error> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM triggers ORDER BY position"
    )))
    .fetch_all(conn)
    .await?;
    rows.iter().map(TriggerRow::from_row).collect()
}

/// Deletes the trigger; its former position, `None` when there was none.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<Option<i32>, Error> {
    Ok(
        sqlx::query("DELETE FROM triggers WHERE id = $1 RETURNING position")
            .bind(id)
            .fetch_optional(conn)
            .await?
            .map(|row| row.get::<i32, _>(0)),
    )
}

/// Gives `ids` (every trigger, each once) the positions 1..n in their order.
pub async fn set_positions(
    conn: &mut PgConnection,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE triggers t SET position = o.position::integer, update_time = $2
         FROM unnest($1::uuid[]) WITH ORDINALITY AS o(id, position)
         WHERE t.id = o.id AND t.position <> o.position",
    )
    .bind(ids)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
