//! The `engine_ops` body: a decoded operation sequence run against a [`Db`]
//! on a simulated disk and against a [`Model`], compared at every read.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use strata_core::{FaultFs, FileSystem};
use strata_wal::WriteBatch;

use super::args::{BatchOp, MAX_KEY, MAX_VALUE, ScanMode, Val, advance_ms, delta, key, ttl_ms};
use super::input::{self, Config, Op, Strategy};
use super::model::{Model, parse_counter};
use super::reads::{check_iter, check_stale_iter, show_bytes};
use crate::{
    Clock, Db, Error, Leveled, ManualClock, Options, Result, SizeTiered, Snapshot, TimeWindow,
};

const DIR: &str = "/db";
const START_MS: u64 = 1_700_000_000_000;
/// Snapshots kept across a reopen that runs may still read, at most.
const MAX_STALE: usize = 4;

/// Decodes `data` (see the `input` module: a configuration byte, then up to
/// 200 operations) and runs the operations against a database on an
/// in-memory [`FaultFs`] with 4 KiB memtables and tiny compaction targets,
/// so that flushes and compactions happen all the time, and against a
/// `BTreeMap` model with expiry under a manual clock.
///
/// Asserts that every `get`, scan (forward, reverse, mixed from both ends,
/// with a limit, with the clock moved mid-read) and prefix read matches the
/// model; snapshots match the model as it was when they were taken, also
/// after later writes, flushes and compactions; a snapshot kept across a
/// reopen reads correctly or fails, never shows wrong data; writes over the
/// key or value limit (and batches holding one) are refused and change
/// nothing; `increment` matches decimal arithmetic and refuses non-numbers
/// and overflows; the last seqno grows by exactly the writes made; `flush`
/// leaves no immutable memtable; `compact` without live snapshots leaves no
/// tombstone and exactly the live keys on disk; every acknowledged write
/// survives a clean reopen and a simulated process crash.
///
/// Panics only when the database breaks one of these promises, with a
/// message naming the operation.
pub fn engine_ops(data: &[u8]) {
    let (config, ops) = input::decode(data);
    let mut h = Harness::new(config);
    for (i, op) in ops.iter().enumerate() {
        h.apply(op, &format!("op #{i} {op:?}"));
    }
    h.check_all("after the last op");
    h.reopen(false, "the final reopen");
    h.check_all("after the final reopen");
    must(h.db.close(), "the final close");
}

/// The configuration and operations `data` decodes to, one per line: to
/// read a failing input.
pub fn engine_ops_describe(data: &[u8]) -> String {
    let (config, ops) = input::decode(data);
    let mut out = format!("{config:?}\n");
    for (i, op) in ops.iter().enumerate() {
        let _ = writeln!(out, "#{i}: {op:?}");
    }
    out
}

/// The result of a call that must succeed on a healthy simulated disk.
fn must<T>(r: Result<T>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: unexpected error: {e}"),
    }
}

fn options(config: Config, fs: &FaultFs, clock: &Arc<ManualClock>) -> Options {
    let opts = Options::default()
        .file_system(Arc::new(fs.clone()))
        .clock(clock.clone())
        .memtable_size(4096)
        .max_immutable_memtables(2)
        .block_size(if config.small_blocks { 128 } else { 4096 })
        .bloom_bits_per_key(if config.bloom { 10 } else { 0 })
        .block_cache_bytes(if config.cache { 1 << 20 } else { 0 })
        .compression(if config.lz4 {
            crate::CompressionType::Lz4
        } else {
            crate::CompressionType::None
        })
        .max_key_size(MAX_KEY)
        .max_value_size(MAX_VALUE)
        .max_open_tables(8)
        .manifest_rewrite_bytes(4 << 10)
        .compaction_interval(Duration::from_millis(5));
    let leveled = Leveled::default()
        .l0_trigger(2)
        .base_level_size(2 << 10)
        .level_size_ratio(4)
        .target_file_size(4 << 10)
        .tombstone_priority(0.3, 4);
    let size_tiered = SizeTiered::default()
        .min_threshold(2)
        .max_threshold(4)
        .min_sstable_size(1 << 10);
    match config.strategy {
        // Writers pause 1 ms per write above the slowdown trigger: kept
        // high enough that runs stay fast when compaction lags.
        Strategy::Leveled => opts.compaction(leveled).level0_triggers(8, 16),
        Strategy::SizeTiered => opts.compaction(size_tiered),
        Strategy::TimeWindow => opts.compaction(
            TimeWindow::default()
                .window_ms(1000)
                .size_tiered(size_tiered),
        ),
        Strategy::Manual => opts.compaction(leveled).auto_compaction(false),
    }
}

/// A snapshot and the model as it was when it was taken.
struct Snap {
    snapshot: Snapshot,
    model: Model,
    /// Taken before a reopen: its tables may have been deleted since.
    stale: bool,
}

struct Harness {
    fs: FaultFs,
    clock: Arc<ManualClock>,
    opts: Options,
    db: Db,
    model: Model,
    snaps: Vec<Snap>,
    last_seqno: u64,
}

impl Harness {
    fn new(config: Config) -> Self {
        let fs = FaultFs::new();
        must(
            fs.create_dir_all(Path::new(DIR)).map_err(Error::from),
            "creating the directory",
        );
        let clock = Arc::new(ManualClock::new(START_MS));
        let opts = options(config, &fs, &clock);
        let db = must(Db::open(DIR, opts.clone()), "the first open");
        Self {
            fs,
            clock,
            opts,
            db,
            model: Model::default(),
            snaps: Vec::new(),
            last_seqno: 0,
        }
    }

    fn now(&self) -> u64 {
        self.clock.now_millis()
    }

    fn live_snapshots(&self) -> usize {
        self.snaps.iter().filter(|s| !s.stale).count()
    }

    /// After a step that made `writes` writes: the last seqno moved by
    /// exactly that, and the live snapshots are counted.
    fn check_stats(&mut self, writes: u64, what: &str) {
        let stats = self.db.stats();
        assert_eq!(
            stats.last_seqno,
            self.last_seqno + writes,
            "{what}: last_seqno after {writes} writes"
        );
        self.last_seqno = stats.last_seqno;
        assert_eq!(
            stats.live_snapshots,
            self.live_snapshots(),
            "{what}: live snapshots"
        );
    }

    /// Every key of the model read with `get`, and the whole database
    /// scanned both ways.
    fn check_all(&self, what: &str) {
        let now = self.now();
        let all = self.model.prefix(b"", now);
        check_iter(
            self.db.scan::<&[u8], _>(..),
            &all,
            ScanMode::Forward,
            None,
            what,
        );
        check_iter(
            self.db.scan::<&[u8], _>(..),
            &all,
            ScanMode::Reverse,
            None,
            what,
        );
        for k in self.model.keys() {
            let got = must(self.db.get(k), what);
            assert_eq!(
                got.as_deref(),
                self.model.get(k, now).as_deref(),
                "{what}: get {}",
                show_bytes(k)
            );
        }
    }

    /// A write that fits the limits must succeed; one that does not must
    /// fail with `InvalidArgument` and change nothing. Returns whether it
    /// was applied.
    fn write_result(&mut self, r: Result<()>, fits: bool, writes: u64, what: &str) -> bool {
        match (r, fits) {
            (Ok(()), true) => {
                self.check_stats(writes, what);
                true
            }
            (Err(Error::InvalidArgument(_)), false) => {
                self.check_stats(0, what);
                false
            }
            (r, fits) => panic!("{what}: got {r:?} for a write that fits the limits: {fits}"),
        }
    }

    fn apply(&mut self, op: &Op, what: &str) {
        let now = self.now();
        match op {
            Op::Put(k, v) => {
                let (k, v) = (key(*k), v.bytes());
                let fits = k.len() <= MAX_KEY && v.len() <= MAX_VALUE;
                if self.write_result(self.db.put(&k, &v), fits, 1, what) {
                    self.model.put(&k, v, None);
                }
            }
            Op::PutTtl(k, v, t) => {
                let (k, v, ttl) = (key(*k), v.bytes(), ttl_ms(*t));
                let fits = k.len() <= MAX_KEY && v.len() <= MAX_VALUE;
                let r = self.db.put_with_ttl(&k, &v, Duration::from_millis(ttl));
                if self.write_result(r, fits, 1, what) {
                    self.model.put(&k, v, Some(now + ttl));
                }
            }
            Op::Delete(k) => {
                let k = key(*k);
                if self.write_result(self.db.delete(&k), k.len() <= MAX_KEY, 1, what) {
                    self.model.delete(&k);
                }
            }
            Op::Batch(ops) => self.batch(ops, now, what),
            Op::Increment(k, d) => self.increment(&key(*k), delta(*d), now, what),
            Op::Get(k) => {
                let k = key(*k);
                let got = must(self.db.get(&k), what);
                assert_eq!(got.as_deref(), self.model.get(&k, now).as_deref(), "{what}");
            }
            Op::Scan(lo, hi, mode, limit) => {
                let (lo, hi) = (lo.to_std(), hi.to_std());
                let want = self.model.range(&lo, &hi, now);
                let it = self.db.scan((lo, hi));
                self.advance_mid_read(*mode);
                check_iter(it, &want, *mode, *limit, what);
            }
            Op::Prefix(k, len, mode, limit) => {
                let mut p = key(*k);
                p.truncate(usize::from(*len % 4));
                let want = self.model.prefix(&p, now);
                let it = self.db.prefix(&p);
                self.advance_mid_read(*mode);
                check_iter(it, &want, *mode, *limit, what);
            }
            Op::TakeSnapshot => {
                let snapshot = self.db.snapshot();
                assert_eq!(snapshot.seqno(), self.last_seqno, "{what}: snapshot seqno");
                self.snaps.push(Snap {
                    snapshot,
                    model: self.model.clone(),
                    stale: false,
                });
                self.check_stats(0, what);
            }
            Op::SnapGet(i, k) => {
                let Some(s) = self.pick(*i) else { return };
                let k = key(*k);
                let want = s.model.get(&k, now);
                match (s.snapshot.get(&k), s.stale) {
                    (Ok(got), _) => assert_eq!(got.as_deref(), want.as_deref(), "{what}"),
                    (Err(_), true) => {}
                    (Err(e), false) => panic!("{what}: unexpected error: {e}"),
                }
            }
            Op::SnapScan(i, lo, hi, mode) => {
                let Some(s) = self.pick(*i) else { return };
                let (lo, hi) = (lo.to_std(), hi.to_std());
                let want = s.model.range(&lo, &hi, now);
                let it = s.snapshot.scan((lo, hi));
                if s.stale {
                    check_stale_iter(it, &want, what);
                } else {
                    let mode = match mode {
                        ScanMode::ThenAdvance(_) => ScanMode::Forward,
                        m => *m,
                    };
                    check_iter(it, &want, mode, None, what);
                }
            }
            Op::DropSnapshot(i) => {
                if !self.snaps.is_empty() {
                    self.snaps.remove(usize::from(*i) % self.snaps.len());
                }
                self.check_stats(0, what);
            }
            Op::Flush => {
                must(self.db.flush(), what);
                assert_eq!(self.db.stats().immutable_memtables, 0, "{what}");
                self.check_stats(0, what);
            }
            Op::Compact => {
                must(self.db.compact(), what);
                self.check_compacted(what);
                self.check_stats(0, what);
            }
            Op::CompactRange(lo, hi) => {
                must(self.db.compact_range((lo.to_std(), hi.to_std())), what);
                self.check_stats(0, what);
            }
            Op::Advance(a) => self.clock.advance(advance_ms(*a)),
            Op::Reopen => self.reopen(false, what),
            Op::Crash => self.reopen(true, what),
        }
    }

    fn advance_mid_read(&self, mode: ScanMode) {
        if let ScanMode::ThenAdvance(a) = mode {
            self.clock.advance(advance_ms(a));
        }
    }

    fn pick(&self, i: u8) -> Option<&Snap> {
        match self.snaps.len() {
            0 => None,
            n => self.snaps.get(usize::from(i) % n),
        }
    }

    fn batch(&mut self, ops: &[BatchOp], now: u64, what: &str) {
        let mut batch = WriteBatch::new();
        let mut after = self.model.clone();
        let mut fits = true;
        let mut add = |k: &[u8], v: Option<(Val, Option<u64>)>| {
            let value = v.map(|(v, _)| v.bytes()).unwrap_or_default();
            fits &= k.len() <= MAX_KEY && value.len() <= MAX_VALUE;
            match v {
                None => {
                    must(batch.delete(k), what);
                    after.delete(k);
                }
                Some((_, None)) => {
                    must(batch.put(k, &value), what);
                    after.put(k, value, None);
                }
                Some((_, Some(at))) => {
                    must(batch.put_with_expiry(k, &value, at), what);
                    after.put(k, value, Some(at));
                }
            }
        };
        for o in ops {
            match *o {
                BatchOp::Put(k, v) => add(&key(k), Some((v, None))),
                BatchOp::PutTtl(k, v, t) => add(&key(k), Some((v, Some(now + ttl_ms(t))))),
                BatchOp::Delete(k) => add(&key(k), None),
            }
        }
        if self.write_result(self.db.write(batch), fits, ops.len() as u64, what) {
            self.model = after;
        }
    }

    fn increment(&mut self, k: &[u8], delta: i64, now: u64, what: &str) {
        let current = match self.model.get(k, now) {
            None => Some(0),
            Some(v) => parse_counter(&v),
        };
        let expected = current
            .and_then(|c| c.checked_add(delta))
            .filter(|_| k.len() <= MAX_KEY);
        match (self.db.increment(k, delta), expected) {
            (Ok(got), Some(want)) => {
                assert_eq!(got, want, "{what}");
                self.model.put(k, want.to_string().into_bytes(), None);
                self.check_stats(1, what);
            }
            (Err(Error::InvalidArgument(_)), None) => self.check_stats(0, what),
            (got, want) => panic!("{what}: got {got:?}, want {want:?}"),
        }
    }

    /// After `compact` with no live snapshot: no tombstone, no expired value
    /// and no shadowed version is left on disk, also of snapshots released
    /// since the last compaction (the regression test
    /// `compact_after_releasing_a_snapshot_drops_shadowed_versions`).
    fn check_compacted(&self, what: &str) {
        if self.live_snapshots() > 0 {
            return;
        }
        let stats = self.db.stats();
        let tombstones: u64 = stats.levels.iter().map(|l| l.tombstones).sum();
        let entries: u64 = stats.levels.iter().map(|l| l.entries).sum();
        let live = self.model.live(self.now()) as u64;
        assert_eq!(tombstones, 0, "{what}: tombstones left: {:?}", stats.levels);
        assert_eq!(
            entries, live,
            "{what}: entries on disk vs live keys: {:?}",
            stats.levels
        );
    }

    /// Closes the database (or, with `crash`, kills it: the disk keeps
    /// every byte written, synced or not) and opens it again; earlier
    /// snapshots become stale. Everything acknowledged must be there.
    fn reopen(&mut self, crash: bool, what: &str) {
        if crash {
            self.fs.halt();
            self.fs.crash();
            // Background work and the final sync fail on the halted disk.
            let _ = self.db.close();
            self.fs.restart();
        } else {
            must(self.db.close(), what);
        }
        assert!(
            matches!(self.db.get("a"), Err(Error::Closed)),
            "{what}: a closed database must refuse reads"
        );
        for s in &mut self.snaps {
            s.stale = true;
        }
        let excess = self.snaps.len().saturating_sub(MAX_STALE);
        self.snaps.drain(..excess);
        self.db = must(Db::open(DIR, self.opts.clone()), what);
        self.check_stats(0, what);
        self.check_all(what);
    }
}
