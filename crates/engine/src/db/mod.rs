//! [`Db`]: the database handle.

mod compact;
pub(crate) mod files;
mod flush;
mod nice;
mod open;
mod publish;
mod read;
mod shared;
mod snapshot;
mod stats;
pub(crate) mod wal_chain;
mod write;

use std::ops::RangeBounds;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use strata_core::{DirLock, Error, Result, ValueKind};
use strata_wal::WriteBatch;

use crate::iter::DbIterator;
use crate::options::Options;
pub use open::OpenReport;
use read::{KeyRange, iterate};
use shared::Shared;
pub use snapshot::Snapshot;
pub use stats::{LevelStats, Stats};

/// An open database. Cheap to clone: clones share one database, and it
/// closes when [`Db::close`] is called or the last clone is dropped.
///
/// `Db` is `Send + Sync`; call it from any number of threads. Writes from
/// concurrent threads are committed in groups (one WAL append, and one fsync
/// under [`SyncPolicy::Always`](crate::SyncPolicy), per group); reads never
/// wait for writes, flushes or each other.
#[derive(Clone)]
pub struct Db {
    handle: Arc<DbHandle>,
}

struct DbHandle {
    shared: Arc<Shared>,
    background: Mutex<Vec<JoinHandle<()>>>,
    lock: Mutex<Option<DirLock>>,
    report: OpenReport,
}

impl Db {
    /// Opens (or, with [`Options::create_if_missing`], creates) the
    /// database in directory `path`.
    ///
    /// Recovery replays the WALs of writes not yet in a table into new L0
    /// tables, drops a torn WAL tail or torn last manifest edit (reported
    /// in [`Db::recovery_report`]) unless [`Options::recovery_mode`] is
    /// strict, and deletes files of earlier runs that no manifest
    /// references.
    ///
    /// # Errors
    /// * [`Error::Locked`] if the directory is open elsewhere (in this
    ///   process or another);
    /// * [`Error::InvalidArgument`] for bad options, a missing database
    ///   without `create_if_missing`, or an existing one with
    ///   `error_if_exists`;
    /// * [`Error::Corruption`] if the manifest, `CURRENT`, or a WAL is
    ///   damaged beyond what a crash leaves (in strict mode: damaged at
    ///   all), or a table the manifest names, or the WAL its log number
    ///   names, is missing (a sign the manifest lost edits: replaying the
    ///   rest would serve stale values);
    /// * [`Error::Io`] if the file system fails.
    pub fn open(path: impl AsRef<Path>, options: Options) -> Result<Self> {
        let opened = open::open(path.as_ref(), options)?;
        let mut threads = Vec::new();
        let spawned = (|| -> std::io::Result<()> {
            let shared = Arc::clone(&opened.shared);
            threads.push(
                std::thread::Builder::new()
                    .name("strata-flush".into())
                    .spawn(move || shared.background_loop())?,
            );
            for i in 0..opened.shared.opts.compaction_threads {
                let shared = Arc::clone(&opened.shared);
                threads.push(
                    std::thread::Builder::new()
                        .name(format!("strata-compact-{i}"))
                        .spawn(move || {
                            nice::lower_current_thread(shared.opts.compaction_nice);
                            shared.compaction_loop()
                        })?,
                );
            }
            Ok(())
        })();
        if let Err(e) = spawned {
            opened.shared.shut_down_background();
            for t in threads {
                let _ = t.join();
            }
            return Err(e.into());
        }
        Ok(Self {
            handle: Arc::new(DbHandle {
                shared: opened.shared,
                background: Mutex::new(threads),
                lock: Mutex::new(Some(opened.lock)),
                report: opened.report,
            }),
        })
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
    }

    /// Sets `key` to `value`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the key or value exceeds its limit
    /// (nothing is written); [`Error::Io`] if the WAL write fails (the write
    /// may or may not be durable, and the database then refuses writes);
    /// [`Error::Background`] after a background failure; [`Error::Closed`].
    pub fn put(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        self.shared().check_sizes(key.as_ref(), value.as_ref())?;
        let batch = write::single(ValueKind::Put, key.as_ref(), value.as_ref(), 0)?;
        self.shared().write(batch)
    }

    /// Sets `key` to `value` for `ttl`: once it has passed (by the
    /// [`Clock`](crate::Clock) in the options) the key reads as absent.
    ///
    /// # Errors
    /// As [`Db::put`].
    pub fn put_with_ttl(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        ttl: Duration,
    ) -> Result<()> {
        self.shared().check_sizes(key.as_ref(), value.as_ref())?;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let expires = self.shared().now_ms().saturating_add(ttl_ms);
        let batch = write::single(
            ValueKind::PutWithExpiry,
            key.as_ref(),
            value.as_ref(),
            expires,
        )?;
        self.shared().write(batch)
    }

    /// Removes `key` (writes a tombstone; absent keys are fine).
    ///
    /// # Errors
    /// As [`Db::put`].
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<()> {
        self.shared().check_sizes(key.as_ref(), &[])?;
        let batch = write::single(ValueKind::Delete, key.as_ref(), &[], 0)?;
        self.shared().write(batch)
    }

    /// Applies every operation of `batch` atomically: readers see all or
    /// none of it, and so does recovery after a crash.
    ///
    /// # Errors
    /// As [`Db::put`]; an operation over a limit rejects the whole batch.
    pub fn write(&self, batch: WriteBatch) -> Result<()> {
        self.shared().write(batch)
    }

    /// Adds `delta` to the counter at `key` and returns the new value. A
    /// counter is stored as decimal text (`"42"`, `"-7"`), readable with
    /// [`Db::get`]; a missing (or expired) key counts as 0. Increments are
    /// atomic with respect to each other; a plain `put` racing with one may
    /// be overwritten by it.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the current value is not a decimal
    /// `i64` or the sum overflows (nothing is written); otherwise as
    /// [`Db::put`].
    pub fn increment(&self, key: impl AsRef<[u8]>, delta: i64) -> Result<i64> {
        let key = key.as_ref();
        let shared = self.shared();
        let _one_at_a_time = shared.increment_lock.lock();
        let current = match self.get(key)? {
            None => 0,
            Some(v) => std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "the value of {} is not a decimal integer, so it cannot be incremented",
                        String::from_utf8_lossy(key)
                    ))
                })?,
        };
        let next = current.checked_add(delta).ok_or_else(|| {
            Error::invalid_argument(format!("{current} + {delta} overflows an i64 counter"))
        })?;
        self.put(key, next.to_string())?;
        Ok(next)
    }

    /// The value of `key`, or `None` if it is absent, deleted or expired.
    ///
    /// # Errors
    /// [`Error::Corruption`] or [`Error::Io`] if a table on the lookup path
    /// cannot be read; [`Error::Closed`].
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Bytes>> {
        let shared = self.shared();
        shared.check_open()?;
        // Version first, then seqno: every write up to the seqno is in a
        // memtable or table of this version or of a newer one that only
        // holds writes above it.
        let version = shared.version.load();
        let snapshot = shared.publisher.visible();
        let value = version.get(key.as_ref(), snapshot, shared.clock());
        shared.after_read();
        value
    }

    /// The live keys in `range` with their values, in key order; iterate
    /// from the back (`.rev()`, `next_back`) for descending order. The
    /// iterator reads one consistent snapshot taken now, and pins what it
    /// reads until it is dropped. Tombstones, expired values and older
    /// versions are skipped.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata::Db::open(dir.path(), strata::Options::default()).unwrap();
    /// db.put("a", "1")?;
    /// db.put("b", "2")?;
    /// db.put("c", "3")?;
    /// let keys: Vec<_> = db.scan("a".."c").map(|kv| kv.map(|(k, _)| k)).collect::<Result<_, _>>()?;
    /// assert_eq!(keys, ["a", "b"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    ///
    /// Errors ([`Error::Corruption`], [`Error::Io`], [`Error::Closed`])
    /// are yielded as items; after one the iterator ends.
    pub fn scan<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> DbIterator {
        self.iter(&KeyRange::from_bounds(&range))
    }

    /// The live keys starting with `prefix`, in key order (double-ended),
    /// as [`Db::scan`].
    pub fn prefix(&self, prefix: impl AsRef<[u8]>) -> DbIterator {
        self.iter(&KeyRange::prefix(prefix.as_ref()))
    }

    fn iter(&self, range: &KeyRange) -> DbIterator {
        let shared = self.shared();
        if let Err(e) = shared.check_open() {
            return DbIterator::failed(e);
        }
        let version = shared.version.load_full();
        let snapshot = shared.publisher.visible();
        let iter =
            iterate(version, range, snapshot, shared.now_ms()).unwrap_or_else(DbIterator::failed);
        shared.after_read();
        iter
    }

    /// A consistent read-only view as of now; see [`Snapshot`]. A snapshot
    /// reads the version it pinned, so one kept across [`Db::close`] still
    /// reads — until the directory is opened again: opening deletes the
    /// tables no manifest names, including those only such a snapshot still
    /// needs, and its reads of them then fail with an error (never a wrong
    /// value).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(Arc::clone(self.shared()))
    }

    /// Writes everything in memory to L0 tables and returns when done (the
    /// WALs of the flushed memtables are then deleted).
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Background`] if a flush fails;
    /// [`Error::Closed`].
    pub fn flush(&self) -> Result<()> {
        let shared = self.shared();
        shared.check_writable()?;
        shared.make_room(true)?;
        // Wait for the memtables present now, not for an empty queue: under
        // steady writes the queue may never be empty.
        let pending = shared.version.load().imms.clone();
        let mut bg = shared.bg.lock();
        loop {
            if let Some(e) = &bg.error {
                return Err(Error::Background(e.clone()));
            }
            let current = shared.version.load();
            if !pending
                .iter()
                .any(|p| current.imms.iter().any(|m| Arc::ptr_eq(m, p)))
            {
                return Ok(());
            }
            if bg.shutting_down {
                return Err(Error::Closed);
            }
            shared.bg_cv.notify_all();
            shared.done_cv.wait(&mut bg);
        }
    }

    /// Flushes the memtables, then merges every table into the strategy's
    /// bottom level (after running compactions finish): afterwards, with no
    /// live snapshot, no tombstone, no expired value and no shadowed version
    /// remains on disk.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Background`] if a flush or the compaction
    /// fails (the tree is then as it was); [`Error::Closed`].
    pub fn compact(&self) -> Result<()> {
        self.flush()?;
        self.shared().compact_range(None)
    }

    /// Like [`Db::compact`], for the tables overlapping `range` (and, so
    /// that levels stay disjoint, every table overlapping those).
    ///
    /// # Errors
    /// As [`Db::compact`].
    pub fn compact_range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> Result<()> {
        self.flush()?;
        self.shared()
            .compact_range(Some(&KeyRange::from_bounds(&range)))
    }

    /// Counters and sizes; see [`Stats`].
    pub fn stats(&self) -> Stats {
        self.shared().stats()
    }

    /// What opening the database found: WAL records replayed, torn tails
    /// dropped, leftovers removed.
    pub fn recovery_report(&self) -> &OpenReport {
        &self.handle.report
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.shared().dir
    }

    /// The time, in unix milliseconds, by the clock this database judges
    /// expiry with ([`Options::clock`]): what a caller building a
    /// [`WriteBatch`] with `put_with_expiry` should count from.
    pub fn now_millis(&self) -> u64 {
        self.shared().now_ms()
    }

    /// True once [`Db::close`] was called on any clone of this handle.
    pub fn is_closed(&self) -> bool {
        self.shared()
            .closed
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Stops background work, syncs the live WALs and releases the directory, for
    /// every clone of this handle. Later calls on any clone fail with
    /// [`Error::Closed`] (iterators and snapshots taken before keep
    /// working). Memtables are not flushed: the next open replays the WAL.
    /// Dropping the last clone closes too, ignoring errors.
    ///
    /// # Errors
    /// [`Error::Io`] if the final WAL sync fails (writes acknowledged under
    /// a policy other than `Always` may then not be durable).
    pub fn close(&self) -> Result<()> {
        self.handle.close()
    }
}

impl DbHandle {
    fn close(&self) -> Result<()> {
        let shared = &self.shared;
        let _one_closer = shared.closing.lock();
        if shared.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        shared.shut_down_background();
        for thread in std::mem::take(&mut *self.background.lock()) {
            // A panicked background thread has nothing left to stop.
            let _ = thread.join();
        }
        // Waits for writers in flight, then makes their records durable:
        // the retired WALs not synced at rotation first, then the active one.
        let synced = {
            let target = shared.write_target.write();
            let retired = std::mem::take(&mut *shared.unsynced_wals.lock());
            retired
                .iter()
                .map(|(_, wal)| wal)
                .chain(std::iter::once(&target.wal))
                .filter(|wal| !wal.has_failed())
                .try_for_each(|wal| wal.sync())
        };
        self.lock.lock().take();
        synced?;
        // A background failure may have cost durability (a failed WAL
        // sync) or a flush: say so rather than report a clean close.
        shared.bg_error().map_or(Ok(()), Err)
    }
}

impl Drop for DbHandle {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.shared().dir)
            .finish_non_exhaustive()
    }
}
