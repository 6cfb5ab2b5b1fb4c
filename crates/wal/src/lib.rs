//! # strata-wal
//!
//! strata's write-ahead log. It also frames the manifest: the framing layer
//! carries opaque byte records.
//!
//! * [`LogWriter`] splits records into fragments inside fixed 32 KiB blocks,
//!   each with a masked CRC-32C, and appends one record with one write.
//! * [`LogReader`] reads them back block by block, verifying everything, and
//!   handles damage per [`RecoveryMode`], describing what it dropped in a
//!   [`RecoveryReport`].
//! * [`WriteBatch`] is the content of a WAL record: base sequence number,
//!   count, and the put / put-with-expiry / delete operations.
//! * [`Wal`] shares a writer between threads with group commit: one leader
//!   writes every queued record with one append and covers them with one
//!   fsync, as the [`SyncPolicy`] asks.
//!
//! The byte layout is in `docs/format.md` ("Write-ahead log").
//!
//! ## Invariants
//! * A fragment never crosses a block boundary; a block tail shorter than a
//!   header (7 bytes) is zero-filled.
//! * A reader returns only records whose every fragment passed its checksum,
//!   in file order, and never resumes after a damaged region (see
//!   [`LogReader`] for why, and what the report says).
//! * [`RecoveryMode::TolerateTornTail`] tolerates only what a crash leaves:
//!   damage with no intact record after it (a torn tail), or a zero-filled
//!   hole before intact records (later unsynced pages persisted, an earlier
//!   one not). Any other damage followed by intact records is
//!   [`Error::Corruption`](strata_core::Error::Corruption), as in
//!   [`RecoveryMode::Strict`]. The exact rule is on [`LogReader`].
//! * A reader built with [`LogReader::zero_tail_is_end`] (for logs that may
//!   be preallocated, as the engine's WALs under a syncing policy are)
//!   takes zeros from a record boundary to the end of the file for the
//!   log's end, in both modes.
//! * After any failed append or sync, a [`LogWriter`] or [`Wal`] refuses
//!   further writes.
//!
//! ## Concurrency
//! [`LogWriter`] and [`LogReader`] are single-threaded (`&mut self`).
//! [`Wal`] is `Send + Sync`: call [`Wal::append`] from any number of threads.
//!
//! ## Example
//! ```
//! use std::path::Path;
//! use strata_core::{FaultFs, FileSystem};
//! use strata_wal::{LogReader, LogWriter, RecoveryMode, SyncPolicy, Wal, WriteBatch};
//!
//! # fn main() -> strata_core::Result<()> {
//! let fs = FaultFs::new(); // or StdFs for real files
//! let path = Path::new("/db/000001.log");
//! fs.create_dir_all(Path::new("/db"))?;
//!
//! let mut batch = WriteBatch::new();
//! batch.put(b"apple", b"red")?;
//! batch.delete(b"pear")?;
//! batch.set_base_seqno(42)?;
//!
//! let wal = Wal::new(LogWriter::new(fs.create(path)?), SyncPolicy::Always);
//! wal.append(batch.as_bytes())?; // durable when this returns
//!
//! let mut reader = LogReader::new(fs.open(path)?, path, RecoveryMode::TolerateTornTail)?;
//! while let Some(record) = reader.next_record()? {
//!     let batch = WriteBatch::decode_from(&record, path, reader.last_record_offset())?;
//!     assert_eq!(batch.base_seqno(), 42);
//!     assert_eq!(batch.len(), 2);
//! }
//! assert_eq!(reader.report().records, 1);
//! assert_eq!(reader.report().bytes_dropped(), 0);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod batch;
mod format;
mod reader;
mod sync_policy;
mod wal;
mod writer;

#[doc(hidden)]
pub mod fuzzing;

pub use batch::{BATCH_HEADER_SIZE, BatchEntry, BatchIter, FrozenBatch, FrozenEntry, WriteBatch};
pub use format::{BLOCK_SIZE, HEADER_SIZE, MAX_FRAGMENT_PAYLOAD};
pub use reader::{DroppedTail, LogReader, RecoveryMode, RecoveryReport};
pub use sync_policy::SyncPolicy;
pub use wal::{Wal, WalStats};
pub use writer::LogWriter;

/// Compiles and runs the README's example as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
