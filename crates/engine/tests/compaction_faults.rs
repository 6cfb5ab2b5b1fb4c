//! Compaction under file-system faults and crashes, under each shipped
//! strategy, against a model of the acknowledged writes:
//!
//! * an I/O error injected into a running `compact()` (the n-th `Create`,
//!   `Append`, `Sync`, `SyncDir`, `ReadAt`, `Open`, `Rename` or `Remove` it
//!   makes, n spread over the whole compaction) makes the call fail (or, for
//!   a best-effort `Remove`, succeed), leaves every key readable with its
//!   value, refuses later writes only with `Error::Background`, and a reopen
//!   with the fault cleared recovers everything, with no table on disk that
//!   the manifest does not name;
//! * a crash (process kill or power loss) frozen at such a point of a
//!   compaction — the fault stops it there and nothing is cleaned up — loses
//!   nothing acknowledged, and the reopened directory holds only what the
//!   manifest names;
//! * a power loss at a random moment while background compactions run
//!   under a writer (`SyncPolicy::Always`) loses no acknowledged write;
//! * a background compaction that fails leaves the database readable and
//!   complete, and a reopen recovers everything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata::manifest::{ManifestState, recover};
use strata::{Db, Error, Leveled, ManualClock, Options, SyncPolicy, WriteBatch};
use strata_core::{FaultFs, FileSystem, FsOp};

use common::compaction::{ALL, Strat, tiny_size_tiered, tiny_time_window};

const DIR: &str = "/db";
const START_MS: u64 = 1_700_000_000_000;

/// The operations a compaction (and its install) makes.
const OPS: [FsOp; 8] = [
    FsOp::Create,
    FsOp::Append,
    FsOp::Sync,
    FsOp::SyncDir,
    FsOp::ReadAt,
    FsOp::Open,
    FsOp::Rename,
    FsOp::Remove,
];

/// Small everything: memtables, blocks, files, levels, open tables (reads
/// reopen files), no block cache (reads reach the disk), a manifest small
/// enough that compaction edits rewrite it; every write synced.
fn options(strat: Strat, fs: &FaultFs, clock: &Arc<ManualClock>, auto: bool) -> Options {
    let opts = Options::default()
        .file_system(Arc::new(fs.clone()))
        .clock(clock.clone())
        .sync_policy(SyncPolicy::Always)
        .memtable_size(4096)
        .block_size(512)
        .max_open_tables(2)
        .block_cache_bytes(0)
        .manifest_rewrite_bytes(2 << 10)
        .auto_compaction(auto)
        .compaction_interval(Duration::from_millis(5));
    match strat {
        Strat::Leveled => opts.compaction(
            Leveled::default()
                .l0_trigger(2)
                .base_level_size(4 << 10)
                .level_size_ratio(4)
                .target_file_size(2 << 10),
        ),
        Strat::SizeTiered => opts.compaction(tiny_size_tiered()),
        Strat::TimeWindow => opts.compaction(tiny_time_window(1000)),
    }
}

struct Env {
    fs: FaultFs,
    clock: Arc<ManualClock>,
    opts: Options,
}

impl Env {
    fn new(strat: Strat, auto: bool) -> Self {
        let fs = FaultFs::new();
        fs.create_dir_all(Path::new(DIR)).unwrap();
        let clock = Arc::new(ManualClock::new(START_MS));
        let opts = options(strat, &fs, &clock, auto);
        Self { fs, clock, opts }
    }

    fn open(&self) -> Db {
        Db::open(DIR, self.opts.clone()).unwrap_or_else(|e| panic!("reopen: {e}"))
    }

    fn now(&self) -> u64 {
        use strata::Clock;
        self.clock.now_millis()
    }

    /// The machine stops, then the process dies (`power_loss`: and unsynced
    /// data and directory changes are lost); `db`'s shutdown can change nothing.
    fn cut(&self, db: Db, power_loss: bool) {
        self.fs.halt();
        if power_loss {
            self.fs.power_loss();
        } else {
            self.fs.crash();
        }
        drop(db);
        self.fs.restart();
    }
}

// ---------------------------------------------------------------- model

/// Key -> (value, expiry).
type Model = BTreeMap<Vec<u8>, (Vec<u8>, Option<u64>)>;

fn live(model: &Model, now: u64) -> BTreeMap<Vec<u8>, Vec<u8>> {
    model
        .iter()
        .filter(|(_, (_, exp))| exp.is_none_or(|at| now < at))
        .map(|(k, (v, _))| (k.clone(), v.clone()))
        .collect()
}

fn key(i: usize) -> Vec<u8> {
    format!("key-{i:04}").into_bytes()
}

fn value(i: usize, version: u64) -> Vec<u8> {
    format!("v{version}-{i}-{}", "x".repeat(30 + i % 50)).into_bytes()
}

fn show(k: &[u8]) -> String {
    String::from_utf8_lossy(k).into_owned()
}

/// The database's whole content (forward scan, cross-checked with a reverse
/// scan and point reads of every key the model knows).
fn contents(db: &Db, model: &Model, what: &str) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let scan = |rev: bool| -> BTreeMap<Vec<u8>, Vec<u8>> {
        let it = db.scan::<&[u8], _>(..);
        let items: Vec<_> = if rev {
            it.rev().collect()
        } else {
            it.collect()
        };
        items
            .into_iter()
            .map(|kv| {
                let (k, v) = kv.unwrap_or_else(|e| panic!("{what}: scan error {e}"));
                (k.to_vec(), v.to_vec())
            })
            .collect()
    };
    let fwd = scan(false);
    assert!(scan(true) == fwd, "{what}: reverse scan differs");
    for k in model.keys() {
        let got = db
            .get(k)
            .unwrap_or_else(|e| panic!("{what}: get {}: {e}", show(k)))
            .map(|b| b.to_vec());
        assert_eq!(got.as_ref(), fwd.get(k), "{what}: get {} vs scan", show(k));
    }
    fwd
}

fn check_db(db: &Db, model: &Model, now: u64, what: &str) {
    let got = contents(db, model, what);
    let want = live(model, now);
    if got != want {
        let keys: BTreeSet<_> = got.keys().chain(want.keys()).collect();
        let bad: Vec<_> = keys
            .into_iter()
            .filter(|k| got.get(*k) != want.get(*k))
            .take(5)
            .map(|k| (show(k), got.contains_key(k), want.contains_key(k)))
            .collect();
        panic!("{what}: content differs (key, in db, in model): {bad:?}");
    }
}

// ---------------------------------------------------------------- disk

/// The recovered manifest of the closed database, checked (invariants,
/// every named table present with its size), and the directory holding
/// nothing else of strata's: no other table, no temporary file, one manifest.
fn check_dir(fs: &FaultFs, what: &str) -> ManifestState {
    let recovered = recover(fs, Path::new(DIR)).unwrap_or_else(|e| panic!("{what}: {e}"));
    let state = recovered.state;
    state
        .check_invariants()
        .unwrap_or_else(|e| panic!("{what}: manifest invariants: {e}"));
    for f in state.levels().iter().flat_map(|l| l.iter()) {
        let path = Path::new(DIR).join(format!("{:06}.sst", f.number));
        assert_eq!(
            fs.file_len(&path),
            Some(f.size),
            "{what}: table {}",
            f.number
        );
    }
    let names = fs.list(Path::new(DIR)).unwrap();
    let tables: BTreeSet<u64> = names
        .iter()
        .filter_map(|n| n.strip_suffix(".sst")?.parse().ok())
        .collect();
    let named: BTreeSet<u64> = state.live_file_numbers().collect();
    assert_eq!(tables, named, "{what}: tables on disk vs manifest");
    let manifests: Vec<_> = names.iter().filter(|n| n.starts_with("MANIFEST")).collect();
    assert_eq!(
        manifests,
        [&format!("MANIFEST-{:06}", recovered.manifest_number)],
        "{what}: manifests on disk"
    );
    assert!(
        !names.iter().any(|n| n.ends_with(".dbtmp")),
        "{what}: temporary file left: {names:?}"
    );
    state
}

// ---------------------------------------------------------------- workload

/// Deterministic data over several levels / runs: a first batch compacted
/// to the bottom, then overwrites, deletes, TTL puts (some expired by the
/// end) and batches in several flushed L0 files. Everything flushed.
fn load(db: &Db, env: &Env, model: &mut Model, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for i in 0..120 {
        db.put(key(i), value(i, 0)).unwrap();
        model.insert(key(i), (value(i, 0), None));
    }
    db.compact().unwrap();
    for round in 1..=4u64 {
        for _ in 0..50 {
            let i = rng.random_range(0..160);
            match rng.random_range(0..10) {
                0..=4 => {
                    db.put(key(i), value(i, round)).unwrap();
                    model.insert(key(i), (value(i, round), None));
                }
                5..=6 => {
                    db.delete(key(i)).unwrap();
                    model.remove(&key(i));
                }
                7..=8 => {
                    let ttl = rng.random_range(1..2000);
                    db.put_with_ttl(key(i), value(i, round), Duration::from_millis(ttl))
                        .unwrap();
                    model.insert(key(i), (value(i, round), Some(env.now() + ttl)));
                }
                _ => {
                    let mut b = WriteBatch::new();
                    for j in i..i + 4 {
                        b.put(&key(j), &value(j, round)).unwrap();
                        model.insert(key(j), (value(j, round), None));
                    }
                    b.delete(&key(i + 1)).unwrap();
                    model.remove(&key(i + 1));
                    db.write(b).unwrap();
                }
            }
        }
        db.flush().unwrap();
        env.clock.advance(700);
    }
}

/// A loaded database (auto compaction off) ready for `compact()`.
fn loaded(strat: Strat, seed: u64) -> (Env, Db, Model) {
    let env = Env::new(strat, false);
    let db = env.open();
    let mut model = Model::new();
    load(&db, &env, &mut model, seed);
    (env, db, model)
}

/// How many calls of each op one `compact()` of the loaded database makes.
fn ops_of_compact(strat: Strat, seed: u64) -> BTreeMap<String, (FsOp, u64)> {
    let (env, db, _) = loaded(strat, seed);
    let before: Vec<u64> = OPS.iter().map(|op| env.fs.op_count(*op)).collect();
    db.compact().unwrap();
    OPS.iter()
        .zip(before)
        .map(|(op, b)| (format!("{op:?}"), (*op, env.fs.op_count(*op) - b)))
        .collect()
}

/// Points spread over `0..count`.
fn spread(count: u64) -> BTreeSet<u64> {
    [
        0,
        count / 4,
        count / 2,
        count * 3 / 4,
        count.saturating_sub(1),
    ]
    .into_iter()
    .filter(|&n| n < count)
    .collect()
}

fn is_failure_kind(e: &Error) -> bool {
    matches!(e, Error::Io(_) | Error::Background(_))
}

// ---------------------------------------------------------------- tests

/// The n-th call of `op` inside `compact()` fails.
fn fault_in_compact(strat: Strat, op: FsOp, n: u64, seed: u64) {
    let what = format!("{strat:?}: {op:?} #{n} fails in compact()");
    let (env, db, mut model) = loaded(strat, seed);
    env.fs.fail_nth(op, n);
    let result = db.compact();
    env.fs.clear_faults();
    match &result {
        // Deleting an obsolete file is best effort.
        Ok(()) => assert_eq!(op, FsOp::Remove, "{what}: compact() succeeded"),
        Err(e) => assert!(is_failure_kind(e), "{what}: compact() failed with {e}"),
    }
    check_db(&db, &model, env.now(), &format!("{what}, after"));
    match db.put(key(7), value(7, 99)) {
        Ok(()) => {
            model.insert(key(7), (value(7, 99), None));
        }
        Err(e) => assert!(
            result.is_err() && matches!(e, Error::Background(_)),
            "{what}: a write after it failed with {e}"
        ),
    }
    check_db(&db, &model, env.now(), &format!("{what}, after a write"));
    match db.close() {
        Ok(()) => {}
        Err(e) => assert!(is_failure_kind(&e), "{what}: close: {e}"),
    }
    drop(db);
    let db = env.open();
    check_db(&db, &model, env.now(), &format!("{what}, reopened"));
    db.compact().unwrap();
    check_db(
        &db,
        &model,
        env.now(),
        &format!("{what}, reopened and compacted"),
    );
    db.close().unwrap();
    drop(db);
    check_dir(&env.fs, &what);
}

#[test]
fn an_io_error_in_compact_leaves_every_key_readable_and_recoverable() {
    for (s, strat) in ALL.into_iter().enumerate() {
        let seed = 10 + s as u64;
        let counts = ops_of_compact(strat, seed);
        eprintln!("{strat:?}: compact() makes {counts:?}");
        for (op, count) in counts.values() {
            if matches!(op, FsOp::Create | FsOp::Append | FsOp::Sync | FsOp::ReadAt) {
                assert!(*count > 0, "{strat:?}: compact() made no {op:?}");
            }
            for n in spread(*count) {
                fault_in_compact(strat, *op, n, seed);
            }
        }
    }
}

/// Where a crash freezes `compact()`.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// After it finished (edit logged), before any input is deleted.
    AfterEdit,
    /// At the n-th call of the op, which fails.
    Fail(FsOp, u64),
    /// At the n-th append, which writes only its first bytes.
    Tear(u64, usize),
}

/// `compact()` stops where `stop` says and nothing after it reaches the
/// disk (removals fail too, so nothing is cleaned up); then the process
/// dies or the power goes. Nothing acknowledged may be lost.
fn crash_in_compact(strat: Strat, stop: Stop, power_loss: bool, seed: u64) {
    let what = format!("{strat:?}: crash at {stop:?} in compact() (power loss {power_loss})");
    let (env, db, model) = loaded(strat, seed);
    env.fs.fail_from(FsOp::Remove, 0);
    match stop {
        Stop::AfterEdit => {}
        Stop::Fail(op, n) => env.fs.fail_nth(op, n),
        Stop::Tear(n, keep) => env.fs.tear_nth_append(n, keep),
    }
    let result = db.compact();
    if let Err(e) = &result {
        assert!(is_failure_kind(e), "{what}: compact() failed with {e}");
    }
    env.cut(db, power_loss);
    let db = env.open();
    check_db(&db, &model, env.now(), &format!("{what}, reopened"));
    db.close().unwrap();
    drop(db);
    check_dir(&env.fs, &format!("{what}, after the reopen"));
    let db = env.open();
    db.compact().unwrap();
    check_db(&db, &model, env.now(), &format!("{what}, compacted after"));
}

#[test]
fn a_crash_in_the_middle_of_compact_loses_nothing() {
    for (s, strat) in ALL.into_iter().enumerate() {
        let seed = 20 + s as u64;
        let counts = ops_of_compact(strat, seed);
        let mut rng = StdRng::seed_from_u64(seed);
        crash_in_compact(strat, Stop::AfterEdit, true, seed);
        crash_in_compact(strat, Stop::AfterEdit, false, seed);
        for op in [
            FsOp::Create,
            FsOp::Append,
            FsOp::Sync,
            FsOp::SyncDir,
            FsOp::Rename,
        ] {
            let count = counts[&format!("{op:?}")].1;
            for n in spread(count) {
                crash_in_compact(strat, Stop::Fail(op, n), true, seed);
            }
            if count > 0 {
                let n = rng.random_range(0..count);
                crash_in_compact(strat, Stop::Fail(op, n), false, seed);
            }
        }
        // Torn appends survive a process crash (the OS keeps what was written).
        let appends = counts["Append"].1;
        for n in spread(appends) {
            let keep = rng.random_range(1..64);
            crash_in_compact(strat, Stop::Tear(n, keep), false, seed);
        }
    }
}

/// A writer under `SyncPolicy::Always` with background compactions running
/// all the time; the power goes after a random number of writes. Every
/// acknowledged write survives.
#[test]
fn a_power_loss_during_background_compactions_loses_no_acknowledged_write() {
    for (s, strat) in ALL.into_iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(30 + s as u64);
        for round in 0..6 {
            let what = format!("{strat:?} round {round}");
            let env = Env::new(strat, true);
            let db = env.open();
            let mut model = Model::new();
            let writes = rng.random_range(100..600);
            for v in 0..writes {
                let i = rng.random_range(0..150);
                if rng.random_bool(0.2) {
                    db.delete(key(i)).unwrap();
                    model.remove(&key(i));
                } else {
                    db.put(key(i), value(i, v)).unwrap();
                    model.insert(key(i), (value(i, v), None));
                }
                if v % 50 == 0 {
                    std::thread::sleep(Duration::from_millis(rng.random_range(0..3)));
                }
            }
            let compactions: u64 = db.stats().compactions.values().sum();
            env.cut(db, true);
            let db = env.open();
            check_db(
                &db,
                &model,
                env.now(),
                &format!("{what} ({compactions} compactions)"),
            );
            db.close().unwrap();
            drop(db);
            check_dir(&env.fs, &what);
        }
    }
}

/// A read fault that only background compactions can hit (the writer
/// never reads): the compaction fails, the database stays readable and
/// complete, writes are refused with `Error::Background`, and a reopen
/// recovers every acknowledged write.
#[test]
fn a_failed_background_compaction_keeps_the_database_readable_and_complete() {
    for (s, strat) in ALL.into_iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(40 + s as u64);
        for round in 0..4 {
            let env = Env::new(strat, true);
            let db = env.open();
            let n = rng.random_range(0..40);
            let what = format!("{strat:?} round {round}: ReadAt #{n} fails");
            env.fs.fail_nth(FsOp::ReadAt, n);
            let mut model = Model::new();
            let mut refused = None;
            for v in 0..3000u64 {
                let i = rng.random_range(0..150);
                match db.put(key(i), value(i, v)) {
                    Ok(()) => {
                        model.insert(key(i), (value(i, v), None));
                    }
                    Err(e) => {
                        refused = Some(e);
                        break;
                    }
                }
                if v % 100 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            let Some(e) = refused else {
                panic!("{what}: no compaction hit the fault");
            };
            assert!(
                matches!(e, Error::Background(_)),
                "{what}: write refused with {e}"
            );
            env.fs.clear_faults();
            check_db(&db, &model, env.now(), &what);
            assert!(
                matches!(db.flush(), Err(Error::Background(_))),
                "{what}: flush"
            );
            let _ = db.close();
            drop(db);
            let db = env.open();
            check_db(&db, &model, env.now(), &format!("{what}, reopened"));
            db.put(key(1), "after").unwrap();
            model.insert(key(1), (b"after".to_vec(), None));
            db.compact().unwrap();
            check_db(&db, &model, env.now(), &format!("{what}, compacted after"));
            db.close().unwrap();
            drop(db);
            check_dir(&env.fs, &what);
        }
    }
}
