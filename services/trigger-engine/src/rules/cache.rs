//! The compiled rules of one replica, reloaded when `rules_version` moved.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use chrono_tz::Tz;
use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::{Error, FieldViolations};

use crate::{
    eval::{CompiledTrigger, Schedule, compile_trigger},
    hours,
    triggers::store,
};

/// The rules at one version.
pub struct Rules {
    pub version: i64,
    /// Every trigger that compiles, in position order (inactive ones too, for `TestTriggers`).
    pub triggers: Vec<CompiledTrigger>,
    /// The business-hours schedules by id, as evaluation asks them.
    pub schedules: HashMap<String, Schedule>,
}

impl Rules {
    pub fn has_active(&self) -> bool {
        self.triggers.iter().any(|t| t.active)
    }
}

#[derive(Clone)]
pub struct RulesCache {
    pool: PgPool,
    default_zone: Tz,
    current: Arc<RwLock<Arc<Rules>>>,
}

impl RulesCache {
    pub fn new(pool: PgPool, default_zone: Tz) -> Self {
        let empty = Rules {
            version: -1,
            triggers: Vec::new(),
            schedules: HashMap::new(),
        };
        Self {
            pool,
            default_zone,
            current: Arc::new(RwLock::new(Arc::new(empty))),
        }
    }

    /// The rules as of now: the cached ones when `rules_version` has not moved.
    pub async fn current(&self, conn: &mut PgConnection) -> Result<Arc<Rules>, Error> {
        let version = super::version(conn).await?;
        let cached = self.current.read().unwrap().clone();
        if cached.version == version {
            return Ok(cached);
        }
        // Read after the version: the rows are at least as new as it says.
        let rows = store::all(conn).await?;
        let mut triggers = Vec::with_capacity(rows.len());
        for row in rows {
            let mut violations = FieldViolations::new();
            match compile_trigger(&row.to_proto(), "trigger", &mut violations) {
                Some(trigger) => triggers.push(trigger),
                // Written by an older version with other rules: skipped, and said.
                None => {
                    tracing::warn!(trigger = %row.id, ?violations, "a stored trigger does not compile; skipped")
                }
            }
        }
        let mut schedules: HashMap<String, Schedule> = HashMap::new();
        for (id, schedule) in hours::load_all(&self.pool, self.default_zone).await? {
            schedules.insert(id, Arc::new(move |at| schedule.contains(at)));
        }
        let rules = Arc::new(Rules {
            version,
            triggers,
            schedules,
        });
        *self.current.write().unwrap() = rules.clone();
        Ok(rules)
    }
}
