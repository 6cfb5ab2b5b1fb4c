//! Seek compaction: reads that keep looking past L0 tables get them merged
//! into L1 although L0 is below its file-count trigger, and nothing a reader
//! can see changes on the way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use strata::{Db, Options};

fn key(i: usize) -> String {
    format!("key{i:05}")
}

/// Two flushed L0 tables over the same 200 keys (the second overwrites
/// every other key) and an empty memtable; returns what a reader must see.
fn two_l0_tables(db: &Db) -> BTreeMap<String, String> {
    let mut model = BTreeMap::new();
    for round in 0..2 {
        for i in (0..200).filter(|i| round == 0 || i % 2 == 0) {
            let v = format!("v{round}-{i}");
            db.put(key(i), &v).unwrap();
            model.insert(key(i), v);
        }
        db.flush().unwrap();
    }
    assert_eq!(db.stats().levels[0].files, 2);
    model
}

fn seek_compactions(db: &Db) -> u64 {
    db.stats().compactions.get("seeks").copied().unwrap_or(0)
}

/// Waits up to 20 s for a seek compaction to have emptied L0.
fn wait_for_seek_compaction(db: &Db) {
    let start = Instant::now();
    while seek_compactions(db) == 0 || db.stats().levels[0].files != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no seek compaction: {:?}",
            db.stats()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Gives the compaction threads time to act, then checks they did not.
fn assert_l0_left_alone(db: &Db) {
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(seek_compactions(db), 0);
    assert_eq!(db.stats().levels[0].files, 2);
}

fn check(db: &Db, model: &BTreeMap<String, String>) {
    let got: BTreeMap<String, String> = db
        .scan::<&str, _>(..)
        .map(|kv| {
            let (k, v) = kv.unwrap();
            (
                String::from_utf8(k.to_vec()).unwrap(),
                String::from_utf8(v.to_vec()).unwrap(),
            )
        })
        .collect();
    assert_eq!(&got, model);
    for (k, v) in model {
        assert_eq!(db.get(k).unwrap().as_deref(), Some(v.as_bytes()));
    }
}

#[test]
fn scans_that_merge_l0_tables_get_them_compacted_below_the_trigger() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let model = two_l0_tables(&db);
    // Small tables allow 100 seeks; each scan charges the newest table one.
    for i in 0..150 {
        let first = db.scan(key(i)..).next().unwrap().unwrap();
        assert_eq!(first.0, key(i).as_bytes());
    }
    wait_for_seek_compaction(&db);
    assert_eq!(db.stats().levels[1].files, 1);
    check(&db, &model);
}

#[test]
fn lookups_that_read_an_l0_table_in_vain_get_it_compacted() {
    let dir = tempfile::tempdir().unwrap();
    // No filters: a lookup of a key the newer table lacks reads its block.
    let db = Db::open(dir.path(), Options::default().bloom_bits_per_key(0)).unwrap();
    let model = two_l0_tables(&db);
    for round in 0..2 {
        for i in (1..200).step_by(2) {
            assert_eq!(
                db.get(key(i)).unwrap().as_deref(),
                Some(format!("v0-{i}").as_bytes()),
                "round {round}"
            );
        }
    }
    wait_for_seek_compaction(&db);
    check(&db, &model);
}

#[test]
fn reads_that_find_their_key_in_the_first_table_charge_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default().bloom_bits_per_key(0)).unwrap();
    let model = two_l0_tables(&db);
    for _ in 0..3 {
        for i in (0..200).step_by(2) {
            assert!(db.get(key(i)).unwrap().is_some());
        }
    }
    assert_l0_left_alone(&db);
    check(&db, &model);
}

#[test]
fn scans_over_tables_that_do_not_overlap_charge_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    // Sequential keys: two L0 tables side by side, [0, 100) and [100, 200).
    let mut model = BTreeMap::new();
    for part in 0..2 {
        for i in part * 100..(part + 1) * 100 {
            db.put(key(i), "v").unwrap();
            model.insert(key(i), "v".to_owned());
        }
        db.flush().unwrap();
    }
    assert_eq!(db.stats().levels[0].files, 2);
    for i in 0..300 {
        // Whole scans and seeks both span the two tables; neither table
        // holds keys where the other does.
        assert_eq!(db.scan::<&str, _>(..).count(), 200);
        db.scan(key(i % 200)..).next().unwrap().unwrap();
    }
    assert_l0_left_alone(&db);
    check(&db, &model);
}

#[test]
fn with_seek_compaction_off_reads_leave_l0_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default().seek_compaction(false)).unwrap();
    let model = two_l0_tables(&db);
    for i in 0..300 {
        db.scan(key(i % 200)..).next().unwrap().unwrap();
    }
    assert_l0_left_alone(&db);
    check(&db, &model);
}

#[test]
fn reopening_starts_every_table_with_its_full_allowance() {
    let dir = tempfile::tempdir().unwrap();
    let model = {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let model = two_l0_tables(&db);
        // 90 of the 100 seeks the newest table allows.
        for i in 0..90 {
            db.scan(key(i)..).next().unwrap().unwrap();
        }
        db.close().unwrap();
        model
    };
    let db = Db::open(dir.path(), Options::default()).unwrap();
    for i in 0..90 {
        db.scan(key(i)..).next().unwrap().unwrap();
    }
    assert_l0_left_alone(&db);
    for i in 90..120 {
        db.scan(key(i)..).next().unwrap().unwrap();
    }
    wait_for_seek_compaction(&db);
    check(&db, &model);
}
