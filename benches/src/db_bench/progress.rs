//! [`Progress`]: how a running workload reports how far it got.

use super::Workload;

/// Receives progress from the workload threads (hence `Sync`). Calls are
/// batched (every few hundred operations per thread), so an implementation
/// may take a lock or draw.
pub trait Progress: Sync {
    /// A workload starts; about `total_ops` operations will follow.
    fn start(&self, workload: Workload, total_ops: u64);
    /// `ops` more operations are done.
    fn advance(&self, ops: u64);
    /// The workload is done (or failed).
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _workload: Workload, _total_ops: u64) {}
    fn advance(&self, _ops: u64) {}
    fn finish(&self) {}
}
