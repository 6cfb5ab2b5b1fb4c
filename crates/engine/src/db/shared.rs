//! [`Shared`]: the state every handle, iterator and background job of one
//! open database shares.
//!
//! # Locks (always taken in this order, never the reverse)
//! 1. `version_lock` — serialises changes of the current version (memtable
//!    rotation, flush installs). Readers never take it.
//! 2. `write_target` (write side) — held by a rotation to swap the WAL and
//!    memtable; writers hold its read side from WAL append to publish.
//! 3. `manifest` — the manifest writer and the state it describes.
//! 4. `compaction` — busy files and running compactions; `compaction_cv`
//!    wakes compaction threads and manual compactions. Never held while
//!    taking a lock above it.
//! 5. `bg` — background flags; `bg_cv` wakes the background thread and
//!    `done_cv` wakes stalled writers and `flush()` callers.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use parking_lot::{Condvar, Mutex, RwLock};
use strata_core::{Error, FileSystem, Result, SeqNo};
use strata_wal::Wal;

use super::compact::CompactionState;
use super::publish::Publisher;
use crate::manifest::{ManifestState, ManifestWriter};
use crate::options::{Clock, Options};
use crate::version::{MemSlot, TableCache, Version};

/// Where writes go: the active WAL and the memtable it backs.
pub(crate) struct WriteTarget {
    pub(crate) wal: Arc<Wal>,
    pub(crate) slot: Arc<MemSlot>,
}

pub(crate) struct ManifestSide {
    pub(crate) writer: ManifestWriter,
    pub(crate) state: ManifestState,
    /// Size at which the manifest is next rewritten: twice its size after
    /// the last rewrite, and at least `manifest_rewrite_bytes`, so that a
    /// large state is not rewritten on every edit.
    pub(crate) rewrite_at: u64,
}

#[derive(Debug, Default)]
pub(crate) struct BgState {
    pub(crate) shutting_down: bool,
    /// The first background failure; writes are refused once it is set.
    pub(crate) error: Option<String>,
}

/// Counters behind [`Stats`](crate::Stats).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) user_bytes: AtomicU64,
    /// WAL bytes of logs already rotated away (the active log counts its own).
    pub(crate) retired_wal_bytes: AtomicU64,
    pub(crate) retired_wal_syncs: AtomicU64,
    pub(crate) flush_bytes: AtomicU64,
    pub(crate) compaction_bytes_read: AtomicU64,
    pub(crate) compaction_bytes_written: AtomicU64,
    pub(crate) flushes: AtomicU64,
    pub(crate) stall_nanos: AtomicU64,
    pub(crate) stalls: AtomicU64,
}

pub(crate) struct Shared {
    pub(crate) dir: PathBuf,
    pub(crate) opts: Options,
    pub(crate) fs: Arc<dyn FileSystem>,
    pub(crate) version: ArcSwap<Version>,
    pub(crate) version_lock: Mutex<()>,
    pub(crate) write_target: RwLock<WriteTarget>,
    pub(crate) manifest: Mutex<ManifestSide>,
    pub(crate) table_cache: Arc<TableCache>,
    /// Next file number to hand out (tables, WALs, manifests).
    pub(crate) next_file_number: AtomicU64,
    /// Next seqno to assign; only changed inside the WAL's queue lock.
    pub(crate) next_seqno: AtomicU64,
    pub(crate) publisher: Publisher,
    /// Live snapshots: seqno -> number of handles.
    pub(crate) snapshots: Mutex<BTreeMap<SeqNo, usize>>,
    pub(crate) bg: Mutex<BgState>,
    pub(crate) compaction: Mutex<CompactionState>,
    /// Wakes compaction threads and manual compactions waiting for them.
    pub(crate) compaction_cv: Condvar,
    pub(crate) bg_cv: Condvar,
    pub(crate) done_cv: Condvar,
    pub(crate) counters: Counters,
    pub(crate) closed: AtomicBool,
    /// Held for the whole of `close`, so a second caller returns only once
    /// the database is closed.
    pub(crate) closing: Mutex<()>,
    /// Mirrors `bg.error.is_some()`, so writes check it without a lock.
    pub(crate) failed: AtomicBool,
    /// Serialises `increment`s: read, add, write as one step.
    pub(crate) increment_lock: Mutex<()>,
    /// Retired WALs not synced at rotation (`SyncPolicy::Never`), by log
    /// number, oldest first, until their memtable's flush deletes them.
    /// `close` syncs what is left, so that a clean close leaves every
    /// acknowledged write durable.
    pub(crate) unsynced_wals: Mutex<Vec<(u64, Arc<Wal>)>>,
}

impl Shared {
    /// `Ok` if writes are accepted: not closed, no background failure.
    pub(crate) fn check_writable(&self) -> Result<()> {
        self.check_open()?;
        if self.failed.load(Ordering::Acquire)
            && let Some(e) = &self.bg.lock().error
        {
            return Err(Error::Background(e.clone()));
        }
        Ok(())
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(())
    }

    /// Records the first background failure and wakes everyone waiting.
    pub(crate) fn set_bg_error(&self, what: &str, e: &Error) {
        let mut bg = self.bg.lock();
        if bg.error.is_none() {
            bg.error = Some(format!("{what}: {e}"));
            self.failed.store(true, Ordering::Release);
        }
        self.done_cv.notify_all();
        self.bg_cv.notify_all();
    }

    pub(crate) fn bg_error(&self) -> Option<Error> {
        self.bg.lock().error.clone().map(Error::Background)
    }

    pub(crate) fn new_file_number(&self) -> u64 {
        self.next_file_number.fetch_add(1, Ordering::SeqCst)
    }

    /// Seqnos of live snapshots, ascending.
    pub(crate) fn snapshot_seqnos(&self) -> Vec<SeqNo> {
        self.snapshots.lock().keys().copied().collect()
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.opts.clock.now_millis()
    }

    /// The clock that judges expiry.
    pub(crate) fn clock(&self) -> &dyn Clock {
        &*self.opts.clock
    }

    /// Wakes the background thread (a memtable to flush, a shutdown).
    pub(crate) fn wake_background(&self) {
        let _bg = self.bg.lock();
        self.bg_cv.notify_all();
    }

    /// Tells every background thread to stop.
    pub(crate) fn shut_down_background(&self) {
        {
            let mut bg = self.bg.lock();
            bg.shutting_down = true;
            self.bg_cv.notify_all();
            self.done_cv.notify_all();
        }
        let _state = self.compaction.lock();
        self.compaction_cv.notify_all();
    }

    /// How long the background thread sleeps when idle: half the WAL sync
    /// interval under `SyncPolicy::Interval` (so a record waits at most
    /// about 1.5 intervals for its sync), else a second.
    pub(crate) fn idle_tick(&self) -> Duration {
        match self.opts.sync_policy {
            strata_wal::SyncPolicy::Interval(every) => (every / 2).max(Duration::from_millis(1)),
            _ => Duration::from_secs(1),
        }
    }

    /// Syncs the active WAL if the interval policy says it is due.
    pub(crate) fn sync_wal_if_due(&self) {
        if let Err(e) = self.write_target.read().wal.sync_if_due() {
            self.set_bg_error("WAL interval sync", &e);
        }
    }
}
