//! The read-side merge: from per-source entry streams to the user's view.
//!
//! Three layers, each an owned, double-ended iterator:
//!
//! 1. sources yield `(InternalKey, value)` in internal-key order: a
//!    [`MemSource`] per memtable (already filtered by snapshot),
//!    `TableReader::entries` per L0 table and a [`LevelSource`] per deeper
//!    level (neither filtered);
//! 2. [`MergingIterator`] merges them into one stream in internal-key order,
//!    ties going to the newer (lower-index) source;
//! 3. [`DbIterator`] collapses each user key's versions into the one visible
//!    at the read's snapshot and drops tombstones and expired values.
//!
//! ## Invariants
//! * Every layer may be driven from both ends, in any interleaving; the ends
//!   never cross and never yield an item twice.
//! * After a layer yields an `Err` it yields nothing more, from either end.
//!
//! ## Concurrency
//! All three are `Send` and owned by one reader at a time. Memtables may take
//! concurrent inserts while a [`MemSource`] reads them (those carry seqnos
//! above the read's snapshot and are filtered out).

mod db_iter;
mod level_source;
mod mem_source;
mod merge;
#[cfg(test)]
mod test_support;

pub use db_iter::DbIterator;
pub(crate) use level_source::LevelSource;
pub(crate) use mem_source::MemSource;
pub(crate) use merge::{BoxedSource, MergingIterator};
