//! A testing-only fail point (the crate's `testing` feature): crash a worker right after a
//! commit and before its ack, to see committed events redelivered and recognised by the inbox.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Once armed, the next commit of any worker of the consumer is its last: the worker fails
/// and the consumer drops its connection without acknowledging what was committed.
#[derive(Debug, Default)]
pub struct CrashAfterCommit {
    armed: AtomicBool,
    tripped: AtomicBool,
    left_unacked: AtomicU64,
}

impl CrashAfterCommit {
    pub(super) fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Called after each commit of `committed` new events; true once, when armed.
    pub(super) fn trip(&self, committed: usize) -> bool {
        if !self.armed.swap(false, Ordering::SeqCst) {
            return false;
        }
        self.left_unacked.store(committed as u64, Ordering::SeqCst);
        self.tripped.store(true, Ordering::SeqCst);
        true
    }

    /// The events committed but not acknowledged when the fail point tripped; `None` before.
    pub fn left_unacked(&self) -> Option<u64> {
        self.tripped
            .load(Ordering::SeqCst)
            .then(|| self.left_unacked.load(Ordering::SeqCst))
    }
}
