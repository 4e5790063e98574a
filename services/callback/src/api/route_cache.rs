//! The IVR routes by code, remembered so that a push need not read its route. An entry may be
//! stale — routes change through any replica, and nothing tells the others — so the push's
//! statement checks that the route is still at the remembered version and says when it is not;
//! the entry is then read again. A route change therefore applies to the very next push.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
};

use sqlx::PgPool;
use switchboard_platform::error::Result;

use crate::store::{RouteRow, routes};

#[derive(Clone, Default)]
pub struct RouteCache(Arc<RwLock<HashMap<String, Arc<RouteRow>>>>);

impl RouteCache {
    /// The route with `code`: the remembered one while it is enabled, else the stored one (a
    /// remembered disabled route might have been enabled since, and a refusal is not checked by
    /// the push's statement). Unknown codes are not remembered.
    pub async fn get(&self, pool: &PgPool, code: &str) -> Result<Option<Arc<RouteRow>>> {
        let remembered = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(code)
            .cloned();
        match remembered {
            Some(route) if !route.disabled => Ok(Some(route)),
            _ => self.reload(pool, code).await,
        }
    }

    /// Reads the route with `code` again and remembers what was found.
    pub async fn reload(&self, pool: &PgPool, code: &str) -> Result<Option<Arc<RouteRow>>> {
        let stored = routes::by_code(pool, code).await?.map(Arc::new);
        let mut entries = self.0.write().unwrap_or_else(PoisonError::into_inner);
        match &stored {
            Some(route) => entries.insert(code.to_owned(), route.clone()),
            None => entries.remove(code),
        };
        Ok(stored)
    }
}
