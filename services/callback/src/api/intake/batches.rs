//! Group commit of pushes. A push waits in a queue; up to `writers` tasks at a time each take
//! every push waiting (at most [`MAX_BATCH`]) and write them in one statement
//! (`store::intake_push::push_many`). Pushes that arrive while the writers are busy make the next
//! batches, so under a peak a push costs a share of one statement and one commit, and when
//! pushes come one at a time each is written at once, alone.
//!
//! A batch fails or commits as a whole; when it fails, each of its pushes is written again
//! alone, so a push that cannot be written fails by itself and never takes the others with it
//! (unless the database is unavailable: then each is answered so at once).
//! The writers are tasks of their own: a caller that goes away does not cancel a batch that
//! holds other callers' pushes.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use sqlx::PgPool;
use switchboard_platform::error::{Error, Result, SqlErrorKind};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tonic::Status;

use crate::store::intake_push::{PushOutcome, PushStatement, push_many};

/// The most pushes one statement writes.
pub const MAX_BATCH: usize = 64;

/// A push written, given back with what the statement did with it.
pub struct Written {
    pub statement: PushStatement,
    pub outcome: PushOutcome,
}

#[derive(Clone)]
pub struct PushBatches {
    shared: Arc<Shared>,
}

struct Shared {
    pool: PgPool,
    waiting: Mutex<VecDeque<Waiting>>,
    writers: Arc<Semaphore>,
}

struct Waiting {
    statement: PushStatement,
    answer: oneshot::Sender<Result<Written>>,
}

impl PushBatches {
    /// Batches written on `pool`, at most `writers` at once (at least one).
    pub fn new(pool: PgPool, writers: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                pool,
                waiting: Mutex::new(VecDeque::new()),
                writers: Arc::new(Semaphore::new(writers.max(1))),
            }),
        }
    }

    /// Writes `statement` in the next batch.
    pub async fn push(&self, statement: PushStatement) -> Result<Written> {
        let (answer, written) = oneshot::channel();
        // Queued and a writer sought under one lock: a writer gives its permit back only under
        // it, after finding the queue empty, so a push is never left with no writer to take it.
        let writer = {
            let mut waiting = self.shared.waiting.lock().expect("the push queue");
            waiting.push_back(Waiting { statement, answer });
            self.shared.writers.clone().try_acquire_owned().ok()
        };
        if let Some(permit) = writer {
            tokio::spawn(write_batches(self.shared.clone(), permit));
        }
        written
            .await
            .map_err(|_| Error::internal("the batch of this push stopped before its answer"))?
    }
}

/// Writes batches until no push waits, then gives the permit back.
async fn write_batches(shared: Arc<Shared>, permit: OwnedSemaphorePermit) {
    loop {
        let batch: Vec<Waiting> = {
            let mut waiting = shared.waiting.lock().expect("the push queue");
            if waiting.is_empty() {
                drop(permit);
                return;
            }
            let take = waiting.len().min(MAX_BATCH);
            waiting.drain(..take).collect()
        };
        write(&shared.pool, batch).await;
    }
}

async fn write(pool: &PgPool, batch: Vec<Waiting>) {
    let statements: Vec<&PushStatement> = batch.iter().map(|w| &w.statement).collect();
    match push_many(pool, &statements).await {
        Ok(outcomes) => {
            for (waiting, outcome) in batch.into_iter().zip(outcomes) {
                waiting.answer_with(Ok(outcome));
            }
        }
        // A failure of the moment fails every push alike: writing them one by one would only
        // make the last wait longer for the same answer.
        Err(error) if matches!(error.sql_kind(), Some(SqlErrorKind::Unavailable)) => {
            tracing::error!(%error, pushes = batch.len(), "database unavailable");
            for waiting in batch {
                let unavailable = Status::unavailable("the database is unavailable");
                waiting.answer_with(Err(unavailable.into()));
            }
        }
        Err(error) if batch.len() == 1 => {
            let waiting = batch.into_iter().next().expect("one push");
            waiting.answer_with(Err(error));
        }
        // Each alone: the one that failed the batch fails again by itself.
        Err(_) => {
            for waiting in batch {
                let outcome = push_many(pool, &[&waiting.statement])
                    .await
                    .map(|mut outcomes| outcomes.remove(0));
                waiting.answer_with(outcome);
            }
        }
    }
}

impl Waiting {
    /// A caller that went away has nobody to answer.
    fn answer_with(self, outcome: Result<PushOutcome>) {
        let Self { statement, answer } = self;
        let _ = answer.send(outcome.map(|outcome| Written { statement, outcome }));
    }
}
