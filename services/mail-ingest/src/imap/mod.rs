//! IMAP fetching (docs/product.md §5): every replica runs a fetcher per active account with IMAP
//! settings, and a lease per account (`imap_mailboxes`) lets one of them at a time fetch it; a
//! replica that stops gives its leases up, one that dies loses them when they expire, and
//! another takes over. The fetchers follow the mirrored accounts: the table is read again every
//! `imap_rescan_seconds` (5 s by default) and at every wake-up, so a new, changed, deactivated
//! or deleted account is picked up within that bound.

pub mod api;
mod connect;
mod cursor;
mod endpoint;
mod status;
mod store;
mod wake;
mod worker;

use std::{collections::HashMap, sync::Arc, time::Duration};

use anyhow::Context as _;
use prost::Message;
use sqlx::{PgPool, postgres::PgListener};
use switchboard_platform::{Shutdown, ShutdownTrigger};
use switchboard_proto::ticket::v1::MailAccount;
use tokio::{sync::Notify, task::JoinHandle};
use uuid::Uuid;

use self::worker::{Shared, Worker};
use crate::{accounts::Account, inbound::InboundApi};

/// How long a stopping fetcher may take to give its lease up.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// The fetchers of this replica.
pub struct Fetchers {
    shared: Shared,
    rescan: Duration,
}

/// A running fetcher and what it was started for.
struct Running {
    /// The account as encoded when the fetcher started: any change restarts it.
    started_for: Vec<u8>,
    wake: Arc<Notify>,
    stop: ShutdownTrigger,
    task: JoinHandle<()>,
}

/// This replica's name in leases: as configured, or its host name (the pod's, in Kubernetes) and a random part,
/// so two replicas on one host (tests) differ.
fn holder_name(configured: &str) -> String {
    if !configured.trim().is_empty() {
        return configured.trim().to_owned();
    }
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "mail-ingest".into());
    let random = Uuid::new_v4().simple().to_string();
    format!("{host}-{}", &random[..8])
}

/// The active accounts with IMAP settings, with their encoding.
async fn fetched_accounts(pool: &PgPool) -> anyhow::Result<HashMap<Uuid, (Account, Vec<u8>)>> {
    let rows: Vec<(Uuid, Vec<u8>)> =
        sqlx::query_as("SELECT id, account FROM mail_accounts WHERE active AND NOT deleted")
            .fetch_all(pool)
            .await?;
    let mut accounts = HashMap::new();
    for (id, bytes) in rows {
        let account = match MailAccount::decode(bytes.as_slice()) {
            Ok(account) => account,
            Err(error) => {
                tracing::error!(mail_account_id = %id, %error, "a mirrored account does not decode");
                continue;
            }
        };
        if account.imap.is_some() {
            let account = Account {
                id,
                active: true,
                account,
            };
            accounts.insert(id, (account, bytes));
        }
    }
    Ok(accounts)
}

impl Fetchers {
    pub fn new(api: InboundApi) -> anyhow::Result<Self> {
        let settings = &api.settings;
        let lease = Duration::from_secs(settings.imap_lease_seconds.max(3));
        let rescan = Duration::from_secs(settings.imap_rescan_seconds.max(1));
        let tls =
            connect::tls_config(&settings.mail_ca_file).context("the TLS configuration of IMAP")?;
        let holder = holder_name(&settings.replica_name);
        Ok(Self {
            shared: Shared {
                api,
                holder,
                tls,
                lease,
            },
            rescan,
        })
    }

    fn pool(&self) -> &PgPool {
        &self.shared.api.pool
    }

    /// Runs the fetchers until `shutdown`; fails (taking the process down) when a fetcher ends
    /// on its own, which only a panic does.
    pub async fn run(self, mut shutdown: Shutdown) -> anyhow::Result<()> {
        let mut running: HashMap<Uuid, Running> = HashMap::new();
        let mut listener: Option<PgListener> = None;
        let mut rescan = tokio::time::interval(self.rescan);
        let result = loop {
            if listener.is_none() {
                listener = match wake::listen(self.pool()).await {
                    Ok(listener) => Some(listener),
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for imap wake-ups; polling only");
                        None
                    }
                };
            }
            let woken = tokio::select! {
                () = shutdown.wait() => break Ok(()),
                _ = rescan.tick() => None,
                notification = next_wake(&mut listener) => notification,
            };
            if let Err(error) = self.reconcile(&mut running).await {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "cannot read the imap accounts"
                );
            }
            if let Some(id) = woken
                && let Some(fetcher) = running.get(&id)
            {
                fetcher.wake.notify_one();
            }
            if let Some((id, _)) = running
                .iter()
                .find(|(_, fetcher)| fetcher.task.is_finished())
            {
                let id = *id;
                let ended = match running.remove(&id) {
                    Some(fetcher) => fetcher.task.await,
                    None => Ok(()),
                };
                break Err(match ended {
                    Err(error) => {
                        anyhow::anyhow!("the imap fetcher of account {id} failed: {error}")
                    }
                    Ok(()) => anyhow::anyhow!("the imap fetcher of account {id} ended on its own"),
                });
            }
        };
        // All asked at once, so a slow one does not hold the others' leases.
        for fetcher in running.values() {
            fetcher.stop.trigger();
        }
        futures_util::future::join_all(running.into_iter().map(|(id, fetcher)| stop(id, fetcher)))
            .await;
        result
    }

    /// Starts the fetchers of new or changed accounts and stops those of accounts no longer
    /// fetched.
    async fn reconcile(&self, running: &mut HashMap<Uuid, Running>) -> anyhow::Result<()> {
        let mut wanted = fetched_accounts(self.pool()).await?;
        let stale: Vec<Uuid> = running
            .iter()
            .filter(|(id, fetcher)| {
                wanted
                    .get(*id)
                    .is_none_or(|(_, bytes)| *bytes != fetcher.started_for)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some(fetcher) = running.remove(&id) {
                stop(id, fetcher).await;
            }
        }
        for (id, (account, bytes)) in wanted.drain() {
            if running.contains_key(&id) {
                continue;
            }
            running.insert(id, self.start(account, bytes));
        }
        Ok(())
    }

    fn start(&self, account: Account, started_for: Vec<u8>) -> Running {
        let insecure = self.shared.api.settings.allow_insecure_mail;
        let endpoint = match &account.account.imap {
            Some(imap) => endpoint::endpoint(imap, insecure),
            None => Err("the account has no IMAP settings".into()),
        };
        tracing::info!(mail_account_id = %account.id, address = %account.account.address, "imap fetcher started");
        let wake = Arc::new(Notify::new());
        let (stop, stopped) = Shutdown::new();
        let worker = Worker {
            shared: self.shared.clone(),
            account,
            endpoint,
            wake: wake.clone(),
            stop: stopped,
        };
        Running {
            started_for,
            wake,
            stop,
            task: tokio::spawn(worker.run()),
        }
    }
}

/// The account a wake-up names; pends forever without a listener. A broken listener is
/// dropped (and connected again by the loop).
async fn next_wake(listener: &mut Option<PgListener>) -> Option<Uuid> {
    let Some(active) = listener.as_mut() else {
        return std::future::pending().await;
    };
    match active.recv().await {
        Ok(notification) => Uuid::parse_str(notification.payload()).ok(),
        Err(error) => {
            tracing::warn!(%error, "the imap wake-up listener failed");
            *listener = None;
            None
        }
    }
}

/// Stops one fetcher and waits for it to give its lease up.
async fn stop(id: Uuid, fetcher: Running) {
    fetcher.stop.trigger();
    let mut task = fetcher.task;
    match tokio::time::timeout(STOP_WAIT, &mut task).await {
        Ok(Ok(())) => tracing::info!(mail_account_id = %id, "imap fetcher stopped"),
        Ok(Err(error)) => tracing::error!(mail_account_id = %id, %error, "imap fetcher failed"),
        Err(_) => {
            tracing::warn!(mail_account_id = %id, "imap fetcher did not stop in time; aborted");
            task.abort();
        }
    }
}
