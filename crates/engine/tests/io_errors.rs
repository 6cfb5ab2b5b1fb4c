//! I/O errors (`EIO`, `ENOSPC`) injected at each point of the write path,
//! under each sync policy, and into reads.
//!
//! For every injection point (WAL append, WAL fsync, table write and table
//! fsync of a flush, manifest write and manifest fsync, a compaction's table
//! write) × sync policy × error kind, with the fault persistent until
//! cleared:
//!
//! * the call that hits it fails with an error naming the cause: an
//!   `Error::Io` of that kind (`StorageFull` for `ENOSPC`, the `EIO` kind),
//!   or, for a flush, an `Error::Background` whose message carries the OS
//!   error's text; never `Corruption`;
//! * nothing failing is visible, and no write after it is acknowledged:
//!   writes and flushes are refused with `Error::Background` naming the
//!   cause, and stay refused after the fault is cleared, until a reopen;
//! * gets and scans still return exactly the acknowledged writes;
//! * a reopen with the fault cleared recovers every acknowledged write (the
//!   failed one may or may not be there, whole), takes new writes, and
//!   `verify` finds no problem; and a power loss instead of the reopen
//!   keeps what the policy promises (`Always`: every acknowledged write;
//!   `Never`/`Interval`: a prefix at least as long as what flushes made
//!   durable).
//!
//! Reads: an error injected into any `ReadAt` of a get or a scan makes that
//! call return (or that iterator yield) an `Error::Io` of the injected kind,
//! never a wrong or older value and never a Corruption; the same read
//! succeeds once the fault is gone, and the database keeps taking writes.
//!
//! A background compaction that installs after a flush's manifest switch
//! failed past its rename loses nothing either (see
//! `compaction_after_a_failed_manifest_switch`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use strata::{Db, Error, Leveled, Options, SyncPolicy};
use strata_core::fs::{Fault, FaultError, LockGuard};
use strata_core::{FaultFs, FileSystem, FsOp, RandomAccessFile, WritableFile};

use common::faults::{
    Model, Write, contents, describe_mismatch, dir, matching_prefixes, model_after, power_cut, show,
};

// ---------------------------------------------------------------- setup

fn options(fs: &FaultFs, policy: SyncPolicy) -> Options {
    Options::default()
        .file_system(Arc::new(fs.clone()))
        .sync_policy(policy)
        // Flushes only when asked: each fault lands where the test says.
        .memtable_size(1 << 20)
        .block_size(256)
        // Every read reaches the disk.
        .block_cache_bytes(0)
        .max_open_tables(2)
        .auto_compaction(false)
}

fn policies() -> [(&'static str, SyncPolicy); 3] {
    [
        ("Always", SyncPolicy::Always),
        ("Never", SyncPolicy::Never),
        ("Interval", SyncPolicy::Interval(Duration::from_millis(1))),
    ]
}

const KINDS: [FaultError; 2] = [FaultError::Eio, FaultError::NoSpace];

fn fresh_fs() -> FaultFs {
    let fs = FaultFs::new();
    fs.create_dir_all(&dir()).unwrap();
    fs
}

fn key(i: usize) -> Vec<u8> {
    format!("key-{i:03}").into_bytes()
}

fn value(i: usize, version: usize) -> Vec<u8> {
    format!("v{version}-{i}-{}", "y".repeat(40 + i % 30)).into_bytes()
}

fn all_keys() -> BTreeSet<Vec<u8>> {
    (0..200).map(key).collect()
}

/// The writes so far, each with whether it was acknowledged, and how many
/// of them a successful flush or compaction made durable.
#[derive(Default)]
struct History {
    writes: Vec<(Write, bool)>,
    durable: usize,
}

impl History {
    fn write(&mut self, db: &Db, w: Write) -> strata::Result<()> {
        let result = w.run(db);
        self.writes.push((w, result.is_ok()));
        result
    }

    fn acked(&self) -> Model {
        model_after(self.writes.iter().filter(|(_, ok)| *ok).map(|(w, _)| w))
    }

    fn attempted(&self) -> Vec<Write> {
        self.writes.iter().map(|(w, _)| w.clone()).collect()
    }

    fn acked_count(&self) -> usize {
        self.writes.iter().filter(|(_, ok)| *ok).count()
    }
}

/// Data in two levels and in the memtable: keys 0..60 compacted to the
/// bottom, then overwrites and deletes of some of them flushed to L0 (so
/// the newest version of those keys sits above an older one), then writes
/// left in the WAL.
fn load(db: &Db, h: &mut History) {
    for i in 0..60 {
        h.write(db, Write::put(key(i), value(i, 0))).unwrap();
    }
    db.compact().unwrap();
    for i in (0..60).step_by(3) {
        h.write(db, Write::put(key(i), value(i, 1))).unwrap();
    }
    for i in (1..60).step_by(7) {
        h.write(db, Write::delete(key(i))).unwrap();
    }
    h.write(
        db,
        Write::Batch(vec![
            (key(2), Some(value(2, 1))),
            (key(5), None),
            (key(61), Some(value(61, 1))),
        ]),
    )
    .unwrap();
    db.flush().unwrap();
    h.durable = h.writes.len();
    for i in 60..70 {
        h.write(db, Write::put(key(i), value(i, 2))).unwrap();
    }
}

// ---------------------------------------------------------------- errors

/// True if `e` tells of the injected `kind`: an `Io` error of that kind, or
/// a `Background` error whose message carries the OS error's text.
fn names_cause(e: &Error, kind: FaultError) -> bool {
    let expected = kind.to_io_error(FsOp::Append);
    match e {
        Error::Io(io) => io.kind() == expected.kind(),
        Error::Background(msg) => msg.contains(&expected.to_string()),
        _ => false,
    }
}

fn kind_name(kind: FaultError) -> &'static str {
    match kind {
        FaultError::Eio => "EIO",
        FaultError::NoSpace => "ENOSPC",
        _ => "other",
    }
}

// ---------------------------------------------------------------- write path

/// Where the fault goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    WalAppend,
    WalSync,
    TableWrite,
    TableSync,
    ManifestWrite,
    ManifestSync,
    CompactionWrite,
}

const POINTS: [Point; 7] = [
    Point::WalAppend,
    Point::WalSync,
    Point::TableWrite,
    Point::TableSync,
    Point::ManifestWrite,
    Point::ManifestSync,
    Point::CompactionWrite,
];

impl Point {
    fn fault(self, kind: FaultError) -> Fault {
        let (op, file) = match self {
            Point::WalAppend => (FsOp::Append, ".log"),
            Point::WalSync => (FsOp::Sync, ".log"),
            Point::TableWrite | Point::CompactionWrite => (FsOp::Append, ".sst"),
            Point::TableSync => (FsOp::Sync, ".sst"),
            Point::ManifestWrite => (FsOp::Append, "MANIFEST"),
            Point::ManifestSync => (FsOp::Sync, "MANIFEST"),
        };
        Fault::on(op).file(file).persistent().error(kind)
    }
}

/// What follows the failure once the fault is cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Close (which may report the failure) and reopen.
    Reopen,
    /// The power goes, then reopen.
    PowerLoss,
}

/// Counts of what the write-path test did, for the figures it prints.
#[derive(Default)]
struct Tally {
    scenarios: u64,
    failed_calls: u64,
    refused_writes: u64,
}

/// Writes (and, for the points a flush or compaction meets, then that
/// call) until one fails; returns the failing call's error.
fn trigger(
    db: &Db,
    fs: &FaultFs,
    h: &mut History,
    point: Point,
    kind: FaultError,
    policy: SyncPolicy,
) -> Error {
    let interval = matches!(policy, SyncPolicy::Interval(_));
    if point != Point::CompactionWrite {
        fs.inject(point.fault(kind));
    }
    for i in 0..20 {
        if let Err(e) = h.write(db, Write::put(key(100 + i), value(100 + i, 3))) {
            return e;
        }
        if interval {
            // Let the interval pass: the next append, or the timer, syncs.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    if point == Point::CompactionWrite {
        db.flush().unwrap();
        h.durable = h.writes.len();
        fs.inject(point.fault(kind));
        return db.compact().expect_err("compact() met no fault");
    }
    db.flush().expect_err("flush() met no fault")
}

fn write_path_case(
    name: &str,
    policy: SyncPolicy,
    point: Point,
    kind: FaultError,
    ending: Ending,
    tally: &mut Tally,
) {
    let what = format!("{name}: {} at {point:?} ({ending:?})", kind_name(kind));
    let fs = fresh_fs();
    let db = Db::open(dir(), options(&fs, policy)).unwrap();
    let mut h = History::default();
    load(&db, &mut h);

    // The failing call names the cause.
    let e = trigger(&db, &fs, &mut h, point, kind, policy);
    tally.scenarios += 1;
    tally.failed_calls += 1;
    assert!(names_cause(&e, kind), "{what}: failed with {e}");

    // Nothing more is acknowledged: writes and flushes are refused, with
    // the cause, also once the fault is gone.
    let refused = |db: &Db, when: &str| {
        for result in [db.put(key(150), "refused"), db.delete(key(0)), db.flush()] {
            match result {
                Err(Error::Background(msg)) => assert!(
                    names_cause(&Error::Background(msg.clone()), kind),
                    "{what}, {when}: refused with {msg}"
                ),
                Err(e) => panic!("{what}, {when}: refused with {e}, not Background"),
                Ok(()) => panic!("{what}, {when}: accepted after the failure"),
            }
        }
    };
    refused(&db, "fault present");
    tally.refused_writes += 3;

    // Reads see exactly the acknowledged writes.
    let want = h.acked();
    let got = contents(&db, &all_keys()).unwrap_or_else(|e| panic!("{what}: read: {e}"));
    assert!(
        got == want,
        "{what}: reads after the failure: {}",
        describe_mismatch(&got, &want)
    );
    fs.clear_faults();
    refused(&db, "fault cleared");
    tally.refused_writes += 3;
    let got = contents(&db, &all_keys()).unwrap();
    assert!(got == want, "{what}: reads after clearing the fault");

    match ending {
        Ending::Reopen => {
            if let Err(e) = db.close() {
                assert!(
                    matches!(e, Error::Io(_) | Error::Background(_)),
                    "{what}: close: {e}"
                );
            }
            drop(db);
        }
        Ending::PowerLoss => power_cut(&fs, Some(db)),
    }
    let db = Db::open(dir(), options(&fs, policy))
        .unwrap_or_else(|e| panic!("{what}: reopen failed: {e}"));
    let got = contents(&db, &all_keys()).unwrap();
    let prefixes = matching_prefixes(&got, &h.attempted());
    let min = match (ending, policy) {
        (Ending::Reopen, _) | (Ending::PowerLoss, SyncPolicy::Always) => h.acked_count(),
        (Ending::PowerLoss, _) => h.durable,
    };
    assert!(
        prefixes.iter().any(|&n| n >= min),
        "{what}: reopened state is no prefix of the writes at least {min} long \
         (matching {prefixes:?}, {} acknowledged); vs the acknowledged: {}",
        h.acked_count(),
        describe_mismatch(&got, &want)
    );
    // The reopened database works in full.
    db.put(key(150), "after").unwrap();
    db.flush().unwrap();
    db.compact().unwrap();
    assert_eq!(db.get(key(150)).unwrap().as_deref(), Some(&b"after"[..]));
    db.close().unwrap();
    drop(db);
    let report = strata::verify_with_fs(&fs, &dir()).unwrap();
    assert!(report.is_ok(), "{what}: verify: {report}");
}

#[test]
fn an_io_error_on_the_write_path_is_reported_sticky_and_loses_nothing_acknowledged() {
    let mut tally = Tally::default();
    for (name, policy) in policies() {
        for point in POINTS {
            if point == Point::WalSync && policy == SyncPolicy::Never {
                // No WAL is synced before `close` under `Never`; see
                // `under_never_close_syncs_every_unflushed_wal`.
                continue;
            }
            for kind in KINDS {
                for ending in [Ending::Reopen, Ending::PowerLoss] {
                    write_path_case(name, policy, point, kind, ending, &mut tally);
                }
            }
        }
    }
    eprintln!(
        "write path: {} scenarios ({} points x 3 policies x 2 errors x 2 endings, \
         less WAL sync under Never), \
         {} injected faults hit, {} later writes/flushes refused",
        tally.scenarios,
        POINTS.len(),
        tally.failed_calls,
        tally.refused_writes
    );
}

/// Under `SyncPolicy::Never` a rotation does not sync the WAL it retires,
/// so `close` must: every WAL whose memtable is not yet in a table, then
/// the active one. Flushes fail here (no table can be created), so the
/// retired WALs are still live at close; after a power loss every
/// acknowledged write must be there. Without the retired WALs' sync, the
/// oldest writes would be lost and recovery would stop at the gap.
#[test]
fn under_never_close_syncs_every_unflushed_wal() {
    let fs = fresh_fs();
    // 200 writes fill about five 4 KiB memtables: the third rotation waits
    // for a flush, which fails, so the failure is recorded before close.
    let opts = options(&fs, SyncPolicy::Never)
        .memtable_size(4096)
        .max_immutable_memtables(2);
    let db = Db::open(dir(), opts.clone()).unwrap();
    fs.inject(
        Fault::on(FsOp::Create)
            .file(".sst")
            .persistent()
            .error(FaultError::Eio),
    );
    let mut h = History::default();
    for i in 0..200 {
        if h.write(&db, Write::put(key(i), value(i, 0))).is_err() {
            break;
        }
    }
    let logs = fs
        .list(&dir())
        .unwrap()
        .iter()
        .filter(|n| n.ends_with(".log"))
        .count();
    assert!(logs >= 2, "a memtable was rotated out: {logs} WALs");
    assert!(h.acked_count() > 0);
    // The failed flush is close's error; the WALs are synced regardless.
    let closed = db.close();
    assert!(matches!(closed, Err(Error::Background(_))), "{closed:?}");
    power_cut(&fs, Some(db));
    let db = Db::open(dir(), opts).unwrap();
    assert!(
        db.recovery_report().wals_skipped.is_empty(),
        "{:?}",
        db.recovery_report()
    );
    let got = contents(&db, &all_keys()).unwrap();
    assert!(
        got == h.acked(),
        "after close and a power loss: {}",
        describe_mismatch(&got, &h.acked())
    );
}

/// Under `SyncPolicy::Never` the first WAL sync is close's: if it fails,
/// close says so, and what a power loss then leaves is still a prefix of
/// the writes.
#[test]
fn under_never_a_failing_wal_sync_at_close_is_closes_error() {
    for kind in KINDS {
        let fs = fresh_fs();
        let opts = options(&fs, SyncPolicy::Never);
        let db = Db::open(dir(), opts.clone()).unwrap();
        let mut h = History::default();
        load(&db, &mut h);
        // Writes only in the WAL, which nothing has synced yet.
        for i in 100..130 {
            h.write(&db, Write::put(key(i), value(i, 2))).unwrap();
        }
        assert!(h.acked_count() > h.durable);
        fs.inject(Point::WalSync.fault(kind));
        let e = db.close().expect_err("close met no fault");
        assert!(
            names_cause(&e, kind),
            "{}: close failed with {e}",
            kind_name(kind)
        );
        power_cut(&fs, Some(db));
        let db = Db::open(dir(), opts).unwrap();
        let got = contents(&db, &all_keys()).unwrap();
        let prefixes = matching_prefixes(&got, &h.attempted());
        assert!(
            prefixes.iter().any(|&n| n >= h.durable),
            "{}: no prefix of the writes at least {} long: {prefixes:?}",
            kind_name(kind),
            h.durable
        );
        // The failed sync made nothing of the WAL durable.
        assert!(
            !prefixes.contains(&h.acked_count()),
            "{}: the unsynced writes survived the power loss",
            kind_name(kind)
        );
    }
}

// ---------------------------------------------------------------- reads

/// The value a correct read of `k` returns.
fn expect(model: &Model, k: &[u8]) -> Option<Vec<u8>> {
    model.get(k).cloned()
}

#[test]
fn a_read_error_fails_the_read_and_never_returns_wrong_data() {
    let mut faults = 0u64;
    let mut failed_reads = 0u64;
    for kind in KINDS {
        let fs = fresh_fs();
        let db = Db::open(dir(), options(&fs, SyncPolicy::Always)).unwrap();
        let mut h = History::default();
        load(&db, &mut h);
        db.flush().unwrap();
        h.write(&db, Write::put(key(70), value(70, 4))).unwrap();
        let model = h.acked();
        // Keys whose newest version is in L0 above an older one in L1 (an
        // overwrite: 0, 2, 3, 30; a tombstone: 1, 5, 8), keys only in L1
        // (4, 7), only in L0 (61, 65), and one in the memtable (70).
        let keys: Vec<Vec<u8>> = [0, 1, 2, 3, 4, 5, 7, 8, 30, 61, 65, 70].map(key).to_vec();
        fs.trace_ops(true);

        for k in &keys {
            let before = fs.op_count(FsOp::ReadAt);
            assert_eq!(db.get(k).unwrap().map(|v| v.to_vec()), expect(&model, k));
            let reads = fs.op_count(FsOp::ReadAt) - before;
            for n in 0..reads + 1 {
                let start = fs.trace().len();
                fs.inject(Fault::on(FsOp::ReadAt).nth(n).error(kind));
                let got = db.get(k);
                let hit = fs.trace()[start..].iter().any(|t| t.failed);
                fs.clear_faults();
                match got {
                    Ok(v) => {
                        assert!(
                            !hit,
                            "{}: get {} read #{n} failed, yet Ok",
                            kind_name(kind),
                            show(k)
                        );
                        assert_eq!(v.map(|v| v.to_vec()), expect(&model, k), "get {}", show(k));
                    }
                    Err(e) => {
                        assert!(hit, "get {}: {e} without a fault", show(k));
                        assert!(names_cause(&e, kind), "get {}: {e}", show(k));
                        failed_reads += 1;
                    }
                }
                faults += u64::from(hit);
                // The same read works once the fault is gone.
                assert_eq!(db.get(k).unwrap().map(|v| v.to_vec()), expect(&model, k));
            }
        }

        // Scans, forward and backward: items before the error are right,
        // the error is the injected one, and the iterator then ends.
        let full: Vec<(Vec<u8>, Vec<u8>)> = model.clone().into_iter().collect();
        for reverse in [false, true] {
            let before = fs.op_count(FsOp::ReadAt);
            let _ = db.scan::<&[u8], _>(..).count();
            let reads = fs.op_count(FsOp::ReadAt) - before;
            for n in 0..reads {
                let start = fs.trace().len();
                fs.inject(Fault::on(FsOp::ReadAt).nth(n).error(kind));
                let it = db.scan::<&[u8], _>(..);
                let items: Vec<_> = if reverse {
                    it.rev().collect()
                } else {
                    it.collect()
                };
                let hit = fs.trace()[start..].iter().any(|t| t.failed);
                fs.clear_faults();
                let want: Vec<&(Vec<u8>, Vec<u8>)> = if reverse {
                    full.iter().rev().collect()
                } else {
                    full.iter().collect()
                };
                let mut errors = 0;
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Ok((k, v)) => assert_eq!(
                            (&k.to_vec(), &v.to_vec()),
                            (&want[i].0, &want[i].1),
                            "scan (reverse {reverse}) item {i} with read #{n} failing"
                        ),
                        Err(e) => {
                            assert!(names_cause(e, kind), "scan: {e}");
                            assert_eq!(i, items.len() - 1, "the iterator goes on after an error");
                            errors += 1;
                        }
                    }
                }
                assert_eq!(errors > 0, hit, "scan (reverse {reverse}) read #{n}");
                if !hit {
                    assert_eq!(items.len(), full.len());
                }
                failed_reads += errors;
                faults += u64::from(hit);
            }
        }
        // A read error is no reason to refuse writes.
        db.put(key(150), "still writable").unwrap();
        db.close().unwrap();
    }
    eprintln!("reads: {faults} injected read faults hit, {failed_reads} reads failed with them");
}

// ---------------------------------------------------------------- a race

/// A file system that, while armed, holds a compaction thread at its first
/// table creation until released: a compaction is then caught between its
/// pick and its install, holding no lock of the engine.
#[derive(Debug, Default)]
struct GateFs {
    inner: FaultFs,
    armed: AtomicBool,
    state: Mutex<GateState>,
    cv: Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    waiting: bool,
    released: bool,
}

impl GateFs {
    fn wait_until_held(&self) {
        let mut s = self.state.lock().unwrap();
        while !s.waiting {
            let (next, timeout) = self.cv.wait_timeout(s, Duration::from_secs(10)).unwrap();
            assert!(!timeout.timed_out(), "no compaction started");
            s = next;
        }
    }

    fn release(&self) {
        self.state.lock().unwrap().released = true;
        self.cv.notify_all();
    }
}

impl FileSystem for GateFs {
    fn create(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        let compacting = std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with("strata-compact"));
        if compacting && self.armed.swap(false, Ordering::SeqCst) {
            let mut s = self.state.lock().unwrap();
            s.waiting = true;
            self.cv.notify_all();
            // Bounded, so that a failing test cannot hang on it.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !s.released && std::time::Instant::now() < deadline {
                s = self
                    .cv
                    .wait_timeout(s, Duration::from_millis(50))
                    .unwrap()
                    .0;
            }
        }
        self.inner.create(path)
    }
    fn open(&self, path: &Path) -> io::Result<Arc<dyn RandomAccessFile>> {
        self.inner.open(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.inner.rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        self.inner.remove(path)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn exists(&self, path: &Path) -> io::Result<bool> {
        self.inner.exists(path)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.inner.create_dir_all(dir)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.inner.sync_dir(dir)
    }
    fn lock(&self, path: &Path) -> io::Result<Box<dyn LockGuard>> {
        self.inner.lock(path)
    }
}

/// A background compaction is caught between its pick and its install
/// while a flush's manifest switch fails after its rename (CURRENT names
/// the new manifest, the writer still the old one). The compaction then
/// installs: its edit goes to the old manifest and, since that one is over
/// its rewrite size, a new switch follows at once; if that succeeds
/// (`second_switch_fails` false) the compaction is in force, if it fails
/// too, the install fails and the inputs stay. Either way a reopen finds
/// every acknowledged write and no missing table.
fn compaction_after_a_failed_manifest_switch(second_switch_fails: bool) {
    let what = format!("second switch fails: {second_switch_fails}");
    let fs = fresh_fs();
    let gate = Arc::new(GateFs {
        inner: fs.clone(),
        ..GateFs::default()
    });
    let opts = options(&fs, SyncPolicy::Always)
        .file_system(gate.clone())
        .auto_compaction(true)
        .compaction(Leveled::default().l0_trigger(2))
        // Tiny: a flush rewrites the manifest whenever it has doubled.
        .manifest_rewrite_bytes(1);
    let db = Db::open(dir(), opts.clone()).unwrap();
    let mut h = History::default();
    let round = |db: &Db, h: &mut History, version: usize| {
        for i in 0..30 {
            h.write(db, Write::put(key(i), value(i, version))).unwrap();
        }
    };
    round(&db, &mut h, 0);
    db.flush().unwrap();
    // The second flush makes two L0 files: a background compaction merges
    // them, and is held before it writes its output.
    gate.armed.store(true, Ordering::SeqCst);
    round(&db, &mut h, 1);
    db.flush().unwrap();
    gate.wait_until_held();

    // A later flush rewrites the manifest (when it has doubled); the switch
    // fails after its rename (at the last directory sync: a flush syncs the
    // directory for its new WAL, its table, then twice in the switch).
    let mut failed = None;
    for version in 2..8 {
        round(&db, &mut h, version);
        let renames = fs.op_count(FsOp::Rename);
        fs.inject(Fault::on(FsOp::SyncDir).nth(3).error(FaultError::Eio));
        let result = db.flush();
        fs.clear_faults();
        let switched = fs.op_count(FsOp::Rename) > renames;
        assert_eq!(
            result.is_err(),
            switched,
            "{what}: flush {version}: {result:?}"
        );
        if let Err(e) = result {
            failed = Some(e);
            break;
        }
    }
    let e = failed.expect("no flush rewrote the manifest");
    assert!(
        matches!(&e, Error::Background(msg) if msg.contains("manifest rewrite")),
        "{what}: {e}"
    );
    let current = fs.read_all(&dir().join("CURRENT")).unwrap();
    if second_switch_fails {
        fs.inject(
            Fault::on(FsOp::Create)
                .file("MANIFEST")
                .persistent()
                .error(FaultError::NoSpace),
        );
    }

    // The compaction goes on and installs (or fails to).
    gate.release();
    db.close()
        .expect_err("close reports the background failure");
    drop(db);
    fs.clear_faults();
    let compacted = fs.read_all(&dir().join("CURRENT")).unwrap() != current;
    assert_eq!(
        compacted, !second_switch_fails,
        "{what}: the compaction switched the manifest"
    );
    let db = Db::open(dir(), opts).unwrap_or_else(|e| panic!("{what}: reopen: {e}"));
    let got = contents(&db, &all_keys()).unwrap();
    let want = h.acked();
    assert!(got == want, "{what}: {}", describe_mismatch(&got, &want));
    db.close().unwrap();
    drop(db);
    let report = strata::verify_with_fs(&fs, &dir()).unwrap();
    assert!(report.is_ok(), "{what}: {report}");
}

#[test]
fn a_compaction_finishing_after_a_failed_manifest_switch_loses_nothing() {
    compaction_after_a_failed_manifest_switch(false);
    compaction_after_a_failed_manifest_switch(true);
}

// ---------------------------------------------------------------- kinds

/// How the error of a failed write reads: an `Io` error that keeps its
/// kind, whose message names the OS error; never a Corruption.
#[test]
fn injected_errors_surface_as_io_errors_of_their_kind() {
    for kind in KINDS {
        let fs = fresh_fs();
        let db = Db::open(dir(), options(&fs, SyncPolicy::Always)).unwrap();
        db.put("a", "1").unwrap();
        fs.inject(Fault::on(FsOp::Append).file(".log").error(kind));
        let e = db.put("b", "2").unwrap_err();
        let Error::Io(io) = &e else {
            panic!("{}: {e}", kind_name(kind))
        };
        let expected = kind.to_io_error(FsOp::Append);
        assert_eq!(io.kind(), expected.kind());
        if kind == FaultError::NoSpace {
            assert_eq!(io.kind(), io::ErrorKind::StorageFull);
        }
        assert!(e.to_string().contains(&expected.to_string()), "{e}");
        eprintln!("{}: a failed put says: {e}", kind_name(kind));
        let later = db.put("c", "3").unwrap_err();
        eprintln!("{}: the next put says: {later}", kind_name(kind));
        assert!(names_cause(&later, kind), "{later}");
    }
}
