//! Four writer threads insert disjoint seqnos while two readers `get` and
//! iterate. Every read must return a version that was really written for that
//! key at or below the snapshot, reads at the published watermark must be
//! exact, iterators must stay sorted, and the final state must equal the model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use bytes::Bytes;
use strata_core::{InternalKey, SeqNo, ValueKind};
use strata_memtable::MemTable;

const WRITERS: u64 = 4;
const PER_WRITER: u64 = 20_000;
const KEYS: u64 = 64;

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
    let mem = Arc::new(MemTable::new());
    // Last seqno each writer finished inserting: every seqno <= min over
    // writers is fully inserted (the engine's "published" watermark).
    let progress: Arc<Vec<AtomicU64>> = Arc::new((0..WRITERS).map(|_| AtomicU64::new(0)).collect());
    let done = Arc::new(AtomicBool::new(false));
    // Everyone starts together so reads overlap the inserts.
    let start = Arc::new(Barrier::new(WRITERS as usize + 2));

    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let (mem, progress, start) = (mem.clone(), progress.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let mut last_memory = 0;
                for s in writer_seqnos(t) {
                    mem.insert(key_bytes(key_of(s)), s, kind_of(s), value_of(s));
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

    let readers: Vec<_> = (0..2u64)
        .map(|r| {
            let (mem, progress, done, start) =
                (mem.clone(), progress.clone(), done.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15 ^ (r + 1));
                let (mut rounds, mut overlapping) = (0u64, 0u64);
                while !done.load(Ordering::Acquire) || rounds < 10 {
                    rounds += 1;
                    let watermark = progress
                        .iter()
                        .map(|p| p.load(Ordering::Acquire))
                        .min()
                        .unwrap();
                    if watermark < WRITERS * PER_WRITER - WRITERS {
                        overlapping += 1;
                    }
                    check_gets(&mem, &mut rng, watermark);
                    check_iteration(&mem, &mut rng, watermark);
                }
                (rounds, overlapping)
            })
        })
        .collect();

    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::Release);
    for r in readers {
        let (rounds, overlapping) = r.join().unwrap();
        assert!(rounds >= 10);
        eprintln!("reader: {rounds} rounds, {overlapping} while writers were running");
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
            assert!(p < k, "cursor out of order");
        }
        prev = Some(k.clone());
        cursor.next();
    }
}
