//! Directory reads for authentication, reused for a short time so a busy agent console does not
//! cost a database query per call. Changes made through this gateway forget the entry at once.

use std::time::Duration;

use sqlx::PgPool;
use switchboard_platform::{db, error::Result};

use super::ttl_cache::TtlCache;
use crate::directory::store::{self, AgentRow};

#[derive(Clone)]
pub struct AgentCache {
    pool: PgPool,
    entries: TtlCache<String, Option<AgentRow>>,
}

impl AgentCache {
    pub fn new(pool: PgPool, ttl: Duration) -> Self {
        Self {
            pool,
            entries: TtlCache::new(ttl, 100_000),
        }
    }

    /// The live agent with `login`, if any.
    pub async fn get(&self, login: &str) -> Result<Option<AgentRow>> {
        if let Some(agent) = self.entries.get(&login.to_owned()) {
            return Ok(agent);
        }
        let mut conn = db::acquire(&self.pool).await?;
        let agent = store::get_agent(&mut conn, login).await?;
        self.entries.insert(login.to_owned(), agent.clone());
        Ok(agent)
    }

    pub fn forget(&self, login: &str) {
        self.entries.remove(&login.to_owned());
    }
}
