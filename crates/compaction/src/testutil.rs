//! Synthetic views for the strategy tests.

use bytes::Bytes;
use proptest::prelude::*;

use crate::task::CompactionPick;
use crate::view::{FileView, LevelsView, MAX_LEVELS};

pub(crate) const MIB: u64 = 1 << 20;

/// A 1 MiB file of 100 entries (one version per key) holding `seqno`
/// only, keys `lo..=hi`.
pub(crate) fn file(number: u64, level: usize, lo: &str, hi: &str, seqno: u64) -> FileView {
    FileView {
        number,
        level,
        size: MIB,
        smallest: Bytes::copy_from_slice(lo.as_bytes()),
        largest: Bytes::copy_from_slice(hi.as_bytes()),
        min_seqno: seqno,
        max_seqno: seqno,
        num_entries: 100,
        num_shadowed: Some(0),
        ..FileView::default()
    }
}

/// `f` with `size` bytes.
pub(crate) fn sized(mut f: FileView, size: u64) -> FileView {
    f.size = size;
    f
}

/// `f` marked as owned by a running compaction.
pub(crate) fn busy(mut f: FileView) -> FileView {
    f.being_compacted = true;
    f
}

/// A view of `levels` (missing levels empty) at time 0, put in the order the
/// engine keeps and checked.
pub(crate) fn view(mut levels: Vec<Vec<FileView>>) -> LevelsView {
    levels.resize(MAX_LEVELS, Vec::new());
    for (i, level) in levels.iter_mut().enumerate() {
        if i == 0 {
            level.sort_by_key(|f| std::cmp::Reverse((f.max_seqno, f.number)));
        } else {
            level.sort_by(|a, b| a.smallest.cmp(&b.smallest));
        }
    }
    let v = LevelsView::new(levels, 0);
    v.validate().unwrap();
    v
}

/// Asserts what every pick must satisfy on any view: it names only
/// existing idle files and passes [`LevelsView::check_pick`].
pub(crate) fn assert_sound(v: &LevelsView, pick: &CompactionPick) {
    for (level, number) in pick.files() {
        let f = v.file(level, number);
        assert!(
            f.is_some_and(|f| !f.being_compacted),
            "{pick:?} names {number}"
        );
    }
    if let Err(e) = v.check_pick(pick) {
        panic!("{pick:?} is invalid: {e}");
    }
}

fn key(k: u16) -> Bytes {
    Bytes::from(format!("{k:04}"))
}

/// Random valid views: up to 10 overlapping L0 files with disjoint seqno
/// ranges, sorted disjoint deeper levels holding older data, random sizes,
/// times (growing with seqnos in L0), TTL and tombstone counts, and about
/// one file in ten busy.
pub(crate) fn arb_view() -> impl Strategy<Value = LevelsView> {
    let meta = (
        0u32..30,                   // log2 of size
        0u64..10,                   // time window of max_time_ms (hours)
        0u64..2000,                 // entries
        0u64..=100,                 // tombstone percent
        prop::bool::weighted(0.25), // all entries expiring
        0u64..10,                   // expiry hour
        prop::bool::weighted(0.1),  // busy
    );
    let l0 = prop::collection::vec((0u16..1000, 0u16..400, meta.clone()), 0..10);
    let deeper = prop::collection::vec(
        prop::collection::vec((1u16..60, 0u16..80, meta), 0..8),
        MAX_LEVELS - 1,
    );
    (l0, deeper, 0u64..12).prop_map(|(l0, deeper, now_h)| {
        const HOUR: u64 = 3_600_000;
        let mut number = 0;
        let mut build =
            |level, lo: u16, hi: u16, seq: u64, m: (u32, u64, u64, u64, bool, u64, bool)| {
                number += 1;
                let (size_log, hour, entries, pct, expiring, expiry_h, is_busy) = m;
                let tombstones = if expiring { 0 } else { entries * pct / 100 };
                FileView {
                    number,
                    level,
                    size: 1 << size_log,
                    smallest: key(lo),
                    largest: key(hi),
                    min_seqno: seq,
                    max_seqno: seq + 9,
                    min_time_ms: hour * HOUR,
                    max_time_ms: hour * HOUR + HOUR / 2,
                    num_entries: entries,
                    num_tombstones: tombstones,
                    num_expiring: if expiring { entries } else { 0 },
                    max_expiry_ms: if expiring { expiry_h * HOUR } else { 0 },
                    num_shadowed: (pct % 3 != 0).then_some(entries * (pct % 7) / 100),
                    being_compacted: is_busy,
                    seeks_exhausted: pct % 5 == 1,
                }
            };
        let mut levels = vec![Vec::new(); MAX_LEVELS];
        // Deeper levels hold older data: L6 the oldest seqnos.
        let mut seq = 1;
        for (i, files) in deeper.into_iter().enumerate().rev() {
            let mut at = 0u16;
            for (gap, width, m) in files {
                let lo = at + gap;
                let hi = lo + width;
                at = hi;
                levels[i + 1].push(build(i + 1, lo, hi, seq, m));
                seq += 10;
            }
        }
        // L0 write times grow with seqnos, as they do in the engine.
        let mut hours: Vec<u64> = l0.iter().map(|(_, _, m)| m.1).collect();
        hours.sort_unstable();
        for ((lo, width, mut m), hour) in l0.into_iter().zip(hours) {
            m.1 = hour;
            levels[0].push(build(0, lo, lo + width, seq, m));
            seq += 10;
        }
        levels[0].reverse();
        let v = LevelsView::new(levels, now_h * HOUR);
        debug_assert!(v.validate().is_ok());
        v
    })
}
