//! One-shot `get`, `put`, `del` and `scan` against a real data directory:
//! values round-trip (text, binary via escapes, with a TTL), absent keys
//! exit with 1, and a directory held by another handle gives a clear error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::strata_in;

#[test]
fn put_get_scan_del_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    strata_in(d, &["put", "user:1", "ada lovelace"]).ok();
    strata_in(d, &["put", "user:2", "grace"]).ok();
    strata_in(d, &["put", "other", "x"]).ok();
    let got = strata_in(d, &["get", "user:1"]).ok();
    assert_eq!(got.stdout, "ada lovelace\n");
    strata_in(d, &["put", "user:1", "ada"]).ok();
    assert_eq!(strata_in(d, &["get", "user:1"]).ok().stdout, "ada\n");

    let all = strata_in(d, &["scan"]).ok();
    assert_eq!(all.stdout, "other\tx\nuser:1\tada\nuser:2\tgrace\n");
    let users = strata_in(d, &["scan", "--prefix", "user:"]).ok();
    assert_eq!(users.stdout, "user:1\tada\nuser:2\tgrace\n");
    let back = strata_in(d, &["scan", "--reverse", "--limit", "2"]).ok();
    assert_eq!(back.stdout, "user:2\tgrace\nuser:1\tada\n");
    let window = strata_in(d, &["scan", "--start", "p", "--end", "user:2"]).ok();
    assert_eq!(window.stdout, "user:1\tada\n");

    strata_in(d, &["del", "user:1"]).ok();
    strata_in(d, &["get", "user:1"]).expect_code(1);
    assert_eq!(
        strata_in(d, &["scan", "--prefix", "user:"]).ok().stdout,
        "user:2\tgrace\n"
    );
}

#[test]
fn binary_keys_and_values_travel_through_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    strata_in(d, &["put", "--escapes", r"bin\x00key", r"\xff\x00\n"]).ok();
    // Without --escapes the backslashes are literal: another key.
    strata_in(d, &["get", r"bin\x00key"]).expect_code(1);
    let raw = strata_in(d, &["get", "-e", r"bin\x00key", "--raw"]).ok();
    assert_eq!(raw.raw_stdout, b"\xff\x00\n");
    let shown = strata_in(d, &["get", "-e", r"bin\x00key"]).ok();
    assert_eq!(shown.stdout, "\"\\xff\\x00\\n\"\n");
    let listed = strata_in(d, &["scan"]).ok();
    assert_eq!(listed.stdout, "\"bin\\x00key\"\t\"\\xff\\x00\\n\"\n");
    strata_in(d, &["put", "-e", r"bad\q", "v"]).expect_code(1);
}

#[test]
fn a_ttl_put_expires() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let written = Instant::now();
    strata_in(d, &["put", "--ttl", "1500ms", "session", "token"]).ok();
    strata_in(d, &["put", "--ttl", "1h", "long", "lived"]).ok();
    if written.elapsed() < Duration::from_millis(1_200) {
        assert_eq!(strata_in(d, &["get", "session"]).ok().stdout, "token\n");
    }
    std::thread::sleep(Duration::from_millis(1_600).saturating_sub(written.elapsed()));
    strata_in(d, &["get", "session"]).expect_code(1);
    assert_eq!(strata_in(d, &["scan"]).ok().stdout, "long\tlived\n");
    let bad = strata_in(d, &["put", "--ttl", "soon", "k", "v"]).expect_code(2);
    assert!(bad.stderr.contains("bad TTL"), "{}", bad.stderr);
}

#[test]
fn an_absent_key_exits_with_1_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    strata_in(dir.path(), &["put", "k", "v"]).ok();
    let run = strata_in(dir.path(), &["get", "missing"]).expect_code(1);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("key missing not found"),
        "{}",
        run.stderr
    );
}

#[test]
fn reading_a_directory_without_a_database_says_so_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("nothing-here");
    for args in [&["get", "k"][..], &["del", "k"], &["scan"], &["stats"]] {
        let run = strata_in(&d, args).expect_code(1);
        assert!(
            run.stderr.contains("no strata database in"),
            "{}",
            run.stderr
        );
    }
    assert!(!d.exists());
}

#[test]
fn a_locked_directory_names_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let db = strata::Db::open(dir.path(), strata::Options::default()).unwrap();
    db.put("k", "v").unwrap();
    db.flush().unwrap();
    for args in [
        &["get", "k"][..],
        &["put", "k", "w"],
        &["del", "k"],
        &["scan"],
        &["stats"],
    ] {
        let run = strata_in(dir.path(), args).expect_code(1);
        assert!(
            run.stderr
                .contains("is in use by another process (a running `strata serve`?)"),
            "{args:?}: {}",
            run.stderr
        );
    }
    let shell = common::strata_with_stdin(
        &["shell", &format!("--data-dir={}", dir.path().display())],
        "get k\n",
    );
    let shell = shell.expect_code(1);
    assert!(
        shell.stderr.contains("is in use by another process"),
        "{}",
        shell.stderr
    );
    common::close(db);
    assert_eq!(strata_in(dir.path(), &["get", "k"]).ok().stdout, "v\n");
}

#[test]
fn scan_hides_the_servers_keys_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    strata_in(d, &["put", "k", "v"]).ok();
    strata_in(d, &["put", "-e", r"\xff\xffstrata/ct/k", "text/plain"]).ok();
    assert_eq!(strata_in(d, &["scan"]).ok().stdout, "k\tv\n");
    let asked = strata_in(d, &["scan", "-e", "--prefix", r"\xff\xffstrata/"]).ok();
    assert_eq!(asked.stdout.lines().count(), 1, "{}", asked.stdout);
}
