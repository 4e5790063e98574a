//! Group commit: writes that arrive together are written together. A write waits in a queue;
//! up to `writers` tasks at a time each take every write waiting (at most `max_batch`) and
//! hand them to [`BatchWrite::write`] as one batch (one transaction, a few statements). Writes
//! that arrive while the writers are busy make the next batches, so under a peak a write costs
//! a share of one transaction, and when writes come one at a time each is written at once,
//! alone.
//!
//! A batch commits or fails as a whole; when it fails, each of its writes is written again
//! alone, so a write that cannot be done fails by itself and never takes the others with it
//! (unless the database is unavailable: then each is answered so at once).
//! The writers are tasks of their own: a caller that goes away does not cancel a batch that
//! holds other callers' writes.

use std::{
    collections::VecDeque,
    future::Future,
    sync::{Arc, Mutex},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tonic::{Code, Status};

use crate::error::{Error, Result, SqlErrorKind};

/// What writes a batch: all of `items` in one transaction, or none of them.
pub trait BatchWrite: Send + Sync + 'static {
    type Item: Send + Sync + 'static;
    type Output: Send + 'static;

    /// Writes `items` together; one output per item, in their order.
    fn write(
        &self,
        items: &[&Self::Item],
    ) -> impl Future<Output = Result<Vec<Self::Output>>> + Send;
}

/// A write done, given back with what the batch made of it.
pub struct Written<I, O> {
    pub item: I,
    pub output: O,
}

pub struct GroupCommit<W: BatchWrite> {
    shared: Arc<Shared<W>>,
}

impl<W: BatchWrite> Clone for GroupCommit<W> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

struct Shared<W: BatchWrite> {
    writer: W,
    max_batch: usize,
    waiting: Mutex<VecDeque<Waiting<W>>>,
    writers: Arc<Semaphore>,
}

struct Waiting<W: BatchWrite> {
    item: W::Item,
    answer: oneshot::Sender<Result<Written<W::Item, W::Output>>>,
}

impl<W: BatchWrite> GroupCommit<W> {
    /// Batches of at most `max_batch` written by `writer`, at most `writers` at once (each at
    /// least one).
    pub fn new(writer: W, writers: usize, max_batch: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                writer,
                max_batch: max_batch.max(1),
                waiting: Mutex::new(VecDeque::new()),
                writers: Arc::new(Semaphore::new(writers.max(1))),
            }),
        }
    }

    /// Writes `item` in the next batch.
    pub async fn write(&self, item: W::Item) -> Result<Written<W::Item, W::Output>> {
        let (answer, written) = oneshot::channel();
        // Queued and a writer sought under one lock: a writer gives its permit back only under
        // it, after finding the queue empty, so a write is never left with no writer to take it.
        let writer = {
            let mut waiting = self.shared.waiting.lock().expect("the write queue");
            waiting.push_back(Waiting { item, answer });
            self.shared.writers.clone().try_acquire_owned().ok()
        };
        if let Some(permit) = writer {
            tokio::spawn(write_batches(self.shared.clone(), permit));
        }
        written
            .await
            .map_err(|_| Error::internal("the batch of this write stopped before its answer"))?
    }
}

/// Writes batches until no write waits, then gives the permit back.
async fn write_batches<W: BatchWrite>(shared: Arc<Shared<W>>, permit: OwnedSemaphorePermit) {
    loop {
        let batch: Vec<Waiting<W>> = {
            let mut waiting = shared.waiting.lock().expect("the write queue");
            if waiting.is_empty() {
                drop(permit);
                return;
            }
            let take = waiting.len().min(shared.max_batch);
            waiting.drain(..take).collect()
        };
        write(&shared.writer, batch).await;
    }
}

/// Whether `error` is a failure of the moment that every write of the batch would meet alike.
fn is_unavailable(error: &Error) -> bool {
    match error {
        Error::Status(status) => status.code() == Code::Unavailable,
        _ => matches!(error.sql_kind(), Some(SqlErrorKind::Unavailable)),
    }
}

async fn write<W: BatchWrite>(writer: &W, batch: Vec<Waiting<W>>) {
    let items: Vec<&W::Item> = batch.iter().map(|w| &w.item).collect();
    let outcome = writer.write(&items).await;
    drop(items);
    match outcome {
        Ok(outputs) if outputs.len() == batch.len() => {
            for (waiting, output) in batch.into_iter().zip(outputs) {
                waiting.answer_with(Ok(output));
            }
        }
        Ok(outputs) => {
            let wrong = format!("{} outputs for {} writes", outputs.len(), batch.len());
            for waiting in batch {
                waiting.answer_with(Err(Error::internal(wrong.clone())));
            }
        }
        // Writing them one by one would only make the last wait longer for the same answer.
        Err(error) if is_unavailable(&error) => {
            tracing::error!(%error, writes = batch.len(), "database unavailable");
            for waiting in batch {
                let unavailable = Status::unavailable("the database is unavailable");
                waiting.answer_with(Err(unavailable.into()));
            }
        }
        Err(error) if batch.len() == 1 => {
            let waiting = batch.into_iter().next().expect("one write");
            waiting.answer_with(Err(error));
        }
        // Each alone: the one that failed the batch fails again by itself.
        Err(_) => {
            for waiting in batch {
                let output = writer
                    .write(&[&waiting.item])
                    .await
                    .and_then(|mut outputs| {
                        outputs
                            .pop()
                            .ok_or_else(|| Error::internal("no output for a write alone"))
                    });
                waiting.answer_with(output);
            }
        }
    }
}

impl<W: BatchWrite> Waiting<W> {
    /// A caller that went away has nobody to answer.
    fn answer_with(self, output: Result<W::Output>) {
        let Self { item, answer } = self;
        let _ = answer.send(output.map(|output| Written { item, output }));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Doubles numbers; a batch holding 13 fails, and 13 fails alone too. Writes nothing
    /// before `gate` opens, so the writes of the test queue up behind the first.
    struct Doubler {
        batches: AtomicUsize,
        taken: AtomicUsize,
        gate: Semaphore,
    }

    impl BatchWrite for Doubler {
        type Item = u32;
        type Output = u32;

        async fn write(&self, items: &[&u32]) -> Result<Vec<u32>> {
            self.batches.fetch_add(1, Ordering::SeqCst);
            self.taken.fetch_add(items.len(), Ordering::SeqCst);
            drop(self.gate.acquire().await.expect("the gate"));
            if items.iter().any(|&&n| n == 13) {
                return Err(Status::invalid_argument("13").into());
            }
            Ok(items.iter().map(|&&n| n * 2).collect())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_fails_alone_and_the_others_are_written() {
        let commit = GroupCommit::new(
            Doubler {
                batches: AtomicUsize::new(0),
                taken: AtomicUsize::new(0),
                gate: Semaphore::new(0),
            },
            1,
            64,
        );
        let calls: Vec<_> = (0..200u32)
            .map(|n| {
                let commit = commit.clone();
                tokio::spawn(async move { commit.write(n).await })
            })
            .collect();
        let writer = &commit.shared.writer;
        while commit.shared.waiting.lock().expect("the queue").len()
            + writer.taken.load(Ordering::SeqCst)
            < 200
        {
            tokio::task::yield_now().await;
        }
        writer.gate.add_permits(1_000);
        for (n, call) in (0..200u32).zip(calls) {
            match call.await.expect("the call") {
                Ok(written) => {
                    assert_ne!(n, 13);
                    assert_eq!((written.item, written.output), (n, n * 2));
                }
                Err(error) => {
                    assert_eq!(n, 13, "{error}");
                    assert_eq!(Status::from(error).code(), Code::InvalidArgument);
                }
            }
        }
        // The first batch, then the rest in at most four of 64; the one holding 13 again write
        // by write.
        let batches = writer.batches.load(Ordering::SeqCst);
        assert!(batches <= 1 + 4 + 64, "{batches} batches for 200 writes");
    }
}
