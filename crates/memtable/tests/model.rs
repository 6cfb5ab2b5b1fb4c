//! Property test: random inserts (many versions per key, out-of-order seqnos)
//! checked against a `BTreeMap<InternalKey, Bytes>` model for snapshot `get`,
//! range iteration in both directions, the visible-version iterator and the
//! cursor.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, VecDeque};
use std::ops::{Bound, RangeBounds};

use bytes::Bytes;
use proptest::prelude::*;
use strata_core::{ExpiringValue, InternalKey, InternalKeyRef, SeqNo, ValueKind};
use strata_memtable::MemTable;

/// A small alphabet so keys collect many versions; includes the empty key and
/// keys that are prefixes of each other.
const KEYS: &[&[u8]] = &[b"", b"a", b"ab", b"b", b"ba", b"c"];
/// Probe keys: the alphabet plus keys that are never inserted.
const PROBES: &[&[u8]] = &[
    b"", b"a", b"aa", b"ab", b"abc", b"b", b"ba", b"bb", b"c", b"d",
];

type Model = BTreeMap<InternalKey, Bytes>;

#[derive(Debug, Clone)]
struct Write {
    key: usize,
    kind: ValueKind,
    value: u8,
}

fn kind() -> impl Strategy<Value = ValueKind> {
    prop_oneof![
        3 => Just(ValueKind::Put),
        2 => Just(ValueKind::Delete),
        1 => Just(ValueKind::PutWithExpiry)
    ]
}

fn writes() -> impl Strategy<Value = Vec<(Write, SeqNo)>> {
    (
        proptest::collection::vec((0..KEYS.len(), kind(), any::<u8>()), 0..80),
        proptest::collection::vec(1u64..4, 80),
    )
        .prop_map(|(ops, gaps)| {
            // Strictly increasing seqnos with gaps, so snapshots can fall between writes.
            let mut seqno = 0;
            ops.into_iter()
                .zip(gaps)
                .map(|((key, kind, value), gap)| {
                    seqno += gap;
                    (Write { key, kind, value }, seqno)
                })
                .collect::<Vec<_>>()
        })
        .prop_shuffle()
}

fn bound() -> impl Strategy<Value = Bound<Bytes>> {
    let key = (0..PROBES.len()).prop_map(|i| Bytes::from_static(PROBES[i]));
    prop_oneof![
        key.clone().prop_map(Bound::Included),
        key.prop_map(Bound::Excluded),
        Just(Bound::Unbounded),
    ]
}

fn value_of(w: &Write, seqno: SeqNo) -> Bytes {
    match w.kind {
        ValueKind::Delete => Bytes::new(),
        ValueKind::Put => Bytes::from(vec![w.value; 1 + (seqno % 5) as usize]),
        ValueKind::PutWithExpiry => Bytes::from(ExpiringValue::encode(seqno * 1000, &[w.value])),
    }
}

fn build(writes: &[(Write, SeqNo)]) -> (MemTable, Model) {
    build_into(MemTable::new(), writes)
}

fn build_into(mem: MemTable, writes: &[(Write, SeqNo)]) -> (MemTable, Model) {
    let mut model = Model::new();
    for (w, seqno) in writes {
        let key = Bytes::from_static(KEYS[w.key]);
        let value = value_of(w, *seqno);
        mem.insert(key.clone(), *seqno, w.kind, value.clone())
            .unwrap();
        model.insert(InternalKey::new(key, *seqno, w.kind), value);
    }
    (mem, model)
}

fn model_get(model: &Model, key: &[u8], snapshot: SeqNo) -> Option<(SeqNo, ValueKind, Bytes)> {
    model
        .iter()
        .filter(|(k, _)| k.user_key.as_ref() == key && k.seqno <= snapshot)
        .map(|(k, v)| (k.seqno, k.kind, v.clone()))
        .next()
}

fn model_range(model: &Model, range: &(Bound<Bytes>, Bound<Bytes>)) -> Vec<(InternalKey, Bytes)> {
    model
        .iter()
        .filter(|(k, _)| range.contains(&k.user_key))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn model_visible(
    model: &Model,
    range: &(Bound<Bytes>, Bound<Bytes>),
    snapshot: SeqNo,
) -> Vec<(InternalKey, Bytes)> {
    let mut out: Vec<(InternalKey, Bytes)> = Vec::new();
    for (k, v) in model_range(model, range) {
        let seen = out
            .last()
            .is_some_and(|(last, _)| last.user_key == k.user_key);
        if k.seqno <= snapshot && !seen {
            out.push((k, v));
        }
    }
    out
}

/// Pulls from both ends of `iter` following `pattern` (true = front) and checks
/// the result against taking from the same ends of `expected`.
fn check_mixed<I>(mut iter: I, expected: Vec<(InternalKey, Bytes)>, pattern: &[bool])
where
    I: DoubleEndedIterator<Item = (InternalKey, Bytes)>,
{
    let mut expected: VecDeque<_> = expected.into();
    for &front in pattern.iter().cycle().take(expected.len() + 2) {
        let (got, want) = if front {
            (iter.next(), expected.pop_front())
        } else {
            (iter.next_back(), expected.pop_back())
        };
        assert_eq!(got, want, "front={front}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// With and without a key filter; `with_filter(0)` is one word, so
    /// absent keys collide with present ones as well as miss.
    #[test]
    fn get_matches_model_at_every_snapshot(writes in writes(), filter in prop_oneof![Just(None), Just(Some(0usize)), Just(Some(1 << 20))]) {
        let mem = filter.map_or_else(MemTable::new, MemTable::with_filter);
        let (mem, model) = build_into(mem, &writes);
        let max = writes.iter().map(|(_, s)| *s).max().unwrap_or(0);
        for snapshot in 0..=max + 1 {
            for probe in PROBES {
                let got = mem.get(probe, snapshot).map(|e| (e.seqno, e.kind, e.value));
                prop_assert_eq!(got, model_get(&model, probe, snapshot), "key {:?} at {}", probe, snapshot);
            }
        }
        prop_assert_eq!(mem.len(), model.len());
        prop_assert_eq!(mem.min_seqno(), writes.iter().map(|(_, s)| *s).min());
        prop_assert_eq!(mem.max_seqno(), writes.iter().map(|(_, s)| *s).max());
    }

    #[test]
    fn range_iteration_matches_model(
        writes in writes(),
        lo in bound(),
        hi in bound(),
        pattern in proptest::collection::vec(any::<bool>(), 1..8),
    ) {
        let (mem, model) = build(&writes);
        let range = (lo, hi);
        let expected = model_range(&model, &range);
        prop_assert_eq!(mem.range(range.clone()).collect::<Vec<_>>(), expected.clone());
        let mut reversed = expected.clone();
        reversed.reverse();
        prop_assert_eq!(mem.range(range.clone()).rev().collect::<Vec<_>>(), reversed);
        check_mixed(mem.range(range), expected, &pattern);
        prop_assert_eq!(mem.iter().collect::<Vec<_>>(), model_range(&model, &(Bound::Unbounded, Bound::Unbounded)));
    }

    #[test]
    fn visible_range_matches_model(
        writes in writes(),
        lo in bound(),
        hi in bound(),
        snapshot in 0u64..250,
        pattern in proptest::collection::vec(any::<bool>(), 1..8),
    ) {
        let (mem, model) = build(&writes);
        let range = (lo, hi);
        let expected = model_visible(&model, &range, snapshot);
        prop_assert_eq!(mem.visible_range(range.clone(), snapshot).collect::<Vec<_>>(), expected.clone());
        let mut reversed = expected.clone();
        reversed.reverse();
        prop_assert_eq!(mem.visible_range(range.clone(), snapshot).rev().collect::<Vec<_>>(), reversed);
        check_mixed(mem.visible_range(range, snapshot), expected, &pattern);
    }

    #[test]
    fn cursor_seeks_and_steps_like_model(
        writes in writes(),
        probe in 0..PROBES.len(),
        seqno in 0u64..250,
        kind in kind(),
        steps in proptest::collection::vec(any::<bool>(), 0..12),
    ) {
        let (mem, model) = build(&writes);
        let all: Vec<(InternalKey, Bytes)> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let probe_key = PROBES[probe];
        let target = InternalKey::new(Bytes::from_static(probe_key), seqno, kind);
        let at = |pos: Option<usize>| pos.map(|i| all[i].clone());

        // Each seek gives a starting index into `all` (None = invalid).
        let first_ge = |pred: &dyn Fn(&InternalKey) -> bool| all.iter().position(|(k, _)| pred(k));
        let last_le = |pred: &dyn Fn(&InternalKey) -> bool| all.iter().rposition(|(k, _)| pred(k));
        let seeks: Vec<(&str, Option<usize>)> = vec![
            ("seek", first_ge(&|k| k.user_key.as_ref() >= probe_key)),
            ("seek_visible", first_ge(&|k| *k >= InternalKey::seek_key(Bytes::from_static(probe_key), seqno))),
            ("seek_internal", first_ge(&|k| *k >= target)),
            ("seek_for_prev", last_le(&|k| k.user_key.as_ref() <= probe_key)),
            ("seek_for_prev_internal", last_le(&|k| *k <= target)),
            ("seek_to_first", (!all.is_empty()).then_some(0)),
            ("seek_to_last", all.len().checked_sub(1)),
        ];
        for (name, start) in seeks {
            let mut cursor = mem.cursor();
            prop_assert!(!cursor.valid());
            match name {
                "seek" => cursor.seek(probe_key),
                "seek_visible" => cursor.seek_visible(probe_key, seqno),
                "seek_internal" => cursor.seek_internal(target.as_ref()),
                "seek_for_prev" => cursor.seek_for_prev(probe_key),
                "seek_for_prev_internal" => cursor.seek_for_prev_internal(InternalKeyRef {
                    user_key: probe_key,
                    seqno,
                    kind,
                }),
                "seek_to_first" => cursor.seek_to_first(),
                _ => cursor.seek_to_last(),
            }
            let mut pos = start;
            let current = |c: &strata_memtable::MemTableCursor<'_>| {
                c.key().map(|k| (k.to_owned(), c.value().unwrap()))
            };
            prop_assert_eq!(current(&cursor), at(pos), "{}", name);
            prop_assert_eq!(cursor.valid(), pos.is_some());
            let on_probe = at(pos).is_some_and(|(k, _)| k.user_key.as_ref() == probe_key);
            prop_assert_eq!(cursor.on_user_key(probe_key), on_probe, "{}", name);
            for &forward in &steps {
                if forward {
                    cursor.next();
                    pos = pos.and_then(|i| (i + 1 < all.len()).then_some(i + 1));
                } else {
                    cursor.prev();
                    pos = pos.and_then(|i| i.checked_sub(1));
                }
                prop_assert_eq!(current(&cursor), at(pos), "{} after step forward={}", name, forward);
                let on_probe = at(pos).is_some_and(|(k, _)| k.user_key.as_ref() == probe_key);
                prop_assert_eq!(cursor.on_user_key(probe_key), on_probe);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A position saved on any entry resumes, after more inserts, on the
    /// first entry after that entry's key, as a search for the key would;
    /// a cursor of another memtable refuses it and stays where it was.
    #[test]
    fn a_saved_position_resumes_where_a_seek_past_its_key_lands(
        writes in writes(),
        split in 0usize..80,
    ) {
        let split = split.min(writes.len());
        let (mem, _) = build(&writes[..split]);
        let mut saved = Vec::new();
        let mut cursor = mem.cursor();
        cursor.seek_to_first();
        while let (Some(key), Some(pos)) = (cursor.key(), cursor.position()) {
            saved.push((key.to_owned(), pos));
            cursor.next();
        }
        prop_assert_eq!(saved.len(), split);
        let (mem, _) = build_into(mem, &writes[split..]);
        // The same entries in another memtable, and all of them in the model.
        let (other, model) = build(&writes);
        for (key, pos) in saved {
            let expected = model
                .range((Bound::Excluded(&key), Bound::Unbounded))
                .next()
                .map(|(k, v)| (k.clone(), v.clone()));
            let mut resumed = mem.cursor();
            prop_assert!(resumed.seek_after_position(pos));
            let got = resumed.key().map(|k| (k.to_owned(), resumed.value().unwrap()));
            prop_assert_eq!(got, expected);

            let mut foreign = other.cursor();
            foreign.seek_to_last();
            let before = foreign.key().map(|k| k.to_owned());
            prop_assert!(!foreign.seek_after_position(pos));
            prop_assert_eq!(foreign.key().map(|k| k.to_owned()), before);
        }
    }
}

#[test]
fn inverted_and_empty_ranges_yield_nothing() {
    let mem = MemTable::new();
    for (i, key) in KEYS.iter().enumerate() {
        mem.insert(
            Bytes::from_static(key),
            i as u64 + 1,
            ValueKind::Put,
            Bytes::from_static(b"v"),
        )
        .unwrap();
    }
    let b = |s: &'static [u8]| Bytes::from_static(s);
    assert_eq!(mem.range(b(b"c")..b(b"a")).count(), 0);
    assert_eq!(mem.range(b(b"c")..b(b"a")).rev().count(), 0);
    assert_eq!(mem.range(b(b"b")..b(b"b")).count(), 0);
    assert_eq!(
        mem.range((Bound::Excluded(b(b"b")), Bound::Excluded(b(b"b"))))
            .count(),
        0
    );
    assert_eq!(mem.range(b(b"b")..=b(b"b")).count(), 1);
    assert_eq!(mem.visible_range(b(b"c")..b(b"a"), 100).rev().count(), 0);
}
