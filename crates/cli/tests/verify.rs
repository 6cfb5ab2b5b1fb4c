//! `strata verify`: a sound directory exits 0 and lists every table; one
//! flipped byte in a table exits 1 naming the file and an offset; a locked,
//! missing or empty directory gives a clear message and exit code 1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

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
