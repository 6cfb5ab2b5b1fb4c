//! # strata
//!
//! An embeddable LSM-tree key-value store: ordered byte keys and values,
//! atomic batches, snapshots, TTL, counters, and crash-safe recovery.
//!
//! ```
//! use std::time::Duration;
//! use strata::{Db, Options, WriteBatch};
//!
//! let dir = tempfile::tempdir()?;
//! let db = Db::open(dir.path(), Options::default())?;
//!
//! db.put("user:1", "ada")?;
//! db.put_with_ttl("session:9", "token", Duration::from_secs(60))?;
//! assert_eq!(db.get("user:1")?.as_deref(), Some(&b"ada"[..]));
//!
//! let mut batch = WriteBatch::new();
//! batch.put(b"user:2", b"grace")?;
//! batch.delete(b"user:1")?;
//! db.write(batch)?; // all or nothing, also after a crash
//!
//! assert_eq!(db.increment("visits", 5)?, 5);
//!
//! let snapshot = db.snapshot();
//! db.put("user:3", "edsger")?;
//! let users: Vec<_> = snapshot.prefix("user:").collect::<Result<_, _>>()?;
//! assert_eq!(users.len(), 1); // user:2; user:3 came later
//!
//! db.flush()?; // memtables to L0 tables
//! db.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## How it works
//! A write goes to the write-ahead log (WAL) and then to the active
//! memtable. A full memtable becomes immutable and a background thread
//! writes it to a level-0 table (SST) and records the table in the
//! manifest. Background compaction merges tables by a pluggable
//! [`CompactionStrategy`] ([`Leveled`] by default, [`SizeTiered`],
//! [`TimeWindow`], or your own). Reads consult the memtables, then the
//! tables, newest first. The sources of data form an immutable version that
//! readers load without locks; flushes and compactions install a new one.
//! `docs/architecture.md` describes the write and read paths, compaction,
//! the version swap, and recovery; `docs/compaction.md` the strategies.
//!
//! ## Guarantees
//! * A write is visible to reads once its call returns, and not before;
//!   readers see writes in order, and a batch whole or not at all.
//! * Under every [`SyncPolicy`] an acknowledged write survives a crash of
//!   the process. Under [`SyncPolicy::Always`] it also survives a power
//!   loss; under the other policies a power loss may lose the last writes,
//!   but what survives is a prefix of the acknowledged writes (no holes).
//! * Data read from disk is verified: damage is reported as
//!   [`Error::Corruption`] naming the file and offset, never returned as
//!   data.
//!
//! ## Concurrency
//! [`Db`] is `Send + Sync + Clone`. Concurrent writers are committed in
//! groups; readers never block writers or each other; one background thread
//! flushes memtables and syncs the WAL under [`SyncPolicy::Interval`], and
//! `compaction_threads` more compact, on Linux at a lower CPU priority
//! than the thread that opened the database
//! ([`Options::compaction_nice`]), so they yield the cores to reads and
//! writes when both want them.
//!
//! The [`manifest`] module exposes the on-disk version records for tools.
//! [`verify`] checks a closed data directory file by file (every block and
//! record checksum, the manifest replayed strictly, tables against the
//! manifest) and returns a [`VerifyReport`]; it never modifies anything.
#![forbid(unsafe_code)]

mod db;
mod iter;
pub mod manifest;
mod options;
mod verify;
mod version;

#[doc(hidden)]
pub mod fuzzing;

pub use bytes::Bytes;
pub use db::{Db, LevelStats, OpenReport, Snapshot, Stats};
pub use iter::DbIterator;
pub use options::{Clock, ManualClock, Options, SystemClock};
pub use strata_compaction::{
    CompactionPick, CompactionStrategy, CompactionTask, FileView, Leveled, LevelsView, PickReason,
    SizeTiered, TimeWindow,
};
pub use strata_core::{Error, Result, SeqNo};
pub use strata_sstable::CompressionType;
pub use strata_wal::{RecoveryMode, SyncPolicy, WriteBatch};
pub use verify::{FileKind, FileReport, FileStatus, VerifyReport, verify, verify_with_fs};

/// Compiles and runs the README's example as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
