//! What compaction guarantees about the tree, checked on the manifest and
//! on the table files themselves, under each shipped strategy:
//!
//! * after every compaction the recovered manifest passes its invariants and
//!   every level ≥ 1 is sorted and disjoint in user keys; every file it
//!   names exists with its recorded size; after a close no other table file
//!   is left on disk; no key is lost or resurrected (the database equals a
//!   model at each check and after reopening);
//! * a deleted or expired key stays gone after `compact()` and
//!   `compact_range()`, also when older versions of it sit in deeper files,
//!   and after a reopen;
//! * after `compact()` with no live snapshot no table holds a tombstone, an
//!   expired value or a second version of a key, and the tables hold exactly
//!   the live data;
//! * a snapshot (and an iterator) taken before `compact()` still reads its
//!   old values afterwards, from files that stay on disk while it lives and
//!   are deleted once it is dropped;
//! * readers (gets, forward, reverse and slow iterators, snapshots) running
//!   while writers and background compactions (one or two threads) swap
//!   files never see an error, never see a key go back to an older version,
//!   and every scan is one consistent cut of the writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata::manifest::{ManifestState, recover};
use strata::{Bytes, Clock, Db, Leveled, ManualClock, Options, Snapshot, WriteBatch};
use strata_core::{ExpiringValue, FaultFs, FileSystem, InternalKey, ValueKind};
use strata_sstable::TableReader;

use common::compaction::{ALL, Strat, tiny_size_tiered, tiny_time_window};

const DIR: &str = "/db";
const START_MS: u64 = 1_700_000_000_000;

// ---------------------------------------------------------------- setup

/// 4 KiB memtables, tiny files and levels, a 5 ms compaction timer, few
/// open tables (readers reopen files often).
fn options(strat: Strat, fs: &FaultFs, clock: &Arc<ManualClock>) -> Options {
    let opts = Options::default()
        .file_system(Arc::new(fs.clone()))
        .clock(clock.clone())
        .memtable_size(4096)
        .block_size(512)
        .max_open_tables(2)
        .block_cache_bytes(0)
        .manifest_rewrite_bytes(8 << 10)
        .compaction_interval(Duration::from_millis(5));
    match strat {
        Strat::Leveled => opts
            .compaction(
                Leveled::default()
                    .l0_trigger(2)
                    .base_level_size(4 << 10)
                    .level_size_ratio(4)
                    .target_file_size(2 << 10)
                    .tombstone_priority(0.3, 4),
            )
            .level0_triggers(6, 12),
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
    fn new(strat: Strat) -> Self {
        let fs = FaultFs::new();
        fs.create_dir_all(Path::new(DIR)).unwrap();
        let clock = Arc::new(ManualClock::new(START_MS));
        let opts = options(strat, &fs, &clock);
        Self { fs, clock, opts }
    }

    fn open(&self) -> Db {
        Db::open(DIR, self.opts.clone()).unwrap()
    }

    fn open_with(&self, f: impl FnOnce(Options) -> Options) -> Db {
        Db::open(DIR, f(self.opts.clone())).unwrap()
    }

    fn now(&self) -> u64 {
        self.clock.now_millis()
    }
}

fn compactions(db: &Db) -> u64 {
    db.stats().compactions.values().sum()
}

// ---------------------------------------------------------------- model

/// Key -> (value, expiry).
#[derive(Debug, Clone, Default)]
struct Model(BTreeMap<Vec<u8>, (Vec<u8>, Option<u64>)>);

impl Model {
    fn live(&self, now: u64) -> BTreeMap<Vec<u8>, Vec<u8>> {
        self.0
            .iter()
            .filter(|(_, (_, exp))| exp.is_none_or(|at| now < at))
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect()
    }
}

fn key(i: usize) -> Vec<u8> {
    format!("key-{i:04}").into_bytes()
}

fn value(i: usize, version: u64) -> Vec<u8> {
    format!("v{version}-{i}-{}", "x".repeat(40 + i % 60)).into_bytes()
}

/// The database's whole content by a forward scan, cross-checked with a
/// reverse scan and a point read of every key the model knows.
fn check_db(db: &Db, model: &Model, now: u64, what: &str) {
    let want = model.live(now);
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
    assert!(fwd == want, "{what}: forward scan\n{}", diff(&fwd, &want));
    assert!(scan(true) == want, "{what}: reverse scan differs");
    for k in model.0.keys() {
        let got = db
            .get(k)
            .unwrap_or_else(|e| panic!("{what}: get error {e}"))
            .map(|b| b.to_vec());
        assert_eq!(got.as_ref(), want.get(k), "{what}: get {}", show(k));
    }
}

fn show(k: &[u8]) -> String {
    String::from_utf8_lossy(k).into_owned()
}

fn diff(got: &BTreeMap<Vec<u8>, Vec<u8>>, want: &BTreeMap<Vec<u8>, Vec<u8>>) -> String {
    let keys: BTreeSet<_> = got.keys().chain(want.keys()).collect();
    keys.into_iter()
        .filter(|k| got.get(*k) != want.get(*k))
        .take(8)
        .map(|k| {
            format!(
                "  {}: got {:?}, want {:?}\n",
                show(k),
                got.get(k).map(|v| show(&v[..v.len().min(12)])),
                want.get(k).map(|v| show(&v[..v.len().min(12)]))
            )
        })
        .collect()
}

// ---------------------------------------------------------------- disk

fn table_path(number: u64) -> PathBuf {
    Path::new(DIR).join(format!("{number:06}.sst"))
}

/// The manifest as recovered now, checked: invariants, levels ≥ 1 sorted
/// and disjoint, every named table present with its recorded size.
///
/// With `open` (the database is running) a manifest switch racing the read,
/// or a table deleted by a compaction installed after the read, is retried
/// on a fresh read; the invariants must hold on every read.
fn check_manifest(fs: &FaultFs, open: bool, what: &str) -> ManifestState {
    for attempt in 0.. {
        let retry = open && attempt < 20;
        let state = match recover(fs, Path::new(DIR)) {
            Ok(r) => r.state,
            Err(e) if retry => {
                eprintln!("{what}: manifest read raced a switch ({e}); retrying");
                continue;
            }
            Err(e) => panic!("{what}: recover the manifest: {e}"),
        };
        check_levels(&state, what);
        let missing = state
            .levels()
            .iter()
            .enumerate()
            .find_map(|(level, files)| {
                files
                    .iter()
                    .find(|f| fs.file_len(&table_path(f.number)) != Some(f.size))
                    .map(|f| (level, f.number, f.size))
            });
        match missing {
            None => return state,
            Some(_) if retry => continue,
            Some((level, number, size)) => panic!(
                "{what}: table {number} of L{level} missing or not {size} bytes: {:?}",
                fs.file_len(&table_path(number))
            ),
        }
    }
    unreachable!()
}

fn check_levels(state: &ManifestState, what: &str) {
    state
        .check_invariants()
        .unwrap_or_else(|e| panic!("{what}: manifest invariants: {e}"));
    for (level, files) in state.levels().iter().enumerate() {
        if level >= 1 {
            let sorted = files.sorted_by_smallest();
            for pair in sorted.windows(2) {
                assert!(
                    pair[0].largest.user_key < pair[1].smallest.user_key,
                    "{what}: L{level} files {} and {} overlap",
                    pair[0].number,
                    pair[1].number
                );
            }
        }
        for f in files.iter() {
            assert!(
                f.smallest.user_key <= f.largest.user_key,
                "{what}: file {} has an inverted range",
                f.number
            );
        }
    }
}

/// Numbers of the table files on disk.
fn tables_on_disk(fs: &FaultFs) -> BTreeSet<u64> {
    fs.list(Path::new(DIR))
        .unwrap()
        .iter()
        .filter_map(|name| name.strip_suffix(".sst")?.parse().ok())
        .collect()
}

/// After a close (or with nothing running): exactly the manifest's tables
/// are on disk.
fn check_no_leftovers(fs: &FaultFs, state: &ManifestState, what: &str) {
    let named: BTreeSet<u64> = state.live_file_numbers().collect();
    assert_eq!(
        tables_on_disk(fs),
        named,
        "{what}: tables on disk vs manifest"
    );
}

/// Every entry of every table the manifest names: `(level, file, key, value)`.
fn table_entries(fs: &FaultFs, state: &ManifestState) -> Vec<(usize, u64, InternalKey, Bytes)> {
    let mut out = Vec::new();
    for (level, files) in state.levels().iter().enumerate() {
        for f in files.iter() {
            let path = table_path(f.number);
            let file = fs.open(&path).unwrap();
            let reader = TableReader::open(file, &path, f.number, None).unwrap();
            for e in reader.entries(Bound::Unbounded, Bound::Unbounded) {
                let (k, v) = e.unwrap();
                out.push((level, f.number, k, v));
            }
        }
    }
    out
}

/// After `compact()` with no snapshot, at `now`: no tombstone, no expired
/// value, one version per key, and the tables hold exactly `live`.
fn check_fully_compacted(
    fs: &FaultFs,
    state: &ManifestState,
    now: u64,
    live: &BTreeMap<Vec<u8>, Vec<u8>>,
    what: &str,
) {
    let mut seen: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for (level, number, k, v) in table_entries(fs, state) {
        let where_ = format!("{what}: L{level} table {number} key {}", show(&k.user_key));
        let value = match k.kind {
            ValueKind::Delete => panic!("{where_}: tombstone (seqno {}) left", k.seqno),
            ValueKind::Put => v.to_vec(),
            ValueKind::PutWithExpiry => {
                let (at, v) = ExpiringValue::decode(&v).unwrap();
                assert!(now < at, "{where_}: value expired at {at} left (now {now})");
                v.to_vec()
            }
        };
        let again = seen.insert(k.user_key.to_vec(), value);
        assert!(
            again.is_none(),
            "{where_}: second version (seqno {})",
            k.seqno
        );
    }
    assert!(
        &seen == live,
        "{what}: tables vs live data\n{}",
        diff(&seen, live)
    );
}

// ---------------------------------------------------------------- random ops

/// One random write (or flush / clock move / range compaction), applied to
/// both.
fn random_step(rng: &mut StdRng, db: &Db, model: &mut Model, env: &Env, keys: usize, v: u64) {
    let i = rng.random_range(0..keys);
    let k = key(i);
    match rng.random_range(0..100) {
        0..=44 => {
            db.put(&k, value(i, v)).unwrap();
            model.0.insert(k, (value(i, v), None));
        }
        45..=59 => {
            let ttl = rng.random_range(1..3000);
            db.put_with_ttl(&k, value(i, v), Duration::from_millis(ttl))
                .unwrap();
            model.0.insert(k, (value(i, v), Some(env.now() + ttl)));
        }
        60..=74 => {
            db.delete(&k).unwrap();
            model.0.remove(&k);
        }
        75..=84 => {
            let mut batch = WriteBatch::new();
            for _ in 0..rng.random_range(1..6) {
                let j = rng.random_range(0..keys);
                if rng.random_bool(0.3) {
                    batch.delete(&key(j)).unwrap();
                    model.0.remove(&key(j));
                } else {
                    batch.put(&key(j), &value(j, v)).unwrap();
                    model.0.insert(key(j), (value(j, v), None));
                }
            }
            db.write(batch).unwrap();
        }
        85..=91 => env.clock.advance(rng.random_range(0..800)),
        92..=95 => db.flush().unwrap(),
        96..=97 => std::thread::sleep(Duration::from_millis(rng.random_range(0..4))),
        _ => {
            let a = rng.random_range(0..keys);
            let b = rng.random_range(0..keys);
            db.compact_range(key(a.min(b))..=key(a.max(b))).unwrap();
        }
    }
}

// ---------------------------------------------------------------- tests

/// Random writes with background compaction; whenever a compaction has
/// completed, the manifest is recovered and checked and the database is
/// compared with the model. At the end: `compact()`, close, no leftovers,
/// the on-disk tables hold exactly the live data, reopen equals the model.
fn after_every_compaction(strat: Strat, seed: u64) {
    let env = Env::new(strat);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Model::default();
    let mut db = env.open();
    let mut done = 0;
    let mut checks = 0;
    for step in 0..1500u64 {
        random_step(&mut rng, &db, &mut model, &env, 120, step);
        let now_done = compactions(&db);
        if now_done != done {
            done = now_done;
            checks += 1;
            let what = format!("{strat:?} step {step}, {done} compactions");
            check_manifest(&env.fs, true, &what);
            check_db(&db, &model, env.now(), &what);
        }
        if step % 500 == 499 {
            db.close().unwrap();
            drop(db);
            let what = format!("{strat:?} closed at step {step}");
            let state = check_manifest(&env.fs, false, &what);
            check_no_leftovers(&env.fs, &state, &what);
            db = env.open();
            check_db(&db, &model, env.now(), &format!("{what}, reopened"));
            done = 0;
        }
    }
    assert!(
        checks >= 20,
        "{strat:?}: only {checks} compaction checkpoints"
    );
    db.compact().unwrap();
    db.close().unwrap();
    drop(db);
    let what = format!("{strat:?} after compact()");
    let state = check_manifest(&env.fs, false, &what);
    check_no_leftovers(&env.fs, &state, &what);
    check_fully_compacted(&env.fs, &state, env.now(), &model.live(env.now()), &what);
    let db = env.open();
    check_db(&db, &model, env.now(), &format!("{what}, reopened"));
}

#[test]
fn leveled_keeps_the_tree_valid_after_every_compaction() {
    after_every_compaction(Strat::Leveled, 1);
}

#[test]
fn size_tiered_keeps_the_tree_valid_after_every_compaction() {
    after_every_compaction(Strat::SizeTiered, 2);
}

#[test]
fn time_window_keeps_the_tree_valid_after_every_compaction() {
    after_every_compaction(Strat::TimeWindow, 3);
}

/// Older versions in deeper (or older) files, then deletes and expired TTL
/// puts on top: range and full compactions never bring the old values back.
#[test]
fn deleted_and_expired_keys_stay_gone_after_compaction() {
    for strat in ALL {
        for auto in [false, true] {
            let env = Env::new(strat);
            let db = env.open_with(|o| o.auto_compaction(auto));
            let mut model = Model::default();
            let what = format!("{strat:?} auto {auto}");
            for i in 0..200 {
                db.put(key(i), value(i, 1)).unwrap();
                model.0.insert(key(i), (value(i, 1), None));
            }
            db.compact().unwrap();
            // Newer versions of some keys in newer files.
            for i in (0..200).step_by(2) {
                db.put(key(i), value(i, 2)).unwrap();
                model.0.insert(key(i), (value(i, 2), None));
            }
            db.flush().unwrap();
            for i in (0..200).step_by(3) {
                db.delete(key(i)).unwrap();
                model.0.remove(&key(i));
            }
            for i in (1..200).step_by(5) {
                db.put_with_ttl(key(i), value(i, 3), Duration::from_millis(100))
                    .unwrap();
                model.0.insert(key(i), (value(i, 3), Some(env.now() + 100)));
            }
            db.flush().unwrap();
            env.clock.advance(100);
            check_db(&db, &model, env.now(), &format!("{what} before compaction"));
            db.compact_range(key(40)..key(80)).unwrap();
            check_db(&db, &model, env.now(), &format!("{what} compact_range"));
            db.compact_range(key(150)..).unwrap();
            check_db(&db, &model, env.now(), &format!("{what} compact_range 2"));
            db.compact().unwrap();
            check_db(&db, &model, env.now(), &format!("{what} compact()"));
            db.close().unwrap();
            drop(db);
            let state = check_manifest(&env.fs, false, &what);
            check_no_leftovers(&env.fs, &state, &what);
            check_fully_compacted(&env.fs, &state, env.now(), &model.live(env.now()), &what);
            let db = env.open_with(|o| o.auto_compaction(auto));
            check_db(&db, &model, env.now(), &format!("{what} reopened"));
            // And once more, with everything compacted away already.
            db.compact().unwrap();
            check_db(
                &db,
                &model,
                env.now(),
                &format!("{what} reopened, compacted"),
            );
        }
    }
}

/// A key whose newest version is an expired TTL put over an older plain
/// value in an older file: whatever compaction does (time-window's whole
/// file drop included), the old value never comes back.
#[test]
fn an_expired_value_never_uncovers_an_older_one() {
    for strat in ALL {
        let env = Env::new(strat);
        let db = env.open();
        for i in 0..60 {
            db.put(key(i), value(i, 1)).unwrap();
        }
        db.flush().unwrap();
        env.clock.advance(5000);
        for i in 0..60 {
            db.put_with_ttl(key(i), value(i, 2), Duration::from_millis(50))
                .unwrap();
        }
        db.flush().unwrap();
        env.clock.advance(5000);
        // Let the timer-driven compactions (drops of expired files) run.
        let deadline = Instant::now() + Duration::from_millis(300);
        while Instant::now() < deadline {
            for i in 0..60 {
                assert_eq!(db.get(key(i)).unwrap(), None, "{strat:?} key {i}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        db.compact().unwrap();
        let mut all = Model::default();
        for i in 0..60 {
            all.0.insert(key(i), (value(i, 2), Some(0)));
        }
        check_db(&db, &all, env.now(), &format!("{strat:?} after compact()"));
        db.close().unwrap();
        drop(db);
        let what = format!("{strat:?}");
        let state = check_manifest(&env.fs, false, &what);
        check_fully_compacted(&env.fs, &state, env.now(), &BTreeMap::new(), &what);
        let db = env.open();
        check_db(&db, &all, env.now(), &format!("{strat:?} reopened"));
    }
}

/// Snapshots and an iterator taken before `compact()` read their old
/// values after it (with two open tables at most, so reads reopen files);
/// the files they need stay on disk while they live and go when dropped.
#[test]
fn snapshots_read_their_values_after_compaction() {
    for strat in ALL {
        let env = Env::new(strat);
        let db = env.open_with(|o| o.auto_compaction(false));
        let mut model = Model::default();
        for i in 0..150 {
            db.put(key(i), value(i, 1)).unwrap();
            model.0.insert(key(i), (value(i, 1), None));
        }
        db.compact().unwrap();
        let s1 = (db.snapshot(), model.clone());
        for i in (0..150).step_by(2) {
            db.put(key(i), value(i, 2)).unwrap();
            model.0.insert(key(i), (value(i, 2), None));
        }
        for i in (0..150).step_by(7) {
            db.delete(key(i)).unwrap();
            model.0.remove(&key(i));
        }
        db.flush().unwrap();
        let s2 = (db.snapshot(), model.clone());
        let mut it = db.scan::<&[u8], _>(..);
        let first = it.next().unwrap().unwrap();
        let held = tables_on_disk(&env.fs);
        for i in (0..150).step_by(3) {
            db.put(key(i), value(i, 3)).unwrap();
            model.0.insert(key(i), (value(i, 3), None));
        }
        for i in (1..150).step_by(4) {
            db.delete(key(i)).unwrap();
            model.0.remove(&key(i));
        }
        db.compact().unwrap();
        let what = format!("{strat:?}");
        let state = check_manifest(&env.fs, false, &what);
        let named: BTreeSet<u64> = state.live_file_numbers().collect();
        assert!(
            held.is_subset(&tables_on_disk(&env.fs)),
            "{what}: a table a snapshot holds was deleted"
        );
        assert!(!held.is_subset(&named), "{what}: compact() rewrote nothing");
        let now = env.now();
        check_db(&db, &model, now, &format!("{what} after compact()"));
        for (n, (s, m)) in [&s1, &s2].into_iter().enumerate() {
            check_snapshot(s, m, now, &format!("{what} snapshot {n}"));
        }
        let rest: BTreeMap<Vec<u8>, Vec<u8>> = std::iter::once(Ok(first))
            .chain(it)
            .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect();
        assert!(
            rest == s2.1.live(now),
            "{what}: old iterator after compact()"
        );
        // With the readers gone their files go.
        drop((s1, s2));
        let deadline = Instant::now() + Duration::from_secs(2);
        while tables_on_disk(&env.fs) != named && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(
            tables_on_disk(&env.fs),
            named,
            "{what}: held tables not deleted"
        );
        // And a compaction now drops the versions they kept.
        db.compact().unwrap();
        db.close().unwrap();
        drop(db);
        let state = check_manifest(&env.fs, false, &what);
        check_no_leftovers(&env.fs, &state, &what);
        check_fully_compacted(&env.fs, &state, now, &model.live(now), &what);
    }
}

/// Time-window: TTL-only data in files of closed windows is dropped whole
/// once expired (counted as `expired`, the files leave the manifest and
/// the disk without being rewritten), while a newer plain value of one of
/// its keys in a later file survives.
#[test]
fn time_window_drops_fully_expired_files_whole() {
    let env = Env::new(Strat::TimeWindow);
    let db = env.open();
    for round in 0..3 {
        for i in 0..40 {
            let k = key(round * 40 + i);
            db.put_with_ttl(&k, value(i, 1), Duration::from_millis(500))
                .unwrap();
        }
        db.flush().unwrap();
        env.clock.advance(1000);
    }
    db.put(key(0), "kept").unwrap();
    db.flush().unwrap();
    env.clock.advance(1000);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !db.stats().compactions.contains_key("expired") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let stats = db.stats();
    assert!(
        stats.compactions.contains_key("expired"),
        "no expired file was dropped: {:?}",
        stats.compactions
    );
    let mut model = Model::default();
    model.0.insert(key(0), (b"kept".to_vec(), None));
    for i in 1..120 {
        model.0.insert(key(i), (value(i, 1), Some(0)));
    }
    check_db(&db, &model, env.now(), "after the drops");
    db.close().unwrap();
    drop(db);
    let state = check_manifest(&env.fs, false, "after the drops");
    check_no_leftovers(&env.fs, &state, "after the drops");
    let entries = table_entries(&env.fs, &state);
    assert!(
        entries.len() < 120,
        "expired entries still on disk: {} entries",
        entries.len()
    );
    let db = env.open();
    check_db(&db, &model, env.now(), "reopened");
}

/// A snapshot kept across `Db::close` still reads. Once the directory is
/// opened again, the new instance deletes the tables only the old snapshot
/// still needs (no manifest names them), as `Db::snapshot` documents: the
/// old snapshot's reads then give the right value or an error, never a
/// wrong value.
#[test]
fn a_snapshot_kept_across_close_reads_until_the_directory_is_reopened() {
    let env = Env::new(Strat::Leveled);
    let db = env.open_with(|o| o.auto_compaction(false));
    for i in 0..100 {
        db.put(key(i), value(i, 1)).unwrap();
    }
    db.flush().unwrap();
    let snap = db.snapshot();
    for i in 0..100 {
        db.put(key(i), value(i, 2)).unwrap();
    }
    db.compact().unwrap();
    db.close().unwrap();
    drop(db);
    for i in 0..100 {
        assert_eq!(snap.get(key(i)).unwrap().unwrap(), value(i, 1));
    }
    let reopened = env.open();
    for i in 0..100 {
        match snap.get(key(i)) {
            Ok(Some(v)) => assert_eq!(v, value(i, 1), "key {i}"),
            Ok(None) => panic!("key {i}: the old snapshot lost it without an error"),
            Err(_) => {}
        }
        assert_eq!(reopened.get(key(i)).unwrap().unwrap(), value(i, 2));
    }
}

fn check_snapshot(s: &Snapshot, m: &Model, now: u64, what: &str) {
    let want = m.live(now);
    for rev in [false, true] {
        let it = s.scan::<&[u8], _>(..);
        let items: Vec<_> = if rev {
            it.rev().collect()
        } else {
            it.collect()
        };
        let got: BTreeMap<Vec<u8>, Vec<u8>> = items
            .into_iter()
            .map(|kv| {
                let (k, v) = kv.unwrap_or_else(|e| panic!("{what}: scan error {e}"));
                (k.to_vec(), v.to_vec())
            })
            .collect();
        assert!(got == want, "{what} (rev {rev})\n{}", diff(&got, &want));
    }
    for k in m.0.keys() {
        let got = s.get(k).unwrap().map(|b| b.to_vec());
        assert_eq!(got.as_ref(), want.get(k), "{what}: get {}", show(k));
    }
}

// ---------------------------------------------------------------- concurrency

const WRITERS: usize = 2;
const KEYS_PER_WRITER: u64 = 16;
const VERSIONS: u64 = 6000;

/// Writer `w`'s version `v` goes to its key `v % KEYS_PER_WRITER`: a delete
/// when `v % 5 == 4`, else a put of the value naming `v`.
fn cw_key(w: usize, j: u64) -> Vec<u8> {
    format!("w{w}-k{j:02}").into_bytes()
}

fn cw_value(v: u64) -> Vec<u8> {
    format!("{v:06}-{}", "p".repeat(90)).into_bytes()
}

fn cw_is_delete(v: u64) -> bool {
    v % 5 == 4
}

fn parse_cw(k: &[u8], v: &[u8]) -> (usize, u64, u64) {
    let k = show(k);
    let (w, j) = k.strip_prefix('w').unwrap().split_once("-k").unwrap();
    let v = show(v);
    let version = v.split_once('-').unwrap().0.parse().unwrap();
    (w.parse().unwrap(), j.parse().unwrap(), version)
}

/// Writer `w`'s keys as of cut `c` (every version `<= c` applied).
fn cw_state(c: u64) -> BTreeMap<u64, u64> {
    (0..KEYS_PER_WRITER)
        .filter_map(|j| {
            let last = (0..=c).rev().find(|v| v % KEYS_PER_WRITER == j)?;
            (!cw_is_delete(last)).then_some((j, last))
        })
        .collect()
}

/// Checks a scan result (per writer: key -> version) is one cut of each
/// writer's sequence; returns each writer's highest version seen.
fn check_cut(seen: &[BTreeMap<u64, u64>], what: &str) -> Vec<Option<u64>> {
    seen.iter()
        .enumerate()
        .map(|(w, keys)| {
            let max = keys.values().copied().max();
            let from = max.unwrap_or(0);
            // Versions above the newest seen can only be deletes (one run).
            let ok = (from..from + KEYS_PER_WRITER + 5)
                .any(|c| cw_state(c) == *keys || (max.is_none() && keys.is_empty()));
            assert!(ok, "{what}: writer {w} keys {keys:?} are no cut");
            max
        })
        .collect()
}

fn scan_cut(
    it: impl Iterator<Item = strata::Result<(Bytes, Bytes)>>,
    what: &str,
) -> Vec<BTreeMap<u64, u64>> {
    let mut seen = vec![BTreeMap::new(); WRITERS];
    for kv in it {
        let (k, v) = kv.unwrap_or_else(|e| panic!("{what}: {e}"));
        let (w, j, version) = parse_cw(&k, &v);
        assert!(seen[w].insert(j, version).is_none(), "{what}: key twice");
    }
    seen
}

fn concurrent_case(strat: Strat, threads: usize) {
    let env = Env::new(strat);
    let db = env.open_with(|o| o.compaction_threads(threads).max_immutable_memtables(2));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(WRITERS + 5));
    let what = format!("{strat:?} with {threads} compaction threads");
    std::thread::scope(|s| {
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let (db, start, clock) = (db.clone(), start.clone(), env.clock.clone());
            writers.push(s.spawn(move || {
                start.wait();
                for v in 0..VERSIONS {
                    let k = cw_key(w, v % KEYS_PER_WRITER);
                    if cw_is_delete(v) {
                        db.delete(k).unwrap();
                    } else {
                        db.put(k, cw_value(v)).unwrap();
                    }
                    if w == 0 {
                        clock.advance(2);
                    }
                }
            }));
        }
        // Point reads: a key's version never goes back.
        let (db1, stop1, start1, what1) = (db.clone(), stop.clone(), start.clone(), what.clone());
        s.spawn(move || {
            start1.wait();
            let mut last = BTreeMap::new();
            let mut n = 0u64;
            while !stop1.load(Ordering::Acquire) {
                let w = (n % WRITERS as u64) as usize;
                let j = (n / 2) % KEYS_PER_WRITER;
                n += 1;
                let k = cw_key(w, j);
                let got = db1.get(&k).unwrap_or_else(|e| panic!("{what1}: get: {e}"));
                if let Some(v) = got {
                    let (_, _, version) = parse_cw(&k, &v);
                    let prev = last.insert((w, j), version).unwrap_or(0);
                    assert!(
                        version >= prev,
                        "{what1}: key {w}/{j} went from {prev} to {version}"
                    );
                }
            }
        });
        // Full and per-writer prefix scans, both ways: consistent cuts,
        // never going back.
        let (db2, stop2, start2, what2) = (db.clone(), stop.clone(), start.clone(), what.clone());
        let scans = s.spawn(move || {
            start2.wait();
            let mut last = [None; WRITERS];
            let mut n = 0usize;
            while !stop2.load(Ordering::Acquire) {
                let (rev, only) = (n % 2 == 1, (n / 2) % (WRITERS + 1));
                n += 1;
                let it = match only {
                    0 => db2.scan::<&[u8], _>(..),
                    w => db2.prefix(format!("w{}-", w - 1)),
                };
                let seen = if rev {
                    scan_cut(it.rev(), &what2)
                } else {
                    scan_cut(it, &what2)
                };
                let what = format!("{what2} scan (rev {rev}, writer {only} of 1..)");
                let max = check_cut(&seen, &what);
                for (w, m) in max.iter().enumerate() {
                    if only == 0 || only == w + 1 {
                        assert!(
                            *m >= last[w],
                            "{what}: {w} went back {:?} -> {m:?}",
                            last[w]
                        );
                        last[w] = *m;
                    } else {
                        assert!(seen[w].is_empty(), "{what}: another writer's key");
                    }
                }
            }
            n
        });
        // Slow iterators: pinned while compactions replace their files.
        let (db3, stop3, start3, what3) = (db.clone(), stop.clone(), start.clone(), what.clone());
        s.spawn(move || {
            start3.wait();
            while !stop3.load(Ordering::Acquire) {
                let it = db3.scan::<&[u8], _>(..).inspect(|_| {
                    std::thread::sleep(Duration::from_micros(300));
                });
                check_cut(&scan_cut(it, &what3), &format!("{what3} slow scan"));
            }
        });
        // Manual compactions of random ranges (and of everything) racing
        // the background ones.
        let (db5, stop5, start5, what5) = (db.clone(), stop.clone(), start.clone(), what.clone());
        s.spawn(move || {
            start5.wait();
            let mut n = 0u64;
            while !stop5.load(Ordering::Acquire) {
                let result = if n % 4 == 3 {
                    db5.compact()
                } else {
                    let (a, b) = (n % KEYS_PER_WRITER, (n * 7) % KEYS_PER_WRITER);
                    let w = (n % WRITERS as u64) as usize;
                    db5.compact_range(cw_key(w, a.min(b))..=cw_key(w, a.max(b)))
                };
                result.unwrap_or_else(|e| panic!("{what5}: manual compaction {n}: {e}"));
                n += 1;
                std::thread::sleep(Duration::from_millis(3));
            }
        });
        // Snapshots: their gets and scans agree, and form a cut.
        let (db4, stop4, start4, what4) = (db.clone(), stop.clone(), start.clone(), what.clone());
        s.spawn(move || {
            start4.wait();
            while !stop4.load(Ordering::Acquire) {
                let snap = db4.snapshot();
                std::thread::sleep(Duration::from_millis(2));
                let seen = scan_cut(snap.scan::<&[u8], _>(..).rev(), &what4);
                check_cut(&seen, &format!("{what4} snapshot"));
                for (w, keys) in seen.iter().enumerate() {
                    for j in 0..KEYS_PER_WRITER {
                        let k = cw_key(w, j);
                        let got = snap.get(&k).unwrap_or_else(|e| panic!("{what4}: {e}"));
                        let version = got.map(|v| parse_cw(&k, &v).2);
                        assert_eq!(version, keys.get(&j).copied(), "{what4}: get vs scan");
                    }
                }
            }
        });
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::Release);
        let scans = scans.join().unwrap();
        assert!(
            scans >= 10,
            "{what}: only {scans} scans ran during the writes"
        );
    });
    let stats = db.stats();
    let auto: u64 = stats
        .compactions
        .iter()
        .filter(|(r, _)| r.as_str() != "manual")
        .map(|(_, n)| n)
        .sum();
    eprintln!("{what}: compactions {:?}", stats.compactions);
    assert!(
        auto >= 5,
        "{what}: only {auto} compactions ran: {:?}",
        stats.compactions
    );
    let last = cw_state(VERSIONS - 1);
    let check_final = |db: &Db, when: &str| {
        let seen = scan_cut(db.scan::<&[u8], _>(..), &what);
        for keys in &seen {
            assert_eq!(*keys, last, "{what} {when}");
        }
    };
    check_final(&db, "at the end");
    db.close().unwrap();
    drop(db);
    let state = check_manifest(&env.fs, false, &what);
    check_no_leftovers(&env.fs, &state, &what);
    let db = env.open();
    check_final(&db, "after reopen");
}

#[test]
fn concurrent_readers_see_no_error_and_no_old_value_leveled() {
    concurrent_case(Strat::Leveled, 2);
}

#[test]
fn concurrent_readers_see_no_error_and_no_old_value_size_tiered() {
    concurrent_case(Strat::SizeTiered, 1);
}

#[test]
fn concurrent_readers_see_no_error_and_no_old_value_time_window() {
    concurrent_case(Strat::TimeWindow, 2);
}
