//! [`SyncPolicy`]: when appended records are made durable.

use std::time::Duration;

/// When a [`Wal`](crate::Wal) calls `fsync` (`fdatasync`) on its file.
///
/// Under every policy an append returns only after its bytes reached the OS
/// (the write syscall completed), so killing the process never loses an
/// acknowledged record. The policies differ in what survives a power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// Sync before acknowledging every append. Group commit lets one sync
    /// cover all records appended concurrently. Acknowledged records survive
    /// power loss.
    #[default]
    Always,
    /// Sync at most once per interval. On the append path, the group whose
    /// write finds the interval elapsed since the last sync syncs (and waits
    /// for it). There is no background thread: the engine's timer must call
    /// [`Wal::sync_if_due`](crate::Wal::sync_if_due) every interval (and
    /// [`Wal::sync`](crate::Wal::sync) on close), or the last records of a
    /// burst followed by idleness stay unsynced until the next append. With
    /// that timer, power loss may lose up to about two intervals of
    /// acknowledged records (one interval plus the timer's lag).
    Interval(Duration),
    /// Never sync on the append path; the OS writes data back when it likes.
    /// Power loss may lose any acknowledged record not covered by an explicit
    /// [`Wal::sync`](crate::Wal::sync).
    Never,
}
