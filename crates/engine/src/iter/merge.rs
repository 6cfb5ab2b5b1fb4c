//! [`MergingIterator`]: the union of several sorted entry streams, in
//! internal-key order, from both ends.
//!
//! Each source keeps a front slot and a back slot: the next entry it would
//! yield at each end, pulled but not yet taken. Once a source's iterator
//! returns `None` (from either end, so its middle is empty), what is left of
//! it is exactly its two slots, and an end whose own slot is empty takes its
//! candidate from the other end's slot. That is what lets `next` and
//! `next_back` meet in the middle without losing or repeating an entry.
//!
//! Picking the smallest (largest) candidate is a linear scan over the
//! sources: a read merges few of them (memtables, a handful of L0 files, one
//! file per deeper level), where a scan beats a heap. The pick is cached
//! between a `peek_*` and the `next*` that follows, so consuming an entry
//! costs one scan.
//!
//! Ties between equal internal keys go to the lower source index (the newer
//! source) first, in both directions of the same order.

use bytes::Bytes;
use strata_core::{InternalKey, Result};

type Entry = (InternalKey, Bytes);

/// A sorted stream of entries: ascending internal-key order from the front,
/// descending from the back, ends never crossing.
pub(crate) type BoxedSource = Box<dyn DoubleEndedIterator<Item = Result<Entry>> + Send>;

/// Which slot of a source holds a pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Front,
    Back,
}

struct Source {
    iter: BoxedSource,
    front: Option<Entry>,
    back: Option<Entry>,
    /// `iter` returned `None`: the source's remaining entries are its slots.
    drained: bool,
}

impl Source {
    /// Makes `front` hold the source's smallest remaining entry, unless only
    /// the back slot is left.
    fn fill_front(&mut self) -> Result<()> {
        if self.front.is_none() && !self.drained {
            match self.iter.next() {
                Some(Ok(entry)) => self.front = Some(entry),
                Some(Err(e)) => return Err(e),
                None => self.drained = true,
            }
        }
        Ok(())
    }

    fn fill_back(&mut self) -> Result<()> {
        if self.back.is_none() && !self.drained {
            match self.iter.next_back() {
                Some(Ok(entry)) => self.back = Some(entry),
                Some(Err(e)) => return Err(e),
                None => self.drained = true,
            }
        }
        Ok(())
    }

    /// The source's smallest remaining entry, after `fill_front`.
    fn front_candidate(&self) -> Option<(Slot, &InternalKey)> {
        match (&self.front, &self.back) {
            (Some(e), _) => Some((Slot::Front, &e.0)),
            (None, Some(e)) => Some((Slot::Back, &e.0)),
            (None, None) => None,
        }
    }

    /// The source's largest remaining entry, after `fill_back`.
    fn back_candidate(&self) -> Option<(Slot, &InternalKey)> {
        match (&self.back, &self.front) {
            (Some(e), _) => Some((Slot::Back, &e.0)),
            (None, Some(e)) => Some((Slot::Front, &e.0)),
            (None, None) => None,
        }
    }

    fn slot(&self, slot: Slot) -> Option<&Entry> {
        match slot {
            Slot::Front => self.front.as_ref(),
            Slot::Back => self.back.as_ref(),
        }
    }

    fn take(&mut self, slot: Slot) -> Option<Entry> {
        match slot {
            Slot::Front => self.front.take(),
            Slot::Back => self.back.take(),
        }
    }
}

/// The union of its sources in internal-key order; double-ended, and `next` /
/// `next_back` may be mixed.
///
/// Yields the first `Err` any source produces and then nothing more, from
/// either end.
pub(crate) struct MergingIterator {
    sources: Vec<Source>,
    /// Source and slot of the smallest remaining entry, if computed since the
    /// last take.
    front_pick: Option<(usize, Slot)>,
    /// Source and slot of the largest remaining entry, likewise.
    back_pick: Option<(usize, Slot)>,
    done: bool,
}

impl MergingIterator {
    /// Merges `sources`, given newest first: index 0 is the active memtable,
    /// then immutable memtables, L0 tables newest first, then L1 and deeper.
    /// Each source must yield in internal-key order.
    pub(crate) fn new(sources: Vec<BoxedSource>) -> Self {
        Self {
            sources: sources
                .into_iter()
                .map(|iter| Source {
                    iter,
                    front: None,
                    back: None,
                    drained: false,
                })
                .collect(),
            front_pick: None,
            back_pick: None,
            done: false,
        }
    }

    fn pick_front(&mut self) -> Result<Option<(usize, Slot)>> {
        if self.front_pick.is_some() {
            return Ok(self.front_pick);
        }
        let mut best: Option<(usize, Slot, &InternalKey)> = None;
        for (i, source) in self.sources.iter_mut().enumerate() {
            source.fill_front()?;
            let source: &Source = source;
            if let Some((slot, key)) = source.front_candidate() {
                // Strictly smaller: on a tie the lower index stays.
                if best.is_none_or(|(_, _, b)| key < b) {
                    best = Some((i, slot, key));
                }
            }
        }
        let pick = best.map(|(i, slot, _)| (i, slot));
        self.front_pick = pick;
        Ok(pick)
    }

    fn pick_back(&mut self) -> Result<Option<(usize, Slot)>> {
        if self.back_pick.is_some() {
            return Ok(self.back_pick);
        }
        let mut best: Option<(usize, Slot, &InternalKey)> = None;
        for (i, source) in self.sources.iter_mut().enumerate() {
            source.fill_back()?;
            let source: &Source = source;
            if let Some((slot, key)) = source.back_candidate() {
                // Greater or equal: on a tie the higher index goes first from
                // the back, mirroring the forward order.
                if best.is_none_or(|(_, _, b)| key >= b) {
                    best = Some((i, slot, key));
                }
            }
        }
        let pick = best.map(|(i, slot, _)| (i, slot));
        self.back_pick = pick;
        Ok(pick)
    }

    /// Ends the iteration after an error; drops the sources' resources.
    fn finish(&mut self) {
        self.done = true;
        self.sources.clear();
        self.front_pick = None;
        self.back_pick = None;
    }

    fn entry_at(&self, (i, slot): (usize, Slot)) -> Option<&Entry> {
        self.sources.get(i)?.slot(slot)
    }

    fn take(&mut self, (i, slot): (usize, Slot)) -> Option<Entry> {
        // Either pick may name the slot just emptied: recompute both.
        self.front_pick = None;
        self.back_pick = None;
        self.sources.get_mut(i)?.take(slot)
    }

    /// The key `next` would yield, without taking it; `None` when exhausted.
    ///
    /// An `Err` here is the iteration's error: it is handed out once, here,
    /// and the iterator is done.
    pub(crate) fn peek_front(&mut self) -> Option<Result<&InternalKey>> {
        if self.done {
            return None;
        }
        match self.pick_front() {
            Ok(pick) => self.entry_at(pick?).map(|e| Ok(&e.0)),
            Err(e) => {
                self.finish();
                Some(Err(e))
            }
        }
    }

    /// The key `next_back` would yield, without taking it; as
    /// [`MergingIterator::peek_front`].
    pub(crate) fn peek_back(&mut self) -> Option<Result<&InternalKey>> {
        if self.done {
            return None;
        }
        match self.pick_back() {
            Ok(pick) => self.entry_at(pick?).map(|e| Ok(&e.0)),
            Err(e) => {
                self.finish();
                Some(Err(e))
            }
        }
    }
}

impl Iterator for MergingIterator {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.pick_front() {
            Ok(pick) => self.take(pick?).map(Ok),
            Err(e) => {
                self.finish();
                Some(Err(e))
            }
        }
    }
}

impl DoubleEndedIterator for MergingIterator {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.pick_back() {
            Ok(pick) => self.take(pick?).map(Ok),
            Err(e) => {
                self.finish();
                Some(Err(e))
            }
        }
    }
}

impl std::fmt::Debug for MergingIterator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MergingIterator")
            .field("sources", &self.sources.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::ops::Bound;
    use std::slice;
    use std::sync::Arc;

    use proptest::prelude::*;
    use strata_core::{Error, ExpiringValue, MAX_SEQNO, SeqNo, ValueKind};
    use strata_memtable::MemTable;

    use super::*;
    use crate::iter::MemSource;
    use crate::iter::test_support::{
        bound, build_table, drain_mixed, in_bounds, kind, table_source, user_key,
    };

    type Versions = Vec<(Bytes, SeqNo, ValueKind)>;

    fn source_spec() -> impl Strategy<Value = (bool, Versions)> {
        let versions = || (user_key(), 0u64..30, kind());
        (
            any::<bool>(),
            prop_oneof![
                3 => proptest::collection::vec(versions(), 0..30),
                1 => proptest::collection::vec(versions(), 100..250),
            ],
        )
    }

    /// One source's entries: unique per (user key, seqno), sorted, with
    /// values naming the source so that tie order is observable.
    fn entries_of(index: usize, versions: &Versions) -> Vec<Entry> {
        let unique: BTreeMap<(Bytes, SeqNo), ValueKind> = versions
            .iter()
            .map(|(k, s, kind)| ((k.clone(), *s), *kind))
            .collect();
        let mut entries: Vec<Entry> = unique
            .into_iter()
            .map(|((k, s), kind)| {
                let text = format!("src{index}:{s}");
                let value = match kind {
                    // Table builders insist on the expiry prefix.
                    ValueKind::PutWithExpiry => ExpiringValue::encode(u64::MAX, text.as_bytes()),
                    _ => text.into_bytes(),
                };
                let value = Bytes::from(value);
                (InternalKey::new(k, s, kind), value)
            })
            .collect();
        entries.sort();
        entries
    }

    fn entry(key: &str, seqno: SeqNo) -> Entry {
        let value = Bytes::from(format!("{key}{seqno}"));
        (
            InternalKey::new(Bytes::from(key.to_owned()), seqno, ValueKind::Put),
            value,
        )
    }

    fn mem_source(entries: &[Entry]) -> BoxedSource {
        let mem = MemTable::new();
        for (k, v) in entries {
            mem.insert(k.user_key.clone(), k.seqno, k.kind, v.clone())
                .unwrap();
        }
        Box::new(MemSource::new(
            Arc::new(mem),
            Bound::Unbounded,
            Bound::Unbounded,
            MAX_SEQNO,
        ))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Over 1-5 memtable and SST sources, any interleaving of both ends
        /// (each step checked against the matching peek) yields the sorted
        /// union, equal keys in source order.
        #[test]
        fn mixed_ends_yield_sorted_union(
            specs in proptest::collection::vec(source_spec(), 1..=5),
            lower in bound(),
            upper in bound(),
            dirs in proptest::collection::vec(any::<bool>(), 0..600),
        ) {
            let mut expected = Vec::new();
            let mut sources: Vec<BoxedSource> = Vec::new();
            for (index, (is_table, versions)) in specs.iter().enumerate() {
                let mut entries = entries_of(index, versions);
                if !is_table {
                    // A memtable source yields only each key's newest
                    // version from the front (see `MemSource`); the merge
                    // is what is tested here.
                    entries.dedup_by(|later, earlier| later.0.user_key == earlier.0.user_key);
                }
                expected.extend(
                    entries
                        .iter()
                        .filter(|(k, _)| in_bounds(&k.user_key, &lower, &upper))
                        .map(|e| (e.clone(), index)),
                );
                sources.push(if *is_table {
                    table_source(&build_table(&entries), &lower, &upper)
                } else {
                    let mem = MemTable::new();
                    for (k, v) in &entries {
                        mem.insert(k.user_key.clone(), k.seqno, k.kind, v.clone()).unwrap();
                    }
                    Box::new(MemSource::new(
                        Arc::new(mem),
                        lower.clone(),
                        upper.clone(),
                        MAX_SEQNO,
                    ))
                });
            }
            // Stable: equal internal keys keep source order.
            expected.sort_by(|(a, ia), (b, ib)| a.0.cmp(&b.0).then(ia.cmp(ib)));
            let expected: Vec<Entry> = expected.into_iter().map(|(e, _)| e).collect();

            let mut merge = MergingIterator::new(sources);
            let (mut front, mut back) = (Vec::new(), Vec::new());
            for &from_front in &dirs {
                let (peeked, item) = if from_front {
                    let peeked = merge.peek_front().map(|r| r.unwrap().clone());
                    (peeked, merge.next())
                } else {
                    let peeked = merge.peek_back().map(|r| r.unwrap().clone());
                    (peeked, merge.next_back())
                };
                let item = item.map(|r| r.unwrap());
                prop_assert_eq!(peeked.as_ref(), item.as_ref().map(|e| &e.0));
                match item {
                    Some(e) if from_front => front.push(e),
                    Some(e) => back.push(e),
                    None => {
                        prop_assert!(merge.next().is_none() && merge.next_back().is_none());
                        break;
                    }
                }
            }
            front.extend(drain_mixed(merge, &[]).into_iter().map(|r| r.unwrap()));
            back.reverse();
            front.extend(back);
            prop_assert_eq!(front, expected);
        }
    }

    fn failing_source() -> BoxedSource {
        Box::new(
            vec![
                Ok(entry("b", 1)),
                Err(Error::corruption("000007.sst", 4096, "bad block")),
                Ok(entry("y", 1)),
            ]
            .into_iter(),
        )
    }

    /// The first error from a source is yielded once; then both ends are done.
    #[test]
    fn error_ends_the_iteration_from_the_front() {
        let good = mem_source(&[entry("a", 5), entry("c", 6), entry("z", 7)]);
        let mut merge = MergingIterator::new(vec![good, failing_source()]);
        let mut keys = Vec::new();
        let err = loop {
            match merge.next() {
                Some(Ok((k, _))) => keys.push(k.user_key),
                Some(Err(e)) => break e,
                None => panic!("the error was never yielded"),
            }
        };
        assert!(err.is_corruption(), "{err}");
        assert_eq!(keys, ["a", "b"]);
        assert!(merge.next().is_none());
        assert!(merge.next_back().is_none());
        assert!(merge.peek_front().is_none());
        assert!(merge.peek_back().is_none());
    }

    /// An error met by a peek is handed out by that peek, and ends both ends.
    #[test]
    fn error_met_by_peek_back_ends_the_iteration() {
        let good = mem_source(&[entry("a", 5), entry("c", 6)]);
        let mut merge = MergingIterator::new(vec![good, failing_source()]);
        assert_eq!(merge.next_back().unwrap().unwrap().0.user_key, "y");
        assert!(matches!(merge.peek_back(), Some(Err(e)) if e.is_corruption()));
        assert!(merge.next_back().is_none());
        assert!(merge.next().is_none());
    }

    /// Equal internal keys come newest source first, from either end.
    #[test]
    fn ties_go_to_the_lower_source_index() {
        let a = (entry("k", 3).0, Bytes::from("new"));
        let b = (entry("k", 3).0, Bytes::from("old"));
        let pair = || {
            let sources = vec![
                mem_source(slice::from_ref(&a)),
                mem_source(slice::from_ref(&b)),
            ];
            MergingIterator::new(sources)
        };
        let forward: Vec<Entry> = pair().map(|r| r.unwrap()).collect();
        assert_eq!(forward, [a.clone(), b.clone()]);
        let backward: Vec<Entry> = pair().rev().map(|r| r.unwrap()).collect();
        assert_eq!(backward, [b, a]);
    }
}
