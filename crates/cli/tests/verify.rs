//! `strata verify`: a sound directory exits 0 and lists every table; one
//! flipped byte in a table exits 1 naming the file and an offset; a locked,
//! missing or empty directory gives a clear message and exit code 1; a
//! damaged manifest or WAL record exits 1 naming the file and the record's
//! offset, a torn WAL tail is a warning, and a manifest cut at a record
//! boundary is caught through the WAL it still needs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::{FIXTURE_ENTRIES, compacted_database, flip_byte, strata_in, tables};

#[test]
fn a_sound_directory_passes_and_every_table_is_listed() {
    let dir = compacted_database();
    let tables = tables(dir.path());
    assert!(!tables.is_empty());
    let run = strata_in(dir.path(), &["verify"]).ok();
    for table in &tables {
        let name = table.file_name().unwrap().to_str().unwrap();
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{}", run.stdout));
        assert!(
            line.starts_with("ok ") && line.contains("(table, L"),
            "{line}"
        );
    }
    for kind in ["(current", "(manifest"] {
        assert!(run.stdout.contains(kind), "{kind}: {}", run.stdout);
    }
    assert!(
        run.stdout
            .contains(&format!("holding {FIXTURE_ENTRIES} entries; 0 problem(s)"))
    );
    assert_eq!(run.stdout.lines().last(), Some("OK"), "{}", run.stdout);

    let json = strata_in(dir.path(), &["verify", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["problems"], 0);
    let files = v["files"].as_array().unwrap();
    let table_files: Vec<_> = files.iter().filter(|f| f["kind"] == "table").collect();
    assert_eq!(table_files.len(), tables.len());
    let entries: u64 = table_files
        .iter()
        .map(|f| f["entries"].as_u64().unwrap())
        .sum();
    assert_eq!(entries, FIXTURE_ENTRIES as u64);
    assert!(files.iter().all(|f| f["status"] != "problem"), "{v}");
}

#[test]
fn a_flipped_byte_in_a_table_is_reported_with_file_and_offset() {
    let dir = compacted_database();
    let table = tables(dir.path()).pop().unwrap();
    let size = std::fs::metadata(&table).unwrap().len();
    let flipped = size / 2;
    flip_byte(&table, flipped);

    let run = strata_in(dir.path(), &["verify"]).expect_code(1);
    let name = table.file_name().unwrap().to_str().unwrap();
    let problem = run
        .stdout
        .lines()
        .find(|l| l.starts_with("PROBLEM"))
        .unwrap_or_else(|| panic!("no problem listed:\n{}", run.stdout));
    assert!(problem.contains(name), "{problem}");
    assert!(problem.contains("at offset "), "{problem}");
    assert!(
        run.stdout
            .contains("(1 damaged, not counted); 1 problem(s)"),
        "{}",
        run.stdout
    );
    let last = run.stdout.lines().last().unwrap();
    let expected = format!("CORRUPT: 1 problem(s): {} at offset ", table.display());
    assert!(last.starts_with(&expected), "{last}");
    // The offset is the start of the block holding the flipped byte.
    let offset: u64 = last[expected.len()..].parse().unwrap();
    assert!(
        offset <= flipped && flipped - offset < 64 * 1024,
        "{offset}"
    );

    let json = strata_in(dir.path(), &["verify", "--json"]).expect_code(1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"], 1);
    let bad = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "problem")
        .unwrap();
    assert_eq!(bad["path"], table.display().to_string());
    assert_eq!(bad["offset"], offset);
    assert!(
        bad["reason"].as_str().unwrap().contains("checksum"),
        "{bad}"
    );
}

#[test]
fn a_locked_directory_names_the_cause() {
    let dir = compacted_database();
    let db = strata::Db::open(dir.path(), strata::Options::default()).unwrap();
    let run = strata_in(dir.path(), &["verify"]).expect_code(1);
    assert!(
        run.stderr
            .contains("is in use by another process (a running `strata serve`?)"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    common::close(db);
    strata_in(dir.path(), &["verify"]).ok();
}

#[test]
fn a_missing_or_empty_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    let run = strata_in(&missing, &["verify"]).expect_code(1);
    assert!(
        run.stderr.contains("no strata database in") && run.stderr.contains("does not exist"),
        "{}",
        run.stderr
    );
    assert!(!missing.exists());

    let run = strata_in(dir.path(), &["verify"]).expect_code(1);
    assert!(
        run.stderr.contains("holds no strata database"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A closed database whose manifest holds two edits (the snapshot of the
/// last open, then a flush) and whose WAL holds five unflushed puts of the
/// same size: the directory, the manifest and the WAL.
fn database_with_a_wal() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = compacted_database();
    let db = strata::Db::open(dir.path(), strata::Options::default()).unwrap();
    db.put("flushed", "into a table").unwrap();
    db.flush().unwrap();
    for i in 0..5 {
        db.put(format!("late{i}"), "only in the WAL").unwrap();
    }
    common::close(db);
    let current = std::fs::read_to_string(dir.path().join("CURRENT")).unwrap();
    let manifest = dir.path().join(current.trim_end());
    let wals: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    assert_eq!(wals.len(), 1, "{wals:?}");
    (dir, manifest, wals[0].clone())
}

/// The verdict line of a failed run.
fn verdict(run: &common::Run) -> &str {
    run.stdout.lines().last().unwrap()
}

#[test]
fn damaged_manifest_and_wal_records_are_named_with_their_offset() {
    let (dir, manifest, wal) = database_with_a_wal();
    let good_manifest = std::fs::read(&manifest).unwrap();
    let good_wal = std::fs::read(&wal).unwrap();
    strata_in(dir.path(), &["verify"]).ok();

    // Byte 10 is in the payload of the first record of each log, which
    // intact records follow: a problem at offset 0 (the record's start).
    for path in [&manifest, &wal] {
        flip_byte(path, 10);
        let run = strata_in(dir.path(), &["verify"]).expect_code(1);
        assert_eq!(
            verdict(&run),
            format!("CORRUPT: 1 problem(s): {} at offset 0", path.display()),
            "{}",
            run.stdout
        );
        std::fs::write(&manifest, &good_manifest).unwrap();
        std::fs::write(&wal, &good_wal).unwrap();
    }

    // A torn tail of the WAL: a warning at the last record, exit 0.
    // The WAL starts with the 19-byte marker a rotation under the default
    // `SyncPolicy::Never` writes (an empty batch), then five equal records.
    let marker = 7 + 12;
    let record = (good_wal.len() - marker) / 5;
    std::fs::write(&wal, &good_wal[..good_wal.len() - 3]).unwrap();
    let run = strata_in(dir.path(), &["verify"]).ok();
    let name = wal.file_name().unwrap().to_str().unwrap();
    let line = run.stdout.lines().find(|l| l.contains(name)).unwrap();
    assert!(
        line.starts_with("WARNING")
            && line.contains(&format!("at offset {}: torn tail", marker + 4 * record)),
        "{line}"
    );
    std::fs::write(&wal, &good_wal).unwrap();

    // The manifest cut after its first record (7-byte header, u16 length
    // at bytes 4..6) replays cleanly, to a state whose WAL the flush
    // deleted: verify names that WAL, missing.
    let first = 7 + usize::from(u16::from_le_bytes([good_manifest[4], good_manifest[5]]));
    assert!(first < good_manifest.len());
    std::fs::write(&manifest, &good_manifest[..first]).unwrap();
    let run = strata_in(dir.path(), &["verify"]).expect_code(1);
    let problem = run
        .stdout
        .lines()
        .find(|l| l.starts_with("PROBLEM"))
        .unwrap();
    assert!(
        problem.contains(".log (wal): missing") && problem.contains("lost later edits"),
        "{}",
        run.stdout
    );
    assert!(
        verdict(&run).starts_with("CORRUPT: 1 problem(s): ") && verdict(&run).ends_with(".log"),
        "{}",
        run.stdout
    );
}
