//! Directory reads for authentication, reused for a short time so a busy agent console does not
//! cost a database query per call. Changes made through this gateway forget the entry at once.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sqlx::PgPool;

use crate::directory::store::{self, AgentRow};

#[derive(Clone)]
pub struct AgentCache {
    pool: PgPool,
    ttl: Duration,
    entries: Arc<Mutex<HashMap<String, (Instant, Option<AgentRow>)>>>,
}

impl AgentCache {
    pub fn new(pool: PgPool, ttl: Duration) -> Self {
        Self {
            pool,
            ttl,
            entries: Arc::default(),
        }
    }

    /// The live agent with `login`, if any.
    pub async fn get(&self, login: &str) -> Result<Option<AgentRow>, sqlx::Error> {
        if let Some((read, agent)) = self.entries.lock().expect("poisoned").get(login)
            && read.elapsed() < self.ttl
        {
            return Ok(agent.clone());
        }
        let mut conn = self.pool.acquire().await?;
        let agent = store::get_agent(&mut conn, login).await?;
        let mut entries = self.entries.lock().expect("poisoned");
        if entries.len() > 100_000 {
            entries.clear();
        }
        entries.insert(login.to_owned(), (Instant::now(), agent.clone()));
        Ok(agent)
    }

    pub fn forget(&self, login: &str) {
        self.entries.lock().expect("poisoned").remove(login);
    }
}
