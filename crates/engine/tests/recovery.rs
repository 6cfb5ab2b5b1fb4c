//! Crash recovery of a whole database, against a `BTreeMap` model of the
//! writes the database acknowledged.
//!
//! * Under `SyncPolicy::Always`, a power loss at a random point (between
//!   operations, or after an injected file-system failure in a WAL append, a
//!   flush, a manifest write or switch, a rotation — and again during the
//!   recovery itself) loses no acknowledged write: the reopened database
//!   equals the model, with each failed write present or absent (a batch
//!   whole or not at all).
//! * Under `Never` and `Interval`, a power loss leaves exactly the state
//!   after some prefix of the acknowledged writes (no holes); a process
//!   crash (data in the OS kept) loses nothing acknowledged.
//! * A torn, truncated or garbage WAL tail is dropped and reported in
//!   `recovery_report().wal_tails_dropped`; `RecoveryMode::Strict` refuses
//!   the same directory with `Error::Corruption`.
//! * Opening, writing and closing many times keeps all data, WAL and
//!   manifest files do not accumulate, no table is orphaned, and stray files
//!   of earlier runs are removed and reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata::{Db, Error, Options, RecoveryMode, SyncPolicy, WriteBatch};
use strata_core::{FaultFs, FileSystem, FsOp};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// Distinct user keys the random workloads draw from.
const KEYS: usize = 48;

#[derive(Debug, Clone)]
enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    /// Puts (`Some`) and deletes (`None`), applied atomically.
    Batch(Vec<(Vec<u8>, Option<Vec<u8>>)>),
    Flush,
}

fn key(i: usize) -> Vec<u8> {
    format!("key-{i:03}").into_bytes()
}

/// Key `i` of writer thread `t` (threads write disjoint keys).
fn thread_key(t: usize, i: usize) -> Vec<u8> {
    format!("t{t}-key-{i:03}").into_bytes()
}

fn random_value(rng: &mut StdRng) -> Vec<u8> {
    let len = rng.random_range(1..300);
    (0..len).map(|_| rng.random()).collect()
}

fn random_op(rng: &mut StdRng) -> Op {
    random_op_on(rng, key)
}

fn random_op_on(rng: &mut StdRng, key: impl Fn(usize) -> Vec<u8>) -> Op {
    let k = |rng: &mut StdRng| key(rng.random_range(0..KEYS));
    match rng.random_range(0..20) {
        0..=9 => Op::Put(k(rng), random_value(rng)),
        10..=12 => Op::Delete(k(rng)),
        13..=18 => {
            let n = rng.random_range(1..8);
            Op::Batch(
                (0..n)
                    .map(|_| {
                        let key = k(rng);
                        let value = rng.random_bool(0.75).then(|| random_value(rng));
                        (key, value)
                    })
                    .collect(),
            )
        }
        _ => Op::Flush,
    }
}

fn apply(model: &mut Model, op: &Op) {
    match op {
        Op::Put(k, v) => {
            model.insert(k.clone(), v.clone());
        }
        Op::Delete(k) => {
            model.remove(k);
        }
        Op::Batch(ops) => {
            for (k, v) in ops {
                match v {
                    Some(v) => model.insert(k.clone(), v.clone()),
                    None => model.remove(k),
                };
            }
        }
        Op::Flush => {}
    }
}

fn run(db: &Db, op: &Op) -> strata::Result<()> {
    match op {
        Op::Put(k, v) => db.put(k, v),
        Op::Delete(k) => db.delete(k),
        Op::Batch(ops) => {
            let mut batch = WriteBatch::new();
            for (k, v) in ops {
                match v {
                    Some(v) => batch.put(k, v)?,
                    None => batch.delete(k)?,
                }
            }
            db.write(batch)
        }
        Op::Flush => db.flush(),
    }
}

/// Everything the database holds, read by a full scan and cross-checked
/// with point reads of every key the workloads use.
fn contents(db: &Db) -> Model {
    let scanned = contents_of_all(db);
    for i in 0..KEYS {
        let k = key(i);
        let got = db.get(&k).unwrap().map(|v| v.to_vec());
        assert_eq!(got.as_ref(), scanned.get(&k), "get and scan disagree");
    }
    scanned
}

fn options(fs: &FaultFs, policy: SyncPolicy) -> Options {
    Options::default()
        .file_system(Arc::new(fs.clone()))
        .memtable_size(4096)
        .block_size(512)
        // Small, so flushes also rewrite the manifest now and then.
        .manifest_rewrite_bytes(512)
        .sync_policy(policy)
}

fn fresh_fs() -> (FaultFs, PathBuf) {
    let fs = FaultFs::new();
    let dir = PathBuf::from("/db");
    fs.create_dir_all(&dir).unwrap();
    (fs, dir)
}

/// The machine stops and loses power (or the process is killed) while `db`
/// is live; `db`'s shutdown can then no longer touch the disk.
fn cut(fs: &FaultFs, db: Db, power_loss: bool) {
    fs.halt();
    if power_loss {
        fs.power_loss();
    } else {
        fs.crash();
    }
    drop(db);
    fs.restart();
}

/// Runs up to `n` random operations; stops `errors_allowed` operations after
/// the first failure. Returns each write with whether it was acknowledged.
fn drive(db: &Db, rng: &mut StdRng, n: usize, errors_allowed: usize) -> Vec<(Op, bool)> {
    let mut history = Vec::new();
    let mut errors = 0;
    for _ in 0..n {
        let op = random_op(rng);
        let result = run(db, &op);
        if let Err(e) = &result {
            assert!(
                matches!(e, Error::Io(_) | Error::Background(_)),
                "unexpected error kind: {e}"
            );
            errors += 1;
        }
        if !matches!(op, Op::Flush) {
            history.push((op, result.is_ok()));
        }
        if errors > errors_allowed {
            break;
        }
    }
    history
}

/// Every state the database may recover to when acknowledged writes must
/// all be there and each failed one may or may not be.
fn acceptable_states(history: &[(Op, bool)]) -> Vec<Model> {
    let mut states = vec![Model::new()];
    for (op, acked) in history {
        if *acked {
            states.iter_mut().for_each(|s| apply(s, op));
        } else {
            let with: Vec<Model> = states
                .iter()
                .map(|s| {
                    let mut s = s.clone();
                    apply(&mut s, op);
                    s
                })
                .collect();
            states.extend(with);
            states.sort();
            states.dedup();
        }
    }
    states
}

/// The model after each prefix of the acknowledged writes, shortest first.
fn prefix_states(history: &[(Op, bool)]) -> Vec<Model> {
    let mut model = Model::new();
    let mut out = vec![model.clone()];
    for (op, acked) in history {
        assert!(*acked, "no faults are injected here");
        apply(&mut model, op);
        out.push(model.clone());
    }
    out
}

fn describe_mismatch(got: &Model, want: &Model) -> String {
    let keys: std::collections::BTreeSet<_> = got.keys().chain(want.keys()).collect();
    let diffs: Vec<String> = keys
        .into_iter()
        .filter(|k| got.get(*k) != want.get(*k))
        .take(5)
        .map(|k| {
            format!(
                "{}: got {:?} want {:?}",
                String::from_utf8_lossy(k),
                got.get(k).map(Vec::len),
                want.get(k).map(Vec::len)
            )
        })
        .collect();
    diffs.join("; ")
}

const FAULT_OPS: [(FsOp, u64); 7] = [
    (FsOp::Append, 300),
    (FsOp::Sync, 200),
    (FsOp::Create, 25),
    (FsOp::SyncDir, 40),
    (FsOp::Rename, 4),
    (FsOp::Remove, 15),
    (FsOp::Open, 10),
];

fn random_fault(rng: &mut StdRng) -> (FsOp, u64) {
    let (op, range) = FAULT_OPS[rng.random_range(0..FAULT_OPS.len())];
    (op, rng.random_range(0..range))
}

/// One case of the `Always` property; `seed` decides everything.
fn always_case(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (fs, dir) = fresh_fs();
    let opts = options(&fs, SyncPolicy::Always);
    let db = Db::open(&dir, opts.clone()).unwrap();
    let fault = rng.random_bool(0.6).then(|| random_fault(&mut rng));
    if let Some((op, n)) = fault {
        fs.fail_from(op, n);
    }
    let n_ops = rng.random_range(10..160);
    let history = drive(&db, &mut rng, n_ops, 3);
    cut(&fs, db, true);

    // Sometimes the recovery itself is cut short by a failure and a power
    // loss; the next one must still find everything.
    if rng.random_bool(0.3) {
        let (op, n) = random_fault(&mut rng);
        fs.fail_from(op, n % 12);
        match Db::open(&dir, opts.clone()) {
            Ok(db) => cut(&fs, db, true),
            Err(_) => {
                fs.power_loss();
            }
        }
    }

    let db = Db::open(&dir, opts)
        .unwrap_or_else(|e| panic!("seed {seed} (fault {fault:?}): reopen failed: {e}"));
    let got = contents(&db);
    let states = acceptable_states(&history);
    assert!(
        states.contains(&got),
        "seed {seed} (fault {fault:?}): recovered state is not the acknowledged writes \
         plus some of the failed ones; vs the all-acknowledged model: {}",
        describe_mismatch(&got, &states[0])
    );
    // The recovered database accepts writes and keeps them.
    db.put("after", "recovery").unwrap();
    assert_eq!(db.get("after").unwrap().as_deref(), Some(&b"recovery"[..]));
}

#[test]
fn under_always_a_power_loss_keeps_every_acknowledged_write() {
    for seed in 0..300 {
        always_case(seed);
    }
}

#[test]
fn under_always_a_power_loss_during_concurrent_writes_keeps_every_acknowledged_write() {
    const THREADS: usize = 4;
    for seed in 0..30u64 {
        let (fs, dir) = fresh_fs();
        let opts = options(&fs, SyncPolicy::Always);
        let db = Db::open(&dir, opts.clone()).unwrap();
        let writers: Vec<_> = (0..THREADS)
            .map(|t| {
                let db = db.clone();
                let mut rng = StdRng::seed_from_u64(seed * 100 + t as u64);
                std::thread::spawn(move || {
                    let mut history = Vec::new();
                    // Until the machine stops: then every write fails.
                    for _ in 0..5000 {
                        let op = random_op_on(&mut rng, |i| thread_key(t, i));
                        let ok = run(&db, &op).is_ok();
                        if !matches!(op, Op::Flush) {
                            history.push((op, ok));
                        }
                        if !ok {
                            break;
                        }
                    }
                    history
                })
            })
            .collect();
        let mut rng = StdRng::seed_from_u64(seed);
        std::thread::sleep(Duration::from_micros(rng.random_range(0..20_000)));
        fs.halt();
        fs.power_loss();
        let histories: Vec<_> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        drop(db);
        fs.restart();

        let db = Db::open(&dir, opts).unwrap();
        let got = contents_of_all(&db);
        for (t, history) in histories.iter().enumerate() {
            let prefix = format!("t{t}-").into_bytes();
            let mine: Model = got
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let states = acceptable_states(history);
            assert!(
                states.contains(&mine),
                "seed {seed} thread {t} ({} writes): {}",
                history.len(),
                describe_mismatch(&mine, &states[0])
            );
        }
    }
}

/// Everything the database holds, by a full scan.
fn contents_of_all(db: &Db) -> Model {
    db.scan::<&[u8], _>(..)
        .map(|kv| {
            let (k, v) = kv.unwrap();
            (k.to_vec(), v.to_vec())
        })
        .collect()
}

/// One case of the prefix property under `policy`.
fn prefix_case(seed: u64, policy: SyncPolicy) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (fs, dir) = fresh_fs();
    let opts = options(&fs, policy);
    let db = Db::open(&dir, opts.clone()).unwrap();
    let n_ops = rng.random_range(10..160);
    let history = drive(&db, &mut rng, n_ops, 0);
    if matches!(policy, SyncPolicy::Interval(_)) && rng.random_bool(0.5) {
        // Give the background timer a chance to sync the tail.
        std::thread::sleep(Duration::from_millis(3));
    }
    cut(&fs, db, true);
    let db = Db::open(&dir, opts)
        .unwrap_or_else(|e| panic!("seed {seed} {policy:?}: reopen failed: {e}"));
    let got = contents(&db);
    let states = prefix_states(&history);
    assert!(
        states.contains(&got),
        "seed {seed} {policy:?}: recovered state is no prefix of the acknowledged writes \
         (of {} writes); vs the full model: {}",
        history.len(),
        describe_mismatch(&got, states.last().unwrap())
    );
}

#[test]
fn under_never_a_power_loss_keeps_a_prefix_of_the_acknowledged_writes() {
    for seed in 0..100 {
        prefix_case(1000 + seed, SyncPolicy::Never);
    }
}

#[test]
fn under_interval_a_power_loss_keeps_a_prefix_of_the_acknowledged_writes() {
    for seed in 0..100 {
        prefix_case(2000 + seed, SyncPolicy::Interval(Duration::from_millis(1)));
    }
}

#[test]
fn under_never_a_process_crash_keeps_every_acknowledged_write() {
    for seed in 0..100 {
        let mut rng = StdRng::seed_from_u64(3000 + seed);
        let (fs, dir) = fresh_fs();
        let opts = options(&fs, SyncPolicy::Never);
        let db = Db::open(&dir, opts.clone()).unwrap();
        let n_ops = rng.random_range(10..160);
        let history = drive(&db, &mut rng, n_ops, 0);
        cut(&fs, db, false);
        let db = Db::open(&dir, opts).unwrap();
        let want = prefix_states(&history).pop().unwrap();
        let got = contents(&db);
        assert!(
            got == want,
            "seed {seed}: {}",
            describe_mismatch(&got, &want)
        );
    }
}

fn wal_files(fs: &dyn FileSystem, dir: &Path) -> Vec<PathBuf> {
    let mut wals: Vec<PathBuf> = fs
        .list(dir)
        .unwrap()
        .into_iter()
        .filter(|n| n.ends_with(".log"))
        .map(|n| dir.join(n))
        .collect();
    wals.sort();
    wals
}

/// Replaces `path` with `bytes` (synced, durable).
fn overwrite(fs: &FaultFs, path: &Path, bytes: &[u8]) {
    let mut f = fs.create(path).unwrap();
    f.append(bytes).unwrap();
    f.sync().unwrap();
    fs.sync_dir(path.parent().unwrap()).unwrap();
}

/// How the tail of the last WAL gets damaged before the reopen.
#[derive(Debug, Clone, Copy)]
enum TailDamage {
    /// The last append was torn by the crash (only a prefix reached the OS).
    TornAppend,
    /// The file lost the last bytes of its last record.
    Truncated,
    /// Non-zero garbage after the last record.
    Garbage,
}

/// A database of ten acknowledged puts whose WAL tail is then damaged as
/// `damage` says, after a process crash. Returns the WAL path and the
/// offset where the damage starts.
fn damaged_tail(damage: TailDamage) -> (FaultFs, PathBuf, PathBuf, u64) {
    let (fs, dir) = fresh_fs();
    let db = Db::open(&dir, options(&fs, SyncPolicy::Never)).unwrap();
    for i in 0..10 {
        db.put(key(i), format!("value {i}")).unwrap();
    }
    let wal = wal_files(&fs, &dir).pop().unwrap();
    let intact_len = fs.file_len(&wal).unwrap();
    match damage {
        TailDamage::TornAppend => {
            fs.tear_nth_append(0, 9);
            assert!(matches!(
                db.put("torn", "never acknowledged"),
                Err(Error::Io(_))
            ));
            assert_eq!(fs.file_len(&wal), Some(intact_len + 9));
            cut(&fs, db, false);
        }
        TailDamage::Truncated => {
            db.put("cut", "acknowledged, then damaged").unwrap();
            cut(&fs, db, false);
            let bytes = fs.read_all(&wal).unwrap();
            overwrite(&fs, &wal, &bytes[..bytes.len() - 3]);
        }
        TailDamage::Garbage => {
            cut(&fs, db, false);
            let mut bytes = fs.read_all(&wal).unwrap();
            bytes.extend((0..40u8).map(|i| i.wrapping_mul(37) | 1));
            overwrite(&fs, &wal, &bytes);
        }
    }
    (fs, dir, wal, intact_len)
}

#[test]
fn a_damaged_wal_tail_is_dropped_and_reported() {
    for damage in [
        TailDamage::TornAppend,
        TailDamage::Truncated,
        TailDamage::Garbage,
    ] {
        let (fs, dir, wal, intact_len) = damaged_tail(damage);
        let db = Db::open(&dir, options(&fs, SyncPolicy::Never)).unwrap();
        let report = db.recovery_report().clone();
        assert_eq!(report.wal_tails_dropped.len(), 1, "{damage:?}: {report:?}");
        let (path, dropped) = &report.wal_tails_dropped[0];
        assert_eq!(path, &wal, "{damage:?}");
        assert_eq!(dropped.offset, intact_len, "{damage:?}: {dropped:?}");
        assert!(dropped.is_torn_tail(), "{damage:?}: {dropped:?}");
        assert_eq!(report.records_replayed, 10, "{damage:?}");
        let got = contents(&db);
        let want: Model = (0..10)
            .map(|i| (key(i), format!("value {i}").into_bytes()))
            .collect();
        assert_eq!(got, want, "{damage:?}");

        // The drop is final: the next open, even a strict one, finds a
        // clean directory with the same data.
        drop(db);
        let db = Db::open(
            &dir,
            options(&fs, SyncPolicy::Never).recovery_mode(RecoveryMode::Strict),
        )
        .unwrap();
        assert!(db.recovery_report().wal_tails_dropped.is_empty());
        assert_eq!(contents(&db), want, "{damage:?}");
    }
}

#[test]
fn strict_recovery_refuses_a_damaged_wal_tail() {
    for damage in [
        TailDamage::TornAppend,
        TailDamage::Truncated,
        TailDamage::Garbage,
    ] {
        let (fs, dir, wal, _) = damaged_tail(damage);
        let before = fs.list(&dir).unwrap();
        let strict = options(&fs, SyncPolicy::Never).recovery_mode(RecoveryMode::Strict);
        match Db::open(&dir, strict) {
            Err(Error::Corruption { file, .. }) => assert_eq!(file, wal, "{damage:?}"),
            Err(e) => panic!("{damage:?}: expected Corruption, got {e}"),
            Ok(_) => panic!("{damage:?}: strict open accepted a damaged WAL"),
        }
        // The refused open changed nothing a tolerant open needs.
        let mut after = fs.list(&dir).unwrap();
        after.retain(|n| !n.ends_with(".sst"));
        let mut before = before;
        before.retain(|n| !n.ends_with(".sst"));
        assert_eq!(before, after, "{damage:?}");
        let db = Db::open(&dir, options(&fs, SyncPolicy::Never)).unwrap();
        assert_eq!(db.recovery_report().wal_tails_dropped.len(), 1);
    }
}

fn names_with(dir: &Path, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

#[test]
fn reopening_many_times_keeps_data_and_does_not_accumulate_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // No background compaction: its outputs in progress would make the
    // count of tables on disk race with the manifest's.
    let opts = || {
        Options::default()
            .memtable_size(4096)
            .block_size(512)
            .auto_compaction(false)
    };
    let mut rng = StdRng::seed_from_u64(4000);
    let mut model = Model::new();
    for round in 0..30 {
        let strays = [dir.join("000999.sst"), dir.join("000998.dbtmp")];
        if round == 5 {
            for stray in &strays {
                std::fs::write(stray, b"left by a crash").unwrap();
            }
        }
        let db = Db::open(dir, opts()).unwrap();
        let report = db.recovery_report().clone();
        assert_eq!(report.created, round == 0);
        if round == 5 {
            for stray in &strays {
                assert!(report.leftovers_removed.contains(stray), "{report:?}");
                assert!(!stray.exists());
            }
        }
        assert_eq!(contents(&db), model, "round {round}");
        assert_eq!(names_with(dir, ".log").len(), 1, "round {round}");
        assert_eq!(
            std::fs::read_dir(dir)
                .unwrap()
                .filter(|e| e
                    .as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("MANIFEST-"))
                .count(),
            1,
            "round {round}"
        );
        assert!(names_with(dir, ".dbtmp").is_empty(), "round {round}");
        let tables: usize = db.stats().levels.iter().map(|l| l.files).sum();
        assert_eq!(
            names_with(dir, ".sst").len(),
            tables,
            "round {round}: a table on disk is not in the manifest, or vice versa"
        );

        for _ in 0..rng.random_range(5..60) {
            let op = random_op(&mut rng);
            run(&db, &op).unwrap();
            apply(&mut model, &op);
        }
        assert_eq!(contents(&db), model, "round {round}");
        if round % 2 == 0 {
            db.close().unwrap();
        } else {
            drop(db);
        }
        // At most the active WAL plus one per immutable memtable remain.
        assert!(names_with(dir, ".log").len() <= 3, "round {round}");
    }
}

#[test]
fn a_damaged_wal_record_before_intact_ones_is_corruption() {
    let (fs, dir) = fresh_fs();
    let opts = options(&fs, SyncPolicy::Always);
    let db = Db::open(&dir, opts.clone()).unwrap();
    for i in 0..10 {
        db.put(key(i), format!("value {i}")).unwrap();
    }
    let wal = wal_files(&fs, &dir).pop().unwrap();
    cut(&fs, db, true);
    // Each put is one FULL fragment of the same size: damage the payload of
    // the fourth; six intact, acknowledged and synced records follow it.
    let record = fs.file_len(&wal).unwrap() as usize / 10;
    fs.corrupt_byte(&wal, 3 * record + 10, 0x04).unwrap();
    match Db::open(&dir, opts) {
        Err(Error::Corruption { file, .. }) => assert_eq!(file, wal),
        Err(e) => panic!("expected Corruption, got {e}"),
        Ok(db) => panic!(
            "opened, keeping {} of 10 acknowledged writes; report {:?}",
            contents(&db).len(),
            db.recovery_report()
        ),
    }
}

/// Writes WAL `number` of `dir` holding one put of `key(i)` per seqno `i`
/// in `seqnos`.
fn write_wal(fs: &FaultFs, dir: &Path, number: u64, seqnos: std::ops::RangeInclusive<u64>) {
    let path = dir.join(format!("{number:06}.log"));
    let mut log = strata_wal::LogWriter::new(fs.create(&path).unwrap());
    for seqno in seqnos {
        let mut batch = WriteBatch::new();
        batch
            .put(&key(seqno as usize), format!("value {seqno}").as_bytes())
            .unwrap();
        batch.set_base_seqno(seqno).unwrap();
        let mut record = Vec::new();
        batch.encode_into(&mut record);
        log.add_record(&record).unwrap();
    }
    log.sync().unwrap();
    fs.sync_dir(dir).unwrap();
}

#[test]
fn a_damaged_tail_of_an_older_wal_is_corruption() {
    let (fs, dir) = fresh_fs();
    let opts = options(&fs, SyncPolicy::Always);
    Db::open(&dir, opts.clone()).unwrap().close().unwrap();
    // The live (empty) WAL gets seqnos 1..=5, and a newer WAL 6..=10, as
    // after a rotation; then the older one loses the end of its last record.
    let older = wal_files(&fs, &dir).pop().unwrap();
    let number: u64 = older
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    write_wal(&fs, &dir, number, 1..=5);
    write_wal(&fs, &dir, number + 10, 6..=10);
    let bytes = fs.read_all(&older).unwrap();
    overwrite(&fs, &older, &bytes[..bytes.len() - 3]);

    // Rotation syncs a WAL before any write goes to the next one, so no
    // crash leaves this: replaying on would put seqnos 6..=10 over a hole.
    match Db::open(&dir, opts) {
        Err(Error::Corruption { file, .. }) => assert_eq!(file, older),
        Err(e) => panic!("expected Corruption, got {e}"),
        Ok(db) => panic!(
            "opened with keys {:?}; report {:?}",
            contents(&db)
                .keys()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect::<Vec<_>>(),
            db.recovery_report()
        ),
    }
}

#[test]
fn a_failed_first_open_can_be_retried() {
    let (fs, dir) = fresh_fs();
    let opts = options(&fs, SyncPolicy::Always);
    // The first open fails while installing CURRENT (no crash needed; a
    // crash or power loss at that point leaves the same files).
    fs.fail_nth(FsOp::Rename, 0);
    assert!(matches!(Db::open(&dir, opts.clone()), Err(Error::Io(_))));
    // Left behind: the attempt's own empty WAL and manifest, no CURRENT.
    assert_eq!(
        fs.list(&dir).unwrap(),
        ["000002.log", "MANIFEST-000003"],
        "the files the failed attempt left"
    );
    // Nothing was ever acknowledged: a retry must be able to create the
    // database (today it is refused for good with Corruption).
    let db = Db::open(&dir, opts).unwrap_or_else(|e| panic!("retry refused: {e}"));
    assert!(db.recovery_report().created);
}
