//! What tickets ask of the two admin-managed lists: whether an id names an active entry.

use sqlx::PgConnection;
use switchboard_platform::error::Result;
use uuid::Uuid;

/// One of the two lists (접수유형, 처리유형); both have the same shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalog {
    InquiryTypes,
    ProcessingTypes,
}

impl Catalog {
    pub fn table(self) -> &'static str {
        match self {
            Self::InquiryTypes => "inquiry_types",
            Self::ProcessingTypes => "processing_types",
        }
    }
}

/// True when `id` names an active entry of `catalog`; marks it used (a used entry can be
/// deactivated but never deleted). Call it in the transaction that gives a ticket the entry.
pub async fn take_active(conn: &mut PgConnection, catalog: Catalog, id: Uuid) -> Result<bool> {
    let statement = format!(
        "UPDATE {} SET used = true WHERE id = $1 AND active RETURNING id",
        catalog.table()
    );
    let row: Option<(Uuid,)> = sqlx::query_as(sqlx::AssertSqlSafe(statement.as_str()))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}
