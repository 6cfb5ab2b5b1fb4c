//! [`LevelSource`]: one sorted source for a whole level below L0.
//!
//! Tables of a level ≥ 1 are sorted and disjoint, so their entries in
//! table order are already in internal-key order: the level needs one slot
//! in the merge, not one per table. Each end opens a table only when it
//! reaches it, so a seek followed by a few steps reads one table per level,
//! however many tables the range spans.
//!
//! Invariants:
//! 1. The tables not yet finished are `tables[lo..hi]`; `front` reads
//!    `tables[lo]` and `back` reads `tables[hi - 1]`.
//! 2. When one table is left, at most one of `front` and `back` is open:
//!    both ends then share it, so they meet inside it without repeating or
//!    skipping an entry.

use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use strata_core::{InternalKey, Result};
use strata_sstable::TableEntries;

use crate::version::TableHandle;

type Entry = (InternalKey, Bytes);

/// The entries of one level's tables with user key within `(lower, upper)`,
/// in internal-key order; double-ended, owned.
pub(crate) struct LevelSource {
    tables: Vec<Arc<TableHandle>>,
    lower: Bound<Bytes>,
    upper: Bound<Bytes>,
    lo: usize,
    hi: usize,
    front: Option<TableEntries>,
    back: Option<TableEntries>,
    done: bool,
}

impl LevelSource {
    /// A source over `tables` (sorted by key, disjoint, each overlapping the
    /// range), restricted to `(lower, upper)`.
    pub(crate) fn new(
        tables: Vec<Arc<TableHandle>>,
        lower: Bound<Bytes>,
        upper: Bound<Bytes>,
    ) -> Self {
        let hi = tables.len();
        Self {
            tables,
            lower,
            upper,
            lo: 0,
            hi,
            front: None,
            back: None,
            done: false,
        }
    }

    /// Opens `tables[i]`, with a bound only where the table reaches past it.
    fn open(&self, i: usize) -> Result<Option<TableEntries>> {
        let Some(table) = self.tables.get(i) else {
            return Ok(None);
        };
        let meta = &table.meta;
        let lower = match &self.lower {
            Bound::Included(k) if meta.smallest.user_key < *k => Bound::Included(k.as_ref()),
            Bound::Excluded(k) if meta.smallest.user_key <= *k => Bound::Excluded(k.as_ref()),
            _ => Bound::Unbounded,
        };
        let upper = match &self.upper {
            Bound::Included(k) if meta.largest.user_key > *k => Bound::Included(k.as_ref()),
            Bound::Excluded(k) if meta.largest.user_key >= *k => Bound::Excluded(k.as_ref()),
            _ => Bound::Unbounded,
        };
        table.with_reader(|r| Ok(Some(r.entries(lower, upper))))
    }

    fn fail(&mut self, e: strata_core::Error) -> Option<Result<Entry>> {
        self.done = true;
        self.front = None;
        self.back = None;
        Some(Err(e))
    }
}

impl Iterator for LevelSource {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done && self.lo < self.hi {
            if self.front.is_none() {
                self.front = if self.hi - self.lo == 1 && self.back.is_some() {
                    self.back.take()
                } else {
                    match self.open(self.lo) {
                        Ok(entries) => entries,
                        Err(e) => return self.fail(e),
                    }
                };
            }
            match self.front.as_mut().and_then(Iterator::next) {
                Some(Ok(entry)) => return Some(Ok(entry)),
                Some(Err(e)) => return self.fail(e),
                None => {
                    // This table is finished from the front (or met the
                    // back inside it, when it was the last one).
                    self.front = None;
                    self.lo += 1;
                }
            }
        }
        None
    }
}

impl DoubleEndedIterator for LevelSource {
    fn next_back(&mut self) -> Option<Self::Item> {
        while !self.done && self.lo < self.hi {
            if self.back.is_none() {
                self.back = if self.hi - self.lo == 1 && self.front.is_some() {
                    self.front.take()
                } else {
                    match self.open(self.hi - 1) {
                        Ok(entries) => entries,
                        Err(e) => return self.fail(e),
                    }
                };
            }
            match self.back.as_mut().and_then(DoubleEndedIterator::next_back) {
                Some(Ok(entry)) => return Some(Ok(entry)),
                Some(Err(e)) => return self.fail(e),
                None => {
                    self.back = None;
                    self.hi -= 1;
                }
            }
        }
        None
    }
}

impl std::fmt::Debug for LevelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LevelSource")
            .field("tables", &self.tables.len())
            .field("lo", &self.lo)
            .field("hi", &self.hi)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use proptest::prelude::*;
    use strata_core::{Error, FaultFs, FileSystem, SeqNo, ValueKind};
    use strata_sstable::{TableBuilder, TableOptions};

    use super::*;
    use crate::iter::test_support::{drain_mixed, in_bounds};
    use crate::version::{FileMetadata, TableCache};

    /// Keys from a small space (so bounds often fall inside and between
    /// tables) with up to three versions each.
    fn versions() -> impl Strategy<Value = BTreeSet<(u8, SeqNo)>> {
        proptest::collection::btree_set((0u8..40, 1u64..4), 0..120)
    }

    fn bound() -> impl Strategy<Value = Bound<Bytes>> {
        let key = (0u8..42).prop_map(|k| Bytes::from(vec![k]));
        prop_oneof![
            1 => Just(Bound::Unbounded),
            2 => key.clone().prop_map(Bound::Included),
            2 => key.prop_map(Bound::Excluded),
        ]
    }

    /// Internal-key order: user key ascending, seqno descending.
    fn entries(versions: &BTreeSet<(u8, SeqNo)>) -> Vec<Entry> {
        let mut entries: Vec<Entry> = versions
            .iter()
            .map(|&(k, s)| {
                let key = InternalKey::new(Bytes::from(vec![k]), s, ValueKind::Put);
                (key, Bytes::from(format!("{k}@{s}")))
            })
            .collect();
        entries.sort();
        entries
    }

    /// One table per chunk, numbered from 1, with small blocks.
    fn level(fs: &FaultFs, cache: &Arc<TableCache>, chunks: &[&[Entry]]) -> Vec<Arc<TableHandle>> {
        let mut tables = Vec::new();
        for (number, chunk) in (1u64..).zip(chunks) {
            let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
                continue;
            };
            let path = PathBuf::from(format!("/db/{number:06}.sst"));
            let options = TableOptions::default().block_size(64);
            let mut builder = TableBuilder::new(fs.create(&path).unwrap(), &path, options).unwrap();
            for (key, value) in *chunk {
                builder.add(key, value).unwrap();
            }
            let size = builder.finish().unwrap().file_size;
            let meta = FileMetadata {
                number,
                size,
                smallest: first.0.clone(),
                largest: last.0.clone(),
                min_seqno: 0,
                max_seqno: 0,
                min_time_ms: 0,
                max_time_ms: 0,
                num_entries: chunk.len() as u64,
                num_tombstones: 0,
                num_expiring: 0,
                max_expiry_ms: 0,
                num_shadowed: None,
            };
            tables.push(Arc::new(TableHandle::new(meta, path, Arc::clone(cache))));
        }
        tables
    }

    fn fresh() -> (FaultFs, Arc<TableCache>) {
        let fs = FaultFs::new();
        fs.create_dir_all(Path::new("/db")).unwrap();
        let cache = Arc::new(TableCache::new(Arc::new(fs.clone()), 3, None, false));
        (fs, cache)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Over a level cut into 1-6 tables at arbitrary points, any
        /// interleaving of both ends yields exactly the entries within the
        /// bounds, in order, once each.
        #[test]
        fn mixed_ends_match_the_level_s_entries(
            versions in versions(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
            lower in bound(),
            upper in bound(),
            dirs in proptest::collection::vec(any::<bool>(), 0..160),
        ) {
            let all = entries(&versions);
            let mut cut_at: Vec<usize> = cuts.iter().map(|c| c.index(all.len() + 1)).collect();
            cut_at.push(0);
            cut_at.push(all.len());
            cut_at.sort_unstable();
            let chunks: Vec<&[Entry]> =
                cut_at.windows(2).filter_map(|w| all.get(w[0]..w[1])).collect();
            let (fs, cache) = fresh();
            // As the engine does: only the tables that overlap the range.
            let tables: Vec<_> = level(&fs, &cache, &chunks)
                .into_iter()
                .filter(|t| {
                    in_bounds(&t.meta.smallest.user_key, &Bound::Unbounded, &upper)
                        && in_bounds(&t.meta.largest.user_key, &lower, &Bound::Unbounded)
                })
                .collect();
            let expected: Vec<Entry> = all
                .iter()
                .filter(|(k, _)| in_bounds(&k.user_key, &lower, &upper))
                .cloned()
                .collect();

            let source = LevelSource::new(tables, lower, upper);
            let got: Vec<Entry> = drain_mixed(source, &dirs)
                .into_iter()
                .map(|r| r.unwrap())
                .collect();
            prop_assert_eq!(got, expected);
        }
    }

    /// A table that cannot be opened is an error when an end reaches it,
    /// after the entries before it; then both ends are done.
    #[test]
    fn a_missing_table_is_an_error_where_the_scan_reaches_it() {
        let all = entries(&(0u8..30).map(|k| (k, 1)).collect());
        let (fs, cache) = fresh();
        let chunks: Vec<&[Entry]> = all.chunks(10).collect();
        let tables = level(&fs, &cache, &chunks);
        fs.remove(&tables[1].path).unwrap();
        let mut source = LevelSource::new(tables, Bound::Unbounded, Bound::Unbounded);
        for want in 0u8..10 {
            let (key, _) = source.next().unwrap().unwrap();
            assert_eq!(key.user_key, vec![want]);
        }
        let err: Error = source.next().unwrap().unwrap_err();
        assert!(matches!(err, Error::Io(_)), "{err}");
        assert!(source.next().is_none());
        assert!(source.next_back().is_none());
    }
}
