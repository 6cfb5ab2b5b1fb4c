//! `strata::verify` on a closed data directory: a healthy one is OK and
//! lists every live table; a flipped byte in a table's data block, a
//! truncated or missing table, a damaged manifest or `CURRENT`, or a WAL
//! damaged before intact records is a problem naming the file (and the
//! offset of the damaged block or record); a torn WAL tail, leftovers and
//! foreign files are only warnings; a directory held by `Db::open` is
//! `Error::Locked`; and verify never changes a byte of the directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use strata::manifest::recover;
use strata::{Db, Error, FileKind, FileStatus, Options, VerifyReport, verify};
use strata_core::StdFs;
use strata_sstable::TableInspector;

/// Unflushed writes left in the WAL by [`build_db`].
const WAL_WRITES: usize = 20;

/// A closed database with tables in several levels (flushes and a
/// compaction), multi-block tables, tombstones, TTL values, and
/// [`WAL_WRITES`] writes left in the WAL.
fn build_db() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options::default().block_size(256).auto_compaction(false);
    let db = Db::open(dir.path(), opts).unwrap();
    for i in 0..300 {
        db.put(format!("key{i:05}"), format!("value-{i}-").repeat(5))
            .unwrap();
    }
    db.flush().unwrap();
    for i in (0..300).step_by(3) {
        db.delete(format!("key{i:05}")).unwrap();
    }
    for i in 300..400 {
        db.put_with_ttl(format!("key{i:05}"), "ttl", Duration::from_secs(3600))
            .unwrap();
    }
    db.flush().unwrap();
    db.compact().unwrap();
    for i in 400..500 {
        db.put(format!("key{i:05}"), "later").unwrap();
    }
    db.flush().unwrap();
    for i in 0..WAL_WRITES {
        db.put(format!("wal{i:03}"), "in the log").unwrap();
    }
    db.close().unwrap();
    dir
}

/// Every file's name and bytes.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Live tables by path, with their level, as the manifest records them.
fn live_tables(dir: &Path) -> BTreeMap<PathBuf, (u8, u64)> {
    let state = recover(&StdFs, dir).unwrap().state;
    let mut out = BTreeMap::new();
    for (level, files) in state.levels().iter().enumerate() {
        for meta in files.iter() {
            let path = dir.join(format!("{:06}.sst", meta.number));
            out.insert(path, (level as u8, meta.num_entries));
        }
    }
    out
}

/// The live table with the most data blocks, and its data-block handles.
fn biggest_table(dir: &Path) -> (PathBuf, Vec<strata_sstable::BlockHandle>) {
    live_tables(dir)
        .into_keys()
        .map(|path| {
            let table = TableInspector::open(&StdFs, &path).unwrap();
            let handles = table.index().iter().map(|e| e.handle).collect::<Vec<_>>();
            (path, handles)
        })
        .max_by_key(|(_, h)| h.len())
        .unwrap()
}

fn only_wal(dir: &Path) -> PathBuf {
    let wals: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    assert_eq!(wals.len(), 1, "{wals:?}");
    wals.into_iter().next().unwrap()
}

fn flip(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x5a;
    fs::write(path, bytes).unwrap();
}

fn truncate(path: &Path, by: u64) -> u64 {
    let len = fs::metadata(path).unwrap().len() - by;
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
    len
}

/// Verifies `dir`, checking it changed nothing, and prints the report.
fn verify_unchanged(dir: &Path) -> VerifyReport {
    let before = contents(dir);
    let report = verify(dir).unwrap();
    assert_eq!(contents(dir), before, "verify changed the directory");
    println!("{report}");
    report
}

/// The single problem of `report`: (path, offset, reason).
fn single_problem(report: &VerifyReport) -> (PathBuf, Option<u64>, String) {
    assert!(!report.is_ok());
    let problems: Vec<_> = report.problems().collect();
    assert_eq!(problems.len(), 1, "{report}");
    match &problems[0].status {
        FileStatus::Problem { offset, reason } => {
            (problems[0].path.clone(), *offset, reason.clone())
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_healthy_directory_is_ok_and_every_live_table_is_listed() {
    let dir = build_db();
    let report = verify_unchanged(dir.path());
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.warnings().count(), 0, "{report}");

    let live = live_tables(dir.path());
    assert!(live.len() >= 2, "flushes after the compaction: {live:?}");
    assert!(
        live.values().any(|(level, _)| *level > 0),
        "compacted: {live:?}"
    );
    let listed: BTreeMap<PathBuf, (u8, u64)> = report
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Table)
        .map(|f| {
            assert_eq!(f.status, FileStatus::Ok);
            assert!(f.blocks.unwrap() > 3, "multi-block tables");
            (f.path.clone(), (f.level.unwrap(), f.entries.unwrap()))
        })
        .collect();
    assert_eq!(listed, live);

    let kinds: Vec<FileKind> = report.files.iter().map(|f| f.kind).collect();
    assert_eq!(kinds.first(), Some(&FileKind::Current));
    assert_eq!(kinds.get(1), Some(&FileKind::Manifest));
    assert!(report.files[1].entries.unwrap() >= 1);
    let wal = report.file(&only_wal(dir.path())).unwrap();
    assert_eq!(wal.status, FileStatus::Ok);
    assert_eq!(wal.entries, Some(WAL_WRITES as u64));
    assert!(report.to_string().ends_with("OK"), "{report}");
}

#[test]
fn a_flipped_byte_in_a_data_block_names_the_table_and_the_block() {
    let dir = build_db();
    let (table, blocks) = biggest_table(dir.path());
    assert!(blocks.len() >= 3);
    let block = blocks[blocks.len() / 2];
    flip(&table, block.offset + block.size / 2);

    let report = verify_unchanged(dir.path());
    let (path, offset, reason) = single_problem(&report);
    assert_eq!(path, table);
    assert_eq!(offset, Some(block.offset), "{reason}");
    assert!(reason.contains("checksum"), "{reason}");
    let text = report.to_string();
    let name = table.file_name().unwrap().to_str().unwrap();
    assert!(
        text.contains(&format!("PROBLEM  {name}"))
            && text.contains(&format!("offset {}", block.offset)),
        "{text}"
    );
    assert!(text.ends_with("CORRUPT"), "{text}");
}

#[test]
fn a_truncated_or_missing_table_is_a_problem() {
    let dir = build_db();
    let (table, _) = biggest_table(dir.path());
    let len = truncate(&table, 100);
    let (path, offset, reason) = single_problem(&verify_unchanged(dir.path()));
    assert_eq!((path, offset), (table.clone(), Some(len)));
    assert!(reason.contains("truncated"), "{reason}");

    fs::remove_file(&table).unwrap();
    let (path, offset, reason) = single_problem(&verify_unchanged(dir.path()));
    assert_eq!((path, offset), (table, None));
    assert!(reason.contains("missing"), "{reason}");
}

fn manifest_path(dir: &Path) -> PathBuf {
    dir.join(strata::manifest::manifest_file_name(
        recover(&StdFs, dir).unwrap().manifest_number,
    ))
}

#[test]
fn a_damaged_manifest_record_is_a_problem_and_tables_are_still_checked() {
    let dir = build_db();
    let manifest = manifest_path(dir.path());
    // Byte 10: inside the first record (the snapshot edit), after its header.
    flip(&manifest, 10);
    let report = verify_unchanged(dir.path());
    let (path, offset, _) = single_problem(&report);
    assert_eq!((path, offset), (manifest, Some(0)));
    // The live set is unknown now, but every table is still verified.
    let tables = report
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Table && f.status == FileStatus::Ok)
        .count();
    assert_eq!(tables, live_tables_on_disk(dir.path()));
}

fn live_tables_on_disk(dir: &Path) -> usize {
    fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sst")
        })
        .count()
}

#[test]
fn a_torn_last_manifest_edit_is_a_problem_though_open_would_drop_it() {
    let dir = build_db();
    let manifest = manifest_path(dir.path());
    truncate(&manifest, 1);
    // Open tolerates it (a crash during the last, unacknowledged edit) ...
    let recovered = recover(&StdFs, dir.path()).unwrap();
    let torn = recovered.torn_tail.expect("the last edit is torn");
    // ... verify reports it.
    let (path, offset, _) = single_problem(&verify_unchanged(dir.path()));
    assert_eq!((path, offset), (manifest, Some(torn.offset)));
}

#[test]
fn a_damaged_current_is_a_problem() {
    let dir = build_db();
    let current = dir.path().join("CURRENT");
    fs::write(&current, b"MANIFEST-x\n").unwrap();
    let report = verify_unchanged(dir.path());
    let (path, offset, _) = single_problem(&report);
    assert_eq!((path, offset), (current.clone(), Some(0)));

    fs::remove_file(&current).unwrap();
    let (path, offset, reason) = single_problem(&verify_unchanged(dir.path()));
    assert_eq!((path, offset), (current, None));
    assert!(reason.contains("missing"), "{reason}");
}

#[test]
fn leftovers_and_foreign_files_are_warnings_only() {
    let dir = build_db();
    let (table, _) = biggest_table(dir.path());
    let leftovers = [
        dir.path().join("000999.sst"),
        dir.path().join("000000.log"),
        dir.path().join("MANIFEST-000000"),
    ];
    fs::copy(&table, &leftovers[0]).unwrap();
    fs::write(&leftovers[1], b"").unwrap();
    fs::write(&leftovers[2], b"old").unwrap();
    let notes = dir.path().join("notes.txt");
    fs::write(&notes, b"operator notes").unwrap();

    let report = verify_unchanged(dir.path());
    assert!(report.is_ok(), "{report}");
    let warned: Vec<&Path> = report.warnings().map(|f| f.path.as_path()).collect();
    assert_eq!(warned.len(), 4, "{report}");
    for path in leftovers.iter().chain([&notes]) {
        assert!(warned.contains(&path.as_path()), "{path:?} in {report}");
    }
    let other = report.file(&notes).unwrap();
    assert_eq!(other.kind, FileKind::Other);
    match &report.file(&leftovers[0]).unwrap().status {
        FileStatus::Warning { reason, .. } => assert!(reason.contains("leftover"), "{reason}"),
        s => panic!("{s:?}"),
    }
}

#[test]
fn a_torn_wal_tail_is_a_warning_but_damage_before_intact_records_is_a_problem() {
    let dir = build_db();
    let wal = only_wal(dir.path());
    let good = fs::read(&wal).unwrap();

    truncate(&wal, 3);
    let report = verify_unchanged(dir.path());
    assert!(report.is_ok(), "{report}");
    let file = report.file(&wal).unwrap();
    assert!(file.is_warning(), "{report}");
    assert_eq!(file.entries, Some(WAL_WRITES as u64 - 1));

    // Byte 10 is in the payload of the first record, which 19 intact ones follow.
    fs::write(&wal, &good).unwrap();
    flip(&wal, 10);
    let (path, offset, _) = single_problem(&verify_unchanged(dir.path()));
    assert_eq!((path, offset), (wal, Some(0)));
}

#[test]
fn a_directory_held_by_an_open_db_is_locked() {
    let dir = build_db();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let err = verify(dir.path()).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    db.close().unwrap();
    assert!(verify(dir.path()).unwrap().is_ok());
}

#[test]
fn a_directory_without_a_database_is_not_found_and_stays_untouched() {
    let dir = tempfile::tempdir().unwrap();
    for path in [dir.path().to_path_buf(), dir.path().join("absent")] {
        match verify(&path).unwrap_err() {
            Error::Io(e) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}"),
            e => panic!("{e}"),
        }
    }
    assert!(contents(dir.path()).is_empty(), "no lock file created");
}

/// After a simulated power loss in the middle of writes, flushes and
/// compactions, verify finds crash traces at most (warnings), never a
/// problem; bit rot in a live table afterwards is a problem again.
#[test]
fn after_a_power_loss_verify_finds_no_problem_on_a_simulated_disk() {
    use std::sync::Arc;
    use strata::{SyncPolicy, verify_with_fs};
    use strata_core::{FaultFs, FileSystem};

    let fs = FaultFs::new();
    let dir = Path::new("/db");
    let opts = Options::default()
        .file_system(Arc::new(fs.clone()))
        .memtable_size(8 << 10)
        .block_size(256)
        .sync_policy(SyncPolicy::Never);
    let db = Db::open(dir, opts).unwrap();
    for i in 0..3000u32 {
        db.put(format!("key{:05}", i % 1000), format!("value {i}"))
            .unwrap();
    }
    fs.halt();
    fs.power_loss();
    drop(db);
    fs.restart();

    let report = verify_with_fs(&fs, dir).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    let state = recover(&fs, dir).unwrap().state;
    let table = state
        .levels()
        .iter()
        .flat_map(|l| l.iter())
        .next()
        .expect("flushes ran before the power loss")
        .number;
    let path = dir.join(format!("{table:06}.sst"));
    fs.corrupt_byte(&path, 3, 0x10).unwrap();
    let (bad, offset, _) = single_problem(&verify_with_fs(&fs, dir).unwrap());
    assert_eq!((bad, offset), (path, Some(0)));
    assert!(fs.exists(dir).unwrap());
}

/// A directory written by hand on a simulated disk: one table (entries
/// `a`..`e`, seqnos 1..=5) recorded in the manifest by `meta_of`, and WALs
/// 3 and 4 holding the given batches `(base seqno, ops)` (WAL 3, which the
/// manifest's log number names, is created empty if not given).
fn hand_made_dir(
    meta_of: impl FnOnce(strata::manifest::FileMetadata) -> strata::manifest::FileMetadata,
    wals: &[(u64, &[(u64, usize)])],
) -> (strata_core::FaultFs, PathBuf) {
    use strata::manifest::{FileMetadata, ManifestState, ManifestWriter, VersionEdit};
    use strata_core::{FaultFs, FileSystem, InternalKey, ValueKind};
    use strata_sstable::{TableBuilder, TableOptions};

    let fs = FaultFs::new();
    let dir = PathBuf::from("/db");
    fs.create_dir_all(&dir).unwrap();
    let path = dir.join("000002.sst");
    let mut b =
        TableBuilder::new(fs.create(&path).unwrap(), &path, TableOptions::default()).unwrap();
    for (i, key) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        let kind = if i == 1 {
            ValueKind::Delete
        } else {
            ValueKind::Put
        };
        b.add(
            &InternalKey::new(key.as_bytes().to_vec(), i as u64 + 1, kind),
            b"v",
        )
        .unwrap();
    }
    let summary = b.finish().unwrap();
    let p = &summary.properties;
    let meta = FileMetadata {
        number: 2,
        size: summary.file_size,
        smallest: p.smallest_key.clone().unwrap(),
        largest: p.largest_key.clone().unwrap(),
        min_seqno: p.min_seqno,
        max_seqno: p.max_seqno,
        min_time_ms: p.min_time_ms,
        max_time_ms: p.max_time_ms,
        num_entries: p.num_entries,
        num_tombstones: p.num_deletions,
        num_expiring: p.num_expiring,
        max_expiry_ms: p.max_expiry_ms,
        num_shadowed: p.num_shadowed,
    };
    let mut edit = VersionEdit::new();
    edit.log_number = Some(3);
    edit.next_file_number = Some(5);
    edit.last_seqno = Some(5);
    edit.add_file(0, meta_of(meta));
    let mut state = ManifestState::new();
    state.apply(&edit).unwrap();
    ManifestWriter::create(&fs, &dir, 1, &state).unwrap();
    for (number, batches) in wals {
        let mut log =
            strata_wal::LogWriter::new(fs.create(&dir.join(format!("{number:06}.log"))).unwrap());
        for &(base, ops) in *batches {
            let mut batch = strata::WriteBatch::new();
            for op in 0..ops {
                batch.put(format!("w{base}-{op}").as_bytes(), b"x").unwrap();
            }
            batch.set_base_seqno(base).unwrap();
            log.add_record(batch.as_bytes()).unwrap();
        }
        log.sync().unwrap();
    }
    // The manifest's log number names WAL 3: a whole directory has it.
    if !wals.iter().any(|(n, _)| *n == 3) {
        fs.create(&dir.join("000003.log")).unwrap().sync().unwrap();
    }
    (fs, dir)
}

#[test]
fn a_table_whose_properties_disagree_with_the_manifest_is_a_problem() {
    use strata::verify_with_fs;
    let (fs, dir) = hand_made_dir(|m| m, &[]);
    let report = verify_with_fs(&fs, &dir).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.warnings().count(), 0, "{report}");

    let (fs, dir) = hand_made_dir(
        |mut m| {
            m.num_entries += 1;
            m
        },
        &[],
    );
    let props_at = TableInspector::open(&fs, &dir.join("000002.sst"))
        .unwrap()
        .footer()
        .properties
        .offset;
    let (path, offset, reason) = single_problem(&verify_with_fs(&fs, &dir).unwrap());
    assert_eq!((path, offset), (dir.join("000002.sst"), Some(props_at)));
    assert!(reason.contains("num_entries"), "{reason}");
}

#[test]
fn wal_damage_is_judged_as_open_judges_it() {
    use strata::verify_with_fs;
    use strata_core::FileSystem;
    let logs: &[(u64, &[(u64, usize)])] = &[(3, &[(6, 2), (8, 1)]), (4, &[(9, 3)])];
    let (fs, dir) = hand_made_dir(|m| m, logs);
    let report = verify_with_fs(&fs, &dir).unwrap();
    assert!(report.is_ok(), "{report}");
    let records: Vec<_> = report
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Wal)
        .map(|f| f.entries)
        .collect();
    assert_eq!(records, [Some(2), Some(1)]);

    // A torn tail of the newest WAL: a warning.
    let wal3 = dir.join("000003.log");
    let wal4 = dir.join("000004.log");
    let torn = |fs: &strata_core::FaultFs, path: &Path| {
        let bytes = fs.read_all(path).unwrap();
        let mut f = fs.create(path).unwrap();
        f.append(&bytes[..bytes.len() - 2]).unwrap();
        f.sync().unwrap();
    };
    torn(&fs, &wal4);
    let report = verify_with_fs(&fs, &dir).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.file(&wal4).unwrap().is_warning(), "{report}");

    // A torn tail of an older WAL that a later one continues: a problem
    // (open refuses it too).
    let (fs, dir) = hand_made_dir(|m| m, logs);
    torn(&fs, &wal3);
    let report = verify_with_fs(&fs, &dir).unwrap();
    println!("{report}");
    let file = report.file(&wal3).unwrap();
    match &file.status {
        FileStatus::Problem { reason, .. } => assert!(reason.contains("a later one"), "{reason}"),
        s => panic!("{s:?}"),
    }
    assert!(
        Db::open(
            &dir,
            Options::default().file_system(std::sync::Arc::new(fs.clone()))
        )
        .is_err()
    );

    // Sequence numbers that do not continue: a problem at that record.
    let (fs, dir) = hand_made_dir(|m| m, &[(3, &[(6, 2), (9, 1)])]);
    let (path, offset, reason) = single_problem(&verify_with_fs(&fs, &dir).unwrap());
    assert_eq!(path, wal3);
    assert!(offset.unwrap() > 0, "the second record");
    assert!(reason.contains("does not continue"), "{reason}");
}

/// Regression: a first open cut short before it installed `CURRENT` leaves
/// an empty WAL and a manifest. Open accepts that directory (and creates
/// the database); verify used to call it a problem ("open refuses it").
#[test]
fn verify_accepts_what_a_first_open_cut_short_leaves() {
    use strata_core::{FaultFs, FileSystem, FsOp};
    let fs = FaultFs::new();
    let dir = PathBuf::from("/db");
    fs.create_dir_all(&dir).unwrap();
    let opts = Options::default().file_system(std::sync::Arc::new(fs.clone()));
    fs.fail_nth(FsOp::Rename, 0);
    assert!(Db::open(&dir, opts.clone()).is_err());
    let report = strata::verify_with_fs(&fs, &dir).unwrap();
    assert!(report.is_ok(), "{report}");
    let current = report.file(&dir.join("CURRENT")).unwrap();
    assert!(current.is_warning(), "{report}");
    Db::open(&dir, opts).unwrap().close().unwrap();
    assert!(strata::verify_with_fs(&fs, &dir).unwrap().is_ok());
}
