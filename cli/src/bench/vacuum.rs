//! Vacuuming what a benchmark reads: index-only scans need the visibility map, the planner
//! fresh statistics, and on a server whose autovacuum is off (as on some CI machines) the dead
//! rows of earlier runs would otherwise slow every later one.

use sqlx::PgPool;

/// `VACUUM ANALYZE` of each of `tables`, one statement each: VACUUM cannot run in the implicit
/// transaction of a multi-statement query.
pub async fn vacuum_analyze(pool: &PgPool, tables: &[&str]) -> sqlx::Result<()> {
    for table in tables {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("VACUUM ANALYZE {table}")))
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// When the server's autovacuum is off, vacuums every table of `schemas` and returns how many;
/// `None` when autovacuum is on (it does this itself).
pub async fn when_autovacuum_is_off(
    pool: &PgPool,
    schemas: &[&str],
) -> sqlx::Result<Option<usize>> {
    let autovacuum: String = sqlx::query_scalar("SHOW autovacuum")
        .fetch_one(pool)
        .await?;
    if autovacuum == "on" {
        return Ok(None);
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
         WHERE schemaname = ANY($1) ORDER BY 1",
    )
    .bind(schemas)
    .fetch_all(pool)
    .await?;
    let names: Vec<&str> = tables.iter().map(String::as_str).collect();
    vacuum_analyze(pool, &names).await?;
    Ok(Some(tables.len()))
}

/// [`when_autovacuum_is_off`], saying on a line starting with `label` what it vacuumed.
#[allow(clippy::print_stdout)] // part of the benchmarks' output
pub async fn when_autovacuum_is_off_say(
    pool: &PgPool,
    schemas: &[&str],
    label: &str,
) -> sqlx::Result<()> {
    if let Some(tables) = when_autovacuum_is_off(pool, schemas).await? {
        println!(
            "{label}autovacuum is off on this server: vacuumed the {tables} tables of {} first",
            schemas.join(", ")
        );
    }
    Ok(())
}
