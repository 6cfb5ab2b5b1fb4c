//! Blocks: the unit of I/O, caching and checksumming inside an SST.
//!
//! A block is a run of key/value entries sorted by key, with *prefix
//! compression*: each entry stores only the bytes of its key that differ from
//! the previous key. Every `restart_interval` entries a *restart point* stores
//! its key whole; the offsets of the restart points sit at the end of the block
//! so a reader can binary-search them and then scan at most one interval.
//!
//! ```text
//! entry   := shared: varint32 ‖ unshared: varint32 ‖ value_len: varint32
//!            ‖ key_delta[unshared] ‖ value[value_len]
//! block   := entry* ‖ restart: u32 LE × num_restarts ‖ num_restarts: u32 LE
//! ```
//!
//! Invariants of a block written by [`BlockBuilder`]:
//! * keys strictly increase under the comparator the block is read with;
//! * the first entry and every entry at a restart offset has `shared == 0`;
//! * restart offsets strictly increase and point inside the entry region;
//! * `num_restarts >= 1` (an empty block has the single restart 0).
//!
//! A reader trusts none of this: [`Block::decode`] validates the restart
//! array, [`BlockIter`] and the point-seek path bounds-check every entry
//! they decode, turning bad bytes into `Error::Corruption` with the absolute
//! file offset, and [`Block::validate`] walks every entry (for the index
//! block and for `verify`).

mod builder;
mod hints;
mod iter;
mod point;

pub(crate) use builder::BlockBuilder;
pub(crate) use hints::RestartHints;
pub(crate) use iter::{Block, BlockIter};

/// Orders the keys of a block.
pub(crate) type KeyComparator = fn(&[u8], &[u8]) -> std::cmp::Ordering;

/// Bytes of one restart offset and of the restart count.
const U32_LEN: usize = 4;

#[cfg(test)]
mod tests;
