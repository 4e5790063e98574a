//! `WatchConnectRequests`: the CTI's dial requests as a stream, each claimed by one stream
//! (a work queue). The stream first drains what waits, then sleeps until a PostgreSQL
//! notification, a poll or a heartbeat; when it ends, what it holds is released for its key.
//! Each stream's listener holds a connection of the pool while the stream lasts (CTI streams
//! are few). The semantics are the rpc's comment in `callback_service.proto`.

use std::{pin::Pin, time::Duration};

use futures_util::Stream;
use sqlx::{PgPool, postgres::PgListener};
use switchboard_platform::{
    error::{FieldViolations, Result},
    principal::PrincipalExt,
    shutdown::Shutdown,
    time::timestamp,
};
use switchboard_proto::{
    callback::v1::{ConnectRequest, WatchConnectRequestsRequest, WatchConnectRequestsResponse},
    common::v1::Principal,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use uuid::Uuid;

use super::{CallbackApi, access::ATTEMPTS_SCOPE};
use crate::store::connect_requests::{self, ConnectRequestRow};

pub type WatchStream =
    Pin<Box<dyn Stream<Item = Result<WatchConnectRequestsResponse, Status>> + Send>>;

const DEFAULT_PAGE: i32 = 50;
const MAX_PAGE: i32 = 500;
/// How long a live stream holds what it was sent; renewed every heartbeat.
const LEASE: Duration = Duration::from_secs(30);
/// An empty message, so a dead CTI is noticed and the lease renewed.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// The fallback for a missed notification.
const POLL: Duration = Duration::from_secs(5);
/// How long an ended stream's requests wait for its key to reconnect.
const HOLD: Duration = Duration::from_secs(10);

pub async fn start(
    api: &CallbackApi,
    principal: &Principal,
    request: WatchConnectRequestsRequest,
) -> Result<WatchStream, Status> {
    if !(principal.is_admin() || principal.has_scope(ATTEMPTS_SCOPE)) {
        return Err(Status::permission_denied(format!(
            "watching dial requests needs the {ATTEMPTS_SCOPE} scope"
        )));
    }
    let mut violations = FieldViolations::new();
    violations.check(request.after_cursor < 0, "after_cursor", || {
        "must not be negative".into()
    });
    violations.check(
        !(0..=MAX_PAGE).contains(&request.page_size),
        "page_size",
        || format!("must be 0 to {MAX_PAGE}"),
    );
    violations.into_result()?;
    let actor = principal.actor();
    let watcher = Watcher {
        pool: api.pool.clone(),
        stream: Uuid::now_v7(),
        key: format!("{}:{}", actor.kind, actor.subject),
        stop: api.watchers_stop.clone(),
        after: request.after_cursor,
        page: if request.page_size == 0 {
            DEFAULT_PAGE
        } else {
            request.page_size
        },
    };
    // Listening before the first drain, so nothing made in between is missed; without a
    // listener the poll still finds every request.
    let listener = watcher.listen().await;
    let (sender, receiver) = mpsc::channel(1);
    tokio::spawn(watcher.run(listener, sender));
    Ok(Box::pin(ReceiverStream::new(receiver)))
}

type Sender = mpsc::Sender<Result<WatchConnectRequestsResponse, Status>>;

struct Watcher {
    pool: PgPool,
    /// This stream's claim id.
    stream: Uuid,
    /// Who the requests are sent to: the cursor and the hold are per key.
    key: String,
    /// The service stopping; `None` when nothing stops the streams but their callers.
    stop: Option<Shutdown>,
    after: i64,
    page: i32,
}

enum Wake {
    Closed,
    Stopping,
    Heartbeat,
    Look,
    ListenerLost(sqlx::Error),
}

impl Watcher {
    async fn listen(&self) -> Option<PgListener> {
        let channel = match sqlx::query_scalar::<_, String>("SELECT current_schema()")
            .fetch_one(&self.pool)
            .await
        {
            Ok(schema) => format!("{schema}.connect_requests"),
            Err(error) => {
                tracing::warn!(%error, "dial requests are polled: the schema is unknown");
                return None;
            }
        };
        let listened = async {
            let mut listener = PgListener::connect_with(&self.pool).await?;
            listener.listen(&channel).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match listened.await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(%error, "dial requests are polled: cannot listen");
                None
            }
        }
    }

    async fn run(self, mut listener: Option<PgListener>, sender: Sender) {
        if let Err(error) = self.serve(&mut listener, &sender).await {
            let _ = sender.send(Err(error.into())).await;
        }
        drop(listener);
        if let Err(error) = connect_requests::release(&self.pool, self.stream, HOLD).await {
            tracing::warn!(%error, stream = %self.stream, "cannot release dial requests; the lease frees them");
        }
    }

    async fn serve(&self, listener: &mut Option<PgListener>, sender: &Sender) -> Result<()> {
        let mut stop = self.stop.clone();
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        loop {
            if !self.drain(sender).await? {
                return Ok(());
            }
            let wake = tokio::select! {
                () = sender.closed() => Wake::Closed,
                () = stopping(&mut stop) => Wake::Stopping,
                _ = heartbeat.tick() => Wake::Heartbeat,
                () = tokio::time::sleep(POLL) => Wake::Look,
                notified = notification(listener) => match notified {
                    Ok(()) => Wake::Look,
                    Err(error) => Wake::ListenerLost(error),
                },
            };
            match wake {
                Wake::Closed => return Ok(()),
                Wake::Stopping => {
                    let stopping = Status::unavailable(
                        "the callback service is stopping; reconnect with the last cursor",
                    );
                    let _ = sender.send(Err(stopping)).await;
                    return Ok(());
                }
                Wake::Look => {}
                Wake::ListenerLost(error) => {
                    tracing::warn!(%error, "dial requests are polled: the listener is lost");
                    *listener = None;
                }
                Wake::Heartbeat => {
                    connect_requests::renew(&self.pool, self.stream, LEASE).await?;
                    let beat = WatchConnectRequestsResponse::default();
                    if sender.send(Ok(beat)).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Sends every request waiting now, a page per message; false when the caller is gone.
    async fn drain(&self, sender: &Sender) -> Result<bool> {
        loop {
            // Every time, not once: the previous stream of this key may release its requests
            // after this one started.
            if self.after > 0 {
                connect_requests::settle_up_to(&self.pool, &self.key, self.after).await?;
            }
            connect_requests::settle_stale(&self.pool).await?;
            let rows = connect_requests::claim(
                &self.pool,
                self.stream,
                &self.key,
                self.after,
                i64::from(self.page),
                LEASE,
            )
            .await?;
            let full = rows.len() >= usize::try_from(self.page).unwrap_or(usize::MAX);
            if rows.is_empty() {
                return Ok(true);
            }
            let message = WatchConnectRequestsResponse {
                connect_requests: rows.into_iter().map(to_proto).collect(),
            };
            if sender.send(Ok(message)).await.is_err() {
                return Ok(false);
            }
            if !full {
                return Ok(true);
            }
        }
    }
}

async fn stopping(stop: &mut Option<Shutdown>) {
    match stop {
        Some(stop) => stop.wait().await,
        None => std::future::pending().await,
    }
}

async fn notification(listener: &mut Option<PgListener>) -> Result<(), sqlx::Error> {
    match listener {
        Some(listener) => listener.recv().await.map(drop),
        None => std::future::pending().await,
    }
}

fn to_proto(row: ConnectRequestRow) -> ConnectRequest {
    ConnectRequest {
        cursor: row.cursor,
        callback_id: row.callback_id.to_string(),
        attempt_id: row.attempt_id.to_string(),
        attempt_number: row.attempt_number,
        phone_number: row.phone_number,
        agent_login: row.agent_login,
        request_time: Some(timestamp(row.request_time)),
    }
}
