//! The SQL of business-hours schedules (table `business_hours`, migration 0002): each row is
//! the name beside the encoded schedule. Every change announces itself in its transaction, so
//! the replicas' evaluation caches reload.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use prost::Message;
use sqlx::{PgConnection, PgPool};
use switchboard_platform::{
    error::{Error, Result},
    text::normalise,
    time::timestamp,
};
use switchboard_proto::trigger::v1::BusinessHours;
use uuid::Uuid;

use super::Schedule;
use crate::rules::announce_change;

/// The unique constraint on the normalised name.
pub const NAME_UNIQUE: &str = "business_hours_name_unique";

/// The columns of a row, in the order the queries select them.
type Columns = (Uuid, String, Vec<u8>, DateTime<Utc>, DateTime<Utc>);

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHoursRow {
    pub id: Uuid,
    pub name: String,
    /// The schedule proper: `time_zone`, `weekly_intervals` and `holidays`; the other fields
    /// are empty (they are columns).
    pub schedule: BusinessHours,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

impl BusinessHoursRow {
    pub fn to_proto(&self) -> BusinessHours {
        BusinessHours {
            id: self.id.to_string(),
            name: self.name.clone(),
            create_time: Some(timestamp(self.create_time)),
            update_time: Some(timestamp(self.update_time)),
            ..self.schedule.clone()
        }
    }

    fn from_columns((id, name, schedule, create_time, update_time): Columns) -> Result<Self> {
        Ok(Self {
            id,
            name,
            schedule: BusinessHours::decode(schedule.as_slice()).map_err(Error::internal)?,
            create_time,
            update_time,
        })
    }
}

/// The part of `value` kept in the `schedule` column.
pub fn schedule_of(value: &BusinessHours) -> BusinessHours {
    BusinessHours {
        time_zone: value.time_zone.clone(),
        weekly_intervals: value.weekly_intervals.clone(),
        holidays: value.holidays.clone(),
        ..Default::default()
    }
}

pub async fn insert(conn: &mut PgConnection, row: &BusinessHoursRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO business_hours (id, name, name_key, schedule, create_time, update_time)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.id)
    .bind(&row.name)
    .bind(normalise(&row.name))
    .bind(row.schedule.encode_to_vec())
    .bind(row.create_time)
    .bind(row.update_time)
    .execute(&mut *conn)
    .await?;
    announce_change(conn).await?;
    Ok(())
}

pub async fn save(conn: &mut PgConnection, row: &BusinessHoursRow) -> Result<()> {
    sqlx::query(
        "UPDATE business_hours SET name = $2, name_key = $3, schedule = $4, update_time = $5
         WHERE id = $1",
    )
    .bind(row.id)
    .bind(&row.name)
    .bind(normalise(&row.name))
    .bind(row.schedule.encode_to_vec())
    .bind(row.update_time)
    .execute(&mut *conn)
    .await?;
    announce_change(conn).await?;
    Ok(())
}

/// The schedule `id`, locked for a change or a delete when `lock` is set.
pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<BusinessHoursRow>> {
    let query = if lock {
        "SELECT id, name, schedule, create_time, update_time FROM business_hours
         WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT id, name, schedule, create_time, update_time FROM business_hours WHERE id = $1"
    };
    let row: Option<Columns> = sqlx::query_as(query).bind(id).fetch_optional(conn).await?;
    row.map(BusinessHoursRow::from_columns).transpose()
}

/// The names of the triggers whose conditions name schedule `id`, in their order. The
/// triggers keep the ids in canonical text form (`Uuid::to_string`).
pub async fn triggers_using(conn: &mut PgConnection, id: Uuid) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT name FROM triggers WHERE business_hours_ids @> ARRAY[$1::text] ORDER BY position",
    )
    .bind(id.to_string())
    .fetch_all(conn)
    .await?)
}

/// Deletes schedule `id`; true when there was one.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool> {
    let deleted = sqlx::query("DELETE FROM business_hours WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if deleted.rows_affected() == 0 {
        return Ok(false);
    }
    announce_change(conn).await?;
    Ok(true)
}

/// Up to `limit` schedules by name (then id) after `after` (name, id), and how many there are.
pub async fn list(
    pool: &PgPool,
    after: Option<(String, Uuid)>,
    limit: i64,
) -> Result<(Vec<BusinessHoursRow>, i64)> {
    let (after_name, after_id) = after.map(|(n, i)| (Some(n), Some(i))).unwrap_or_default();
    let rows: Vec<Columns> = sqlx::query_as(
        "SELECT id, name, schedule, create_time, update_time FROM business_hours
         WHERE $1::text IS NULL OR (name, id) > ($1, $2)
         ORDER BY name, id LIMIT $3",
    )
    .bind(after_name)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM business_hours")
        .fetch_one(pool)
        .await?;
    let rows = rows
        .into_iter()
        .map(BusinessHoursRow::from_columns)
        .collect::<Result<_>>()?;
    Ok((rows, total))
}

/// Every schedule by id (canonical text form, as trigger conditions name them), for the
/// evaluation cache; `default_zone` is the center's, for schedules without their own.
pub async fn load_all(pool: &PgPool, default_zone: Tz) -> sqlx::Result<HashMap<String, Schedule>> {
    let rows: Vec<(Uuid, Vec<u8>)> = sqlx::query_as("SELECT id, schedule FROM business_hours")
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|(id, bytes)| {
            let value = BusinessHours::decode(bytes.as_slice())
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            Ok((id.to_string(), Schedule::from_proto(&value, default_zone)))
        })
        .collect()
}
