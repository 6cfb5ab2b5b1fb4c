//! The manifest: the durable history of which SST files are live in which
//! level, plus the counters (next file number, last sequence number, oldest
//! live WAL).
//!
//! * A manifest file `MANIFEST-NNNNNN` is a log (the WAL's framing,
//!   [`strata_wal::LogWriter`]) of [`VersionEdit`] records. Its first record
//!   is a snapshot of the whole state; each later one is a change, synced
//!   before [`ManifestWriter::append`] returns.
//! * `CURRENT` names the live manifest. [`ManifestWriter::create`] switches
//!   to a new manifest crash-safely (write, sync, rename, sync).
//! * [`recover`] reads `CURRENT`, replays the manifest into a
//!   [`ManifestState`], and reports a torn last edit.
//!
//! Byte layouts: `docs/format.md`, "Manifest and CURRENT".
//!
//! ## Concurrency
//! Nothing here is shared: a [`ManifestWriter`] takes `&mut self`, and a
//! [`ManifestState`] is a plain value the engine guards or copies. One
//! process at a time may write a directory's manifest (the engine holds the
//! directory lock).

mod current;
mod recover;
mod writer;

pub use crate::version::{FileMetadata, LevelFiles, MAX_LEVELS, ManifestState, VersionEdit};
pub use current::{
    CURRENT_FILE_NAME, database_exists, manifest_file_name, parse_manifest_file_name,
};
pub(crate) use recover::recover_with_mode;
pub use recover::{MAX_FILE_NUMBER, RecoveredManifest, recover};
pub use writer::ManifestWriter;
