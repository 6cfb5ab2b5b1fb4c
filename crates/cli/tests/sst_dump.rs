//! `strata sst dump`: on a table of a compacted database it shows the
//! footer, properties matching what was written, the filter and one index
//! line per data block, every key with `--entries`, the same as JSON with
//! `--json`; a damaged file prints what precedes the damage and exits 1
//! naming the file and the offset.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{FIXTURE_ENTRIES, compacted_database, fixture_keys, flip_byte, strata, tables};
use serde_json::Value;

/// The compacted fixture's only table (3002 small entries fit in one).
fn the_table(dir: &Path) -> PathBuf {
    let mut tables = tables(dir);
    assert_eq!(tables.len(), 1, "{tables:?}");
    tables.pop().unwrap()
}

fn dump(table: &Path, flags: &[&str]) -> common::Run {
    let path = table.to_str().unwrap();
    strata(&[&["sst", "dump", path], flags].concat())
}

fn dump_json(table: &Path, flags: &[&str]) -> Value {
    let run = dump(table, &[&["--json"], flags].concat()).ok();
    serde_json::from_str(&run.stdout).unwrap()
}

/// The value of `  LABEL  VALUE` in a text dump.
fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("  {label} ")))
        .unwrap_or_else(|| panic!("no {label} in\n{text}"))
        .trim()
}

#[test]
fn the_dump_shows_footer_properties_filter_and_index() {
    let dir = compacted_database();
    let table = the_table(dir.path());
    let run = dump(&table, &[]).ok();
    let out = &run.stdout;
    assert!(
        out.starts_with(&format!("table {}, ", table.display())),
        "{out}"
    );
    assert_eq!(field(out, "format version"), "1");
    assert_eq!(field(out, "magic"), "STRATSST");
    assert!(field(out, "checksum").contains("masked CRC-32C"), "{out}");
    for handle in ["index block", "properties", "filter block"] {
        assert!(field(out, handle).starts_with("offset "), "{out}");
    }
    assert_eq!(
        field(out, "entries"),
        format!("{FIXTURE_ENTRIES} (0 deletions, 1 expiring)")
    );
    // Compacted without snapshots: one version per key.
    assert_eq!(field(out, "shadowed"), "0 older versions of keys");
    assert_eq!(field(out, "smallest key"), "\"bin\\x00\\xff\" @3001 put");
    assert!(field(out, "largest key").starts_with("session @"), "{out}");
    assert!(field(out, "bloom").ends_with("probes"), "{out}");

    let blocks: usize = field(out, "data blocks").parse().unwrap();
    assert!(
        blocks > 1,
        "the fixture should span several blocks: {blocks}"
    );
    let index: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("index ("))
        .skip(2)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(index.len(), blocks, "{out}");
    // block, offset, size, seqno, kind, separator; blocks follow each other.
    let mut next_offset = 0u64;
    for (i, line) in index.iter().enumerate() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols[0], i.to_string(), "{line}");
        assert_eq!(cols[1].parse::<u64>().unwrap(), next_offset, "{line}");
        next_offset += cols[2].parse::<u64>().unwrap() + 5;
    }
    assert!(index.last().unwrap().ends_with(" session"), "{out}");
    assert!(out.contains("\ncheck: ok ("), "{out}");
    assert!(
        !out.contains("\nentries\n"),
        "entries without --entries: {out}"
    );
}

#[test]
fn entries_lists_every_key_in_order() {
    let dir = compacted_database();
    let table = the_table(dir.path());
    let run = dump(&table, &["--entries"]).ok();
    let entries: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|l| *l != "entries")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    let keys: Vec<&str> = entries
        .iter()
        .map(|l| l.trim_start().split("  ").next().unwrap())
        .collect();
    let expected: Vec<String> = fixture_keys()
        .iter()
        .map(|k| match std::str::from_utf8(k) {
            Ok(text) if !text.contains('\0') => text.to_owned(),
            _ => "\"bin\\x00\\xff\"".to_owned(),
        })
        .collect();
    assert_eq!(keys, expected);
    assert!(
        entries.contains(&"  key00042  @43  put  value-42"),
        "{entries:?}"
    );
    let session = entries.iter().find(|l| l.contains("session")).unwrap();
    assert!(
        session.contains("put_with_expiry (expires 2") && session.ends_with("token"),
        "{session}"
    );
    assert!(run.stdout.contains(&format!("({FIXTURE_ENTRIES} entries)")));

    let limited = dump(&table, &["--limit", "5"]).ok();
    let shown = limited
        .stdout
        .lines()
        .skip_while(|l| *l != "entries")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .count();
    assert_eq!(shown, 5);
    assert!(
        limited
            .stdout
            .contains(&format!("(5 of {FIXTURE_ENTRIES} entries shown: --limit)")),
        "{}",
        limited.stdout
    );
}

#[test]
fn json_has_the_same_fields() {
    let dir = compacted_database();
    let table = the_table(dir.path());
    let v = dump_json(&table, &[]);
    assert_eq!(v["file"], table.display().to_string());
    assert_eq!(v["footer"]["magic"], "STRATSST");
    assert_eq!(v["footer"]["format_version"], 1);
    assert_eq!(v["footer"]["checksum_type"], "crc32c_masked");
    assert!(v["footer"]["checksum"].is_u64());
    for handle in ["index", "properties", "filter"] {
        assert!(v["footer"][handle]["offset"].is_u64(), "{handle}: {v}");
        assert!(v["footer"][handle]["size"].is_u64(), "{handle}: {v}");
    }
    let p = &v["properties"];
    assert_eq!(p["entries"], FIXTURE_ENTRIES);
    assert_eq!(p["expiring"], 1);
    assert_eq!(p["shadowed"], 0);
    assert_eq!(p["smallest_key"]["key"], "\"bin\\x00\\xff\"");
    assert_eq!(p["largest_key"]["key"], "session");
    for number in [
        "min_seqno",
        "max_seqno",
        "min_time_ms",
        "data_size",
        "block_size",
    ] {
        assert!(p[number].is_u64(), "{number}: {p}");
    }
    assert!(v["filter"]["probes"].as_u64().unwrap() > 0);
    let index = v["index"].as_array().unwrap();
    assert_eq!(index.len() as u64, p["data_blocks"].as_u64().unwrap());
    assert!(index.iter().all(|e| e["separator"]["seqno"].is_u64()));
    assert_eq!(v["check"]["ok"], true);
    assert!(v.get("entries").is_none());

    let with_entries = dump_json(&table, &["--entries"]);
    let entries = with_entries["entries"].as_array().unwrap();
    assert_eq!(entries.len(), FIXTURE_ENTRIES);
    let key42 = entries.iter().find(|e| e["key"] == "key00042").unwrap();
    assert_eq!(key42["value"], "value-42");
    assert_eq!(key42["kind"], "put");
    let session = entries.iter().find(|e| e["key"] == "session").unwrap();
    assert_eq!(session["kind"], "put_with_expiry");
    assert!(session["expires_at_ms"].as_u64().unwrap() > 1_600_000_000_000);
}

#[test]
fn a_damaged_data_block_shows_what_precedes_it_and_names_the_offset() {
    let dir = compacted_database();
    let table = the_table(dir.path());
    let v = dump_json(&table, &["--entries"]);
    let index = v["index"].as_array().unwrap();
    assert!(index.len() >= 3);
    let bad_block = index[2]["offset"].as_u64().unwrap();
    // Entries of blocks 0 and 1: up to block 1's separator.
    let before = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["key"] == index[1]["separator"]["key"])
        .unwrap()
        + 1;
    flip_byte(&table, bad_block + 10);
    let message = format!("corruption in {} at offset {bad_block}: ", table.display());

    let run = dump(&table, &[]).expect_code(1);
    assert!(run.stderr.contains(&message), "{}", run.stderr);
    assert!(
        run.stdout.contains("\nindex ("),
        "the header is readable: {}",
        run.stdout
    );
    assert!(!run.stdout.contains("check: ok"), "{}", run.stdout);

    let run = dump(&table, &["--entries"]).expect_code(1);
    assert!(run.stderr.contains(&message), "{}", run.stderr);
    let shown = run
        .stdout
        .lines()
        .skip_while(|l| *l != "entries")
        .skip(1)
        .count();
    assert_eq!(shown, before, "{}", run.stdout);

    let run = dump(&table, &["--entries", "--json"]).expect_code(1);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), before);
    assert_eq!(v["error"]["offset"], bad_block);
    assert_eq!(v["error"]["file"], table.display().to_string());
    assert_eq!(v["check"]["ok"], false);
}

#[test]
fn a_truncated_or_garbage_file_fails_with_file_and_offset() {
    let dir = compacted_database();
    let table = the_table(dir.path());
    let bytes = std::fs::read(&table).unwrap();
    let truncated = dir.path().join("truncated.sst");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let run = dump(&truncated, &[]).expect_code(1);
    let footer_at = bytes.len() / 2 - 64;
    assert!(
        run.stderr.contains(&format!(
            "corruption in {} at offset {footer_at}: ",
            truncated.display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    let garbage = dir.path().join("garbage.sst");
    std::fs::write(&garbage, b"not a table at all").unwrap();
    let run = dump(&garbage, &["--json"]).expect_code(1);
    assert!(
        run.stderr.contains(&format!(
            "corruption in {} at offset 0: ",
            garbage.display()
        )),
        "{}",
        run.stderr
    );
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["error"]["offset"], 0);

    let run = dump(&dir.path().join("absent.sst"), &[]).expect_code(1);
    assert!(
        run.stderr.contains("cannot read the table"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_table_from_before_properties_version_2_shows_an_unknown_shadowed_count() {
    let old = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../sstable/tests/fixtures/v1-tiny.sst"
    ));
    let run = dump(&old, &[]).ok();
    assert_eq!(
        field(&run.stdout, "shadowed"),
        "unknown (properties version 1)"
    );
    assert_eq!(dump_json(&old, &[])["properties"]["shadowed"], Value::Null);
}
