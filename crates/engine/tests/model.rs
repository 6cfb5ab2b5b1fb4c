//! `Db` against a `BTreeMap` model: random sequences of puts, deletes,
//! atomic batches, TTL puts under a manual clock, counter increments,
//! point reads, range and prefix scans (forward, reverse and mixed from both
//! ends), snapshots read after later writes, flushes and clock moves,
//! explicit flushes, and close-and-reopen. Every read matches the model, with
//! tiny memtables (constant rotation and background flushes) in some cases
//! and large ones in others; `stats()` stays consistent (the last seqno
//! grows by exactly the writes made and survives a reopen, `flush()` leaves
//! no immutable memtable, live snapshots are counted).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use strata::{
    Bytes, CompressionType, Db, DbIterator, Error, ManualClock, Options, Snapshot, WriteBatch,
};
use strata_core::{FaultFs, FileSystem};

const DIR: &str = "/db";
const START_MS: u64 = 1_700_000_000_000;

// ---------------------------------------------------------------- model

/// A stored value and its expiry (unix ms; live strictly before it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    value: Vec<u8>,
    expires: Option<u64>,
}

#[derive(Debug, Clone, Default)]
struct Model {
    map: BTreeMap<Vec<u8>, Entry>,
}

impl Model {
    fn get(&self, key: &[u8], now: u64) -> Option<Vec<u8>> {
        let e = self.map.get(key)?;
        match e.expires {
            Some(at) if now >= at => None,
            _ => Some(e.value.clone()),
        }
    }

    fn range(&self, lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>, now: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
        // Filtered by hand: `BTreeMap::range` panics on inverted bounds, which
        // the database must answer with nothing.
        self.map
            .keys()
            .filter(|k| in_bounds(k, lo, hi))
            .filter_map(|k| Some((k.clone(), self.get(k, now)?)))
            .collect()
    }

    fn put(&mut self, key: &[u8], value: Vec<u8>, expires: Option<u64>) {
        self.map.insert(key.to_vec(), Entry { value, expires });
    }

    fn delete(&mut self, key: &[u8]) {
        self.map.remove(key);
    }
}

fn in_bounds(k: &[u8], lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    let above = match lo {
        Bound::Included(l) => k >= l.as_slice(),
        Bound::Excluded(l) => k > l.as_slice(),
        Bound::Unbounded => true,
    };
    let below = match hi {
        Bound::Included(h) => k <= h.as_slice(),
        Bound::Excluded(h) => k < h.as_slice(),
        Bound::Unbounded => true,
    };
    above && below
}

fn parse_counter(v: &[u8]) -> Option<i64> {
    std::str::from_utf8(v).ok()?.parse::<i64>().ok()
}

// ---------------------------------------------------------------- ops

/// How a value is made: short text, a long (hundreds of bytes) one, or a
/// decimal counter value.
#[derive(Debug, Clone)]
enum Val {
    Short(u8),
    Long(u16, u8),
    Number(i64),
}

impl Val {
    fn bytes(&self) -> Vec<u8> {
        match *self {
            Val::Short(tag) => format!("s{tag}").into_bytes(),
            Val::Long(len, tag) => {
                let mut v = format!("L{tag}:").into_bytes();
                v.extend((0..len).map(|i| b'a' + ((i as u8).wrapping_add(tag) % 26)));
                v
            }
            Val::Number(n) => n.to_string().into_bytes(),
        }
    }
}

#[derive(Debug, Clone)]
enum ScanMode {
    Forward,
    Reverse,
    /// `true` = `next`, `false` = `next_back`, then drained with `next`.
    Mixed(Vec<bool>),
}

#[derive(Debug, Clone)]
enum BatchOp {
    Put(String, Val),
    PutTtl(String, Val, u64),
    Delete(String),
}

#[derive(Debug, Clone)]
enum Op {
    Put(String, Val),
    PutTtl(String, Val, u64),
    Delete(String),
    Batch(Vec<BatchOp>),
    Advance(u64),
    Increment(String, i64),
    Get(String),
    Scan(Bound<String>, Bound<String>, ScanMode),
    Prefix(String, ScanMode),
    /// A scan whose clock moves by `ms` after the iterator was created:
    /// expiry is judged once, at creation.
    ScanThenAdvance(Bound<String>, Bound<String>, u64),
    TakeSnapshot,
    DropSnapshot(prop::sample::Index),
    SnapGet(prop::sample::Index, String),
    SnapScan(prop::sample::Index, Bound<String>, Bound<String>, ScanMode),
    SnapPrefix(prop::sample::Index, String),
    Flush,
    Reopen,
}

fn key() -> impl Strategy<Value = String> {
    "[abc]{1,3}"
}

fn bound() -> impl Strategy<Value = Bound<String>> {
    prop_oneof![
        2 => "[abc]{0,3}".prop_map(Bound::Included),
        2 => "[abc]{0,3}".prop_map(Bound::Excluded),
        1 => Just(Bound::Unbounded),
    ]
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        3 => any::<u8>().prop_map(Val::Short),
        2 => (150u16..700, any::<u8>()).prop_map(|(l, t)| Val::Long(l, t)),
        2 => prop_oneof![-100i64..100, Just(i64::MAX), Just(i64::MIN)].prop_map(Val::Number),
    ]
}

fn ttl() -> impl Strategy<Value = u64> {
    1u64..3000
}

fn mode() -> impl Strategy<Value = ScanMode> {
    prop_oneof![
        Just(ScanMode::Forward),
        Just(ScanMode::Reverse),
        prop::collection::vec(any::<bool>(), 0..12).prop_map(ScanMode::Mixed),
    ]
}

fn batch_op() -> impl Strategy<Value = BatchOp> {
    prop_oneof![
        3 => (key(), val()).prop_map(|(k, v)| BatchOp::Put(k, v)),
        1 => (key(), val(), ttl()).prop_map(|(k, v, t)| BatchOp::PutTtl(k, v, t)),
        2 => key().prop_map(BatchOp::Delete),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (key(), val()).prop_map(|(k, v)| Op::Put(k, v)),
        3 => (key(), val(), ttl()).prop_map(|(k, v, t)| Op::PutTtl(k, v, t)),
        4 => key().prop_map(Op::Delete),
        3 => prop::collection::vec(batch_op(), 1..8).prop_map(Op::Batch),
        2 => prop_oneof![0u64..50, 0u64..2500].prop_map(Op::Advance),
        3 => (key(), prop_oneof![-50i64..50, Just(i64::MAX), Just(i64::MIN)])
            .prop_map(|(k, d)| Op::Increment(k, d)),
        5 => key().prop_map(Op::Get),
        3 => (bound(), bound(), mode()).prop_map(|(l, h, m)| Op::Scan(l, h, m)),
        2 => ("[abc]{0,2}", mode()).prop_map(|(p, m)| Op::Prefix(p, m)),
        1 => (bound(), bound(), 0u64..2500).prop_map(|(l, h, ms)| Op::ScanThenAdvance(l, h, ms)),
        1 => Just(Op::TakeSnapshot),
        1 => any::<prop::sample::Index>().prop_map(Op::DropSnapshot),
        2 => (any::<prop::sample::Index>(), key()).prop_map(|(i, k)| Op::SnapGet(i, k)),
        2 => (any::<prop::sample::Index>(), bound(), bound(), mode())
            .prop_map(|(i, l, h, m)| Op::SnapScan(i, l, h, m)),
        1 => (any::<prop::sample::Index>(), "[abc]{0,2}").prop_map(|(i, p)| Op::SnapPrefix(i, p)),
        1 => Just(Op::Flush),
        1 => Just(Op::Reopen),
    ]
}

/// Options varied per case; `small` means 4 KiB memtables with one
/// immutable slot, so writes rotate, flush and stall all the time.
#[derive(Debug, Clone)]
struct Config {
    small: bool,
    block_size: usize,
    cache: bool,
    lz4: bool,
    bloom: bool,
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop::bool::weighted(0.7),
        prop_oneof![Just(128usize), Just(4096)],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(small, block_size, cache, lz4, bloom)| Config {
            small,
            block_size,
            cache,
            lz4,
            bloom,
        })
}

// ---------------------------------------------------------------- harness

type Kvs = Vec<(String, String)>;

fn show(kvs: &[(Vec<u8>, Vec<u8>)]) -> Kvs {
    kvs.iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

fn item(x: Option<strata::Result<(Bytes, Bytes)>>) -> Option<(String, String)> {
    x.map(|kv| {
        let (k, v) = kv.unwrap();
        (
            String::from_utf8_lossy(&k).into_owned(),
            String::from_utf8_lossy(&v).into_owned(),
        )
    })
}

fn to_bytes(b: &Bound<String>) -> Bound<Vec<u8>> {
    match b {
        Bound::Included(s) => Bound::Included(s.clone().into_bytes()),
        Bound::Excluded(s) => Bound::Excluded(s.clone().into_bytes()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Reads `it` as `mode` says and compares each step with `expected`; both
/// ends must then be exhausted.
fn check_iter(mut it: DbIterator, expected: &[(Vec<u8>, Vec<u8>)], mode: &ScanMode, what: &str) {
    let expected = show(expected);
    match mode {
        ScanMode::Forward => {
            let got: Kvs = it.by_ref().map(|x| item(Some(x)).unwrap()).collect();
            assert_eq!(got, expected, "{what} forward");
        }
        ScanMode::Reverse => {
            let got: Kvs = it.by_ref().rev().map(|x| item(Some(x)).unwrap()).collect();
            let mut want = expected;
            want.reverse();
            assert_eq!(got, want, "{what} reverse");
        }
        ScanMode::Mixed(dirs) => {
            let mut want: VecDeque<_> = expected.into();
            for (step, &front) in dirs.iter().enumerate() {
                let (got, exp) = if front {
                    (item(it.next()), want.pop_front())
                } else {
                    (item(it.next_back()), want.pop_back())
                };
                assert_eq!(got, exp, "{what} mixed step {step} (front: {front})");
            }
            let rest: Kvs = it.by_ref().map(|x| item(Some(x)).unwrap()).collect();
            assert_eq!(rest, Vec::from(want), "{what} mixed rest");
        }
    }
    assert!(it.next().is_none(), "{what}: next after the end");
    assert!(it.next_back().is_none(), "{what}: next_back after the end");
}

struct Harness {
    clock: Arc<ManualClock>,
    opts: Options,
    db: Db,
    model: Model,
    snaps: Vec<(Snapshot, Model)>,
    last_seqno: u64,
}

impl Harness {
    fn new(cfg: &Config) -> Self {
        let fs = FaultFs::new();
        fs.create_dir_all(Path::new(DIR)).unwrap();
        let clock = Arc::new(ManualClock::new(START_MS));
        let mut opts = Options::default()
            .file_system(Arc::new(fs.clone()))
            .clock(clock.clone())
            .block_size(cfg.block_size)
            .block_cache_bytes(if cfg.cache { 1 << 20 } else { 0 })
            .bloom_bits_per_key(if cfg.bloom { 10 } else { 0 })
            .compression(if cfg.lz4 {
                CompressionType::Lz4
            } else {
                CompressionType::None
            });
        if cfg.small {
            opts = opts.memtable_size(4096).max_immutable_memtables(1);
        }
        let db = Db::open(DIR, opts.clone()).unwrap();
        Self {
            clock,
            opts,
            db,
            model: Model::default(),
            snaps: Vec::new(),
            last_seqno: 0,
        }
    }

    fn now(&self) -> u64 {
        use strata::Clock;
        self.clock.now_millis()
    }

    /// Stats after a step that made `writes` writes.
    fn check_stats(&mut self, writes: u64) {
        let stats = self.db.stats();
        assert_eq!(
            stats.last_seqno,
            self.last_seqno + writes,
            "last_seqno after {writes} writes"
        );
        self.last_seqno = stats.last_seqno;
        assert_eq!(stats.live_snapshots, self.snaps.len(), "live snapshots");
    }

    fn check_all(&self, what: &str) {
        let now = self.now();
        let all = self.model.range(&Bound::Unbounded, &Bound::Unbounded, now);
        check_iter(self.db.scan::<&[u8], _>(..), &all, &ScanMode::Forward, what);
        check_iter(self.db.scan::<&[u8], _>(..), &all, &ScanMode::Reverse, what);
        for k in self.model.map.keys() {
            assert_eq!(
                self.db.get(k).unwrap().map(|b| b.to_vec()),
                self.model.get(k, now),
                "{what}: get {:?}",
                String::from_utf8_lossy(k)
            );
        }
    }

    fn snap(&self, i: &prop::sample::Index) -> Option<&(Snapshot, Model)> {
        if self.snaps.is_empty() {
            None
        } else {
            self.snaps.get(i.index(self.snaps.len()))
        }
    }

    fn apply(&mut self, op: &Op) {
        let now = self.now();
        match op {
            Op::Put(k, v) => {
                self.db.put(k, v.bytes()).unwrap();
                self.model.put(k.as_bytes(), v.bytes(), None);
                self.check_stats(1);
            }
            Op::PutTtl(k, v, ttl) => {
                self.db
                    .put_with_ttl(k, v.bytes(), Duration::from_millis(*ttl))
                    .unwrap();
                self.model.put(k.as_bytes(), v.bytes(), Some(now + ttl));
                self.check_stats(1);
            }
            Op::Delete(k) => {
                self.db.delete(k).unwrap();
                self.model.delete(k.as_bytes());
                self.check_stats(1);
            }
            Op::Batch(ops) => {
                let mut batch = WriteBatch::new();
                for o in ops {
                    match o {
                        BatchOp::Put(k, v) => {
                            batch.put(k.as_bytes(), &v.bytes()).unwrap();
                            self.model.put(k.as_bytes(), v.bytes(), None);
                        }
                        BatchOp::PutTtl(k, v, ttl) => {
                            batch
                                .put_with_expiry(k.as_bytes(), &v.bytes(), now + ttl)
                                .unwrap();
                            self.model.put(k.as_bytes(), v.bytes(), Some(now + ttl));
                        }
                        BatchOp::Delete(k) => {
                            batch.delete(k.as_bytes()).unwrap();
                            self.model.delete(k.as_bytes());
                        }
                    }
                }
                self.db.write(batch).unwrap();
                self.check_stats(ops.len() as u64);
            }
            Op::Advance(ms) => self.clock.advance(*ms),
            Op::Increment(k, delta) => {
                let current = match self.model.get(k.as_bytes(), now) {
                    None => Some(0),
                    Some(v) => parse_counter(&v),
                };
                let expected = current.and_then(|c| c.checked_add(*delta));
                match (self.db.increment(k, *delta), expected) {
                    (Ok(got), Some(want)) => {
                        assert_eq!(got, want, "increment {k} by {delta}");
                        self.model
                            .put(k.as_bytes(), want.to_string().into_bytes(), None);
                        self.check_stats(1);
                    }
                    (Err(Error::InvalidArgument(_)), None) => self.check_stats(0),
                    (got, want) => panic!("increment {k} by {delta}: got {got:?}, want {want:?}"),
                }
            }
            Op::Get(k) => {
                assert_eq!(
                    self.db.get(k).unwrap().map(|b| b.to_vec()),
                    self.model.get(k.as_bytes(), now),
                    "get {k}"
                );
            }
            Op::Scan(lo, hi, mode) => {
                let (lo, hi) = (to_bytes(lo), to_bytes(hi));
                let want = self.model.range(&lo, &hi, now);
                let what = format!("scan {lo:?}..{hi:?}");
                check_iter(self.db.scan((lo, hi)), &want, mode, &what);
            }
            Op::Prefix(p, mode) => {
                let want: Vec<_> = self
                    .model
                    .range(&Bound::Unbounded, &Bound::Unbounded, now)
                    .into_iter()
                    .filter(|(k, _)| k.starts_with(p.as_bytes()))
                    .collect();
                check_iter(self.db.prefix(p), &want, mode, &format!("prefix {p:?}"));
            }
            Op::ScanThenAdvance(lo, hi, ms) => {
                let (lo, hi) = (to_bytes(lo), to_bytes(hi));
                let want = self.model.range(&lo, &hi, now);
                let it = self.db.scan((lo.clone(), hi.clone()));
                self.clock.advance(*ms);
                let what = format!("scan {lo:?}..{hi:?} with the clock moved by {ms} ms");
                check_iter(it, &want, &ScanMode::Forward, &what);
            }
            Op::TakeSnapshot => {
                let s = self.db.snapshot();
                assert_eq!(s.seqno(), self.last_seqno, "snapshot seqno");
                self.snaps.push((s, self.model.clone()));
                self.check_stats(0);
            }
            Op::DropSnapshot(i) => {
                if !self.snaps.is_empty() {
                    self.snaps.remove(i.index(self.snaps.len()));
                }
                self.check_stats(0);
            }
            Op::SnapGet(i, k) => {
                if let Some((s, m)) = self.snap(i) {
                    assert_eq!(
                        s.get(k).unwrap().map(|b| b.to_vec()),
                        m.get(k.as_bytes(), now),
                        "snapshot {} get {k}",
                        s.seqno()
                    );
                }
            }
            Op::SnapScan(i, lo, hi, mode) => {
                if let Some((s, m)) = self.snap(i) {
                    let (lo, hi) = (to_bytes(lo), to_bytes(hi));
                    let want = m.range(&lo, &hi, now);
                    let what = format!("snapshot {} scan {lo:?}..{hi:?}", s.seqno());
                    check_iter(s.scan((lo, hi)), &want, mode, &what);
                }
            }
            Op::SnapPrefix(i, p) => {
                if let Some((s, m)) = self.snap(i) {
                    let want: Vec<_> = m
                        .range(&Bound::Unbounded, &Bound::Unbounded, now)
                        .into_iter()
                        .filter(|(k, _)| k.starts_with(p.as_bytes()))
                        .collect();
                    let what = format!("snapshot {} prefix {p:?}", s.seqno());
                    check_iter(s.prefix(p), &want, &ScanMode::Reverse, &what);
                }
            }
            Op::Flush => {
                self.db.flush().unwrap();
                assert_eq!(self.db.stats().immutable_memtables, 0, "after flush");
                self.check_stats(0);
            }
            Op::Reopen => self.reopen(),
        }
    }

    fn reopen(&mut self) {
        self.snaps.clear();
        self.db.close().unwrap();
        assert!(matches!(self.db.get("a"), Err(Error::Closed)));
        self.db = Db::open(DIR, self.opts.clone()).unwrap();
        self.check_stats(0);
        self.check_all("after reopen");
    }
}

fn run(cfg: &Config, ops: &[Op]) {
    let mut h = Harness::new(cfg);
    for op in ops {
        h.apply(op);
    }
    h.check_all("at the end");
    // Snapshots still match their models at the end, after every later step.
    let now = h.now();
    for (s, m) in &h.snaps {
        let all = m.range(&Bound::Unbounded, &Bound::Unbounded, now);
        check_iter(
            s.scan::<&[u8], _>(..),
            &all,
            &ScanMode::Forward,
            "final snapshot",
        );
    }
    h.reopen();
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        rng_seed: RngSeed::Fixed(0x5741_7441),
        ..ProptestConfig::default()
    })]

    #[test]
    fn db_matches_a_btreemap_model(cfg in config(), ops in prop::collection::vec(op(), 50..300)) {
        run(&cfg, &ops);
    }
}
