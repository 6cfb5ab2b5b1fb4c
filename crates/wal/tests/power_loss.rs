//! On the fault-injecting file system: synced records survive a power loss,
//! a torn append loses only the record being written, and no garbage record
//! ever appears.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use strata_core::{FileSystem, FsOp};
use strata_wal::{LogWriter, RecoveryMode, SyncPolicy, Wal};

use common::{Rng, fault_fs, read_path, record};

#[test]
fn synced_records_survive_power_loss_and_unsynced_vanish_cleanly() {
    let (fs, path) = fault_fs();
    let mut w = LogWriter::new(fs.create(&path).unwrap());
    fs.sync_dir(Path::new("/db")).unwrap();
    let mut rng = Rng(42);
    let mut written = Vec::new();
    let mut synced = 0;
    for i in 0..300 {
        let r = record(i, rng.below(5000) as usize);
        w.add_record(&r).unwrap();
        written.push(r);
        if rng.below(10) == 0 && i < 290 {
            w.sync().unwrap();
            synced = written.len();
        }
    }
    assert!(synced > 0 && synced < written.len());
    fs.power_loss();

    for mode in [RecoveryMode::TolerateTornTail, RecoveryMode::Strict] {
        let (got, result, report) = read_path(&fs, &path, mode);
        result.unwrap();
        assert_eq!(got, written[..synced]);
        assert_eq!(report.bytes_dropped(), 0);
    }
}

/// Power loss at every point of a sequence of records (synced after each
/// third): the log always reads back as exactly the synced prefix or more of
/// the written records, never anything else.
#[test]
fn power_loss_after_every_append_keeps_a_clean_prefix() {
    for stop in 0..40u64 {
        let (fs, path) = fault_fs();
        let mut w = LogWriter::new(fs.create(&path).unwrap());
        fs.sync_dir(Path::new("/db")).unwrap();
        let mut written = Vec::new();
        let mut synced = 0;
        for i in 0..stop {
            written.push(record(i, (i as usize * 2711) % 45_000));
            w.add_record(written.last().unwrap()).unwrap();
            if i % 3 == 2 {
                w.sync().unwrap();
                synced = written.len();
            }
        }
        fs.power_loss();
        let (got, result, _) = read_path(&fs, &path, RecoveryMode::TolerateTornTail);
        result.unwrap();
        assert!(got.len() >= synced, "stop {stop}: lost a synced record");
        assert_eq!(got, written[..got.len()], "stop {stop}");
    }
}

#[test]
fn torn_append_loses_only_the_record_being_written() {
    let big = record(99, 80_000);
    for keep in [0, 1, 6, 7, 8, 100, 32_767, 32_768, 32_780, 70_000, 79_999] {
        let (fs, path) = fault_fs();
        let mut w = LogWriter::new(fs.create(&path).unwrap());
        let before = vec![record(1, 10), record(2, 30_000)];
        for r in &before {
            w.add_record(r).unwrap();
        }
        let valid_len = w.len();
        fs.tear_nth_append(0, keep);
        assert!(w.add_record(&big).is_err());
        assert!(w.has_failed());
        // The writer refuses to frame more records against a torn file.
        let appends = fs.op_count(FsOp::Append);
        assert!(w.add_record(b"after").is_err());
        assert!(w.sync().is_err());
        assert_eq!(fs.op_count(FsOp::Append), appends);
        fs.crash();

        let (got, result, report) = read_path(&fs, &path, RecoveryMode::TolerateTornTail);
        result.unwrap();
        assert_eq!(got, before, "keep {keep}");
        assert_eq!(report.valid_len, valid_len);
        if keep == 0 {
            assert!(report.dropped.is_none());
        } else {
            let d = report.dropped.unwrap();
            assert_eq!(d.bytes, keep as u64, "keep {keep}");
            assert!(d.is_torn_tail());
        }
        let (got, result, _) = read_path(&fs, &path, RecoveryMode::Strict);
        assert_eq!(got, before);
        assert_eq!(result.is_err(), keep > 0);
    }
}

#[test]
fn wal_with_always_policy_keeps_every_acknowledged_record() {
    let (fs, path) = fault_fs();
    let wal = Wal::new(
        LogWriter::new(fs.create(&path).unwrap()),
        SyncPolicy::Always,
    );
    fs.sync_dir(Path::new("/db")).unwrap();
    let records: Vec<_> = (0..50)
        .map(|i| record(i, (i as usize * 997) % 40_000))
        .collect();
    for r in &records {
        wal.append(r).unwrap();
    }
    fs.power_loss();
    let (got, result, _) = read_path(&fs, &path, RecoveryMode::Strict);
    result.unwrap();
    assert_eq!(got, records);
}

#[test]
fn never_and_interval_policies_lose_unsynced_records_only() {
    for policy in [
        SyncPolicy::Never,
        SyncPolicy::Interval(std::time::Duration::from_secs(3600)),
    ] {
        let (fs, path) = fault_fs();
        let wal = Wal::new(LogWriter::new(fs.create(&path).unwrap()), policy);
        fs.sync_dir(Path::new("/db")).unwrap();
        wal.append(b"one").unwrap();
        wal.sync().unwrap();
        wal.append(b"two").unwrap();
        assert_eq!(wal.stats().syncs, 1, "{policy:?}: only the explicit sync");
        // A killed process keeps both (they reached the OS) ...
        fs.crash();
        let (got, _, _) = read_path(&fs, &path, RecoveryMode::Strict);
        assert_eq!(got, vec![b"one".to_vec(), b"two".to_vec()]);
        // ... a power loss keeps the synced one.
        fs.power_loss();
        let (got, _, _) = read_path(&fs, &path, RecoveryMode::Strict);
        assert_eq!(got, vec![b"one".to_vec()]);
    }
}

#[test]
fn interval_policy_syncs_on_the_append_path_once_due() {
    let (fs, path) = fault_fs();
    let wal = Wal::new(
        LogWriter::new(fs.create(&path).unwrap()),
        SyncPolicy::Interval(std::time::Duration::ZERO),
    );
    for i in 0..5 {
        wal.append(&record(i, 10)).unwrap();
    }
    assert_eq!(wal.stats().syncs, 5);
    assert_eq!(fs.op_count(FsOp::Sync), 5);
}

#[test]
fn sync_if_due_syncs_an_idle_interval_log_once_the_interval_elapsed() {
    let interval = Duration::from_millis(100);
    let (fs, path) = fault_fs();
    let wal = Wal::new(
        LogWriter::new(fs.create(&path).unwrap()),
        SyncPolicy::Interval(interval),
    );
    fs.sync_dir(Path::new("/db")).unwrap();
    wal.sync().unwrap();
    wal.append(b"burst").unwrap();
    // Unless this machine stalled for a whole interval, the append did not sync.
    let synced_on_append = wal.stats().syncs == 2;
    std::thread::sleep(interval + Duration::from_millis(20));

    // The timer's call syncs the burst's tail: it survives a power loss.
    assert_eq!(wal.sync_if_due().unwrap(), !synced_on_append);
    assert_eq!(wal.stats().syncs, 2);
    fs.power_loss();
    let (got, result, _) = read_path(&fs, &path, RecoveryMode::Strict);
    result.unwrap();
    assert_eq!(got, vec![b"burst".to_vec()]);

    // An idle log is not synced again, however often the timer fires.
    std::thread::sleep(interval + Duration::from_millis(20));
    let syncs = fs.op_count(FsOp::Sync);
    for _ in 0..3 {
        assert!(!wal.sync_if_due().unwrap());
    }
    assert_eq!(fs.op_count(FsOp::Sync), syncs);
    assert_eq!(wal.stats().syncs, 2);
}

#[test]
fn sync_if_due_waits_for_the_interval_and_ignores_other_policies() {
    let (fs, path) = fault_fs();
    let hourly = Wal::new(
        LogWriter::new(fs.create(&path).unwrap()),
        SyncPolicy::Interval(Duration::from_secs(3600)),
    );
    hourly.append(b"x").unwrap();
    assert!(
        !hourly.sync_if_due().unwrap(),
        "the interval has not elapsed"
    );
    assert_eq!(hourly.stats().syncs, 0);

    // A zero interval is always due, but only while bytes are unsynced.
    let (fs, path) = fault_fs();
    let eager = Wal::new(
        LogWriter::new(fs.create(&path).unwrap()),
        SyncPolicy::Interval(Duration::ZERO),
    );
    assert!(
        !eager.sync_if_due().unwrap(),
        "a new, empty log has nothing to sync"
    );
    eager.append(b"x").unwrap();
    assert_eq!(eager.stats().syncs, 1, "the append path synced");
    assert!(!eager.sync_if_due().unwrap());
    assert_eq!(fs.op_count(FsOp::Sync), 1);

    for policy in [SyncPolicy::Always, SyncPolicy::Never] {
        let (fs, path) = fault_fs();
        let wal = Wal::new(LogWriter::new(fs.create(&path).unwrap()), policy);
        wal.append(b"x").unwrap();
        let syncs = wal.stats().syncs;
        assert!(!wal.sync_if_due().unwrap(), "{policy:?}");
        assert_eq!(wal.stats().syncs, syncs, "{policy:?}");
    }
}

#[test]
fn sync_if_due_treats_a_reopened_nonempty_log_as_unsynced() {
    let (fs, path) = fault_fs();
    let mut w = LogWriter::new(fs.create(&path).unwrap());
    w.add_record(b"before").unwrap();
    let wal = Wal::new(w, SyncPolicy::Interval(Duration::ZERO));
    assert!(wal.sync_if_due().unwrap());
    assert!(!wal.sync_if_due().unwrap());
}

#[test]
fn failed_sync_if_due_poisons_the_log() {
    let (fs, path) = fault_fs();
    let mut w = LogWriter::new(fs.create(&path).unwrap());
    w.add_record(b"before").unwrap();
    let wal = Wal::new(w, SyncPolicy::Interval(Duration::ZERO));
    fs.fail_nth(FsOp::Sync, 0);
    assert!(wal.sync_if_due().is_err());
    assert!(wal.has_failed());
    assert!(wal.append(b"after").is_err());
    assert!(wal.sync_if_due().is_err());
}
