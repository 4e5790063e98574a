//! Starting and ending transactions as [`Error`] values. Each helper is a plain function that
//! returns a future, so `#[track_caller]` records the caller's line for the log (an `async fn`
//! cannot).

use std::{future::Future, panic::Location};

use sqlx::{PgPool, Postgres, pool::PoolConnection};

use crate::error::{Error, Result};

/// A transaction of the service's schema.
pub type Transaction = sqlx::Transaction<'static, Postgres>;

/// Begins a transaction on `pool`.
#[track_caller]
pub fn begin(pool: &PgPool) -> impl Future<Output = Result<Transaction>> + Send + '_ {
    let at = Location::caller();
    async move { pool.begin().await.map_err(|e| Error::sql_at(e, at)) }
}

/// Commits `tx`.
#[track_caller]
pub fn commit(tx: Transaction) -> impl Future<Output = Result<()>> + Send {
    let at = Location::caller();
    async move { tx.commit().await.map_err(|e| Error::sql_at(e, at)) }
}

/// A connection of `pool`, for reads that need one connection but no transaction.
#[track_caller]
pub fn acquire(
    pool: &PgPool,
) -> impl Future<Output = Result<PoolConnection<Postgres>>> + Send + '_ {
    let at = Location::caller();
    async move { pool.acquire().await.map_err(|e| Error::sql_at(e, at)) }
}
