//! The fetcher of one account, in every replica: it waits for the account's lease, and while it
//! holds it (renewed alongside) logs in, takes every message after the cursor in through
//! `mail::submit`, advances the cursor and marks the message `\Seen` (never deletes), then
//! watches the folder with IDLE (or sleeps) until the next poll. Failures back off
//! exponentially up to 15 minutes and are recorded for `GetMailboxStatus`.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use futures_util::TryStreamExt;
use switchboard_platform::{Shutdown, events::Backoff};
use switchboard_proto::events::v1::MailSource;
use tokio::{sync::Notify, time::Instant};
use tokio_rustls::rustls::ClientConfig;

use super::{
    connect::{self, ImapSession},
    cursor::{self, Cursor},
    endpoint::Endpoint,
    store,
};
use crate::{
    accounts::Account,
    inbound::{InboundApi, mail::RawMail},
    screen::EnvelopeSender,
};

/// The first retry after a failure; doubled up to [`MAX_BACKOFF`].
const FIRST_RETRY: Duration = Duration::from_secs(2);
/// The longest wait between failing fetches (mailbox.proto).
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// The longest IDLE before it is renewed (RFC 2177 asks for less than 30 minutes).
const MAX_IDLE: Duration = Duration::from_secs(29 * 60);
/// How long a command may take before the connection counts as dead.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long fetching one message may take (up to 30 MiB).
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// `command` within `limit`, its error or its timeout as a failure naming `step`.
async fn within<T, E: std::fmt::Display>(
    step: &str,
    limit: Duration,
    command: impl Future<Output = Result<T, E>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(limit, command).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(error)) => Err(format!("imap {step} failed: {error}")),
        Err(_) => Err(format!("imap {step} timed out after {} s", limit.as_secs())),
    }
}

/// What the fetchers of one replica share.
#[derive(Clone)]
pub struct Shared {
    pub api: InboundApi,
    /// This replica's name in the lease.
    pub holder: String,
    pub tls: Arc<ClientConfig>,
    /// How long a lease lasts unless renewed (renewed every third of it).
    pub lease: Duration,
}

pub struct Worker {
    pub shared: Shared,
    pub account: Account,
    /// The account's endpoint, or why it cannot be fetched.
    pub endpoint: Result<Endpoint, String>,
    pub wake: Arc<Notify>,
    pub stop: Shutdown,
}

/// How a session of fetching ended.
type Failure = String;

impl Worker {
    fn pool(&self) -> &sqlx::PgPool {
        &self.shared.api.pool
    }

    /// Runs until `stop`: waits for the lease, fetches while holding it, gives it up at the end.
    pub async fn run(mut self) {
        let id = self.account.id;
        let mut stop = self.stop.clone();
        let mut store_backoff = Backoff::new(FIRST_RETRY, MAX_BACKOFF);
        loop {
            let retry = self.shared.lease / 3;
            match store::acquire(self.pool(), id, &self.shared.holder, self.shared.lease).await {
                Ok(true) => {
                    store_backoff.reset();
                    tracing::info!(mail_account_id = %id, holder = %self.shared.holder, "imap lease taken");
                    let lost = tokio::select! {
                        () = self.fetch_while_held() => false,
                        () = self.keep_lease() => true,
                        () = stop.wait() => false,
                    };
                    if lost {
                        tracing::warn!(mail_account_id = %id, "imap lease lost; fetching stopped");
                        continue;
                    }
                    if let Err(error) = store::release(self.pool(), id, &self.shared.holder).await {
                        tracing::warn!(mail_account_id = %id, %error, "cannot release the imap lease (it expires)");
                    }
                    return;
                }
                Ok(false) => {
                    if self.pause(retry, &mut stop).await {
                        return;
                    }
                }
                Err(error) => {
                    let delay = store_backoff.next_delay();
                    tracing::warn!(mail_account_id = %id, %error, ?delay, "cannot take the imap lease");
                    if self.pause(delay, &mut stop).await {
                        return;
                    }
                }
            }
        }
    }

    /// Waits `delay` or a wake-up; whether the fetcher is to stop.
    async fn pause(&mut self, delay: Duration, stop: &mut Shutdown) -> bool {
        tokio::select! {
            () = tokio::time::sleep(delay) => false,
            () = self.wake.notified() => false,
            () = stop.wait() => true,
        }
    }

    /// Renews the lease every third of its duration; returns when it is lost (taken over, or
    /// not renewed for two thirds of it because the database did not answer).
    async fn keep_lease(&self) {
        let every = self.shared.lease / 3;
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(every).await;
            let id = self.account.id;
            match store::renew(self.pool(), id, &self.shared.holder, self.shared.lease).await {
                Ok(true) => renewed = Instant::now(),
                Ok(false) => return,
                Err(error) => {
                    tracing::warn!(mail_account_id = %id, %error, "cannot renew the imap lease");
                    if renewed.elapsed() >= every * 2 {
                        return;
                    }
                }
            }
        }
    }

    /// Sessions one after the other, backing off after each failure; never returns.
    async fn fetch_while_held(&self) {
        let id = self.account.id;
        let mut backoff = Backoff::new(FIRST_RETRY, MAX_BACKOFF);
        loop {
            let failure = self.session(&mut backoff).await;
            let delay = backoff.next_delay();
            match store::fetch_failed(self.pool(), &self.account, &failure, delay).await {
                Ok(failures) => {
                    tracing::warn!(mail_account_id = %id, error = %failure, failures, ?delay, "imap fetch failed")
                }
                Err(error) => {
                    tracing::warn!(mail_account_id = %id, error = %failure, store_error = %error, ?delay, "imap fetch failed (not recorded)")
                }
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    /// One session: logs in and fetches, then waits and fetches again, until something fails.
    async fn session(&self, backoff: &mut Backoff) -> Failure {
        match self.session_inner(backoff).await {
            Ok(never) => match never {},
            Err(failure) => failure,
        }
    }

    async fn session_inner(
        &self,
        backoff: &mut Backoff,
    ) -> Result<std::convert::Infallible, Failure> {
        let endpoint = self.endpoint.clone()?;
        let id = self.account.id;
        let mut session = connect::login(&endpoint, &self.shared.tls).await?;
        let idle = within("capability", COMMAND_TIMEOUT, session.capabilities())
            .await?
            .has_str("IDLE");
        loop {
            store::fetch_started(self.pool(), id, &self.shared.holder)
                .await
                .map_err(|e| format!("cannot record the fetch: {e}"))?;
            let complete = self.fetch_new(&mut session, &endpoint.folder).await?;
            store::fetch_succeeded(self.pool(), &self.account, endpoint.poll_interval)
                .await
                .map_err(|e| format!("cannot record the fetch: {e}"))?;
            backoff.reset();
            if complete {
                session = self.watch(session, idle, endpoint.poll_interval).await?;
            }
        }
    }

    /// Takes in every message after the cursor; `false` when the cursor moved under it (an
    /// admin's reset, or the lease lost) and the fetch must start over.
    async fn fetch_new(&self, session: &mut ImapSession, folder: &str) -> Result<bool, Failure> {
        let id = self.account.id;
        let mailbox = within(
            &format!("select {folder}"),
            COMMAND_TIMEOUT,
            session.select(folder),
        )
        .await?;
        let validity = mailbox
            .uid_validity
            .ok_or_else(|| format!("the imap server gave no UIDVALIDITY for {folder}"))?;
        let stored = store::cursor(self.pool(), id)
            .await
            .map_err(|e| format!("cannot read the cursor: {e}"))?;
        let mut cursor = stored.under(validity);
        if cursor != stored {
            tracing::info!(mail_account_id = %id, old = stored.uid_validity, new = validity, "imap UIDVALIDITY changed: the cursor restarts at 0");
            if !self.advance(cursor, 0).await? {
                return Ok(false);
            }
        }
        let Some(set) = cursor.fetch_set() else {
            return Ok(true);
        };
        let found: Vec<u32> = within("uid fetch", COMMAND_TIMEOUT, async {
            session
                .uid_fetch(&set, "UID")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?
        .iter()
        .filter_map(|fetch| fetch.uid)
        .collect();
        for uid in cursor::after(found, cursor.last_uid) {
            self.take_in(session, uid).await?;
            cursor.last_uid = uid;
            if !self.advance(cursor, 1).await? {
                return Ok(false);
            }
            // Marked after the cursor moved: a mark lost to a broken connection costs only the
            // flag, never a second ticket message.
            within("store \\Seen", COMMAND_TIMEOUT, async {
                let flags = "+FLAGS.SILENT (\\Seen)";
                session
                    .uid_store(uid.to_string(), flags)
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
        }
        Ok(true)
    }

    async fn advance(&self, cursor: Cursor, fetched: i64) -> Result<bool, Failure> {
        store::advance(
            self.pool(),
            self.account.id,
            &self.shared.holder,
            cursor,
            fetched,
        )
        .await
        .map_err(|e| format!("cannot store the cursor: {e}"))
    }

    /// Fetches message `uid` and hands it to `mail::submit`, which returns once it is stored
    /// in a ticket or the quarantine. A message gone meanwhile (expunged) is skipped.
    async fn take_in(&self, session: &mut ImapSession, uid: u32) -> Result<(), Failure> {
        let fetches = within(&format!("fetch of UID {uid}"), MESSAGE_TIMEOUT, async {
            let query = "(UID INTERNALDATE BODY.PEEK[])";
            session
                .uid_fetch(uid.to_string(), query)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        let Some(fetch) = fetches
            .iter()
            .find(|f| f.uid == Some(uid) && f.body().is_some())
        else {
            tracing::info!(mail_account_id = %self.account.id, uid, "imap message gone before it was fetched");
            return Ok(());
        };
        let raw = fetch.body().map(<[u8]>::to_vec).unwrap_or_default();
        let receive_time = fetch
            .internal_date()
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_else(Utc::now);
        drop(fetches);
        let limits = self.shared.api.settings.limits();
        let mail = RawMail {
            raw: raw.into(),
            account: self.account.clone(),
            envelope_sender: EnvelopeSender::Absent,
            envelope_recipients: Vec::new(),
            receive_time,
            source: MailSource::Imap,
        };
        crate::inbound::mail::submit(&self.shared.api, mail, Some(&limits))
            .await
            .map(|_| ())
            .map_err(|status| format!("storing UID {uid} failed: {}", status.message()))
    }

    /// Waits for the next fetch: with IDLE until the folder changes, the poll interval passes
    /// or a wake-up comes; without, the poll interval or a wake-up.
    async fn watch(
        &self,
        session: ImapSession,
        idle: bool,
        interval: Duration,
    ) -> Result<ImapSession, Failure> {
        if !idle {
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = self.wake.notified() => {}
            }
            return Ok(session);
        }
        // RFC 2177: IDLE is renewed within 29 minutes; the server's keep-alives reset the
        // library's own timeout, so the poll interval is kept here.
        let limit = interval.min(MAX_IDLE);
        let mut handle = session.idle();
        within("idle", COMMAND_TIMEOUT, handle.init()).await?;
        {
            let (waiting, interrupt) = handle.wait_with_timeout(limit);
            tokio::pin!(waiting);
            let ended = tokio::select! {
                ended = &mut waiting => Some(ended),
                () = self.wake.notified() => None,
                () = tokio::time::sleep(limit) => None,
            };
            let ended = match ended {
                Some(ended) => ended,
                None => {
                    // Ends the wait cleanly (not mid-read): the future then answers at once.
                    drop(interrupt);
                    waiting.await
                }
            };
            ended.map_err(|e| format!("imap idle failed: {e}"))?;
        }
        within("idle done", COMMAND_TIMEOUT, handle.done()).await
    }
}
