//! [`Wal`]: a log shared by many writer threads, with group commit.
//!
//! # Protocol
//! An appender locks the queue, frames its record into the pending buffer
//! (so records reach the file in the order appenders took the lock), and joins
//! the *pending group*. If no leader is active it becomes the leader: it takes
//! the whole pending buffer, releases the queue lock, writes the buffer with a
//! single append, syncs once if the [`SyncPolicy`] asks, then publishes the
//! group's result and wakes everyone. Appenders that arrive meanwhile queue up
//! in the next group; one of them leads it once the current leader is done.
//!
//! # Failure
//! If a group's append or sync fails, every appender of that group and of all
//! later groups gets an [`Error::Io`], and the log refuses all further
//! appends: after a torn write the framing no longer matches the file, and
//! after a failed fsync the kernel may have dropped the dirty pages. The
//! engine must then stop accepting writes (and reopen, which recovers the
//! log with [`RecoveryMode::TolerateTornTail`](crate::RecoveryMode)).
//!
//! # Locks
//! `queue` guards framing and group bookkeeping; `file` guards the writer and
//! is held only by the leader (or by [`Wal::sync`] / [`Wal::sync_if_due`]). Nobody acquires `file`
//! while holding `queue`, so the two cannot deadlock.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::{Condvar, Mutex, MutexGuard};
use strata_core::{Error, Result};

use crate::sync_policy::SyncPolicy;
use crate::writer::{Framer, LogWriter};

/// Pending buffers larger than this are not kept for reuse.
const RETAINED_BUFFER: usize = 1024 * 1024;

/// Counters of a [`Wal`], for tests and stats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalStats {
    /// Records written (acknowledged or about to be).
    pub records: u64,
    /// Bytes written to the file by this `Wal`, framing included.
    pub bytes: u64,
    /// Write syscalls: one per group.
    pub appends: u64,
    /// `fsync` calls that succeeded.
    pub syncs: u64,
}

/// Why the log refuses writes: the first failure, replayed to each caller.
#[derive(Debug, Clone)]
struct Failure {
    /// The first group that did not make it.
    group: u64,
    kind: io::ErrorKind,
    message: String,
}

impl Failure {
    fn to_error(&self) -> Error {
        Error::Io(io::Error::new(self.kind, self.message.clone()))
    }
}

struct Queue {
    framer: Framer,
    /// Framed records of group `next_group`, not yet written.
    pending: Vec<u8>,
    pending_records: u64,
    spare: Vec<u8>,
    scratch: Vec<u8>,
    next_group: u64,
    /// Groups `0..completed` are written (and synced, if the policy says so).
    completed: u64,
    leader: bool,
    failed: Option<Failure>,
}

struct FileSide {
    writer: LogWriter,
    last_sync: Instant,
    /// Bytes were written since the last successful sync (or may have been,
    /// before this `Wal` wrapped the writer): lets [`Wal::sync_if_due`] skip
    /// fsyncs of an idle log.
    unsynced: bool,
}

/// A log that many threads append to concurrently, with group commit.
///
/// `Wal` is `Send + Sync`; share it with an `Arc`. Appenders queue up; one of
/// them (the leader) writes every queued record with a single append and, if
/// the [`SyncPolicy`] asks, covers them all with a single sync, then hands the
/// result to each of them. Records reach the file in the order their
/// appenders took the queue lock.
///
/// # Failure
/// If a group's append or sync fails, every appender of that group and of all
/// later groups gets an [`Error::Io`], and the log refuses every further
/// append (and [`Wal::sync`]): after a torn write the framing no longer
/// matches the file, and after a failed fsync the kernel may have dropped the
/// dirty pages. The engine must then fail its write path; reopening recovers
/// the log with [`RecoveryMode::TolerateTornTail`](crate::RecoveryMode).
///
/// An error from [`Wal::append`] or [`Wal::append_with`] means the record
/// *may or may not* be durable: the write may have completed (even reached the
/// disk) before the sync failed. Callers must not assume it was not written;
/// recovery may replay it.
///
/// Dropping a `Wal` does not sync: call [`Wal::sync`] first if the policy is
/// not [`SyncPolicy::Always`] and the tail should be durable. Under
/// [`SyncPolicy::Interval`] the engine's background timer must call
/// [`Wal::sync_if_due`] every interval, or the last records of a burst stay
/// unsynced until the next append.
pub struct Wal {
    queue: Mutex<Queue>,
    group_done: Condvar,
    file: Mutex<FileSide>,
    policy: SyncPolicy,
    records: AtomicU64,
    bytes: AtomicU64,
    appends: AtomicU64,
    syncs: AtomicU64,
}

impl Wal {
    /// Wraps `writer` (which may already hold records) for shared use.
    pub fn new(writer: LogWriter, policy: SyncPolicy) -> Self {
        let failed = writer.has_failed().then(|| Failure {
            group: 0,
            kind: io::ErrorKind::Other,
            message: crate::writer::poisoned().to_string(),
        });
        Self {
            queue: Mutex::new(Queue {
                framer: writer.framer(),
                pending: Vec::new(),
                pending_records: 0,
                spare: Vec::new(),
                scratch: Vec::new(),
                next_group: 0,
                completed: 0,
                leader: false,
                failed,
            }),
            group_done: Condvar::new(),
            file: Mutex::new(FileSide {
                unsynced: !writer.is_empty(),
                writer,
                last_sync: Instant::now(),
            }),
            policy,
            records: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            appends: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
        }
    }

    /// Appends `record`; returns once it reached the OS, and once it is
    /// durable under [`SyncPolicy::Always`].
    ///
    /// Records reach the log in the order their appenders took the queue
    /// lock, which is not the order in which callers computed their contents.
    /// A caller that assigns sequence numbers must do so inside
    /// [`Wal::append_with`], so that log order equals seqno order.
    ///
    /// # Errors
    /// [`Error::Io`] if the group's append or sync failed, or the log failed
    /// earlier (it then refuses every append; see the module docs). After an
    /// error the record *may or may not* be in the log, even durably (the
    /// write can succeed before the sync fails): do not assume it was not
    /// written.
    pub fn append(&self, record: &[u8]) -> Result<()> {
        let mut q = self.queue.lock();
        check_failed(&q)?;
        let Queue {
            framer, pending, ..
        } = &mut *q;
        framer.frame(record, pending);
        self.join_pending_group(q)
    }

    /// Like [`Wal::append`], but `encode` builds the record into the given
    /// (empty) buffer while the queue lock is held. Records reach the log in
    /// the order their `encode` calls ran, so a caller can assign sequence
    /// numbers inside `encode` and know the log is in seqno order.
    ///
    /// `encode` runs under the queue lock: keep it short, and it must not call
    /// any method of this `Wal` (that would deadlock).
    ///
    /// # Errors
    /// The error of `encode` (nothing is appended then), or as [`Wal::append`]
    /// — including that after an I/O error the record may or may not be durable.
    pub fn append_with<T>(&self, encode: impl FnOnce(&mut Vec<u8>) -> Result<T>) -> Result<T> {
        let mut q = self.queue.lock();
        check_failed(&q)?;
        let mut scratch = std::mem::take(&mut q.scratch);
        scratch.clear();
        let encoded = encode(&mut scratch);
        if encoded.is_ok() {
            let Queue {
                framer, pending, ..
            } = &mut *q;
            framer.frame(&scratch, pending);
        }
        if scratch.capacity() <= RETAINED_BUFFER {
            q.scratch = scratch;
        }
        let value = encoded?;
        self.join_pending_group(q)?;
        Ok(value)
    }

    /// Syncs everything written so far, whatever the policy. For
    /// [`SyncPolicy::Interval`] / [`SyncPolicy::Never`] callers that want a
    /// durability point (a timer, a clean shutdown).
    ///
    /// # Errors
    /// [`Error::Io`] if the sync fails (the log then refuses further appends)
    /// or the log failed earlier.
    pub fn sync(&self) -> Result<()> {
        check_failed(&self.queue.lock())?;
        self.sync_file(self.file.lock())
    }

    /// Syncs if the policy is [`SyncPolicy::Interval`], bytes were written
    /// since the last sync, and the interval has elapsed since it; returns
    /// whether it synced. The engine's background timer must call this every
    /// interval (and [`Wal::sync`] on close): the append path syncs only when
    /// an append finds the interval elapsed, so without the timer the records
    /// of a burst followed by idleness would stay unsynced indefinitely. An
    /// idle log is not synced again.
    ///
    /// # Errors
    /// As [`Wal::sync`].
    pub fn sync_if_due(&self) -> Result<bool> {
        let SyncPolicy::Interval(every) = self.policy else {
            return Ok(false);
        };
        check_failed(&self.queue.lock())?;
        let file = self.file.lock();
        if !file.unsynced || file.last_sync.elapsed() < every {
            return Ok(false);
        }
        self.sync_file(file).map(|()| true)
    }

    /// Syncs the file; on failure marks the log failed and wakes the waiters.
    fn sync_file(&self, mut file: MutexGuard<'_, FileSide>) -> Result<()> {
        let result = file.writer.sync();
        match &result {
            Ok(()) => {
                file.last_sync = Instant::now();
                file.unsynced = false;
                self.syncs.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                drop(file);
                let mut q = self.queue.lock();
                let group = q.next_group;
                record_failure(&mut q, group, e);
                self.group_done.notify_all();
            }
        }
        result
    }

    /// The counters so far.
    pub fn stats(&self) -> WalStats {
        WalStats {
            records: self.records.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            appends: self.appends.load(Ordering::Relaxed),
            syncs: self.syncs.load(Ordering::Relaxed),
        }
    }

    /// The sync policy.
    pub fn policy(&self) -> SyncPolicy {
        self.policy
    }

    /// True once an append or sync failed; every later append fails.
    pub fn has_failed(&self) -> bool {
        self.queue.lock().failed.is_some()
    }

    /// Waits until the group holding the caller's just-framed record is
    /// done, leading groups whenever no one else is.
    fn join_pending_group(&self, mut q: MutexGuard<'_, Queue>) -> Result<()> {
        q.pending_records += 1;
        let group = q.next_group;
        loop {
            if let Some(f) = &q.failed
                && group >= f.group
            {
                return Err(f.to_error());
            }
            if group < q.completed {
                return Ok(());
            }
            if q.leader {
                self.group_done.wait(&mut q);
            } else {
                // No leader and our group not done: ours is the pending group.
                debug_assert_eq!(group, q.next_group);
                self.lead(&mut q);
            }
        }
    }

    /// Writes the pending group with the queue unlocked and publishes the result.
    fn lead(&self, q: &mut MutexGuard<'_, Queue>) {
        q.leader = true;
        let group = q.next_group;
        q.next_group += 1;
        let spare = std::mem::take(&mut q.spare);
        let mut buf = std::mem::replace(&mut q.pending, spare);
        let records = std::mem::take(&mut q.pending_records);

        // A panicking file implementation must not leave `leader` set, or
        // every follower would wait forever: publish it as a failure first.
        let outcome = MutexGuard::unlocked(q, || {
            panic::catch_unwind(AssertUnwindSafe(|| self.write_group(&buf, records)))
        });
        let (result, panicked) = match outcome {
            Ok(result) => (result, None),
            Err(payload) => (
                Err(Error::Io(io::Error::other(
                    "the log file panicked during a write",
                ))),
                Some(payload),
            ),
        };

        buf.clear();
        if buf.capacity() <= RETAINED_BUFFER {
            q.spare = buf;
        }
        q.leader = false;
        match result {
            Ok(()) => q.completed = group + 1,
            Err(e) => record_failure(q, group, &e),
        }
        self.group_done.notify_all();
        if let Some(payload) = panicked {
            panic::resume_unwind(payload);
        }
    }

    fn write_group(&self, buf: &[u8], records: u64) -> Result<()> {
        let mut file = self.file.lock();
        file.unsynced = true;
        file.writer.append_framed(buf)?;
        self.appends.fetch_add(1, Ordering::Relaxed);
        self.records.fetch_add(records, Ordering::Relaxed);
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        let due = match self.policy {
            SyncPolicy::Always => true,
            SyncPolicy::Interval(every) => file.last_sync.elapsed() >= every,
            SyncPolicy::Never => false,
        };
        if due {
            file.writer.sync()?;
            file.last_sync = Instant::now();
            file.unsynced = false;
            self.syncs.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

fn check_failed(q: &Queue) -> Result<()> {
    match &q.failed {
        Some(f) => Err(f.to_error()),
        None => Ok(()),
    }
}

/// Records that `group` (and every later one) did not make it. Keeps the
/// first error message (later ones are its consequences) but the earliest
/// group: a leader that lost the race with a failing [`Wal::sync`] reports a
/// group older than the one the sync marked.
fn record_failure(q: &mut Queue, group: u64, e: &Error) {
    match &mut q.failed {
        Some(f) => f.group = f.group.min(group),
        None => {
            let kind = match e {
                Error::Io(io) => io.kind(),
                _ => io::ErrorKind::Other,
            };
            q.failed = Some(Failure {
                group,
                kind,
                message: format!("write-ahead log failed: {e}"),
            });
        }
    }
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("policy", &self.policy)
            .field("stats", &self.stats())
            .finish()
    }
}
