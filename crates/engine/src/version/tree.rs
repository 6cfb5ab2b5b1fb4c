//! [`Version`]: one immutable view of everything that holds data — the
//! active memtable, the immutable ones, and the tables of each level.
//!
//! The engine keeps the current version in an `ArcSwap`: a reader loads it
//! without locking and keeps it (and so every memtable and file in it)
//! alive for as long as it reads. Changes build a new version and swap it in.

use std::sync::Arc;

use bytes::Bytes;
use strata_core::{ExpiringValue, Result, SeqNo, ValueKind};
use strata_sstable::{FilterHash, VersionedValue};

use super::MAX_LEVELS;
use super::memslot::MemSlot;
use super::table::TableHandle;
use crate::options::Clock;

/// The data sources of the database at one moment.
///
/// Invariants: `imms` is newest first; `levels[0]` is ordered newest data
/// first (by largest seqno, then file number, descending) and its files may
/// overlap; `levels[1..]` are sorted by smallest key and do not overlap.
#[derive(Debug, Clone)]
pub(crate) struct Version {
    pub(crate) active: Arc<MemSlot>,
    pub(crate) imms: Vec<Arc<MemSlot>>,
    pub(crate) levels: Vec<Vec<Arc<TableHandle>>>,
}

/// The newest version of a key a lookup found, before TTL is applied.
enum Found {
    Value(ValueKind, Bytes),
    Nothing,
}

impl Version {
    pub(crate) fn new(active: Arc<MemSlot>) -> Self {
        Self {
            active,
            imms: Vec::new(),
            levels: vec![Vec::new(); MAX_LEVELS],
        }
    }

    /// The active and immutable memtables, newest first.
    pub(crate) fn memtables(&self) -> impl Iterator<Item = &Arc<MemSlot>> {
        std::iter::once(&self.active).chain(&self.imms)
    }

    /// The value of `user_key` at `snapshot`, judged alive by `clock`'s
    /// time (read only for a value that can expire).
    ///
    /// Sources are asked newest first and the first version found decides:
    /// memtables, then L0 tables whose range covers the key, then in each
    /// deeper level the one file that may hold it.
    pub(crate) fn get(
        &self,
        user_key: &[u8],
        snapshot: SeqNo,
        clock: &dyn Clock,
    ) -> Result<Option<Bytes>> {
        match self.find(user_key, snapshot)? {
            Found::Value(ValueKind::PutWithExpiry, value) => Ok(live_value(
                ValueKind::PutWithExpiry,
                value,
                clock.now_millis(),
            )),
            Found::Value(kind, value) => Ok(live_value(kind, value, 0)),
            Found::Nothing => Ok(None),
        }
    }

    fn find(&self, user_key: &[u8], snapshot: SeqNo) -> Result<Found> {
        for slot in self.memtables() {
            if let Some(e) = slot.mem.get(user_key, snapshot) {
                return Ok(Found::Value(e.kind, e.value));
            }
        }
        // Every table's filter uses the same hash: compute it once.
        let hash = FilterHash::of(user_key);
        let mut seeks = SeekCharge::default();
        if let Some(l0) = self.levels.first() {
            // Ask the bloom filters of the first 64 covering tables up front:
            // the probes are independent cache misses the CPU overlaps, where
            // asking each just before its lookup would serialise them.
            let mut maybe = 0u64;
            for (i, table) in l0.iter().take(64).enumerate() {
                if table.covers(user_key) && table.with_reader(|r| Ok(r.may_contain_hash(hash)))? {
                    maybe |= 1 << i;
                }
            }
            for (i, table) in l0.iter().enumerate() {
                let candidate = if i < 64 {
                    maybe & (1 << i) != 0
                } else {
                    table.covers(user_key) && table.with_reader(|r| Ok(r.may_contain_hash(hash)))?
                };
                if candidate && let Some(v) = seeks.read(table, user_key, snapshot, None)? {
                    return Ok(Found::Value(v.kind, v.value));
                }
            }
        }
        for level in self.levels.iter().skip(1) {
            // Files are sorted and disjoint: the only candidate is the first
            // whose largest key is not below the key.
            let i = level.partition_point(|t| t.meta.largest.user_key.as_ref() < user_key);
            if let Some(table) = level.get(i).filter(|t| t.covers(user_key))
                && let Some(v) = seeks.read(table, user_key, snapshot, Some(hash))?
            {
                return Ok(Found::Value(v.kind, v.value));
            }
        }
        Ok(Found::Nothing)
    }

    /// A copy with `slot` as the new active memtable and the old one first
    /// among the immutables.
    pub(crate) fn with_rotated(&self, slot: Arc<MemSlot>) -> Self {
        let mut imms = Vec::with_capacity(self.imms.len() + 1);
        imms.push(Arc::clone(&self.active));
        imms.extend(self.imms.iter().cloned());
        Self {
            active: slot,
            imms,
            levels: self.levels.clone(),
        }
    }

    /// A copy without the immutable memtable `flushed` and with `table` (its
    /// flush output, if it had data) at the front of L0.
    pub(crate) fn with_flushed(
        &self,
        flushed: &Arc<MemSlot>,
        table: Option<Arc<TableHandle>>,
    ) -> Self {
        let mut next = self.clone();
        next.imms.retain(|m| !Arc::ptr_eq(m, flushed));
        if let Some(table) = table
            && let Some(l0) = next.levels.first_mut()
        {
            l0.push(table);
            sort_level0(l0);
        }
        next
    }

    /// A copy with the tables `removed` (level, number) taken out and
    /// `added` put in, each level re-sorted: how a compaction, a move or a
    /// drop changes the tree.
    pub(crate) fn with_changes(
        &self,
        removed: &[(usize, u64)],
        added: Vec<(usize, Arc<TableHandle>)>,
    ) -> Self {
        let mut next = self.clone();
        for &(level, number) in removed {
            if let Some(files) = next.levels.get_mut(level) {
                files.retain(|t| t.meta.number != number);
            }
        }
        next.with_tables(added)
    }

    /// A copy with `added` tables appended (recovery: flushed WAL contents).
    pub(crate) fn with_tables(&self, added: Vec<(usize, Arc<TableHandle>)>) -> Self {
        let mut next = self.clone();
        for (level, table) in added {
            if let Some(files) = next.levels.get_mut(level) {
                files.push(table);
            }
        }
        for (i, files) in next.levels.iter_mut().enumerate() {
            if i == 0 {
                sort_level0(files);
            } else {
                files.sort_by(|a, b| a.meta.smallest.cmp(&b.meta.smallest));
            }
        }
        next
    }
}

/// Which table a point lookup charges a seek (LevelDB's rule): the first
/// whose block it read without finding the key, once it reads a second.
#[derive(Default)]
enum SeekCharge<'a> {
    #[default]
    NothingRead,
    Missed(&'a Arc<TableHandle>),
    Charged,
}

impl<'a> SeekCharge<'a> {
    /// `table`'s entry for `user_key` at `snapshot`, asking its filter
    /// first if given `hash` (`None`: the filter already passed); charges
    /// the table read in vain before it, if this reads a block.
    fn read(
        &mut self,
        table: &'a Arc<TableHandle>,
        user_key: &[u8],
        snapshot: SeqNo,
        hash: Option<FilterHash>,
    ) -> Result<Option<VersionedValue>> {
        table.with_reader(|r| {
            if hash.is_some_and(|h| !r.may_contain_hash(h)) {
                return Ok(None);
            }
            if let SeekCharge::Missed(first) = self {
                first.charge_seek();
                *self = SeekCharge::Charged;
            }
            let found = r.get_unfiltered(user_key, snapshot)?;
            if found.is_none() && matches!(self, SeekCharge::NothingRead) {
                *self = SeekCharge::Missed(table);
            }
            Ok(found)
        })
    }
}

/// Newest data first: overlapping L0 files must be consulted in that order.
fn sort_level0(files: &mut [Arc<TableHandle>]) {
    files.sort_by_key(|t| std::cmp::Reverse((t.meta.max_seqno, t.meta.number)));
}

/// The user value of a stored version, or `None` if it is a tombstone or has
/// expired at `now_ms`.
pub(crate) fn live_value(kind: ValueKind, value: Bytes, now_ms: u64) -> Option<Bytes> {
    match kind {
        ValueKind::Put => Some(value),
        ValueKind::Delete => None,
        ValueKind::PutWithExpiry => match ExpiringValue::decode_bytes(&value) {
            Some((at, user)) if !ExpiringValue::is_expired(at, now_ms) => Some(user),
            _ => None,
        },
    }
}
