//! Power loss with several unsynced WALs live, under `SyncPolicy::Never`.
//!
//! A memtable rotation under `Never` does not sync the WAL it retires, so
//! writeback may have reached a later WAL and not an earlier one when the
//! power goes. Each run here writes small batches into a tiny memtable
//! (many rotations) while flushes are slowed down (so several retired WALs
//! are live at once), freezes the disk after a seed-chosen number of
//! writes, and cuts the power with `FaultFs::power_loss_with_writeback`: each file keeps its
//! synced bytes and a seed-chosen prefix of the rest. The reopened database
//! must then hold exactly the model after some prefix of the writes: a
//! later WAL's writes are never replayed across a hole left by an earlier
//! one. It must take writes again, and `verify` must find no problem.
//!
//! The runs must also meet the case they exist for: some reopen skips a
//! WAL that kept writes after an earlier WAL lost some.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use strata::{Db, Options, SyncPolicy};
use strata_core::fs::LockGuard;
use strata_core::{FaultFs, FileSystem, RandomAccessFile, WritableFile};

use common::faults::{Write, contents, describe_mismatch, dir, matching_prefixes, model_after};

/// The simulated disk, with every table creation delayed: flushes fall
/// behind the writes, so retired WALs stay live.
#[derive(Debug, Clone)]
struct SlowFlushes(FaultFs);

impl FileSystem for SlowFlushes {
    fn create(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        if path.extension().is_some_and(|e| e == "sst") {
            std::thread::sleep(Duration::from_millis(3));
        }
        self.0.create(path)
    }
    fn open(&self, path: &Path) -> io::Result<Arc<dyn RandomAccessFile>> {
        self.0.open(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.0.rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        self.0.remove(path)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.0.list(dir)
    }
    fn exists(&self, path: &Path) -> io::Result<bool> {
        self.0.exists(path)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.0.create_dir_all(dir)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.0.sync_dir(dir)
    }
    fn lock(&self, path: &Path) -> io::Result<Box<dyn LockGuard>> {
        self.0.lock(path)
    }
}

fn options(fs: &FaultFs) -> Options {
    Options::default()
        .file_system(Arc::new(SlowFlushes(fs.clone())))
        .sync_policy(SyncPolicy::Never)
        .memtable_size(4096)
        .max_immutable_memtables(6)
        .auto_compaction(false)
}

fn key(i: u64) -> Vec<u8> {
    format!("key-{:03}", i % 97).into_bytes()
}

/// Write `i`: a put, a delete or a batch of three, over 97 keys.
fn write(i: u64) -> Write {
    let value = |n: u64| format!("v{i}-{n}-{}", "x".repeat(40 + (i % 50) as usize)).into_bytes();
    match i % 7 {
        3 => Write::delete(key(i * 5)),
        5 => Write::Batch(vec![
            (key(i), Some(value(0))),
            (key(i * 3), None),
            (key(i * 11), Some(value(2))),
        ]),
        _ => Write::put(key(i * 13), value(0)),
    }
}

#[test]
fn a_power_loss_never_replays_a_later_wal_across_a_hole_in_an_earlier_one() {
    let keys: BTreeSet<Vec<u8>> = (0..97).map(key).collect();
    let (mut skipped_runs, mut replayed_runs) = (0, 0);
    for seed in 0..40u64 {
        let fs = FaultFs::new();
        fs.create_dir_all(&dir()).unwrap();
        let db = Db::open(dir(), options(&fs)).unwrap();
        let writes: Vec<Write> = (0..150 + seed * 7).map(write).collect();
        for w in &writes {
            w.run(&db).unwrap();
        }
        fs.halt();
        fs.power_loss_with_writeback(seed);
        drop(db);
        fs.restart();

        let db = Db::open(dir(), options(&fs))
            .unwrap_or_else(|e| panic!("seed {seed}: reopen failed: {e}"));
        let report = db.recovery_report().clone();
        let got = contents(&db, &keys).unwrap();
        let prefixes = matching_prefixes(&got, &writes);
        assert!(
            !prefixes.is_empty(),
            "seed {seed}: the state after the power loss is no prefix of the writes \
             (a hole in history); vs all writes: {}; {report:?}",
            describe_mismatch(&got, &model_after(&writes))
        );
        if report.wals_skipped.is_empty() {
            replayed_runs += 1;
        } else {
            skipped_runs += 1;
        }
        db.put("after", "the power loss").unwrap();
        db.flush().unwrap();
        assert_eq!(
            db.get("after").unwrap().as_deref(),
            Some(&b"the power loss"[..])
        );
        db.close().unwrap();
        drop(db);
        let verified = strata::verify_with_fs(&fs, &dir()).unwrap();
        assert!(verified.is_ok(), "seed {seed}: {verified}");
    }
    eprintln!("{skipped_runs} runs skipped WALs after a hole, {replayed_runs} did not need to");
    assert!(
        skipped_runs > 0,
        "no run met a later WAL that outlived an earlier one's lost writes"
    );
}

/// The same workload with a process crash instead (the OS keeps every byte
/// written): nothing is lost and no WAL is skipped, however many are live.
#[test]
fn a_crash_with_many_unsynced_wals_live_loses_nothing() {
    let keys: BTreeSet<Vec<u8>> = (0..97).map(key).collect();
    for seed in 0..10u64 {
        let fs = FaultFs::new();
        fs.create_dir_all(&dir()).unwrap();
        let db = Db::open(dir(), options(&fs)).unwrap();
        let writes: Vec<Write> = (0..150 + seed * 17).map(write).collect();
        for w in &writes {
            w.run(&db).unwrap();
        }
        fs.halt();
        fs.crash();
        drop(db);
        fs.restart();
        let db = Db::open(dir(), options(&fs)).unwrap();
        let report = db.recovery_report();
        assert!(report.wals_skipped.is_empty(), "seed {seed}: {report:?}");
        assert!(report.wal_files_replayed >= 1, "seed {seed}: {report:?}");
        let got = contents(&db, &keys).unwrap();
        let want = model_after(&writes);
        assert!(
            got == want,
            "seed {seed}: {}",
            describe_mismatch(&got, &want)
        );
    }
}
