//! # strata-memtable
//!
//! strata's in-memory write buffer: a lock-free skiplist from internal key
//! `(user key, seqno, kind)` to value, whose nodes live in an arena of
//! 64-bit words owned by the memtable. Every write lands here (after the
//! WAL) until the memtable fills up, becomes immutable, and is flushed to a
//! level-0 SST.
//!
//! * [`MemTable::insert`] copies one version of a key into the arena;
//! * [`MemTable::get`] returns the newest version visible at a snapshot
//!   (a value, a value with expiry, or a tombstone) as a [`MemEntry`];
//!   a memtable made by [`MemTable::with_filter`] keeps a bloom filter of
//!   its user keys, so a `get` of a key it lacks usually costs one load;
//! * [`MemTable::range`] / [`MemTable::iter`] yield every version in
//!   internal-key order, forwards and backwards; [`MemTable::visible_range`]
//!   yields only the newest visible version per user key;
//! * [`MemTable::cursor`] is a seekable cursor for merging iterators and flush;
//! * [`MemTable::approximate_memory_usage`] tells the engine when to rotate.
//!
//! ## Layout
//! A node is one run of words in an arena chunk: two header words (key
//! length, tower height and value length; seqno and kind), one link per level of its
//! tower (half the nodes have more than one), then the key and the
//! value, each rounded up to whole words. A 16-byte key with a 100-byte
//! value costs about 152 bytes, with no allocation per entry. Keys are
//! stored big-endian by word, so a search compares 8 bytes per integer
//! comparison, and a short key shares a cache line with the links a search
//! follows. The arena is made of atomics so that it needs no `unsafe`;
//! reads copy keys and values out (see `docs/architecture.md`).
//!
//! ## Invariants
//! 1. Order is core's [`InternalKey`](strata_core::InternalKey) order: user key ascending (bytewise),
//!    then seqno descending, then kind descending. A forward scan meets the
//!    newest version of each key first.
//! 2. The memtable is append-only: nothing is ever removed or overwritten, so
//!    `len()` and `approximate_memory_usage()` never decrease, and memory is
//!    freed only when the whole memtable is dropped.
//! 3. Values are stored as given and never interpreted: expiry
//!    ([`strata_core::ExpiringValue`]) is judged by the engine.
//!
//! ## Concurrency rules
//! * `MemTable` is `Send + Sync`; every method takes `&self`. Share it in an
//!   `Arc`.
//! * Any number of threads may insert at once (lock-free: one
//!   compare-and-swap per tower level; a lock is taken only to add an
//!   arena chunk, once per 1 MiB).
//!   **REQUIRES**: each `(user key, seqno)` pair is inserted at most once —
//!   the engine hands out every seqno once (checked by `debug_assert!` only).
//! * Reads (`get`, iterators, cursors) are lock-free and never block writers.
//!   An entry is visible to a read that starts after its `insert` returned.
//!   Entries whose `insert` is still running, or that start while an iterator
//!   is live, may or may not be seen; iteration order stays correct either way.
//! * Hence a snapshot read is exact when every write with `seqno <= snapshot`
//!   has finished inserting. **The engine must publish a seqno as visible
//!   (advance its last-visible seqno) only after all inserts of that write and
//!   of every smaller seqno have returned.**
//! * `min_seqno`/`max_seqno`/`approximate_memory_usage` are updated with
//!   relaxed atomics: approximate while inserts are in flight, exact once they
//!   are done (e.g. for an immutable memtable handed to flush).
//!
//! ## Example
//! ```
//! use bytes::Bytes;
//! use strata_core::ValueKind;
//! use strata_memtable::MemTable;
//!
//! let mem = MemTable::new();
//! mem.insert("apple", 1, ValueKind::Put, "red")?;
//! mem.insert("apple", 3, ValueKind::Put, "green")?;
//! mem.insert("pear", 2, ValueKind::Put, "yellow")?;
//! mem.insert("pear", 4, ValueKind::Delete, "")?;
//!
//! // Snapshot reads see the newest version with seqno <= snapshot.
//! assert_eq!(mem.get(b"apple", 2).unwrap().value, "red");
//! assert_eq!(mem.get(b"apple", 9).unwrap().value, "green");
//! assert!(mem.get(b"pear", 9).unwrap().is_tombstone());
//! assert!(mem.get(b"plum", 9).is_none());
//!
//! // Iteration yields every version: newest first within a key.
//! let seqnos: Vec<u64> = mem.iter().map(|(k, _)| k.seqno).collect();
//! assert_eq!(seqnos, [3, 1, 4, 2]);
//!
//! // Reverse, over a range of user keys.
//! let keys: Vec<Bytes> = mem
//!     .range(Bytes::from("b")..)
//!     .rev()
//!     .map(|(k, _)| k.user_key)
//!     .collect();
//! assert_eq!(keys, ["pear", "pear"]);
//!
//! // A cursor for merging iterators.
//! let mut cursor = mem.cursor();
//! cursor.seek(b"b");
//! assert_eq!(cursor.key().unwrap().user_key, b"pear");
//! assert!(mem.approximate_memory_usage() > 0);
//! # Ok::<(), strata_core::Error>(())
//! ```
#![forbid(unsafe_code)]

mod arena;
mod cursor;
mod filter;
#[doc(hidden)]
pub mod fuzzing;
mod memtable;
mod range;
mod skiplist;

pub use cursor::{CursorPosition, MemTableCursor};
pub use memtable::{ENTRY_OVERHEAD, MemEntry, MemTable};
pub use range::{MemTableRange, VisibleRange};

/// Compiles and runs the README's example as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
