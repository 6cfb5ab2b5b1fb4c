//! `Db` against a `BTreeMap` model while compaction runs all the time, under
//! each shipped strategy (leveled, size-tiered, time-window) with 4 KiB
//! memtables, tiny file and level targets, and a 5 ms compaction timer:
//! random puts, deletes, batches, TTL puts under a manual clock (moved far
//! enough to close time windows and expire data), counter increments, point
//! reads, scans (forward, reverse, mixed from both ends, random bounds),
//! snapshots taken before compactions and read after them, flushes,
//! `compact()`, `compact_range(random range)` and close-and-reopen.
//!
//! Every read matches the model; every snapshot read matches the model as it
//! was when the snapshot was taken; the last seqno grows by exactly the
//! writes made. Each run also checks that background compactions (not only
//! manual ones) really happened, so the model was exercised against them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngSeed, TestRunner};
use strata::{
    Bytes, Clock, Db, DbIterator, Error, Leveled, ManualClock, Options, Snapshot, WriteBatch,
};
use strata_core::{FaultFs, FileSystem};

use common::compaction::{Strat, tiny_size_tiered, tiny_time_window};

const DIR: &str = "/db";
const START_MS: u64 = 1_700_000_000_000;
/// Time-window length: clock moves of up to 2.5 s close windows often.
const WINDOW_MS: u64 = 1000;

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

    /// Live pairs within the bounds (inverted bounds: nothing).
    fn range(&self, lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>, now: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.map
            .keys()
            .filter(|k| in_bounds(k, lo, hi))
            .filter_map(|k| Some((k.clone(), self.get(k, now)?)))
            .collect()
    }

    fn prefix(&self, p: &[u8], now: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut all = self.range(&Bound::Unbounded, &Bound::Unbounded, now);
        all.retain(|(k, _)| k.starts_with(p));
        all
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

// ---------------------------------------------------------------- ops

#[derive(Debug, Clone)]
enum Val {
    Short(u8),
    /// Hundreds of bytes: a few fill a memtable, so flushes are constant.
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

type Range = (Bound<String>, Bound<String>);

#[derive(Debug, Clone)]
enum Op {
    Put(String, Val),
    PutTtl(String, Val, u64),
    Delete(String),
    Batch(Vec<BatchOp>),
    Advance(u64),
    Increment(String, i64),
    Get(String),
    Scan(Range, ScanMode),
    Prefix(String, ScanMode),
    TakeSnapshot,
    DropSnapshot(prop::sample::Index),
    SnapGet(prop::sample::Index, String),
    SnapScan(prop::sample::Index, Range, ScanMode),
    Flush,
    Compact,
    CompactRange(Range),
    /// Lets background compactions (and the timer) run for a few ms.
    Pause(u64),
    Reopen,
}

fn key() -> impl Strategy<Value = String> {
    "[abcd]{1,3}"
}

fn bound() -> impl Strategy<Value = Bound<String>> {
    prop_oneof![
        2 => "[abcd]{0,3}".prop_map(Bound::Included),
        2 => "[abcd]{0,3}".prop_map(Bound::Excluded),
        1 => Just(Bound::Unbounded),
    ]
}

fn range() -> impl Strategy<Value = Range> {
    (bound(), bound())
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        2 => any::<u8>().prop_map(Val::Short),
        4 => (150u16..700, any::<u8>()).prop_map(|(l, t)| Val::Long(l, t)),
        1 => (-100i64..100).prop_map(Val::Number),
    ]
}

fn ttl() -> impl Strategy<Value = u64> {
    1u64..4000
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
        2 => (key(), val(), ttl()).prop_map(|(k, v, t)| BatchOp::PutTtl(k, v, t)),
        2 => key().prop_map(BatchOp::Delete),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (key(), val()).prop_map(|(k, v)| Op::Put(k, v)),
        5 => (key(), val(), ttl()).prop_map(|(k, v, t)| Op::PutTtl(k, v, t)),
        5 => key().prop_map(Op::Delete),
        3 => prop::collection::vec(batch_op(), 1..8).prop_map(Op::Batch),
        3 => prop_oneof![0u64..100, 0u64..2500].prop_map(Op::Advance),
        2 => (key(), -50i64..50).prop_map(|(k, d)| Op::Increment(k, d)),
        5 => key().prop_map(Op::Get),
        3 => (range(), mode()).prop_map(|(r, m)| Op::Scan(r, m)),
        1 => ("[abcd]{0,2}", mode()).prop_map(|(p, m)| Op::Prefix(p, m)),
        1 => Just(Op::TakeSnapshot),
        1 => any::<prop::sample::Index>().prop_map(Op::DropSnapshot),
        2 => (any::<prop::sample::Index>(), key()).prop_map(|(i, k)| Op::SnapGet(i, k)),
        2 => (any::<prop::sample::Index>(), range(), mode())
            .prop_map(|(i, r, m)| Op::SnapScan(i, r, m)),
        1 => Just(Op::Flush),
        1 => Just(Op::Compact),
        1 => range().prop_map(Op::CompactRange),
        1 => (0u64..8).prop_map(Op::Pause),
        1 => Just(Op::Reopen),
    ]
}

/// Per-case settings besides the strategy.
#[derive(Debug, Clone)]
struct Config {
    threads: usize,
    block_size: usize,
    cache: bool,
    immutables: usize,
    /// Time-series style: every put and delete becomes a TTL put, so whole
    /// files expire (and time-window drops them).
    all_ttl: bool,
}

fn config() -> impl Strategy<Value = Config> {
    (
        1usize..=2,
        prop_oneof![Just(256usize), Just(4096)],
        any::<bool>(),
        1usize..=2,
        prop::bool::weighted(0.3),
    )
        .prop_map(|(threads, block_size, cache, immutables, all_ttl)| Config {
            threads,
            block_size,
            cache,
            immutables,
            all_ttl,
        })
}

fn options(strat: Strat, cfg: &Config, fs: &FaultFs, clock: &Arc<ManualClock>) -> Options {
    let opts = Options::default()
        .file_system(Arc::new(fs.clone()))
        .clock(clock.clone())
        .memtable_size(4096)
        .max_immutable_memtables(cfg.immutables)
        .block_size(cfg.block_size)
        .block_cache_bytes(if cfg.cache { 1 << 20 } else { 0 })
        .max_open_tables(8)
        .manifest_rewrite_bytes(4 << 10)
        .compaction_threads(cfg.threads)
        .compaction_interval(Duration::from_millis(5));
    match strat {
        Strat::Leveled => opts
            .compaction(
                Leveled::default()
                    .l0_trigger(2)
                    .base_level_size(2 << 10)
                    .level_size_ratio(4)
                    .target_file_size(4 << 10)
                    .tombstone_priority(0.3, 4),
            )
            .level0_triggers(4, 8),
        Strat::SizeTiered => opts.compaction(tiny_size_tiered()),
        Strat::TimeWindow => opts.compaction(tiny_time_window(WINDOW_MS)),
    }
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

fn item(x: Option<strata::Result<(Bytes, Bytes)>>, what: &str) -> Option<(String, String)> {
    x.map(|kv| {
        let (k, v) = kv.unwrap_or_else(|e| panic!("{what}: iterator error {e}"));
        (
            String::from_utf8_lossy(&k).into_owned(),
            String::from_utf8_lossy(&v).into_owned(),
        )
    })
}

fn to_bytes((lo, hi): &Range) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let b = |b: &Bound<String>| match b {
        Bound::Included(s) => Bound::Included(s.clone().into_bytes()),
        Bound::Excluded(s) => Bound::Excluded(s.clone().into_bytes()),
        Bound::Unbounded => Bound::Unbounded,
    };
    (b(lo), b(hi))
}

/// Reads `it` as `mode` says and compares each step with `expected`; both
/// ends must then be exhausted.
fn check_iter(mut it: DbIterator, expected: &[(Vec<u8>, Vec<u8>)], mode: &ScanMode, what: &str) {
    let expected = show(expected);
    match mode {
        ScanMode::Forward => {
            let got: Kvs = it.by_ref().map(|x| item(Some(x), what).unwrap()).collect();
            assert_eq!(got, expected, "{what} forward");
        }
        ScanMode::Reverse => {
            let got: Kvs = it
                .by_ref()
                .rev()
                .map(|x| item(Some(x), what).unwrap())
                .collect();
            let mut want = expected;
            want.reverse();
            assert_eq!(got, want, "{what} reverse");
        }
        ScanMode::Mixed(dirs) => {
            let mut want: VecDeque<_> = expected.into();
            for (step, &front) in dirs.iter().enumerate() {
                let (got, exp) = if front {
                    (item(it.next(), what), want.pop_front())
                } else {
                    (item(it.next_back(), what), want.pop_back())
                };
                assert_eq!(got, exp, "{what} mixed step {step} (front: {front})");
            }
            let rest: Kvs = it.by_ref().map(|x| item(Some(x), what).unwrap()).collect();
            assert_eq!(rest, Vec::from(want), "{what} mixed rest");
        }
    }
    assert!(it.next().is_none(), "{what}: next after the end");
    assert!(it.next_back().is_none(), "{what}: next_back after the end");
}

fn get(r: strata::Result<Option<Bytes>>, what: &str) -> Option<Vec<u8>> {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
        .map(|b| b.to_vec())
}

struct Harness {
    clock: Arc<ManualClock>,
    opts: Options,
    db: Db,
    model: Model,
    snaps: Vec<(Snapshot, Model)>,
    last_seqno: u64,
    all_ttl: bool,
    /// Compactions by reason, summed over every open of this case.
    compactions: BTreeMap<String, u64>,
}

impl Harness {
    fn new(strat: Strat, cfg: &Config) -> Self {
        let fs = FaultFs::new();
        fs.create_dir_all(Path::new(DIR)).unwrap();
        let clock = Arc::new(ManualClock::new(START_MS));
        let opts = options(strat, cfg, &fs, &clock);
        let db = Db::open(DIR, opts.clone()).unwrap();
        Self {
            clock,
            opts,
            db,
            model: Model::default(),
            snaps: Vec::new(),
            last_seqno: 0,
            all_ttl: cfg.all_ttl,
            compactions: BTreeMap::new(),
        }
    }

    fn now(&self) -> u64 {
        self.clock.now_millis()
    }

    fn check_seqno(&mut self, writes: u64) {
        let stats = self.db.stats();
        assert_eq!(stats.last_seqno, self.last_seqno + writes, "last_seqno");
        self.last_seqno = stats.last_seqno;
        assert_eq!(stats.live_snapshots, self.snaps.len(), "live snapshots");
    }

    /// Full scans both ways, every key's point read, every snapshot's scan.
    fn check_all(&self, what: &str) {
        let now = self.now();
        let all = self.model.range(&Bound::Unbounded, &Bound::Unbounded, now);
        check_iter(self.db.scan::<&[u8], _>(..), &all, &ScanMode::Forward, what);
        check_iter(self.db.scan::<&[u8], _>(..), &all, &ScanMode::Reverse, what);
        for k in self.model.map.keys() {
            let what = format!("{what}: get {:?}", String::from_utf8_lossy(k));
            assert_eq!(get(self.db.get(k), &what), self.model.get(k, now), "{what}");
        }
        for (s, m) in &self.snaps {
            let all = m.range(&Bound::Unbounded, &Bound::Unbounded, now);
            let what = format!("{what}: snapshot {}", s.seqno());
            check_iter(s.scan::<&[u8], _>(..), &all, &ScanMode::Reverse, &what);
        }
    }

    fn snap(&self, i: &prop::sample::Index) -> Option<&(Snapshot, Model)> {
        (!self.snaps.is_empty()).then(|| &self.snaps[i.index(self.snaps.len())])
    }

    fn apply(&mut self, op: &Op) {
        let now = self.now();
        let ttl_op;
        let op = match op {
            Op::Put(k, v) if self.all_ttl => {
                ttl_op = Op::PutTtl(k.clone(), v.clone(), 1500);
                &ttl_op
            }
            Op::Delete(k) if self.all_ttl => {
                ttl_op = Op::PutTtl(k.clone(), Val::Short(0), 1);
                &ttl_op
            }
            _ => op,
        };
        match op {
            Op::Put(k, v) => {
                self.db.put(k, v.bytes()).unwrap();
                self.model.put(k.as_bytes(), v.bytes(), None);
                self.check_seqno(1);
            }
            Op::PutTtl(k, v, ttl) => {
                self.db
                    .put_with_ttl(k, v.bytes(), Duration::from_millis(*ttl))
                    .unwrap();
                self.model.put(k.as_bytes(), v.bytes(), Some(now + ttl));
                self.check_seqno(1);
            }
            Op::Delete(k) => {
                self.db.delete(k).unwrap();
                self.model.delete(k.as_bytes());
                self.check_seqno(1);
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
                self.check_seqno(ops.len() as u64);
            }
            Op::Advance(ms) => self.clock.advance(*ms),
            Op::Increment(k, delta) => {
                let current = match self.model.get(k.as_bytes(), now) {
                    None => Some(0),
                    Some(v) => std::str::from_utf8(&v).ok().and_then(|s| s.parse().ok()),
                };
                match (self.db.increment(k, *delta), current) {
                    (Ok(got), Some(c)) => {
                        assert_eq!(got, c + delta, "increment {k} by {delta}");
                        self.model.put(k.as_bytes(), got.to_string().into(), None);
                        self.check_seqno(1);
                    }
                    (Err(Error::InvalidArgument(_)), None) => self.check_seqno(0),
                    (got, want) => panic!("increment {k} by {delta}: got {got:?}, from {want:?}"),
                }
            }
            Op::Get(k) => {
                let what = format!("get {k}");
                assert_eq!(
                    get(self.db.get(k), &what),
                    self.model.get(k.as_bytes(), now),
                    "{what}"
                );
            }
            Op::Scan(r, mode) => {
                let (lo, hi) = to_bytes(r);
                let want = self.model.range(&lo, &hi, now);
                let what = format!("scan {lo:?}..{hi:?}");
                check_iter(self.db.scan((lo, hi)), &want, mode, &what);
            }
            Op::Prefix(p, mode) => {
                let want = self.model.prefix(p.as_bytes(), now);
                check_iter(self.db.prefix(p), &want, mode, &format!("prefix {p:?}"));
            }
            Op::TakeSnapshot => {
                let s = self.db.snapshot();
                assert_eq!(s.seqno(), self.last_seqno, "snapshot seqno");
                self.snaps.push((s, self.model.clone()));
                self.check_seqno(0);
            }
            Op::DropSnapshot(i) => {
                if !self.snaps.is_empty() {
                    self.snaps.remove(i.index(self.snaps.len()));
                }
                self.check_seqno(0);
            }
            Op::SnapGet(i, k) => {
                if let Some((s, m)) = self.snap(i) {
                    let what = format!("snapshot {} get {k}", s.seqno());
                    assert_eq!(get(s.get(k), &what), m.get(k.as_bytes(), now), "{what}");
                }
            }
            Op::SnapScan(i, r, mode) => {
                if let Some((s, m)) = self.snap(i) {
                    let (lo, hi) = to_bytes(r);
                    let want = m.range(&lo, &hi, now);
                    let what = format!("snapshot {} scan {lo:?}..{hi:?}", s.seqno());
                    check_iter(s.scan((lo, hi)), &want, mode, &what);
                }
            }
            Op::Flush => {
                self.db.flush().unwrap();
                self.check_seqno(0);
            }
            Op::Compact => {
                self.db.compact().unwrap();
                self.check_seqno(0);
                self.check_all("after compact()");
            }
            Op::CompactRange(r) => {
                let (lo, hi) = to_bytes(r);
                self.db.compact_range((lo.clone(), hi.clone())).unwrap();
                self.check_seqno(0);
                self.check_all(&format!("after compact_range({lo:?}, {hi:?})"));
            }
            Op::Pause(ms) => std::thread::sleep(Duration::from_millis(*ms)),
            Op::Reopen => self.reopen(),
        }
    }

    fn reopen(&mut self) {
        self.snaps.clear();
        self.tally();
        self.db.close().unwrap();
        self.db = Db::open(DIR, self.opts.clone()).unwrap();
        self.check_seqno(0);
        self.check_all("after reopen");
    }

    /// Adds this open's compaction counts to the case's.
    fn tally(&mut self) {
        for (reason, n) in self.db.stats().compactions {
            *self.compactions.entry(reason).or_insert(0) += n;
        }
    }
}

/// Runs one case; returns its compaction counts by reason.
fn run(strat: Strat, cfg: &Config, ops: &[Op]) -> BTreeMap<String, u64> {
    let mut h = Harness::new(strat, cfg);
    for op in ops {
        h.apply(op);
    }
    h.check_all("at the end");
    // Snapshots taken before it still read their models after a full compaction.
    h.db.compact().unwrap();
    h.check_all("after the final compact()");
    h.snaps.clear();
    h.clock.advance(5000);
    h.db.compact().unwrap();
    h.check_all("after the final compact() with no snapshot");
    h.reopen();
    h.tally();
    h.compactions
}

/// Runs `cases` random cases under `strat`; returns the compaction counts
/// summed over all of them.
///
/// `STRATA_COMPACTION_CASES` overrides `cases` (for longer bug hunts).
fn run_cases(strat: Strat, cases: u32, seed: u64) -> BTreeMap<String, u64> {
    let cases = std::env::var("STRATA_COMPACTION_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    let mut runner = TestRunner::new(RunnerConfig {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let totals = std::cell::RefCell::new(BTreeMap::new());
    let input = (config(), prop::collection::vec(op(), 60..400));
    runner
        .run(&input, |(cfg, ops)| {
            for (reason, n) in run(strat, &cfg, &ops) {
                *totals.borrow_mut().entry(reason).or_insert(0u64) += n;
            }
            Ok(())
        })
        .unwrap();
    let totals = totals.into_inner();
    eprintln!("{strat:?}: compactions {totals:?}");
    totals
}

fn count(totals: &BTreeMap<String, u64>, reason: &str) -> u64 {
    totals.get(reason).copied().unwrap_or(0)
}

#[test]
fn leveled_matches_the_model_while_compacting() {
    let totals = run_cases(Strat::Leveled, 128, 0x4c45_5645);
    for reason in [
        "level0_file_count",
        "level_size",
        "trivial_move",
        "tombstones",
    ] {
        assert!(
            count(&totals, reason) > 0,
            "no {reason} compaction: {totals:?}"
        );
    }
    assert!(count(&totals, "manual") > 0, "{totals:?}");
}

#[test]
fn size_tiered_matches_the_model_while_compacting() {
    let totals = run_cases(Strat::SizeTiered, 128, 0x5349_5a45);
    // Run-count merges (runs of any sizes) are checked against the model too.
    for reason in ["size_tiered_bucket", "run_count"] {
        assert!(
            count(&totals, reason) > 0,
            "no {reason} compaction: {totals:?}"
        );
    }
    assert!(count(&totals, "manual") > 0, "{totals:?}");
}

#[test]
fn time_window_matches_the_model_while_compacting() {
    let totals = run_cases(Strat::TimeWindow, 128, 0x5449_4d45);
    for reason in ["size_tiered_bucket", "window_closed"] {
        assert!(
            count(&totals, reason) > 0,
            "no {reason} compaction: {totals:?}"
        );
    }
    assert!(count(&totals, "manual") > 0, "{totals:?}");
}
