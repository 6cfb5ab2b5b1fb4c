//! The read path: point lookups and iterators over one version at one
//! snapshot.

use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use bytes::Bytes;
use strata_core::{Error, Result, SeqNo};

use crate::iter::{BoxedSource, DbIterator, LevelSource, MemSource, MergingIterator};
use crate::version::{TableHandle, Version};

/// A user-key range with owned bounds.
#[derive(Debug, Clone)]
pub(crate) struct KeyRange {
    pub(crate) lower: Bound<Bytes>,
    pub(crate) upper: Bound<Bytes>,
}

impl KeyRange {
    pub(crate) fn from_bounds<K: AsRef<[u8]>, R: RangeBounds<K>>(range: &R) -> Self {
        let own = |b: Bound<&K>| match b {
            Bound::Included(k) => Bound::Included(Bytes::copy_from_slice(k.as_ref())),
            Bound::Excluded(k) => Bound::Excluded(Bytes::copy_from_slice(k.as_ref())),
            Bound::Unbounded => Bound::Unbounded,
        };
        Self {
            lower: own(range.start_bound()),
            upper: own(range.end_bound()),
        }
    }

    /// Every key starting with `prefix`.
    pub(crate) fn prefix(prefix: &[u8]) -> Self {
        Self {
            lower: Bound::Included(Bytes::copy_from_slice(prefix)),
            upper: prefix_successor(prefix).map_or(Bound::Unbounded, Bound::Excluded),
        }
    }

    fn below_upper(&self, key: &[u8]) -> bool {
        match &self.upper {
            Bound::Included(u) => key <= u.as_ref(),
            Bound::Excluded(u) => key < u.as_ref(),
            Bound::Unbounded => true,
        }
    }

    fn above_lower(&self, key: &[u8]) -> bool {
        match &self.lower {
            Bound::Included(l) => key >= l.as_ref(),
            Bound::Excluded(l) => key > l.as_ref(),
            Bound::Unbounded => true,
        }
    }

    /// True if a table spanning `smallest..=largest` may hold keys in range.
    pub(crate) fn overlaps(&self, smallest: &[u8], largest: &[u8]) -> bool {
        self.below_upper(smallest) && self.above_lower(largest)
    }

    pub(crate) fn as_slices(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        fn slice(b: &Bound<Bytes>) -> Bound<&[u8]> {
            match b {
                Bound::Included(k) => Bound::Included(k.as_ref()),
                Bound::Excluded(k) => Bound::Excluded(k.as_ref()),
                Bound::Unbounded => Bound::Unbounded,
            }
        }
        (slice(&self.lower), slice(&self.upper))
    }
}

/// The smallest key greater than every key starting with `prefix`; `None`
/// if there is none (the prefix is empty or all `0xff`).
fn prefix_successor(prefix: &[u8]) -> Option<Bytes> {
    let end = prefix.iter().rposition(|&b| b != 0xff)?;
    let mut next = prefix.get(..=end)?.to_vec();
    if let Some(last) = next.last_mut() {
        *last += 1;
    }
    Some(Bytes::from(next))
}

impl DbIterator {
    /// An iterator that yields `e` and ends: how `scan` reports an error
    /// found before iteration starts.
    pub(crate) fn failed(e: Error) -> Self {
        let source: BoxedSource = Box::new(std::iter::once(Err(e)));
        Self::new(MergingIterator::new(vec![source]), 0, 0, Box::new(()))
    }
}

/// An iterator over `range` of `version` at `snapshot`, expiry judged at
/// `now_ms`. L0 tables are opened here, so one that cannot be opened is an
/// error now; a deeper level opens its tables as the iteration reaches them
/// (a seek then touches one table per level), and reports such an error
/// there.
pub(crate) fn iterate(
    version: Arc<Version>,
    range: &KeyRange,
    snapshot: SeqNo,
    now_ms: u64,
) -> Result<DbIterator> {
    let mut sources: Vec<BoxedSource> = Vec::new();
    for slot in version.memtables() {
        sources.push(Box::new(MemSource::new(
            Arc::clone(&slot.mem),
            range.lower.clone(),
            range.upper.clone(),
            snapshot,
        )));
    }
    let (lower, upper) = range.as_slices();
    let overlapping =
        |t: &&Arc<TableHandle>| range.overlaps(&t.meta.smallest.user_key, &t.meta.largest.user_key);
    let mut levels = version.levels.iter();
    for table in levels.next().into_iter().flatten().filter(overlapping) {
        let entries = table.with_reader(|r| Ok(r.entries(lower, upper)))?;
        sources.push(Box::new(entries));
    }
    for level in levels {
        // Sorted and disjoint: the overlapping tables are one contiguous run.
        let first = level.partition_point(|t| !range.above_lower(&t.meta.largest.user_key));
        let tables: Vec<_> = level
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take_while(|t| range.below_upper(&t.meta.smallest.user_key))
            .cloned()
            .collect();
        if !tables.is_empty() {
            sources.push(Box::new(LevelSource::new(
                tables,
                range.lower.clone(),
                range.upper.clone(),
            )));
        }
    }
    charge_scan(&version, range);
    let merge = MergingIterator::new(sources);
    Ok(DbIterator::new(merge, snapshot, now_ms, Box::new(version)))
}

/// Charges a seek to the shallowest table a scan of `range` reads, if the
/// scan has to merge it with another table holding keys where both overlap
/// the range: the scan looks past it (LevelDB samples its iterators for the
/// same purpose). One charge per scan, however far it reads.
fn charge_scan(version: &Version, range: &KeyRange) {
    let in_range =
        |t: &Arc<TableHandle>| range.overlaps(&t.meta.smallest.user_key, &t.meta.largest.user_key);
    let mut l0 = version.levels.first().into_iter().flatten();
    // The shallowest table in range: an L0 table (newest first), else the
    // first of the shallowest deeper level that has one.
    let first = l0
        .by_ref()
        .find(|t| in_range(t))
        .map(|t| (0, t))
        .or_else(|| {
            version
                .levels
                .iter()
                .enumerate()
                .skip(1)
                .find_map(|(level, files)| {
                    let i = files.partition_point(|t| !range.above_lower(&t.meta.largest.user_key));
                    files.get(i).filter(|t| in_range(t)).map(|t| (level, t))
                })
        });
    let Some((first_level, first)) = first else {
        return;
    };
    // Where the scan reads `first`: its range within the scan's.
    let lo = &first.meta.smallest.user_key;
    let hi = &first.meta.largest.user_key;
    let meets = |t: &Arc<TableHandle>| {
        let s = t.meta.smallest.user_key.as_ref().max(lo.as_ref());
        let l = t.meta.largest.user_key.as_ref().min(hi.as_ref());
        s <= l && range.overlaps(s, l)
    };
    let other_l0 = first_level == 0 && l0.any(meets);
    let deeper = || {
        version.levels.iter().skip(first_level + 1).any(|files| {
            // Sorted and disjoint: the first table reaching both `first`
            // and the range is the only one to look at.
            let i = files.partition_point(|t| {
                t.meta.largest.user_key < *lo || !range.above_lower(&t.meta.largest.user_key)
            });
            files.get(i).is_some_and(meets)
        })
    };
    if other_l0 || deeper() {
        first.charge_seek();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges_end_at_the_successor() {
        assert_eq!(prefix_successor(b"ab"), Some(Bytes::from_static(b"ac")));
        assert_eq!(prefix_successor(b"a\xff"), Some(Bytes::from_static(b"b")));
        assert_eq!(prefix_successor(b"\xff\xff"), None);
        assert_eq!(prefix_successor(b""), None);
        let r = KeyRange::prefix(b"k\xff");
        assert!(r.overlaps(b"k\xff", b"k\xff\x00"));
        assert!(!r.overlaps(b"l", b"m"));
        assert!(!r.overlaps(b"a", b"k"));
    }
}
