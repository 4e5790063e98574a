//! A ticket model folded before the dimension keys and the group counts (migrations 0004 and
//! 0005), then migrated, is the model the current code folds from the same events.

use std::borrow::Cow;

use chrono::NaiveDate;
use chrono_tz::Tz;
use sqlx::{PgPool, migrate::Migrator};
use switchboard_platform::{db, events::EventHandler, testing};
use switchboard_reporting::{
    MIGRATOR,
    testing::{Fold, model_schema},
};

use crate::common::{
    ZONE,
    scenario::Rng,
    tickets::{World, generate},
};

/// The last migration before the keys.
const BEFORE_KEYS: i64 = 3;

/// The ticket tables' columns as migration 0003 left them.
const TABLES: [(&str, &str); 4] = [
    (
        "ticket_facts",
        "ticket_id, version, channel, group_id, assignee_login, inquiry_type_id,
         mail_account_id, status, excluded, create_time, first_reply_time, first_solve_time,
         solve_time, close_time, create_day, first_reply_day, first_solve_day, solve_day,
         close_day, first_reply_s, first_resolution_s, final_resolution_s",
    ),
    (
        "ticket_states",
        "ticket_id, version, at, status, group_id, assignee_login",
    ),
    (
        "ticket_volume_counts",
        "day, channel, group_id, assignee_login, inquiry_type_id, mail_account_id, created,
         solved, closed",
    ),
    (
        "ticket_backlog_changes",
        "day, status, group_id, assignee_login, delta",
    ),
];

async fn texts(pool: &PgPool, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .unwrap()
}

/// What the migrations add, as text rows in key order: every fact's keys as the values they
/// stand for, and the group counts.
async fn keyed(pool: &PgPool) -> (Vec<String>, Vec<String>) {
    let facts = texts(
        pool,
        "SELECT concat_ws('|', ticket_id, g.value = group_id, a.value = assignee_login,
             i.value = inquiry_type_id, m.value = mail_account_id)
         FROM ticket_facts
         LEFT JOIN ticket_dimension_keys g ON g.key = group_key
         LEFT JOIN ticket_dimension_keys a ON a.key = assignee_key
         LEFT JOIN ticket_dimension_keys i ON i.key = inquiry_type_key
         LEFT JOIN ticket_dimension_keys m ON m.key = mail_account_key
         ORDER BY 1",
    )
    .await;
    let counts = texts(
        pool,
        "SELECT concat_ws('|', day, channel, group_id, inquiry_type_id, mail_account_id, created,
             solved, closed)
         FROM ticket_volume_group_counts
         WHERE created <> 0 OR solved <> 0 OR closed <> 0 ORDER BY 1",
    )
    .await;
    (facts, counts)
}

#[tokio::test]
async fn a_model_folded_before_the_keys_is_keyed_and_grouped_by_the_migrations() {
    let zone: Tz = ZONE.parse().unwrap();
    let mut rng = Rng::new(4);
    let first_day = NaiveDate::from_ymd_opt(2025, 1, 28).unwrap();
    let lives = generate(&mut rng, 300, first_day, 8, zone, &World::new());
    let events: Vec<_> = lives
        .iter()
        .flat_map(|l| l.versions.iter().map(|v| v.event.clone()))
        .collect();

    // Folded by the current code.
    let (current, current_schema) = model_schema(ZONE).await;
    let mut tx = current.begin().await.unwrap();
    Fold::new(zone)
        .handle_batch(&mut tx, &events)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // A schema at the last migration before the keys, holding the same model in its columns.
    let (old, old_schema) = testing::fresh_schema("rp").await;
    let before = Migrator {
        migrations: Cow::Owned(
            MIGRATOR
                .iter()
                .filter(|m| m.version <= BEFORE_KEYS)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    db::migrate(&old, &old_schema, Some(&before)).await.unwrap();
    for (table, columns) in TABLES {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} ({columns}) SELECT {columns} FROM {current_schema}.{table}"
        )))
        .execute(&old)
        .await
        .unwrap();
    }
    db::migrate(&old, &old_schema, Some(&MIGRATOR))
        .await
        .unwrap();

    let (facts, counts) = keyed(&old).await;
    assert_eq!(facts.len(), lives.len());
    assert!(
        facts.iter().all(|f| f.ends_with("|t|t|t|t")),
        "every fact keyed by its values"
    );
    assert!(!counts.is_empty());
    assert_eq!(
        (facts, counts),
        keyed(&current).await,
        "the migrated model is the one folded now"
    );
    testing::drop_schema(&old, &old_schema).await;
    testing::drop_schema(&current, &current_schema).await;
}
