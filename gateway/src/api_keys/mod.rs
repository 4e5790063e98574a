//! API keys for the IVR and internal systems: created by an admin, shown once, stored only as a
//! SHA-256 hash, scoped, revocable, with their last use recorded.

mod service;
pub mod store;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::Utc;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use switchboard_platform::error::Result;
use switchboard_proto::common::v1::{Principal, PrincipalKind};

pub use service::ApiKeyApi;
use store::ApiKeyRow;

use crate::auth::TtlCache;

/// Every secret starts with this, so a key is recognised (and told from a JWT) at a glance.
pub const SECRET_PREFIX: &str = "sbk_";

/// How often the last-used time of one key is written at most.
const LAST_USED_EVERY: Duration = Duration::from_secs(60);

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A new secret: the prefix and 43 random base62 characters (256 bits).
pub fn new_secret() -> String {
    let mut secret = String::from(SECRET_PREFIX);
    while secret.len() < SECRET_PREFIX.len() + 43 {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).expect("the OS has randomness");
        // Bytes of 248 and above are dropped, so every character is equally likely.
        for byte in bytes.into_iter().filter(|b| *b < 248) {
            if secret.len() < SECRET_PREFIX.len() + 43 {
                secret.push(BASE62[usize::from(byte % 62)] as char);
            }
        }
    }
    secret
}

pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The principal a call made with `key` carries.
pub fn key_principal(key: &ApiKeyRow) -> Principal {
    Principal {
        subject: key.display_name.clone(),
        kind: PrincipalKind::Service as i32,
        scopes: key.scopes.clone(),
        display_name: key.display_name.clone(),
        ..Default::default()
    }
}

/// Finds the key of a secret, caching hits and misses briefly.
#[derive(Clone)]
pub struct KeyRing {
    pool: PgPool,
    entries: TtlCache<Vec<u8>, Option<ApiKeyRow>>,
    last_used: Arc<Mutex<HashMap<uuid::Uuid, Instant>>>,
}

impl KeyRing {
    pub fn new(pool: PgPool, ttl: Duration) -> Self {
        Self {
            pool,
            entries: TtlCache::new(ttl, 10_000),
            last_used: Arc::default(),
        }
    }

    /// The active key whose secret is `secret`; `None` for unknown, revoked or expired keys.
    pub async fn find(&self, secret: &str) -> Result<Option<ApiKeyRow>> {
        let hash = hash_secret(secret);
        let key = match self.entries.get(&hash) {
            Some(key) => key,
            None => {
                let key = store::find_by_hash(&self.pool, &hash).await?;
                self.entries.insert(hash, key.clone());
                key
            }
        };
        let key = key.filter(|key| key.is_active(Utc::now()));
        if let Some(key) = &key {
            self.note_use(key.id);
        }
        Ok(key)
    }

    /// Forgets every cached key (after a revocation through this gateway).
    pub fn forget_all(&self) {
        self.entries.clear();
    }

    /// Records the use in the background, at most once a minute per key.
    fn note_use(&self, id: uuid::Uuid) {
        {
            let mut last_used = self.last_used.lock().expect("poisoned");
            if last_used
                .get(&id)
                .is_some_and(|at| at.elapsed() < LAST_USED_EVERY)
            {
                return;
            }
            last_used.insert(id, Instant::now());
        }
        let pool = self.pool.clone();
        tokio::spawn(async move {
            if let Err(error) = store::touch(&pool, id).await {
                tracing::warn!(%id, %error, "cannot record an API key's last use");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_prefixed() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(SECRET_PREFIX) && a.len() == SECRET_PREFIX.len() + 43);
        assert_ne!(a, b);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert_ne!(hash_secret(&a), hash_secret(&b));
    }
}
