//! The memtable: a concurrent skiplist from internal key to value.
//!
//! Concurrency: every method takes `&self`. Inserts may run on many threads at
//! once; reads (`get`, iterators, cursors) never block and never block writers.
//! See the crate docs for what a reader may observe while inserts are in flight.

use std::fmt;
use std::ops::{Bound, RangeBounds};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use crossbeam_skiplist::SkipMap;
use strata_core::{InternalKey, SeqNo, ValueKind};

use crate::cursor::MemTableCursor;
use crate::key_view::{LookupKey, MemKey, UserKeyRange};
use crate::range::{MemTableRange, VisibleRange};

/// Estimated bytes a skiplist entry costs beyond its key and value bytes.
///
/// A crossbeam-skiplist node holds the [`InternalKey`] with a 16-byte inline
/// copy of the user key's prefix and the value `Bytes` handle, a reference
/// count and a tower of pointers whose height is geometric with mean 2;
/// allocator bookkeeping adds about two words.
pub const ENTRY_OVERHEAD: usize = size_of::<InternalKey>()
    + size_of::<u128>()
    + size_of::<Bytes>()
    + size_of::<usize>() // refcount and height
    + 2 * size_of::<usize>() // mean tower height
    + 2 * size_of::<usize>(); // allocator header and rounding

/// One version of a key as stored in the memtable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemEntry {
    /// Sequence number of the write.
    pub seqno: SeqNo,
    /// What the write did: a put, a put with expiry, or a tombstone.
    pub kind: ValueKind,
    /// The stored value, shared with the memtable (no copy). For
    /// [`ValueKind::PutWithExpiry`] it is in [`strata_core::ExpiringValue`]
    /// layout, exactly as inserted; for a tombstone whatever was inserted
    /// (normally empty).
    pub value: Bytes,
}

impl MemEntry {
    /// True if this version is a tombstone.
    pub fn is_tombstone(&self) -> bool {
        self.kind == ValueKind::Delete
    }
}

/// A concurrent, append-only map from internal key to value.
///
/// See the [crate docs](crate) for the ordering, visibility and concurrency rules.
pub struct MemTable {
    map: SkipMap<MemKey, Bytes>,
    /// Key and value bytes plus [`ENTRY_OVERHEAD`] per entry; only grows.
    memory: AtomicUsize,
    /// Smallest seqno inserted; `SeqNo::MAX` while empty.
    min_seqno: AtomicU64,
    /// Largest seqno inserted; meaningful only once `len() > 0`.
    max_seqno: AtomicU64,
}

impl MemTable {
    /// An empty memtable.
    pub fn new() -> Self {
        Self {
            map: SkipMap::new(),
            memory: AtomicUsize::new(0),
            min_seqno: AtomicU64::new(SeqNo::MAX),
            max_seqno: AtomicU64::new(0),
        }
    }

    /// Adds one version of `user_key`.
    ///
    /// REQUIRES: no other entry with the same `(user_key, seqno)` was or will be
    /// inserted (the engine hands out each seqno once), and
    /// `seqno <= strata_core::MAX_SEQNO`. Checked by `debug_assert!` only;
    /// in release an exact duplicate `(user_key, seqno, kind)` replaces the
    /// earlier value.
    ///
    /// The value is stored as given: a [`ValueKind::PutWithExpiry`] value is
    /// already in [`strata_core::ExpiringValue`] layout and is not interpreted.
    /// Safe to call from many threads at once.
    pub fn insert(&self, user_key: Bytes, seqno: SeqNo, kind: ValueKind, value: Bytes) {
        debug_assert!(
            seqno <= strata_core::MAX_SEQNO,
            "seqno {seqno} beyond 56 bits"
        );
        debug_assert!(
            !self.contains_version(&user_key, seqno),
            "seqno {seqno} inserted twice for the same key"
        );
        let charge = user_key.len() + value.len() + ENTRY_OVERHEAD;
        self.memory.fetch_add(charge, Ordering::Relaxed);
        // Seqnos mostly arrive in increasing order: the plain loads keep the
        // common path free of read-modify-write on the minimum.
        if seqno < self.min_seqno.load(Ordering::Relaxed) {
            self.min_seqno.fetch_min(seqno, Ordering::Relaxed);
        }
        if seqno > self.max_seqno.load(Ordering::Relaxed) {
            self.max_seqno.fetch_max(seqno, Ordering::Relaxed);
        }
        self.map.insert(
            MemKey::new(InternalKey {
                user_key,
                seqno,
                kind,
            }),
            value,
        );
    }

    /// True if some entry has exactly this user key and seqno (any kind).
    fn contains_version(&self, user_key: &[u8], seqno: SeqNo) -> bool {
        let probe = LookupKey::visible_at(user_key, seqno);
        self.map
            .lower_bound(Bound::Included(probe.as_dyn()))
            .is_some_and(|e| e.key().ikey.user_key == user_key && e.key().ikey.seqno == seqno)
    }

    /// The newest version of `user_key` with `seqno <= snapshot`, tombstones
    /// included; `None` if the memtable holds no such version.
    ///
    /// Expiry is not judged here: a [`ValueKind::PutWithExpiry`] entry is
    /// returned whatever its expiry time.
    pub fn get(&self, user_key: &[u8], snapshot: SeqNo) -> Option<MemEntry> {
        let probe = LookupKey::visible_at(user_key, snapshot);
        let entry = self.map.lower_bound(Bound::Included(probe.as_dyn()))?;
        let key = &entry.key().ikey;
        (key.user_key == user_key).then(|| MemEntry {
            seqno: key.seqno,
            kind: key.kind,
            value: entry.value().clone(),
        })
    }

    /// All versions of the user keys in `range`, in internal-key order (user key
    /// ascending, newest version first); double-ended.
    ///
    /// An empty or inverted range yields nothing.
    pub fn range<R: RangeBounds<Bytes>>(&self, range: R) -> MemTableRange<'_> {
        MemTableRange::new(self.map.range(UserKeyRange::new(&range)))
    }

    /// All versions of all keys, in internal-key order; double-ended.
    pub fn iter(&self) -> MemTableRange<'_> {
        self.range::<std::ops::RangeFull>(..)
    }

    /// For each user key in `range`, only its newest version with
    /// `seqno <= snapshot` (tombstones included); double-ended.
    pub fn visible_range<R: RangeBounds<Bytes>>(
        &self,
        range: R,
        snapshot: SeqNo,
    ) -> VisibleRange<'_> {
        VisibleRange::new(self.range(range), snapshot)
    }

    /// A seekable cursor over all versions, initially not positioned.
    pub fn cursor(&self) -> MemTableCursor<'_> {
        MemTableCursor::new(&self.map)
    }

    /// Approximate bytes held: key and value lengths plus [`ENTRY_OVERHEAD`] per
    /// entry. Never decreases. Does not count `Bytes` buffers shared with the
    /// caller separately (a value sliced from a larger buffer is charged only
    /// its own length).
    pub fn approximate_memory_usage(&self) -> usize {
        self.memory.load(Ordering::Relaxed)
    }

    /// Number of entries (versions, not distinct user keys).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True if nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Smallest seqno inserted, `None` if empty. Exact once no insert is in
    /// flight (e.g. on an immutable memtable being flushed).
    pub fn min_seqno(&self) -> Option<SeqNo> {
        let min = self.min_seqno.load(Ordering::Relaxed);
        (min != SeqNo::MAX).then_some(min)
    }

    /// Largest seqno inserted, `None` if empty. Exact once no insert is in flight.
    pub fn max_seqno(&self) -> Option<SeqNo> {
        self.min_seqno()
            .map(|_| self.max_seqno.load(Ordering::Relaxed))
    }
}

impl Default for MemTable {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemTable")
            .field("len", &self.len())
            .field("approximate_memory_usage", &self.approximate_memory_usage())
            .field("min_seqno", &self.min_seqno())
            .field("max_seqno", &self.max_seqno())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn get_returns_newest_visible_version_or_tombstone() {
        let m = MemTable::new();
        m.insert(b("k"), 3, ValueKind::Put, b("v3"));
        m.insert(b("k"), 5, ValueKind::Delete, Bytes::new());
        m.insert(b("k"), 8, ValueKind::Put, b("v8"));
        m.insert(b("j"), 4, ValueKind::Put, b("j4"));
        assert_eq!(m.get(b"k", 2), None);
        assert_eq!(m.get(b"k", 3).map(|e| e.value), Some(b("v3")));
        assert_eq!(m.get(b"k", 4).map(|e| e.seqno), Some(3));
        let tomb = m.get(b"k", 7).unwrap();
        assert!(tomb.is_tombstone());
        assert_eq!(tomb.seqno, 5);
        assert_eq!(m.get(b"k", u64::MAX).map(|e| e.value), Some(b("v8")));
        assert_eq!(m.get(b"kk", u64::MAX), None);
        assert_eq!(m.get(b"", u64::MAX), None);
    }

    #[test]
    fn get_does_not_copy_the_value() {
        let m = MemTable::new();
        let v = Bytes::from(vec![7u8; 64]);
        m.insert(b("k"), 1, ValueKind::Put, v.clone());
        let got = m.get(b"k", 1).unwrap().value;
        assert_eq!(got.as_ptr(), v.as_ptr());
    }

    #[test]
    fn seqno_range_and_len_track_inserts() {
        let m = MemTable::new();
        assert!(m.is_empty());
        assert_eq!((m.min_seqno(), m.max_seqno()), (None, None));
        m.insert(b("a"), 10, ValueKind::Put, b("x"));
        m.insert(b("b"), 4, ValueKind::Put, b("x"));
        m.insert(b("c"), 12, ValueKind::Delete, Bytes::new());
        assert_eq!((m.min_seqno(), m.max_seqno()), (Some(4), Some(12)));
        assert_eq!(m.len(), 3);
        assert!(!m.is_empty());
    }

    #[test]
    fn memory_counts_key_value_and_overhead() {
        let m = MemTable::new();
        m.insert(b("key"), 1, ValueKind::Put, b("value"));
        assert_eq!(m.approximate_memory_usage(), 3 + 5 + ENTRY_OVERHEAD);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "inserted twice")]
    fn duplicate_seqno_is_caught_in_debug() {
        let m = MemTable::new();
        m.insert(b("k"), 1, ValueKind::Put, b("a"));
        m.insert(b("k"), 1, ValueKind::Delete, Bytes::new());
    }

    #[test]
    fn memtable_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<MemTable>();
    }
}
