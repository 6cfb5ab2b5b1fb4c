//! Four writer threads insert disjoint seqnos while two readers `get` and
//! iterate. Every read must return a version that was really written for that
//! key at or below the snapshot, reads at the published watermark must be
//! exact, iterators must stay sorted, and the final state must equal the model.
//!
//! The overlap is guaranteed, not left to the scheduler: writers stop halfway
//! until each reader has opened a cursor and an iterator, and each reader then
//! waits for the writers to make progress before using them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use bytes::Bytes;
use strata_core::{InternalKey, SeqNo, ValueKind};
use strata_memtable::{MemTable, MemTableCursor, MemTableRange};

const WRITERS: u64 = 4;
const PER_WRITER: u64 = 20_000;
const KEYS: u64 = 64;
const READERS: u64 = 2;
/// The watermark once every writer is done.
const FINAL: SeqNo = WRITERS * PER_WRITER;

/// Which key seqno `s` writes: a fixed permutation so keys get interleaved versions.
fn key_of(s: SeqNo) -> u64 {
    (s * 37 + 11) % KEYS
}

fn key_bytes(k: u64) -> Bytes {
    Bytes::from(format!("key{k:03}"))
}

fn kind_of(s: SeqNo) -> ValueKind {
    match s % 7 {
        0 => ValueKind::Delete,
        3 => ValueKind::PutWithExpiry,
        _ => ValueKind::Put,
    }
}

fn value_of(s: SeqNo) -> Bytes {
    match kind_of(s) {
        ValueKind::Delete => Bytes::new(),
        _ => Bytes::from(format!("value-{s}-{}", key_of(s))),
    }
}

/// The newest seqno `<= snapshot` that wrote key `k` (seqnos start at 1).
fn expected_newest(k: u64, snapshot: SeqNo) -> Option<SeqNo> {
    (1..=snapshot).rev().find(|&s| key_of(s) == k)
}

/// Writer `t` owns seqnos `t + 1, t + 1 + WRITERS, ...` and inserts them in order.
fn writer_seqnos(t: u64) -> impl Iterator<Item = SeqNo> {
    (0..PER_WRITER).map(move |i| i * WRITERS + t + 1)
}

struct Xorshift(u64);
impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn concurrent_writers_and_readers_agree_with_model() {
    // With a small key filter: gets that race inserts also check that a
    // key's filter bits are set before its node can be found.
    let mem = Arc::new(MemTable::with_filter(64 << 10));
    // Last seqno each writer finished inserting: every seqno <= min over
    // writers is fully inserted (the engine's "published" watermark).
    let progress: Arc<Vec<AtomicU64>> = Arc::new((0..WRITERS).map(|_| AtomicU64::new(0)).collect());
    let done = Arc::new(AtomicBool::new(false));
    // Everyone starts together; writers stop at `half` until the readers
    // have opened their views (`views_open`).
    let barrier = || Arc::new(Barrier::new((WRITERS + READERS) as usize));
    let (start, half, views_open) = (barrier(), barrier(), barrier());

    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let (mem, progress) = (mem.clone(), progress.clone());
            let (start, half, views_open) = (start.clone(), half.clone(), views_open.clone());
            thread::spawn(move || {
                start.wait();
                let mut last_memory = 0;
                for (i, s) in writer_seqnos(t).enumerate() {
                    if i as u64 == PER_WRITER / 2 {
                        half.wait();
                        views_open.wait();
                    }
                    mem.insert(key_bytes(key_of(s)), s, kind_of(s), value_of(s))
                        .unwrap();
                    progress[t as usize].store(s, Ordering::Release);
                    let memory = mem.approximate_memory_usage();
                    assert!(
                        memory > last_memory,
                        "memory usage must grow with each insert"
                    );
                    last_memory = memory;
                }
            })
        })
        .collect();

    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (mem, progress, done) = (mem.clone(), progress.clone(), done.clone());
            let (start, half, views_open) = (start.clone(), half.clone(), views_open.clone());
            thread::spawn(move || {
                let watermark = || {
                    progress
                        .iter()
                        .map(|p| p.load(Ordering::Acquire))
                        .min()
                        .unwrap()
                };
                start.wait();
                half.wait();
                // Writers are parked halfway: open views, release the
                // writers, and use the views only once they have moved on.
                let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15 ^ (r + 1));
                let before = watermark();
                assert!(before > 0 && before < FINAL);
                let racing = RacingViews::open(&mem, &mut rng);
                views_open.wait();
                while watermark() == before {
                    thread::yield_now();
                }
                racing.check(&mem, before);
                // The views were opened at `before` and used after later inserts.
                let mut raced = 1u64;

                let mut rounds = 0u64;
                while !done.load(Ordering::Acquire) || rounds < 10 {
                    rounds += 1;
                    let at_start = watermark();
                    check_gets(&mem, &mut rng, at_start);
                    check_iteration(&mem, &mut rng, at_start);
                    if at_start < FINAL && watermark() > at_start {
                        raced += 1;
                    }
                }
                (rounds, raced)
            })
        })
        .collect();

    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::Release);
    for r in readers {
        let (rounds, raced) = r.join().unwrap();
        assert!(rounds >= 10);
        assert!(raced >= 1, "no read raced the writers");
        eprintln!("reader: {rounds} rounds, {raced} raced the writers");
    }

    let mut model = BTreeMap::new();
    for s in (0..WRITERS).flat_map(writer_seqnos) {
        model.insert(
            InternalKey::new(key_bytes(key_of(s)), s, kind_of(s)),
            value_of(s),
        );
    }
    let got: Vec<_> = mem.iter().collect();
    let want: Vec<_> = model.into_iter().collect();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "final contents differ from the model");
    assert_eq!(mem.len(), (WRITERS * PER_WRITER) as usize);
    assert_eq!(mem.min_seqno(), Some(1));
    assert_eq!(mem.max_seqno(), Some(WRITERS * PER_WRITER));
}

fn check_gets(mem: &MemTable, rng: &mut Xorshift, watermark: SeqNo) {
    for _ in 0..200 {
        let k = rng.next() % KEYS;
        let key = key_bytes(k);
        // Any snapshot: whatever is returned must be a real write of this key.
        let snapshot = rng.next() % (WRITERS * PER_WRITER + 10);
        if let Some(e) = mem.get(&key, snapshot) {
            assert!(e.seqno <= snapshot);
            assert_eq!(key_of(e.seqno), k, "seqno {} never wrote {key:?}", e.seqno);
            assert_eq!((e.kind, e.value), (kind_of(e.seqno), value_of(e.seqno)));
        }
        // At the watermark every write is finished: the answer is exact.
        let exact = mem.get(&key, watermark).map(|e| e.seqno);
        assert_eq!(
            exact,
            expected_newest(k, watermark),
            "key {k} at watermark {watermark}"
        );
    }
}

fn check_iteration(mem: &MemTable, rng: &mut Xorshift, watermark: SeqNo) {
    let lo = key_bytes(rng.next() % KEYS);
    let forward: Vec<_> = mem.range(lo.clone()..).take(500).collect();
    assert!(
        forward.windows(2).all(|w| w[0].0 < w[1].0),
        "forward scan out of order"
    );
    let backward: Vec<_> = mem.range(..=lo.clone()).rev().take(500).collect();
    assert!(
        backward.windows(2).all(|w| w[0].0 > w[1].0),
        "reverse scan out of order"
    );
    for (k, v) in forward.iter().chain(&backward) {
        assert_eq!(k.user_key, key_bytes(key_of(k.seqno)));
        assert_eq!((k.kind, v), (kind_of(k.seqno), &value_of(k.seqno)));
    }

    // The visible view at the watermark lists every key written so far, exactly.
    let visible: Vec<_> = mem.visible_range(.., watermark).collect();
    let expected: Vec<_> = (0..KEYS)
        .filter_map(|k| expected_newest(k, watermark))
        .collect();
    assert_eq!(visible.len(), expected.len());
    for (k, _) in &visible {
        let key = key_of(k.seqno);
        assert_eq!(Some(k.seqno), expected_newest(key, watermark));
    }

    let mut cursor = mem.cursor();
    cursor.seek(&lo);
    let mut prev: Option<InternalKey> = None;
    for _ in 0..200 {
        let Some(k) = cursor.key() else { break };
        if let Some(p) = &prev {
            assert!(p.as_ref() < k, "cursor out of order");
        }
        prev = Some(k.to_owned());
        cursor.next();
    }
}

/// A cursor and a range iterator opened while the writers are parked, and
/// first used after they resumed: they walk a list that grows under them.
struct RacingViews<'a> {
    cursor: MemTableCursor<'a>,
    scan: Vec<InternalKey>,
    rest: MemTableRange<'a>,
}

impl<'a> RacingViews<'a> {
    fn open(mem: &'a MemTable, rng: &mut Xorshift) -> Self {
        let lo = key_bytes(rng.next() % KEYS);
        let mut cursor = mem.cursor();
        cursor.seek(&lo);
        let mut rest = mem.range(lo..);
        let scan = rest.by_ref().take(10).map(|(k, _)| k).collect();
        Self { cursor, scan, rest }
    }

    /// Walks both views on; reads at `before` (a snapshot taken while the
    /// writers were parked) must not see anything written since.
    fn check(mut self, mem: &MemTable, before: SeqNo) {
        let mut prev: Option<InternalKey> = None;
        for _ in 0..2_000 {
            let Some(k) = self.cursor.key() else { break };
            assert_eq!(k.user_key, key_bytes(key_of(k.seqno)));
            if let Some(p) = &prev {
                assert!(
                    p.as_ref() < k,
                    "cursor out of order across concurrent inserts"
                );
            }
            prev = Some(k.to_owned());
            self.cursor.next();
        }
        self.scan.extend(self.rest.take(2_000).map(|(k, _)| k));
        assert!(
            self.scan.windows(2).all(|w| w[0] < w[1]),
            "range scan out of order across concurrent inserts"
        );
        for k in 0..KEYS {
            let got = mem.get(&key_bytes(k), before).map(|e| e.seqno);
            assert_eq!(got, expected_newest(k, before), "key {k} at {before}");
        }
    }
}
