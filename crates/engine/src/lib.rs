//! # strata
//!
//! The storage engine of strata. **This crate currently contains only the
//! version-edit and manifest layer** ([`manifest`]); the `Db` type that opens
//! a database and serves reads and writes is not built yet.
//!
//! [`manifest`] records, durably and crash-safely, which SST files are live
//! in which level, plus the counters the engine needs on restart:
//!
//! * [`manifest::FileMetadata`]: one table's number, size, key, seqno and
//!   time ranges, entry and tombstone counts;
//! * [`manifest::VersionEdit`]: an atomic change (files added and removed,
//!   oldest live WAL, next file number, last sequence number);
//! * [`manifest::ManifestState`]: what replaying edits produces, validating
//!   each one;
//! * [`manifest::ManifestWriter`] and [`manifest::recover`]: the
//!   `MANIFEST-NNNNNN` files and the `CURRENT` pointer.
//!
//! ## Invariants
//! * An edit is applied whole or not at all; a file number is live in at
//!   most one level; counters never decrease; every file number in use is
//!   below the next file number.
//! * Levels 1 and up hold files that do not overlap in user keys; L0 files
//!   may overlap.
//! * An appended edit is durable when `append` returns; after a crash,
//!   recovery yields the state of a prefix of the appended edits, never
//!   anything else.
//!
//! ## Concurrency
//! Plain values and `&mut self` writers: the engine serialises manifest
//! writes and publishes states as it sees fit.
//!
//! ## Example
//! See the crate README (compiled as a doctest) for a manifest created,
//! extended by a flush edit, and recovered.

pub mod manifest;
mod version;

#[doc(hidden)]
pub mod fuzzing;

/// Compiles and runs the README's example as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
