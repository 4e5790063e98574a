//! Presence in Redis (`<prefix>:session:<login>` hashes and the `<prefix>:deadlines` sorted set of
//! expiry times), with every change announced through the PostgreSQL outbox. Changes to one agent are
//! serialised by a row lock in `presence_sessions`, which also keeps the event version; the
//! heartbeat and the expiry check are single Redis scripts, so a heartbeat is never lost to a
//! concurrent sweep.

use std::{collections::HashMap, time::Duration};

use redis::{AsyncCommands, Script, aio::ConnectionManager};
use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::quote;
use switchboard_platform::{
    Shutdown, db,
    error::{Error, Result},
    events::{NewEvent, publish},
};
use switchboard_proto::{
    common::v1::Actor,
    events::v1::{PresenceChangeReason, PresenceChanged},
    gateway::v1::{Presence, PresenceState},
};
use tonic::Status;

use super::session::{Session, now_ms, offline};
use crate::directory::{SOURCE, store as directory};

/// Refreshes a fresh session; returns 0 when there is none (expired or logged out).
const HEARTBEAT: &str = r#"
local expire = tonumber(redis.call('HGET', KEYS[1], 'expire_ms') or '0')
local now = tonumber(ARGV[2])
if expire <= now then return 0 end
local new_expire = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'heartbeat_ms', now, 'expire_ms', new_expire)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
redis.call('ZADD', KEYS[2], new_expire, ARGV[1])
return new_expire
"#;

/// Ends a session whose time has passed; returns its fields, or nothing when it was refreshed
/// (its deadline is then corrected) or is gone.
const EXPIRE_IF_DUE: &str = r#"
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) return {} end
local expire = tonumber(redis.call('HGET', KEYS[1], 'expire_ms') or '0')
if expire > tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[2], expire, ARGV[1])
  return {}
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return fields
"#;

#[derive(Clone)]
pub struct PresenceStore {
    redis: ConnectionManager,
    pool: PgPool,
    ttl: Duration,
    prefix: String,
}

fn redis_down(error: redis::RedisError) -> Error {
    tracing::error!(%error, "redis unavailable");
    Status::unavailable("presence is unavailable (Redis); retry").into()
}

fn to_map(fields: Vec<String>) -> HashMap<String, String> {
    fields
        .chunks_exact(2)
        .map(|pair| (pair[0].clone(), pair[1].clone()))
        .collect()
}

impl PresenceStore {
    pub fn new(redis: ConnectionManager, pool: PgPool, ttl: Duration, prefix: &str) -> Self {
        Self {
            redis,
            pool,
            ttl,
            prefix: prefix.to_owned(),
        }
    }

    fn session_key(&self, login: &str) -> String {
        format!("{}:session:{login}", self.prefix)
    }

    fn deadlines(&self) -> String {
        format!("{}:deadlines", self.prefix)
    }

    fn ttl_ms(&self) -> i64 {
        self.ttl.as_millis() as i64
    }

    async fn read(&self, login: &str) -> Result<Option<Session>> {
        let mut redis = self.redis.clone();
        let hash: HashMap<String, String> = redis
            .hgetall(self.session_key(login))
            .await
            .map_err(redis_down)?;
        Ok(Session::from_hash(&hash, now_ms()))
    }

    async fn write(&self, login: &str, session: Option<&Session>) -> Result<()> {
        let mut redis = self.redis.clone();
        let key = self.session_key(login);
        let mut pipe = redis::pipe();
        pipe.atomic();
        match session {
            Some(session) => {
                pipe.del(&key)
                    .hset_multiple(&key, &session.to_hash())
                    .pexpire(&key, self.ttl_ms() * 2)
                    .zadd(self.deadlines(), login, session.expire_ms);
            }
            None => {
                pipe.del(&key).zrem(self.deadlines(), login);
            }
        }
        pipe.query_async::<()>(&mut redis).await.map_err(redis_down)
    }

    /// Commits a change whose Redis write is done; when the commit fails, puts the previous
    /// session back, so Redis never shows a change whose event was not written.
    async fn commit_or_restore(
        &self,
        tx: db::Transaction,
        login: &str,
        previous: Option<&Session>,
    ) -> Result<()> {
        let Err(error) = db::commit(tx).await else {
            return Ok(());
        };
        if let Err(status) = self.write(login, previous).await {
            tracing::error!(login, %status, "cannot restore a presence after a failed commit");
        }
        Err(error)
    }

    /// Locks the agent's presence row (creating it) for the rest of the transaction.
    async fn lock(conn: &mut PgConnection, login: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO presence_sessions (login) VALUES ($1)
             ON CONFLICT (login) DO UPDATE SET version = presence_sessions.version
             RETURNING version",
        )
        .bind(login)
        .fetch_one(conn)
        .await?)
    }

    /// Bumps the version and writes the `presence.changed` event.
    async fn announce(
        conn: &mut PgConnection,
        login: &str,
        before: PresenceState,
        after: Presence,
        reason: PresenceChangeReason,
        actor: Option<Actor>,
    ) -> Result<()> {
        let version: i64 = sqlx::query_scalar(
            "UPDATE presence_sessions SET version = version + 1 WHERE login = $1 RETURNING version",
        )
        .bind(login)
        .fetch_one(&mut *conn)
        .await?;
        let group_ids = directory::get_agent(conn, login)
            .await?
            .map(|a| a.group_ids.iter().map(|g| g.to_string()).collect())
            .unwrap_or_default();
        let payload = PresenceChanged {
            agent_login: login.to_owned(),
            group_ids,
            state_before: before as i32,
            presence: Some(after),
            reason: reason as i32,
        };
        let mut event = NewEvent::new(&payload, login, version);
        if let Some(actor) = actor {
            event = event.with_actor(actor);
        }
        publish(conn, SOURCE, event).await?;
        Ok(())
    }

    /// Starts or refreshes a session. The agent must exist and be active.
    pub async fn login(
        &self,
        login: &str,
        state: PresenceState,
        extension: &str,
        actor: Actor,
    ) -> Result<Presence> {
        let mut tx = db::begin(&self.pool).await?;
        let agent = directory::get_agent(&mut tx, login)
            .await?
            .ok_or_else(|| Status::not_found(format!("no agent {}", quote(login))))?;
        if agent.disabled {
            return Err(
                Status::failed_precondition(format!("agent {} is disabled", quote(login))).into(),
            );
        }
        Self::lock(&mut tx, login).await?;
        let previous = self.read(login).await?;
        let session =
            Session::logged_in(previous.as_ref(), state, extension, now_ms(), self.ttl_ms());
        let changed = previous
            .as_ref()
            .is_none_or(|p| p.state != state || p.extension != extension);
        let presence = session.to_proto(login);
        if changed {
            let before = previous
                .as_ref()
                .map_or(PresenceState::Offline, |p| p.state);
            Self::announce(
                &mut tx,
                login,
                before,
                presence.clone(),
                PresenceChangeReason::Login,
                Some(actor),
            )
            .await?;
        }
        self.write(login, Some(&session)).await?;
        self.commit_or_restore(tx, login, previous.as_ref()).await?;
        Ok(presence)
    }

    /// Changes the state of a live session.
    pub async fn set_state(
        &self,
        login: &str,
        state: PresenceState,
        actor: Actor,
    ) -> Result<Presence> {
        let mut tx = db::begin(&self.pool).await?;
        Self::lock(&mut tx, login).await?;
        let previous = self.read(login).await?.ok_or_else(|| {
            Status::failed_precondition("agent is OFFLINE, set state needs a CTI login")
        })?;
        let session = Session::logged_in(
            Some(&previous),
            state,
            &previous.extension,
            now_ms(),
            self.ttl_ms(),
        );
        let presence = session.to_proto(login);
        if previous.state != state {
            Self::announce(
                &mut tx,
                login,
                previous.state,
                presence.clone(),
                PresenceChangeReason::StateChanged,
                Some(actor),
            )
            .await?;
        }
        self.write(login, Some(&session)).await?;
        self.commit_or_restore(tx, login, Some(&previous)).await?;
        Ok(presence)
    }

    /// Ends the session at once; without a session nothing changes and nothing is published.
    pub async fn logout(
        &self,
        login: &str,
        reason: PresenceChangeReason,
        actor: Option<Actor>,
    ) -> Result<Presence> {
        let mut tx = db::begin(&self.pool).await?;
        Self::lock(&mut tx, login).await?;
        let previous = self.read(login).await?;
        let now = now_ms();
        let presence = offline(login, Some(now));
        if let Some(previous) = &previous {
            Self::announce(
                &mut tx,
                login,
                previous.state,
                presence.clone(),
                reason,
                actor,
            )
            .await?;
            self.write(login, None).await?;
        }
        self.commit_or_restore(tx, login, previous.as_ref()).await?;
        Ok(presence)
    }

    /// Ends the session of an agent who was disabled or deleted (errors are logged: the
    /// directory change stands, and the session expires by itself anyway).
    pub async fn end_session(&self, login: &str, reason: PresenceChangeReason) {
        if let Err(status) = self.logout(login, reason, None).await {
            tracing::warn!(login, %status, "cannot end the CTI session of a deactivated agent");
        }
    }

    /// Keeps a live session fresh.
    pub async fn heartbeat(&self, login: &str) -> Result<Presence> {
        let mut redis = self.redis.clone();
        let expire: i64 = Script::new(HEARTBEAT)
            .key(self.session_key(login))
            .key(self.deadlines())
            .arg(login)
            .arg(now_ms())
            .arg(self.ttl_ms())
            .invoke_async(&mut redis)
            .await
            .map_err(redis_down)?;
        if expire == 0 {
            return Err(Status::failed_precondition(
                "agent is OFFLINE (the session expired or was logged out); call Login again",
            )
            .into());
        }
        self.get(login).await
    }

    /// The agent's presence now (OFFLINE when not logged in).
    pub async fn get(&self, login: &str) -> Result<Presence> {
        Ok(match self.read(login).await? {
            Some(session) => session.to_proto(login),
            None => offline(login, None),
        })
    }

    /// Every live session, ordered by login.
    pub async fn present(&self) -> Result<Vec<Presence>> {
        let mut redis = self.redis.clone();
        let now = now_ms();
        let logins: Vec<String> = redis
            .zrangebyscore(self.deadlines(), format!("({now}"), "+inf")
            .await
            .map_err(redis_down)?;
        if logins.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for login in &logins {
            pipe.hgetall(self.session_key(login));
        }
        let hashes: Vec<HashMap<String, String>> =
            pipe.query_async(&mut redis).await.map_err(redis_down)?;
        let mut present: Vec<_> = logins
            .iter()
            .zip(hashes)
            .filter_map(|(login, hash)| {
                Session::from_hash(&hash, now).map(|session| session.to_proto(login))
            })
            .collect();
        present.sort_by(|a, b| a.agent_login.cmp(&b.agent_login));
        Ok(present)
    }

    /// Ends every session whose deadline has passed and announces each as expired. Returns how
    /// many ended. Safe to run on every replica at once.
    pub async fn sweep(&self) -> Result<usize> {
        let mut redis = self.redis.clone();
        let due: Vec<String> = redis
            .zrangebyscore_limit(self.deadlines(), "-inf", now_ms(), 0, 500)
            .await
            .map_err(redis_down)?;
        let mut ended = 0;
        for login in due {
            let mut tx = db::begin(&self.pool).await?;
            Self::lock(&mut tx, &login).await?;
            let fields: Vec<String> = Script::new(EXPIRE_IF_DUE)
                .key(self.session_key(&login))
                .key(self.deadlines())
                .arg(&login)
                .arg(now_ms())
                .invoke_async(&mut redis)
                .await
                .map_err(redis_down)?;
            if fields.is_empty() {
                continue;
            }
            let map = to_map(fields);
            let before = map
                .get("state")
                .and_then(|s| PresenceState::from_str_name(s))
                .unwrap_or(PresenceState::Available);
            let since = map.get("expire_ms").and_then(|v| v.parse().ok());
            let announced = async {
                Self::announce(
                    &mut tx,
                    &login,
                    before,
                    offline(&login, since),
                    PresenceChangeReason::Expired,
                    None,
                )
                .await?;
                db::commit(tx).await
            }
            .await;
            if let Err(status) = announced {
                // Put the expired session back, so the next sweep announces it.
                let mut pipe = redis::pipe();
                let key = self.session_key(&login);
                let fields: Vec<_> = map.iter().collect();
                pipe.atomic()
                    .hset_multiple(&key, &fields)
                    .pexpire(&key, self.ttl_ms() * 2)
                    .zadd(self.deadlines(), &login, since.unwrap_or_default());
                let _: Result<(), _> = pipe.query_async(&mut redis).await;
                return Err(status);
            }
            ended += 1;
        }
        Ok(ended)
    }

    /// Sweeps every `interval` until `shutdown`.
    pub async fn run_sweeper(self, interval: Duration, mut shutdown: Shutdown) {
        loop {
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(interval) => {}
            }
            match self.sweep().await {
                Ok(0) => {}
                Ok(ended) => tracing::info!(ended, "cti sessions expired"),
                Err(status) => tracing::warn!(%status, "presence sweep failed"),
            }
        }
    }
}
