//! Fuzz bodies, called by the cargo-fuzz package in `/work/main/fuzz`.
//!
//! Not part of the supported API: hidden from docs, may change at any time.

use std::collections::BTreeMap;
use std::ops::Bound;

use bytes::Bytes;
use strata_core::{InternalKey, SeqNo, ValueKind};

use crate::MemTable;

/// Keys the operations pick from: few, so keys collect many versions; some
/// share the 16-byte inline prefix and differ after it.
const KEYS: &[&[u8]] = &[
    b"",
    b"a",
    b"a\0",
    b"b",
    b"0123456789abcdef",
    b"0123456789abcdef\0",
    b"0123456789abcdefZ",
];

/// Interprets `data` as memtable operations and checks every read against a
/// `BTreeMap` model: `get` at a snapshot, range scans forwards and backwards
/// (which must be exact mirrors), the visible-version scan, and a cursor walk.
///
/// Never panics unless the memtable disagrees with the model.
pub fn memtable_ops(data: &[u8]) {
    // A one-word key filter: every read goes through it, with collisions.
    let mem = MemTable::with_filter(0);
    let mut model: BTreeMap<InternalKey, Bytes> = BTreeMap::new();
    let mut seqno: SeqNo = 0;
    let pick = |b: u8| Bytes::from_static(KEYS[b as usize % KEYS.len()]);

    for op in data.chunks(3) {
        let [code, a, b] = [0, 1, 2].map(|i| op.get(i).copied().unwrap_or(0));
        match code % 4 {
            0 | 1 => {
                seqno += 1 + SeqNo::from(b % 3);
                let kind = match a >> 4 {
                    0..=3 => ValueKind::Delete,
                    4..=5 => ValueKind::PutWithExpiry,
                    _ => ValueKind::Put,
                };
                let value = match kind {
                    ValueKind::Delete => Bytes::new(),
                    _ => Bytes::from(vec![b; usize::from(a % 5)]),
                };
                if mem.insert(pick(a), seqno, kind, value.clone()).is_err() {
                    panic!("insert of a small entry failed");
                }
                model.insert(InternalKey::new(pick(a), seqno, kind), value);
            }
            2 => {
                let key = pick(a);
                let snapshot = SeqNo::from(b);
                let got = mem.get(&key, snapshot).map(|e| (e.seqno, e.kind, e.value));
                let want = model
                    .iter()
                    .find(|(k, _)| k.user_key == key && k.seqno <= snapshot)
                    .map(|(k, v)| (k.seqno, k.kind, v.clone()));
                assert_eq!(got, want, "get({key:?}, {snapshot})");
            }
            _ => check_scans(&mem, &model, pick(a), pick(b), SeqNo::from(code >> 2)),
        }
    }
    assert_eq!(mem.len(), model.len());
}

fn check_scans(
    mem: &MemTable,
    model: &BTreeMap<InternalKey, Bytes>,
    lo: Bytes,
    hi: Bytes,
    snapshot: SeqNo,
) {
    let range = (Bound::Included(lo.clone()), Bound::Excluded(hi.clone()));
    let want: Vec<(InternalKey, Bytes)> = model
        .iter()
        .filter(|(k, _)| k.user_key >= lo && k.user_key < hi)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let forward: Vec<_> = mem.range(range.clone()).collect();
    assert_eq!(forward, want, "range scan");
    let mut backward: Vec<_> = mem.range(range.clone()).rev().collect();
    backward.reverse();
    assert_eq!(
        backward, want,
        "reverse scan is not the mirror of the forward scan"
    );

    let mut visible: Vec<(InternalKey, Bytes)> = Vec::new();
    for (k, v) in want.iter().filter(|(k, _)| k.seqno <= snapshot) {
        if visible
            .last()
            .is_none_or(|(last, _)| last.user_key != k.user_key)
        {
            visible.push((k.clone(), v.clone()));
        }
    }
    assert_eq!(
        mem.visible_range(range.clone(), snapshot)
            .collect::<Vec<_>>(),
        visible
    );
    let mut back: Vec<_> = mem.visible_range(range, snapshot).rev().collect();
    back.reverse();
    assert_eq!(back, visible, "reverse visible scan");

    // A cursor from `lo` walks the same entries as the forward scan.
    let mut cursor = mem.cursor();
    cursor.seek(&lo);
    for (k, v) in &want {
        assert_eq!(cursor.key(), Some(k.as_ref()));
        assert_eq!(cursor.value().as_ref(), Some(v));
        cursor.next();
    }
}
