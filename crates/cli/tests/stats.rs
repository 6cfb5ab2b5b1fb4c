//! `strata stats`: the table shows every level, and `--json` is valid JSON
//! with the numbers of the database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::strata_in;

fn database_with_entries(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let db = strata::Db::open(dir.path(), strata::Options::default()).unwrap();
    for i in 0..n {
        db.put(format!("key{i:05}"), "value").unwrap();
    }
    db.flush().unwrap();
    common::close(db);
    dir
}

#[test]
fn the_table_lists_the_levels() {
    let dir = database_with_entries(500);
    let run = strata_in(dir.path(), &["stats"]).ok();
    let header = run.stdout.lines().next().unwrap();
    for column in ["level", "files", "bytes", "entries", "tombstones", "score"] {
        assert!(header.contains(column), "{header}");
    }
    assert!(
        run.stdout.lines().any(|l| l.starts_with("L0 ")),
        "{}",
        run.stdout
    );
    let total = run.stdout.lines().find(|l| l.starts_with("total")).unwrap();
    assert!(total.split_whitespace().any(|w| w == "500"), "{total}");
    for topic in [
        "memtables:",
        "amplification:",
        "block cache:",
        "write stalls:",
    ] {
        assert!(run.stdout.contains(topic), "{topic}: {}", run.stdout);
    }
}

#[test]
fn json_parses_and_counts_the_entries() {
    let dir = database_with_entries(300);
    let run = strata_in(dir.path(), &["stats", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let levels = v["levels"].as_array().unwrap();
    assert!(!levels.is_empty());
    let entries: u64 = levels.iter().map(|l| l["entries"].as_u64().unwrap()).sum();
    assert_eq!(entries, 300);
    for field in [
        "write_amplification",
        "block_cache",
        "stalls",
        "memtables",
        "compactions",
    ] {
        assert!(v.get(field).is_some(), "{field} missing: {v}");
    }
    assert!(v["stalls"]["count"].is_u64());
}
