//! What tickets ask of the templates: a template the caller (or a trigger) may use, to fill for
//! a ticket.

use sqlx::PgConnection;
use switchboard_platform::{error::Result, principal::PrincipalExt};
use switchboard_proto::common::v1::Principal;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UsableTemplate {
    pub id: Uuid,
    pub subject: String,
    pub body: String,
}

/// The active template `id` if `principal` may use it (admins every one; agents those of one of
/// their groups or of every group). `None` answers exactly as a template that does not exist.
pub async fn usable(
    conn: &mut PgConnection,
    id: Uuid,
    principal: &Principal,
) -> Result<Option<UsableTemplate>> {
    let groups: Vec<Uuid> = principal
        .group_ids
        .iter()
        .filter_map(|g| Uuid::parse_str(g).ok())
        .collect();
    active_for(conn, id, principal.is_admin(), &groups).await
}

/// The active template `id`, whatever its groups (a trigger's notification); `None` when it is
/// gone or inactive.
pub async fn active(conn: &mut PgConnection, id: Uuid) -> Result<Option<UsableTemplate>> {
    active_for(conn, id, true, &[]).await
}

/// The active template `id` if it serves every group, one of `groups`, or `any_group`.
async fn active_for(
    conn: &mut PgConnection,
    id: Uuid,
    any_group: bool,
    groups: &[Uuid],
) -> Result<Option<UsableTemplate>> {
    let template = sqlx::query_as(
        "SELECT id, subject, body FROM templates
         WHERE id = $1 AND active AND ($2 OR group_ids = '{}' OR group_ids && $3)",
    )
    .bind(id)
    .bind(any_group)
    .bind(groups)
    .fetch_optional(conn)
    .await?;
    Ok(template)
}
