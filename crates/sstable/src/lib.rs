//! # strata-sstable
//!
//! strata's sorted string tables (SSTs): immutable files of key/value entries
//! sorted by internal key, written once by a flush or compaction and then
//! read concurrently.
//!
//! ```text
//! [data block 0][trailer] ... [data block n][trailer]
//! [filter block][trailer]      bloom filter over user keys
//! [properties block][trailer]  counts, key/seqno/time ranges, sizes, options
//! [index block][trailer]       one entry per data block: last key -> BlockHandle
//! [footer]                     64 bytes: meta block handles, version, crc, magic
//! ```
//!
//! The byte-level format is in `docs/format.md` (section "Sorted string tables").
//!
//! * [`TableBuilder`] writes a table from entries in increasing internal-key
//!   order, with [`TableOptions`] (block size, restart interval, bloom bits,
//!   compression, value limit, time range).
//! * [`TableReader`] opens one, answers point lookups ([`TableReader::get`]),
//!   and makes [`TableIterator`] cursors (seek, next, prev, user-key bounds) or
//!   [`TableEntries`] Rust iterators.
//! * [`BlockCache`] holds decoded data blocks for all tables, bounded in bytes.
//!
//! ## Invariants
//! * Every block is followed by a trailer whose crc32c covers its stored bytes
//!   and compression type; every read verifies it.
//! * Nothing read from disk is trusted: lengths and offsets are range-checked
//!   and failures are [`strata_core::Error::Corruption`] naming the file and
//!   offset; decoding never panics.
//! * Keys in a table strictly increase under
//!   [`strata_core::compare_internal_keys`].
//!
//! ## Concurrency
//! A [`TableBuilder`] is used by one thread. A [`TableReader`] is `Send +
//! Sync` and cheap to clone; any threads may read through it at once. A
//! [`TableIterator`] belongs to one thread at a time. The [`BlockCache`] is
//! shared by all threads and tables.
//!
//! ## Example
//!
//! ```
//! use std::path::Path;
//! use std::sync::Arc;
//! use strata_core::{FaultFs, FileSystem, InternalKey, ValueKind};
//! use strata_sstable::{BlockCache, TableBuilder, TableOptions, TableReader};
//!
//! # fn main() -> strata_core::Result<()> {
//! let fs = FaultFs::new();
//! let path = Path::new("/db/000001.sst");
//! fs.create_dir_all(Path::new("/db"))?;
//!
//! let mut builder = TableBuilder::new(fs.create(path)?, path, TableOptions::default())?;
//! builder.add(&InternalKey::new(&b"apple"[..], 2, ValueKind::Put), b"red")?;
//! builder.add(&InternalKey::new(&b"apple"[..], 1, ValueKind::Put), b"green")?;
//! builder.add(&InternalKey::new(&b"pear"[..], 3, ValueKind::Delete), b"")?;
//! let summary = builder.finish()?;
//! assert_eq!(summary.properties.num_entries, 3);
//!
//! let cache = Arc::new(BlockCache::new(1 << 20));
//! let table = TableReader::open(fs.open(path)?, path, 1, Some(cache))?;
//! let found = table.get(b"apple", 1)?.expect("version 1 is visible at snapshot 1");
//! assert_eq!(&found.value[..], b"green");
//! assert_eq!(table.get(b"pear", 9)?.map(|v| v.kind), Some(ValueKind::Delete));
//!
//! let mut it = table.iter();
//! it.seek_to_first();
//! let mut user_keys = Vec::new();
//! while it.valid() {
//!     user_keys.push(it.user_key().to_vec());
//!     it.next();
//! }
//! it.status()?;
//! assert_eq!(user_keys, [&b"apple"[..], b"apple", b"pear"]);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod block;
mod block_io;
mod bloom;
mod builder;
mod cache;
mod entries;
mod footer;
mod handle;
pub mod inspect;
mod iter;
mod options;
mod properties;
mod reader;

#[doc(hidden)]
pub mod bench_support;
#[doc(hidden)]
pub mod fuzzing;

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use builder::{TableBuilder, TableSummary};
pub use cache::BlockCache;
pub use entries::TableEntries;
pub use handle::BlockHandle;
pub use inspect::{TableCheck, TableInspector, verify_table};
pub use iter::TableIterator;
pub use options::{CompressionType, TableOptions};
pub use properties::TableProperties;
pub use reader::{FilterHash, TableReader, VersionedValue};
