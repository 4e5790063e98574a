//! Group commit of the two writes every mail makes (`switchboard_platform::group_commit`): its
//! original stored, and the record of its ticket message with its event. Mails submitted
//! together share one statement for each, so under a peak a mail costs a share of two commits.
//! A mail over [`BATCHED_BYTES`] is stored by a statement of its own: a batch never holds more
//! than a few megabytes of originals.

use sqlx::PgPool;
use switchboard_platform::{
    error::Result,
    group_commit::{BatchWrite, GroupCommit},
};

use super::store::{self, Done, NewInbound, Stored};

/// The most mails one statement writes.
const MAX_BATCH: usize = 64;
/// Originals up to this size are stored in batches (64 of them at most 32 MiB).
const BATCHED_BYTES: usize = 512 * 1024;

pub struct StoreWriter(PgPool);

impl BatchWrite for StoreWriter {
    type Item = NewInbound;
    type Output = (Stored, bool);

    async fn write(&self, messages: &[&NewInbound]) -> Result<Vec<(Stored, bool)>> {
        store::store_many(&self.0, messages).await
    }
}

pub struct RecordWriter(PgPool);

impl BatchWrite for RecordWriter {
    type Item = Done;
    type Output = ();

    async fn write(&self, done: &[&Done]) -> Result<Vec<()>> {
        store::record_many(&self.0, done).await?;
        Ok(vec![(); done.len()])
    }
}

#[derive(Clone)]
pub struct Batches {
    pool: PgPool,
    stores: GroupCommit<StoreWriter>,
    records: GroupCommit<RecordWriter>,
}

impl Batches {
    pub fn new(pool: PgPool) -> Self {
        Self {
            stores: GroupCommit::new(StoreWriter(pool.clone()), 1, MAX_BATCH),
            records: GroupCommit::new(RecordWriter(pool.clone()), 1, MAX_BATCH),
            pool,
        }
    }

    /// `store::store`, in the next batch unless the original is large.
    pub async fn store(&self, message: NewInbound) -> Result<(Stored, bool)> {
        if message.raw.len() > BATCHED_BYTES {
            return store::store(&self.pool, &message).await;
        }
        Ok(self.stores.write(message).await?.output)
    }

    /// `store::record_many` of `done`, in the next batch.
    pub async fn record(&self, done: Done) -> Result<()> {
        self.records.write(done).await.map(|_| ())
    }
}
