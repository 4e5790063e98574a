//! Embedded migrations: the platform's own tables (outbox, inbox) and then the service's, both
//! applied inside the service's schema while holding a PostgreSQL advisory lock.

use sqlx::{AssertSqlSafe, Executor, PgPool, migrate::Migrator};

use super::check_schema_name;

/// The outbox and inbox tables every service schema has. Tracked apart from the service's own
/// migrations (`_platform_migrations`), so both sets keep their own version numbers.
pub static PLATFORM_MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Key of the advisory lock all Switchboard migrations take (any 64-bit constant works).
const MIGRATION_LOCK: i64 = 0x5357_4254_4d49_4752; // "SWBTMIGR"

/// Creates `schema` if needed and applies the platform's and then the service's migrations in it.
pub async fn migrate(
    pool: &PgPool,
    schema: &str,
    service: Option<&Migrator>,
) -> anyhow::Result<()> {
    check_schema_name(schema)?;
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    let result = async {
        // The name was checked to be a plain identifier, so it is safe inside the SQL text.
        let sql = format!("CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}");
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
        let mut platform = Migrator {
            migrations: PLATFORM_MIGRATOR.migrations.clone(),
            ..Migrator::DEFAULT
        };
        platform.dangerous_set_table_name("_platform_migrations");
        platform.set_locking(false);
        platform.run(&mut *conn).await?;
        if let Some(service) = service {
            let mut service = Migrator {
                migrations: service.migrations.clone(),
                ..Migrator::DEFAULT
            };
            service.set_locking(false);
            service.run(&mut *conn).await?;
        }
        anyhow::Ok(())
    }
    .await;
    conn.execute("RESET search_path").await?;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    result
}
