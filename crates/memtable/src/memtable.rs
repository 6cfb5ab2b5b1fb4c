//! The memtable: a concurrent skiplist from internal key to value.
//!
//! Concurrency: every method takes `&self`. Inserts may run on many threads at
//! once; reads (`get`, iterators, cursors) never block and never block writers.
//! See the crate docs for what a reader may observe while inserts are in flight.

use std::fmt;
use std::ops::{Bound, RangeBounds};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use strata_core::{Error, Result, SeqNo, ValueKind};

use crate::cursor::MemTableCursor;
use crate::filter::KeyFilter;
use crate::range::{MemTableRange, VisibleRange};
use crate::skiplist::{MAX_NODE_KEY, NULL, Probe, SkipList};

/// Bytes an entry costs beyond its key and value bytes, at the least: two
/// header words and one link. Keys and values are rounded up to whole
/// 8-byte words, and half the entries have more than one link (two on
/// average).
pub const ENTRY_OVERHEAD: usize = 3 * size_of::<u64>();

/// One version of a key as stored in the memtable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemEntry {
    /// Sequence number of the write.
    pub seqno: SeqNo,
    /// What the write did: a put, a put with expiry, or a tombstone.
    pub kind: ValueKind,
    /// A copy of the stored value. For [`ValueKind::PutWithExpiry`] it is in
    /// [`strata_core::ExpiringValue`] layout, exactly as inserted; for a
    /// tombstone whatever was inserted (normally empty).
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
    list: SkipList,
    /// Bloom filter over user keys, if the memtable was made with one.
    filter: Option<KeyFilter>,
    /// Smallest seqno inserted; `SeqNo::MAX` while empty.
    min_seqno: AtomicU64,
    /// Largest seqno inserted; meaningful only once `len() > 0`.
    max_seqno: AtomicU64,
}

impl MemTable {
    /// An empty memtable without a key filter.
    pub fn new() -> Self {
        Self {
            list: SkipList::new(),
            filter: None,
            min_seqno: AtomicU64::new(SeqNo::MAX),
            max_seqno: AtomicU64::new(0),
        }
    }

    /// An empty memtable with a bloom filter over its user keys, sized for
    /// about `expected_bytes` of [`approximate_memory_usage`] (one bit per
    /// 8 bytes, at most 8 MiB; allocated up front, not counted in the
    /// usage). [`get`](Self::get) of a key the memtable does not hold then
    /// usually answers from one word instead of a skiplist search; each
    /// insert pays a hash and at most one atomic OR. A memtable that grows
    /// past `expected_bytes` stays correct, with more false positives.
    ///
    /// [`approximate_memory_usage`]: Self::approximate_memory_usage
    pub fn with_filter(expected_bytes: usize) -> Self {
        Self {
            list: SkipList::new(),
            filter: Some(KeyFilter::new(expected_bytes)),
            min_seqno: AtomicU64::new(SeqNo::MAX),
            max_seqno: AtomicU64::new(0),
        }
    }

    /// Adds one version of `user_key`, copying the key and value bytes into
    /// the memtable.
    ///
    /// REQUIRES: no other entry with the same `(user_key, seqno)` was or will be
    /// inserted (the engine hands out each seqno once), and
    /// `seqno <= strata_core::MAX_SEQNO`. Checked by `debug_assert!` only;
    /// in release an exact duplicate is stored twice and either copy may be
    /// read.
    ///
    /// The value is stored as given: a [`ValueKind::PutWithExpiry`] value is
    /// already in [`strata_core::ExpiringValue`] layout and is not interpreted.
    /// Safe to call from many threads at once.
    ///
    /// # Errors
    /// `InvalidArgument` if the key is 16 MiB or longer, the value 4 GiB or
    /// longer, or the seqno does not fit in 56 bits, or if the memtable is
    /// full (64 GiB, or 65 536 values over 128 KiB); nothing is inserted
    /// then. (strata's own limits, `strata_core::MAX_KEY_SIZE` and
    /// `MAX_VALUE_SIZE`, are far below.)
    pub fn insert(
        &self,
        user_key: impl AsRef<[u8]>,
        seqno: SeqNo,
        kind: ValueKind,
        value: impl AsRef<[u8]>,
    ) -> Result<()> {
        let (user_key, value) = (user_key.as_ref(), value.as_ref());
        if user_key.len() > MAX_NODE_KEY || u32::try_from(value.len()).is_err() {
            return Err(Error::invalid_argument(format!(
                "memtable entry too large: key of {} bytes (at most {MAX_NODE_KEY}), value of {} bytes (under 4 GiB)",
                user_key.len(),
                value.len()
            )));
        }
        if seqno > strata_core::MAX_SEQNO {
            return Err(Error::invalid_argument(format!(
                "seqno {seqno} does not fit in 56 bits"
            )));
        }
        debug_assert!(
            !self.contains_version(user_key, seqno),
            "seqno {seqno} inserted twice for the same key"
        );
        // Before the node is linked: a read that finds it sees the bits.
        if let Some(filter) = &self.filter {
            filter.insert(KeyFilter::hash(user_key));
        }
        if !self.list.insert(user_key, seqno, kind, value) {
            return Err(Error::invalid_argument(
                "memtable is full: its arena has made all 65 536 of its chunks",
            ));
        }
        // Seqnos mostly arrive in increasing order: the plain loads keep the
        // common path free of read-modify-write on the minimum.
        if seqno < self.min_seqno.load(Ordering::Relaxed) {
            self.min_seqno.fetch_min(seqno, Ordering::Relaxed);
        }
        if seqno > self.max_seqno.load(Ordering::Relaxed) {
            self.max_seqno.fetch_max(seqno, Ordering::Relaxed);
        }
        Ok(())
    }

    /// True if some entry has exactly this user key and seqno (any kind).
    fn contains_version(&self, user_key: &[u8], seqno: SeqNo) -> bool {
        let n = self.list.find_ge(&Probe::visible_at(user_key, seqno));
        n != NULL && self.list.has_user_key(n, user_key) && self.list.header(n).seqno == seqno
    }

    /// The newest version of `user_key` with `seqno <= snapshot`, tombstones
    /// included; `None` if the memtable holds no such version. The value is
    /// copied out.
    ///
    /// Expiry is not judged here: a [`ValueKind::PutWithExpiry`] entry is
    /// returned whatever its expiry time.
    pub fn get(&self, user_key: &[u8], snapshot: SeqNo) -> Option<MemEntry> {
        if let Some(filter) = &self.filter
            && !filter.may_contain(KeyFilter::hash(user_key))
        {
            return None;
        }
        let n = self.list.find_ge(&Probe::visible_at(user_key, snapshot));
        if n == NULL || !self.list.has_user_key(n, user_key) {
            return None;
        }
        let h = self.list.header(n);
        let mut value = Vec::with_capacity(h.value_len);
        self.list.read_value(n, &h, &mut value);
        Some(MemEntry {
            seqno: h.seqno,
            kind: h.kind,
            value: Bytes::from(value),
        })
    }

    /// All versions of the user keys in `range`, in internal-key order (user
    /// key ascending, newest version first); double-ended.
    ///
    /// An empty or inverted range yields nothing.
    pub fn range<R: RangeBounds<Bytes>>(&self, range: R) -> MemTableRange<'_> {
        MemTableRange::new(
            self.cursor(),
            self.cursor(),
            range.start_bound().cloned(),
            range.end_bound().cloned(),
        )
    }

    /// All versions of all keys, in internal-key order; double-ended.
    pub fn iter(&self) -> MemTableRange<'_> {
        self.range::<(Bound<Bytes>, Bound<Bytes>)>((Bound::Unbounded, Bound::Unbounded))
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
        MemTableCursor::new(&self.list)
    }

    /// Bytes of memtable arena the entries occupy: keys and values rounded
    /// up to 8-byte words, plus each entry's header and links. Never
    /// decreases.
    pub fn approximate_memory_usage(&self) -> usize {
        self.list.memory_usage()
    }

    /// Number of entries (versions, not distinct user keys).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True if nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
            .field(
                "filter_bytes",
                &self.filter.as_ref().map_or(0, KeyFilter::size_bytes),
            )
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
        m.insert(b("k"), 3, ValueKind::Put, b("v3")).unwrap();
        m.insert(b("k"), 5, ValueKind::Delete, Bytes::new())
            .unwrap();
        m.insert(b("k"), 8, ValueKind::Put, b("v8")).unwrap();
        m.insert(b("j"), 4, ValueKind::Put, b("j4")).unwrap();
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
    fn values_of_every_length_round_trip_and_outlive_the_memtable() {
        let m = MemTable::new();
        let values: Vec<Bytes> = (0..40u8)
            .map(|n| Bytes::from(vec![n; usize::from(n)]))
            .collect();
        for (i, v) in values.iter().enumerate() {
            m.insert(b(&format!("k{i:02}")), i as u64 + 1, ValueKind::Put, v)
                .unwrap();
        }
        let got: Vec<Bytes> = (0..values.len())
            .map(|i| {
                m.get(format!("k{i:02}").as_bytes(), u64::MAX)
                    .unwrap()
                    .value
            })
            .collect();
        drop(m);
        assert_eq!(got, values);
    }

    /// Values from empty to larger than a shared chunk, in an order that
    /// makes some outgrow the chunk the arena grows next.
    #[test]
    fn large_and_odd_sized_values_round_trip_through_every_read() {
        let lens = [
            0,
            1,
            7,
            8,
            9,
            4_095,
            8_144,
            16_344,
            70_000,
            131_073,
            140_000,
            3,
            1 << 20,
            12,
        ];
        let m = MemTable::new();
        let mut want = Vec::new();
        for (i, len) in lens.into_iter().enumerate() {
            let key = b(&format!("key{i:02}"));
            let value: Bytes = (0..len)
                .map(|j| (j * 31 + i) as u8)
                .collect::<Vec<u8>>()
                .into();
            m.insert(&key, i as u64 + 1, ValueKind::Put, &value)
                .unwrap();
            want.push((key, value));
        }
        for (key, value) in &want {
            assert_eq!(&m.get(key, u64::MAX).unwrap().value, value);
        }
        let scanned: Vec<(Bytes, Bytes)> = m.iter().map(|(k, v)| (k.user_key, v)).collect();
        assert_eq!(scanned, want);
        let mut cursor = m.cursor();
        cursor.seek_to_last();
        for (key, value) in want.iter().rev() {
            assert_eq!(cursor.key().unwrap().user_key, &key[..]);
            assert_eq!(cursor.value_len(), Some(value.len()));
            assert_eq!(&cursor.value().unwrap(), value);
            cursor.prev();
        }
        assert!(!cursor.valid());
    }

    #[test]
    fn oversized_seqno_is_refused_and_nothing_inserted() {
        let m = MemTable::new();
        let err = m
            .insert(b("k"), strata_core::MAX_SEQNO + 1, ValueKind::Put, b("v"))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
        assert!(m.is_empty());
        assert_eq!(m.approximate_memory_usage(), 0);
    }

    #[test]
    fn seqno_range_and_len_track_inserts() {
        let m = MemTable::new();
        assert!(m.is_empty());
        assert_eq!((m.min_seqno(), m.max_seqno()), (None, None));
        m.insert(b("a"), 10, ValueKind::Put, b("x")).unwrap();
        m.insert(b("b"), 4, ValueKind::Put, b("x")).unwrap();
        m.insert(b("c"), 12, ValueKind::Delete, Bytes::new())
            .unwrap();
        assert_eq!((m.min_seqno(), m.max_seqno()), (Some(4), Some(12)));
        assert_eq!(m.len(), 3);
        assert!(!m.is_empty());
    }

    #[test]
    fn memory_counts_words_of_header_links_key_and_value() {
        let m = MemTable::new();
        m.insert(b("key"), 1, ValueKind::Put, b("value")).unwrap();
        // 2 header words, 1..=12 links, 1 word of key, 1 of value.
        let used = m.approximate_memory_usage();
        assert!(
            used.is_multiple_of(8) && (40..=128).contains(&used),
            "{used}"
        );
        assert!(used >= 3 + 5 + ENTRY_OVERHEAD);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "inserted twice")]
    fn duplicate_seqno_is_caught_in_debug() {
        let m = MemTable::new();
        m.insert(b("k"), 1, ValueKind::Put, b("a")).unwrap();
        m.insert(b("k"), 1, ValueKind::Delete, Bytes::new())
            .unwrap();
    }

    #[test]
    fn memtable_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<MemTable>();
    }
}
