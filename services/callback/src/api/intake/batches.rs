//! Group commit of pushes (`switchboard_platform::group_commit`): pushes waiting together are
//! written in one statement (`store::intake_push::push_many`), so under a peak a push costs a
//! share of one statement and one commit, and a lone push is written at once.

use sqlx::PgPool;
use switchboard_platform::{
    error::Result,
    group_commit::{BatchWrite, GroupCommit},
};

use crate::store::intake_push::{PushOutcome, PushStatement, push_many};

/// The most pushes one statement writes.
pub const MAX_BATCH: usize = 64;

/// Pushes written in batches.
pub type PushBatches = GroupCommit<PushWriter>;

/// Writes a batch of pushes on its pool.
pub struct PushWriter(pub PgPool);

impl BatchWrite for PushWriter {
    type Item = PushStatement;
    type Output = PushOutcome;

    async fn write(&self, pushes: &[&PushStatement]) -> Result<Vec<PushOutcome>> {
        push_many(&self.0, pushes).await
    }
}

/// Batches of pushes written on `pool`, at most `writers` at once.
pub fn push_batches(pool: PgPool, writers: usize) -> PushBatches {
    GroupCommit::new(PushWriter(pool), writers, MAX_BATCH)
}
