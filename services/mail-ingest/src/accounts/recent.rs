//! The accounts read in the last second, by id: under a peak every mail names its account, and
//! reading it once a second instead of once a mail saves a round trip per mail. A change (an
//! account deactivated or deleted) is seen within [`FRESH_FOR`]; an id that names no account is
//! read again each time, so a new account takes mail as soon as it is mirrored.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sqlx::PgPool;
use switchboard_platform::error::Result as StoreResult;
use uuid::Uuid;

use super::{Account, by_id};

/// How long an account read is used again.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// The most accounts remembered; past it the oldest reads are forgotten.
const MAX_REMEMBERED: usize = 1_000;

#[derive(Clone, Default)]
pub struct RecentAccounts {
    read: Arc<Mutex<HashMap<Uuid, (Instant, Account)>>>,
}

impl RecentAccounts {
    /// [`by_id`], read again when the last read is older than [`FRESH_FOR`].
    pub async fn by_id(&self, pool: &PgPool, id: Uuid) -> StoreResult<Option<Account>> {
        if let Some((at, account)) = self.read.lock().expect("the accounts").get(&id)
            && at.elapsed() < FRESH_FOR
        {
            return Ok(Some(account.clone()));
        }
        let Some(account) = by_id(pool, id).await? else {
            return Ok(None);
        };
        let mut read = self.read.lock().expect("the accounts");
        if read.len() >= MAX_REMEMBERED {
            read.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
        }
        if read.len() < MAX_REMEMBERED {
            read.insert(id, (Instant::now(), account.clone()));
        }
        Ok(Some(account))
    }
}
