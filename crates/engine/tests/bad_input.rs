//! What the database does with bad input from callers and damaged files on
//! disk: it refuses clearly and never returns wrong data or panics.
//!
//! * Keys and values over the configured limits are `InvalidArgument`, and
//!   nothing of the write (nor of the rest of its batch) is stored.
//! * Foreign files in the data directory are left alone; a garbage `CURRENT`
//!   is `Corruption`; strata files without `CURRENT` are refused and not
//!   deleted; a missing directory or an existing database with the
//!   corresponding options is `InvalidArgument`.
//! * A damaged table block or footer makes reads that touch it fail with
//!   `Corruption` naming the file, while other tables and blocks stay
//!   readable; flipping any single byte of a table never yields a wrong value.
//! * A damaged manifest record before the last is `Corruption` (nothing is
//!   deleted); a torn last record is dropped and reported when it is a
//!   crash's torn write, and `Corruption` when the files the edits before it
//!   need are gone (it was synced, so dropping it would lose data).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata::manifest::CURRENT_FILE_NAME;
use strata::{Bytes, Db, Error, Options, WriteBatch};
use strata_core::{FaultFs, FileSystem, FsOp, MAX_KEY_SIZE};

fn fresh_fs() -> (FaultFs, PathBuf) {
    let fs = FaultFs::new();
    let dir = PathBuf::from("/db");
    fs.create_dir_all(&dir).unwrap();
    (fs, dir)
}

fn options(fs: &FaultFs) -> Options {
    Options::default().file_system(Arc::new(fs.clone()))
}

/// Replaces `path` with `bytes` (synced, durable).
fn overwrite(fs: &FaultFs, path: &Path, bytes: &[u8]) {
    let mut f = fs.create(path).unwrap();
    f.append(bytes).unwrap();
    f.sync().unwrap();
    fs.sync_dir(path.parent().unwrap()).unwrap();
}

/// The directory's files with their contents.
fn snapshot_dir(fs: &FaultFs, dir: &Path) -> Vec<(String, Vec<u8>)> {
    fs.list(dir)
        .unwrap()
        .into_iter()
        .filter_map(|name| {
            let bytes = fs.read_all(&dir.join(&name)).ok()?;
            Some((name, bytes))
        })
        .collect()
}

fn files_ending(fs: &FaultFs, dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs
        .list(dir)
        .unwrap()
        .into_iter()
        .filter(|n| n.ends_with(suffix))
        .map(|n| dir.join(n))
        .collect();
    paths.sort();
    paths
}

fn value(db: &Db, key: &str) -> Option<Bytes> {
    db.get(key).unwrap()
}

fn is_invalid_argument<T: std::fmt::Debug>(r: strata::Result<T>) -> bool {
    matches!(r, Err(Error::InvalidArgument(_)))
}

#[test]
fn oversized_keys_and_values_are_refused_and_nothing_is_written() {
    let (fs, dir) = fresh_fs();
    let opts = options(&fs).max_key_size(16).max_value_size(64);
    let db = Db::open(&dir, opts.clone()).unwrap();
    let wal = files_ending(&fs, &dir, ".log").pop().unwrap();
    let big_key = [b'k'; 17];
    let big_value = [b'v'; 65];

    assert!(is_invalid_argument(db.put(big_key, "v")));
    assert!(is_invalid_argument(db.put("k", big_value)));
    assert!(is_invalid_argument(db.put_with_ttl(
        "k",
        big_value,
        std::time::Duration::from_secs(60)
    )));
    assert!(is_invalid_argument(db.delete(big_key)));
    // One oversized op rejects the whole batch.
    let mut batch = WriteBatch::new();
    batch.put(b"a", b"fine").unwrap();
    batch.put(b"b", &big_value).unwrap();
    batch.delete(b"c").unwrap();
    assert!(is_invalid_argument(db.write(batch)));
    let mut batch = WriteBatch::new();
    batch.put(b"a", b"fine").unwrap();
    batch.delete(&big_key).unwrap();
    assert!(is_invalid_argument(db.write(batch)));
    // The global key limit holds whatever the options say.
    assert!(is_invalid_argument(
        Db::open("/elsewhere", options(&fs).max_key_size(MAX_KEY_SIZE + 1)).map(|_| ())
    ));
    let mut huge = WriteBatch::new();
    assert!(is_invalid_argument(
        huge.put(&vec![0; MAX_KEY_SIZE + 1], b"v")
    ));

    assert_eq!(
        fs.file_len(&wal),
        Some(0),
        "a refused write reached the WAL"
    );
    assert_eq!(value(&db, "a"), None);
    assert_eq!(db.scan::<&[u8], _>(..).count(), 0);
    assert_eq!(db.stats().last_seqno, 0);

    // Exactly at the limits is fine.
    db.put([b'k'; 16], [b'v'; 64]).unwrap();
    fs.halt();
    fs.crash();
    drop(db);
    fs.restart();
    let db = Db::open(&dir, opts).unwrap();
    assert_eq!(db.recovery_report().records_replayed, 1);
    let all: Vec<_> = db.scan::<&[u8], _>(..).map(|kv| kv.unwrap()).collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0.as_ref(), &[b'k'; 16]);
}

#[test]
fn foreign_files_in_the_directory_are_left_alone() {
    let (fs, dir) = fresh_fs();
    let foreign = [
        "notes.txt",
        "7.sst",
        "0000007.sst",
        "00000a.log",
        "000001.txt",
        "backup.log",
        "MANIFEST-abc",
        "MANIFEST-7",
        "CURRENT.bak",
    ];
    for (i, name) in foreign.iter().enumerate() {
        overwrite(&fs, &dir.join(name), format!("foreign file {i}").as_bytes());
    }
    fs.create_dir_all(&dir.join("sub")).unwrap();
    overwrite(&fs, &dir.join("sub/000005.sst"), b"not ours either");

    let db = Db::open(&dir, options(&fs).memtable_size(4096)).unwrap();
    assert!(db.recovery_report().created);
    for i in 0..200 {
        db.put(format!("key-{i:03}"), [b'x'; 40]).unwrap();
    }
    db.flush().unwrap();
    db.close().unwrap();
    let db = Db::open(&dir, options(&fs)).unwrap();
    let removed = &db.recovery_report().leftovers_removed;
    assert!(
        foreign.iter().all(|n| !removed.contains(&dir.join(n))),
        "{removed:?}"
    );
    assert_eq!(db.scan::<&[u8], _>(..).count(), 200);
    drop(db);
    for (i, name) in foreign.iter().enumerate() {
        assert_eq!(
            fs.read_all(&dir.join(name)).unwrap(),
            format!("foreign file {i}").as_bytes(),
            "{name}"
        );
    }
    assert_eq!(
        fs.read_all(&dir.join("sub/000005.sst")).unwrap(),
        b"not ours either"
    );
}

/// A closed database with a few keys, some in a table and some only in the WAL.
fn small_db() -> (FaultFs, PathBuf) {
    let (fs, dir) = fresh_fs();
    let db = Db::open(&dir, options(&fs)).unwrap();
    db.put("in-table", "1").unwrap();
    db.flush().unwrap();
    db.put("in-wal", "2").unwrap();
    db.close().unwrap();
    (fs, dir)
}

#[test]
fn a_garbage_current_is_corruption_and_nothing_is_deleted() {
    let name = "MANIFEST-000777\n".to_string();
    for garbage in [
        &b"garbage"[..],
        b"",
        b"MANIFEST-000001",
        b"MANIFEST-1\n",
        b"\xff\xfe\n",
        name.as_bytes(),
    ] {
        let (fs, dir) = small_db();
        let current = dir.join(CURRENT_FILE_NAME);
        overwrite(&fs, &current, garbage);
        let before = snapshot_dir(&fs, &dir);
        match Db::open(&dir, options(&fs)) {
            Err(Error::Corruption { file, .. }) => assert_eq!(file, current, "{garbage:?}"),
            Err(e) => panic!("{garbage:?}: expected Corruption, got {e}"),
            Ok(_) => panic!("{garbage:?}: opened"),
        }
        assert_eq!(snapshot_dir(&fs, &dir), before, "{garbage:?}");
    }
}

#[test]
fn strata_files_without_current_are_refused_and_kept() {
    let (fs, dir) = small_db();
    fs.remove(&dir.join(CURRENT_FILE_NAME)).unwrap();
    let before = snapshot_dir(&fs, &dir);
    assert!(before.iter().any(|(n, _)| n.ends_with(".sst")));
    assert!(before.iter().any(|(n, _)| n.ends_with(".log")));
    match Db::open(&dir, options(&fs)) {
        Err(Error::Corruption { .. }) => {}
        Err(e) => panic!("expected Corruption, got {e}"),
        Ok(_) => panic!("created a database over an existing one's files"),
    }
    assert_eq!(snapshot_dir(&fs, &dir), before);
    assert!(is_invalid_argument(
        Db::open(&dir, options(&fs).create_if_missing(false)).map(|_| ())
    ));
    assert_eq!(snapshot_dir(&fs, &dir), before);
}

#[test]
fn missing_directory_and_existing_database_follow_the_options() {
    let (fs, _) = fresh_fs();
    let missing = Path::new("/nowhere/db");
    assert!(is_invalid_argument(
        Db::open(missing, options(&fs).create_if_missing(false)).map(|_| ())
    ));
    assert!(!fs.exists(missing).unwrap(), "the refused open created it");

    let (fs, dir) = small_db();
    let before = snapshot_dir(&fs, &dir);
    assert!(is_invalid_argument(
        Db::open(&dir, options(&fs).error_if_exists(true)).map(|_| ())
    ));
    assert_eq!(snapshot_dir(&fs, &dir), before);
    // The database is intact and error_if_exists is fine on a new one.
    let db = Db::open(&dir, options(&fs).create_if_missing(false)).unwrap();
    assert_eq!(value(&db, "in-table").as_deref(), Some(&b"1"[..]));
    assert_eq!(value(&db, "in-wal").as_deref(), Some(&b"2"[..]));
    Db::open("/fresh", options(&fs).error_if_exists(true)).unwrap();
}

fn table_key(prefix: char, i: usize) -> String {
    format!("{prefix}-{i:03}")
}

fn table_value(prefix: char, i: usize) -> Vec<u8> {
    format!("value of {prefix}-{i:03} padded to forty bytes....").into_bytes()
}

/// Two tables of 40 keys each (`a-*` in the first, `b-*` in the second) in
/// blocks of about 256 bytes; the database is closed. Returns the paths of
/// the two tables.
fn two_tables() -> (FaultFs, PathBuf, PathBuf, PathBuf) {
    let (fs, dir) = fresh_fs();
    let db = Db::open(&dir, options(&fs).block_size(256)).unwrap();
    for prefix in ['a', 'b'] {
        for i in 0..40 {
            db.put(table_key(prefix, i), table_value(prefix, i))
                .unwrap();
        }
        db.flush().unwrap();
    }
    db.close().unwrap();
    let tables = files_ending(&fs, &dir, ".sst");
    assert_eq!(tables.len(), 2);
    (fs, dir, tables[0].clone(), tables[1].clone())
}

fn assert_corruption_in(r: strata::Result<Option<Bytes>>, table: &Path, what: &str) {
    match r {
        Err(Error::Corruption { file, .. }) => assert_eq!(file, table, "{what}"),
        Err(e) => panic!("{what}: expected Corruption, got {e}"),
        Ok(v) => panic!("{what}: expected Corruption, read {v:?}"),
    }
}

fn assert_reads(db: &Db, prefix: char, range: std::ops::Range<usize>) {
    for i in range {
        let got = db.get(table_key(prefix, i)).unwrap();
        assert_eq!(
            got.as_deref(),
            Some(&table_value(prefix, i)[..]),
            "{prefix} {i}"
        );
    }
}

#[test]
fn a_damaged_data_block_fails_only_the_reads_that_touch_it() {
    let (fs, dir, a, _) = two_tables();
    // Inside the first entry of the first data block (which starts at 0).
    fs.corrupt_byte(&a, 10, 0x20).unwrap();
    let db = Db::open(&dir, options(&fs)).unwrap();
    assert_corruption_in(db.get(table_key('a', 0)), &a, "key in the damaged block");
    assert_corruption_in(db.get(table_key('a', 1)), &a, "key in the damaged block");
    // Later blocks of the same table and the other table are fine.
    assert_reads(&db, 'a', 30..40);
    assert_reads(&db, 'b', 0..40);
    // A scan over the damage reports it (and ends); one beside it works.
    let items: Vec<_> = db.scan::<&[u8], _>(..).collect();
    assert!(matches!(items.last(), Some(Err(Error::Corruption { .. }))));
    assert_eq!(
        db.prefix("b-")
            .inspect(|kv| assert!(kv.is_ok(), "{kv:?}"))
            .count(),
        40,
        "scan of the intact table"
    );
    // Nothing is "repaired" behind the caller's back: still an error.
    assert_corruption_in(db.get(table_key('a', 0)), &a, "second read");
}

#[test]
fn a_damaged_footer_fails_the_reads_of_that_table_only() {
    for (offset_from_end, what) in [(1, "magic"), (12, "checksum"), (20, "index handle")] {
        let (fs, dir, a, _) = two_tables();
        let len = fs.file_len(&a).unwrap() as usize;
        fs.corrupt_byte(&a, len - offset_from_end, 0x01).unwrap();
        let db = Db::open(&dir, options(&fs)).unwrap();
        for i in [0, 20, 39] {
            assert_corruption_in(db.get(table_key('a', i)), &a, what);
        }
        assert_reads(&db, 'b', 0..40);
        assert!(
            db.prefix("a-").any(|kv| kv.is_err()),
            "{what}: scan of the damaged table"
        );
        // Writes still work, and a flush adds a good table beside it.
        db.put("c-000", "new").unwrap();
        db.flush().unwrap();
        assert_eq!(value(&db, "c-000").as_deref(), Some(&b"new"[..]));
    }
}

#[test]
fn no_single_byte_flip_in_a_table_yields_a_wrong_value() {
    let (fs, dir) = fresh_fs();
    let keys = ["k1", "k2", "k3"];
    let db = Db::open(&dir, options(&fs)).unwrap();
    for k in keys {
        db.put(k, format!("value of {k}")).unwrap();
    }
    db.flush().unwrap();
    db.close().unwrap();
    let table = files_ending(&fs, &dir, ".sst").pop().unwrap();
    let len = fs.file_len(&table).unwrap() as usize;
    assert!(len < 1024, "not a tiny table: {len} bytes");

    let mut errors = 0;
    for offset in 0..len {
        for xor in [0x01, 0x80] {
            fs.corrupt_byte(&table, offset, xor).unwrap();
            let opened = Db::open(&dir, options(&fs).block_cache_bytes(0));
            if let Ok(db) = opened {
                for k in keys {
                    match db.get(k) {
                        Ok(Some(v)) => assert_eq!(
                            v.as_ref(),
                            format!("value of {k}").as_bytes(),
                            "byte {offset} ^ {xor:#x}: wrong value of {k}"
                        ),
                        Ok(None) => panic!("byte {offset} ^ {xor:#x}: {k} silently missing"),
                        Err(_) => errors += 1,
                    }
                }
                for k in ["k0", "k22", "k9"] {
                    assert!(
                        !matches!(db.get(k), Ok(Some(_))),
                        "byte {offset} ^ {xor:#x}: absent {k} has a value"
                    );
                }
                let scanned: Vec<_> = db.scan::<&[u8], _>(..).collect();
                for (item, k) in scanned.iter().zip(keys) {
                    match item {
                        Ok((key, v)) => {
                            assert_eq!(key.as_ref(), k.as_bytes(), "byte {offset} ^ {xor:#x}");
                            assert_eq!(v.as_ref(), format!("value of {k}").as_bytes());
                        }
                        Err(_) => break,
                    }
                }
                assert!(
                    scanned.len() == keys.len() || scanned.last().is_some_and(|r| r.is_err()),
                    "byte {offset} ^ {xor:#x}: scan ended early without an error"
                );
            } else {
                errors += 1;
            }
            fs.corrupt_byte(&table, offset, xor).unwrap();
        }
    }
    assert!(errors > 0);
    // Restored, everything reads again.
    let db = Db::open(&dir, options(&fs)).unwrap();
    for k in keys {
        assert!(value(&db, k).is_some());
    }
}

/// `(offset, length)` of each record of a one-block log file.
fn log_records(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 7 <= bytes.len() {
        let len = u16::from_le_bytes([bytes[at + 4], bytes[at + 5]]) as usize;
        assert_eq!(bytes[at + 6], 1, "expected FULL fragments only");
        out.push((at, 7 + len));
        at += 7 + len;
    }
    assert_eq!(at, bytes.len());
    out
}

fn live_manifest(fs: &FaultFs, dir: &Path) -> PathBuf {
    let current = fs.read_all(&dir.join(CURRENT_FILE_NAME)).unwrap();
    let name = String::from_utf8(current).unwrap();
    dir.join(name.trim_end())
}

/// A closed database whose live manifest holds a snapshot and three flush
/// edits; flush `i` wrote keys `f{i}-*`.
fn three_flushes() -> (FaultFs, PathBuf) {
    let (fs, dir) = fresh_fs();
    let db = Db::open(&dir, options(&fs)).unwrap();
    for f in 0..3 {
        for i in 0..10 {
            db.put(format!("f{f}-{i}"), "v").unwrap();
        }
        db.flush().unwrap();
    }
    db.close().unwrap();
    (fs, dir)
}

fn count_prefix(db: &Db, prefix: &str) -> usize {
    db.prefix(prefix)
        .inspect(|kv| assert!(kv.is_ok(), "{kv:?}"))
        .count()
}

#[test]
fn a_damaged_first_manifest_record_is_corruption() {
    let (fs, dir) = three_flushes();
    let manifest = live_manifest(&fs, &dir);
    let records = log_records(&fs.read_all(&manifest).unwrap());
    let (at, len) = records[0];
    fs.corrupt_byte(&manifest, at + len / 2, 0x10).unwrap();
    let before = snapshot_dir(&fs, &dir);
    match Db::open(&dir, options(&fs)) {
        Err(Error::Corruption { file, .. }) => assert_eq!(file, manifest),
        Err(e) => panic!("expected Corruption, got {e}"),
        Ok(_) => panic!("opened with a damaged manifest"),
    }
    assert_eq!(
        snapshot_dir(&fs, &dir),
        before,
        "the failed open deleted files"
    );
}

#[test]
fn a_damaged_middle_manifest_record_is_corruption() {
    let (fs, dir) = three_flushes();
    let manifest = live_manifest(&fs, &dir);
    let records = log_records(&fs.read_all(&manifest).unwrap());
    assert_eq!(records.len(), 4, "snapshot + three flush edits");
    // The first flush's edit: two intact edits follow it.
    let (at, len) = records[1];
    fs.corrupt_byte(&manifest, at + len / 2, 0x10).unwrap();
    let before = snapshot_dir(&fs, &dir);
    match Db::open(&dir, options(&fs)) {
        Err(Error::Corruption { file, .. }) => assert_eq!(file, manifest),
        Err(e) => panic!("expected Corruption, got {e}"),
        Ok(db) => panic!(
            "opened; report {:?}; keys left of the three flushes: {} {} {}",
            db.recovery_report(),
            count_prefix(&db, "f0-"),
            count_prefix(&db, "f1-"),
            count_prefix(&db, "f2-")
        ),
    }
    assert_eq!(
        snapshot_dir(&fs, &dir),
        before,
        "the failed open deleted files"
    );
}

/// A cut last edit whose drop would lose data is damage, not a torn write:
/// the third flush deleted its WAL once its edit was synced, so the state
/// before that edit needs a WAL that is gone. Open used to drop the edit,
/// lose the third flush's keys and delete its table as a leftover; now it
/// refuses, naming the manifest and the record, and deletes nothing. (A
/// torn write, never synced, is dropped: see the next test.)
#[test]
fn a_truncated_synced_last_manifest_record_is_corruption() {
    let (fs, dir) = three_flushes();
    let manifest = live_manifest(&fs, &dir);
    let bytes = fs.read_all(&manifest).unwrap();
    let records = log_records(&bytes);
    let (last_at, _) = *records.last().unwrap();
    overwrite(&fs, &manifest, &bytes[..bytes.len() - 3]);
    let before = snapshot_dir(&fs, &dir);
    match Db::open(&dir, options(&fs)) {
        Err(Error::Corruption {
            file,
            offset,
            reason,
        }) => {
            assert_eq!((file, offset), (manifest, last_at as u64), "{reason}");
            assert!(reason.contains(".log, which is gone"), "{reason}");
        }
        Err(e) => panic!("expected Corruption, got {e}"),
        Ok(db) => panic!(
            "opened; report {:?}; keys left of the third flush: {}",
            db.recovery_report(),
            count_prefix(&db, "f2-")
        ),
    }
    assert_eq!(
        snapshot_dir(&fs, &dir),
        before,
        "the failed open deleted files"
    );
}

/// Appends made by one `flush()` of ten fresh keys, measured on a
/// throwaway copy of the scenario.
fn appends_of_a_flush() -> u64 {
    let (fs, dir) = fresh_fs();
    let db = Db::open(&dir, options(&fs)).unwrap();
    for i in 0..10 {
        db.put(format!("k{i}"), "v").unwrap();
    }
    let before = fs.op_count(FsOp::Append);
    db.flush().unwrap();
    fs.op_count(FsOp::Append) - before
}

#[test]
fn a_manifest_edit_torn_by_a_crash_loses_nothing() {
    let appends = appends_of_a_flush();
    assert!(appends >= 2, "a table and a manifest edit");
    let (fs, dir) = fresh_fs();
    let db = Db::open(&dir, options(&fs)).unwrap();
    for i in 0..10 {
        db.put(format!("k{i}"), "v").unwrap();
    }
    // The flush's last append is its manifest edit: only 5 bytes of it land.
    let manifest = live_manifest(&fs, &dir);
    let manifest_len = fs.file_len(&manifest).unwrap();
    fs.tear_nth_append(appends - 1, 5);
    assert!(db.flush().is_err());
    assert_eq!(fs.file_len(&manifest), Some(manifest_len + 5));
    fs.halt();
    fs.crash();
    drop(db);
    fs.restart();

    let db = Db::open(&dir, options(&fs)).unwrap();
    let report = db.recovery_report();
    let torn = report
        .manifest_torn_tail
        .as_ref()
        .expect("torn tail reported");
    assert_eq!(torn.offset, manifest_len);
    for i in 0..10 {
        assert_eq!(value(&db, &format!("k{i}")).as_deref(), Some(&b"v"[..]));
    }
}
