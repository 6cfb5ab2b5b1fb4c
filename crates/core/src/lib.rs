//! # strata-core
//!
//! The vocabulary every strata crate shares:
//!
//! * [`SeqNo`], [`ValueKind`] and [`InternalKey`]: the tagged keys stored in the
//!   memtable and in SSTs, with their total order (user key ascending, then
//!   sequence number descending) in [`key`];
//! * fixed-width and varint encodings plus a bounds-checked [`SliceReader`]
//!   in [`coding`];
//! * CRC-32C checksums, plain and masked, in [`checksum`];
//! * the [`Error`] enum returned by every crate;
//! * the [`FileSystem`] trait all I/O goes through, with [`StdFs`] (the real
//!   one), [`FaultFs`] (a simulated disk for crash tests) and [`DirLock`].
//!
//! ## Invariants
//! * Persisted numbers are little-endian; [`ValueKind`] discriminants are on
//!   disk and never renumbered.
//! * Decoding untrusted bytes never panics: helpers return `None`, callers
//!   report [`Error::Corruption`] with the file and offset.
//!
//! ```
//! use strata_core::{InternalKey, ValueKind};
//!
//! let older = InternalKey::new(&b"apple"[..], 7, ValueKind::Put);
//! let newer = InternalKey::new(&b"apple"[..], 9, ValueKind::Delete);
//! assert!(newer < older, "the newest version of a key sorts first");
//! ```

pub mod checksum;
pub mod coding;
mod error;
pub mod fs;
pub mod key;

pub use coding::SliceReader;
pub use error::{Error, Result};
pub use fs::{
    DirLock, FaultFs, FileSystem, FsOp, RandomAccessFile, StdFs, WritableFile, zeros_from,
};
pub use key::{
    ExpiringValue, InternalKey, InternalKeyRef, MAX_KEY_SIZE, MAX_SEQNO, MAX_VALUE_SIZE, SeqNo,
    ValueKind, compare_internal_keys, compare_user_keys,
};

/// Compiles and runs the README's example as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
