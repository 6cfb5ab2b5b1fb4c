//! WALs under a syncing policy are preallocated on a real file system, and
//! a crash image of such a database (its files copied while it is open,
//! every write synced) recovers every write with no dropped tail reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use strata::{Db, Options, SyncPolicy};

const MEMTABLE: usize = 1 << 20;

fn wal_sizes(dir: &Path) -> Vec<u64> {
    let mut sizes: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    sizes.sort();
    sizes.into_iter().map(|(_, len)| len).collect()
}

fn options(policy: SyncPolicy) -> Options {
    // No background work while the files are copied.
    Options::default()
        .sync_policy(policy)
        .memtable_size(MEMTABLE)
        .auto_compaction(false)
}

fn write(db: &Db, n: usize) -> BTreeMap<String, String> {
    let mut model = BTreeMap::new();
    for i in 0..n {
        let (k, v) = (format!("key{i:05}"), format!("value {i}"));
        db.put(&k, &v).unwrap();
        model.insert(k, v);
    }
    model
}

#[test]
fn a_crash_image_of_preallocated_wals_recovers_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options(SyncPolicy::Always)).unwrap();
    let model = write(&db, 3000);
    // One live WAL, preallocated to the memtable budget, its records at
    // the front and zeros after them.
    assert_eq!(wal_sizes(dir.path()), vec![MEMTABLE as u64]);

    let image = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "LOCK" {
            std::fs::copy(entry.path(), image.path().join(entry.file_name())).unwrap();
        }
    }
    for mode in [
        strata::RecoveryMode::TolerateTornTail,
        strata::RecoveryMode::Strict,
    ] {
        let run = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(image.path()).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), run.path().join(entry.file_name())).unwrap();
        }
        let copy = Db::open(run.path(), options(SyncPolicy::Always).recovery_mode(mode)).unwrap();
        let report = copy.recovery_report();
        assert_eq!(report.wal_files_replayed, 1, "{mode:?}");
        assert!(report.wal_tails_dropped.is_empty(), "{mode:?}: {report:?}");
        for (k, v) in &model {
            assert_eq!(copy.get(k).unwrap().as_deref(), Some(v.as_bytes()));
        }
        assert_eq!(copy.scan::<&str, _>(..).count(), model.len());
    }
    db.close().unwrap();
}

#[test]
fn a_database_that_never_syncs_does_not_preallocate() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options(SyncPolicy::Never)).unwrap();
    write(&db, 10);
    let sizes = wal_sizes(dir.path());
    assert_eq!(sizes.len(), 1);
    assert!(sizes[0] > 0 && sizes[0] < 4096, "{sizes:?}");
    db.close().unwrap();
}

#[test]
fn a_first_open_cut_short_leaves_no_wal_that_looks_like_data() {
    // A preallocated WAL of zeros (as a first open that stopped before
    // CURRENT would leave, had it preallocated) is not data.
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("000001.log");
    std::fs::File::create(&wal)
        .unwrap()
        .set_len(MEMTABLE as u64)
        .unwrap();
    let db = Db::open(dir.path(), options(SyncPolicy::Always)).unwrap();
    assert!(db.recovery_report().created);
    db.close().unwrap();
}
