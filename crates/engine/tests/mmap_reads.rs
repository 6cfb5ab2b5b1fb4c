//! `Options::mmap_reads`: tables read through memory maps on a real file
//! system answer exactly as tables read with `pread` do.
//!
//! * Random writes, flushes and compactions against a `BTreeMap` model:
//!   every get and a full scan agree with the model, with and without maps.
//! * An iterator opened before `compact()` keeps reading the tables the
//!   compaction replaced (its version holds their maps) and sees the state
//!   of its moment.
//! * A flipped byte in a table is `Corruption` through a map too: blocks are
//!   checksummed on every mapped read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata::{Db, Error, Options};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn options(mmap: bool) -> Options {
    Options::default()
        .mmap_reads(mmap)
        .memtable_size(16 << 10)
        .block_size(512)
}

fn key(i: u32) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

/// Random puts (most), deletes and flushes over 3,000 keys.
fn load(db: &Db, model: &mut Model, rng: &mut StdRng, ops: usize) {
    for _ in 0..ops {
        let k = key(rng.random_range(0..3_000));
        match rng.random_range(0..100) {
            0..70 => {
                let v = format!("value-{}", rng.random::<u64>()).repeat(rng.random_range(1..4));
                db.put(&k, &v).unwrap();
                model.insert(k, v.into_bytes());
            }
            70..98 => {
                db.delete(&k).unwrap();
                model.remove(&k);
            }
            _ => db.flush().unwrap(),
        }
    }
}

fn scan_all(db: &Db) -> Model {
    db.scan::<&[u8], _>(..)
        .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
        .collect()
}

fn check(db: &Db, model: &Model, what: &str) {
    for i in 0..3_000 {
        let k = key(i);
        assert_eq!(
            db.get(&k).unwrap().map(|v| v.to_vec()),
            model.get(&k).cloned(),
            "{what}: get {}",
            String::from_utf8_lossy(&k)
        );
    }
    assert!(scan_all(db) == *model, "{what}: full scan differs");
}

fn table_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sst"))
        .collect();
    files.sort();
    files
}

#[test]
fn mapped_tables_read_as_the_model_says_through_flushes_and_compactions() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(0x6d6d_6170);
    let mut model = Model::new();
    let db = Db::open(dir.path(), options(true)).unwrap();
    load(&db, &mut model, &mut rng, 6_000);
    db.flush().unwrap();
    assert!(
        table_files(dir.path()).len() > 1,
        "the load must leave several tables"
    );
    check(&db, &model, "after the load");

    // An iterator over the tables about to be compacted away.
    let before = model.clone();
    let mut it = db.scan::<&[u8], _>(..);
    let first = it.next().unwrap().unwrap();
    load(&db, &mut model, &mut rng, 2_000);
    db.compact().unwrap();
    let mut seen: Model = std::iter::once((first.0.to_vec(), first.1.to_vec())).collect();
    seen.extend(it.map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap()));
    assert!(seen == before, "an iterator over deleted mapped tables");
    check(&db, &model, "after compact()");
    db.close().unwrap();
    drop(db);

    // The same directory reads the same with pread and with maps.
    for mmap in [false, true] {
        let db = Db::open(dir.path(), options(mmap)).unwrap();
        check(&db, &model, &format!("reopened, mmap {mmap}"));
    }
}

#[test]
fn a_damaged_block_is_corruption_through_a_map() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options(true)).unwrap();
    let mut model = Model::new();
    for i in 0..400 {
        let v = format!("value-{i}").repeat(4);
        db.put(key(i), &v).unwrap();
        model.insert(key(i), v.into_bytes());
    }
    db.compact().unwrap();
    db.close().unwrap();
    drop(db);

    let tables = table_files(dir.path());
    assert_eq!(tables.len(), 1, "one compacted table");
    // A byte inside the first data block (which holds the first keys).
    let mut bytes = std::fs::read(&tables[0]).unwrap();
    bytes[40] ^= 0x20;
    std::fs::write(&tables[0], &bytes).unwrap();

    let db = Db::open(dir.path(), options(true)).unwrap();
    let mut corrupt = 0;
    for (k, v) in &model {
        match db.get(k) {
            Ok(got) => assert_eq!(got.as_deref(), Some(&v[..]), "a wrong value"),
            Err(Error::Corruption { file, offset, .. }) => {
                assert_eq!(file, tables[0]);
                assert_eq!(offset, 0, "the damaged block is the first");
                corrupt += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(corrupt > 0, "the damaged block's keys must read as corrupt");
    assert!(corrupt < model.len(), "other blocks still read");
}
