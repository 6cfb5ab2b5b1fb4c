//! The verifier catches what it is there to catch: a workload is run
//! in-process to completion, then copies of its directory or of its
//! expected-state log are doctored (an acknowledged write dropped, a batch
//! half applied, a key or value nobody wrote, a counter bumped, a table
//! damaged, a log mangled), and the checker must name the violation. The
//! undoctored copy, and an op in flight applied or not, must pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use strata::{Db, Options};
use strata_stress::{
    Checker, ChildConfig, RoundReport, Strategy, Sync, Violation, ViolationKind, db_dir, run_child,
};

const THREADS: usize = 3;

/// The pristine work directory, made once: three threads, 400 steps each.
fn pristine() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let cfg = ChildConfig {
            work: dir.path().to_path_buf(),
            seed: 99,
            round: 0,
            strategy: Strategy::Leveled,
            sync: Sync::Never,
            threads: THREADS,
            steps_per_thread: Some(400),
            max_duration: Duration::from_secs(120),
        };
        let done = run_child(&cfg).unwrap();
        assert!(done.writes > 500, "{done:?}");
        dir
    })
    .path()
}

/// A private copy of the pristine work directory.
fn copy() -> tempfile::TempDir {
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_tree(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy_tree(pristine(), dir.path());
    dir
}

fn check(work: &Path) -> Result<RoundReport, Violation> {
    Checker::new(work, THREADS, Strategy::Leveled).check_round(0)
}

fn expect(work: &Path, kind: ViolationKind) -> Violation {
    let v = check(work).expect_err("the doctored directory must fail the check");
    assert_eq!(v.kind, kind, "{v}");
    v
}

fn open(work: &Path) -> Db {
    Db::open(db_dir(work), Options::default().auto_compaction(false)).unwrap()
}

fn log_path(work: &Path, thread: usize) -> PathBuf {
    work.join("expected/round-000000")
        .join(format!("thread-{thread:02}.log"))
}

fn append_to_log(work: &Path, thread: usize, lines: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(log_path(work, thread))
        .unwrap();
    f.write_all(lines.as_bytes()).unwrap();
}

/// The number of the thread's last op (the run ended cleanly: acknowledged).
fn last_op(work: &Path, thread: usize) -> u64 {
    let text = std::fs::read_to_string(log_path(work, thread)).unwrap();
    let last = text.lines().rev().find(|l| l.starts_with("A ")).unwrap();
    last.split(' ').nth(1).unwrap().parse().unwrap()
}

/// A present key of `thread` under `sub` (`k` plain, `g` groups).
fn present_key(db: &Db, thread: usize, sub: &str) -> Vec<u8> {
    let (k, _) = db
        .prefix(format!("t{thread:02}/{sub}"))
        .next()
        .expect("the workload left such a key")
        .unwrap();
    k.to_vec()
}

#[test]
fn the_undoctored_directory_passes() {
    let work = copy();
    let report = check(work.path()).unwrap();
    assert!(report.acked_ops > 500, "{report:?}");
    assert_eq!(report.in_flight, 0);
}

#[test]
fn a_dropped_acknowledged_delete_is_reported() {
    let work = copy();
    let db = open(work.path());
    let key = present_key(&db, 0, "k");
    db.close().unwrap();
    // The log says the delete was acknowledged; the database never got it.
    let n = last_op(work.path(), 0) + 1;
    let key = String::from_utf8(key).unwrap();
    append_to_log(work.path(), 0, &format!("I {n} del {key}\nA {n}\n"));
    let v = expect(work.path(), ViolationKind::LostWrite);
    assert!(v.detail.contains(&key), "{v}");
}

#[test]
fn a_lost_acknowledged_put_is_reported() {
    let work = copy();
    let db = open(work.path());
    let key = present_key(&db, 1, "k");
    db.delete(&key).unwrap();
    db.close().unwrap();
    let v = expect(work.path(), ViolationKind::LostWrite);
    assert!(v.detail.contains(&*String::from_utf8_lossy(&key)), "{v}");
}

#[test]
fn a_half_applied_batch_is_reported() {
    let work = copy();
    let db = open(work.path());
    let key = present_key(&db, 2, "g");
    db.delete(&key).unwrap();
    db.close().unwrap();
    expect(work.path(), ViolationKind::HalfAppliedBatch);
}

#[test]
fn a_value_nobody_wrote_is_reported() {
    let work = copy();
    let db = open(work.path());
    let key = present_key(&db, 0, "k");
    db.put(&key, "forged").unwrap();
    db.close().unwrap();
    expect(work.path(), ViolationKind::NeverWritten);
}

#[test]
fn a_key_outside_the_key_space_is_reported() {
    let work = copy();
    let db = open(work.path());
    db.put("zz/stray", "x").unwrap();
    db.close().unwrap();
    let v = expect(work.path(), ViolationKind::NeverWritten);
    assert!(v.detail.contains("zz/stray"), "{v}");
}

#[test]
fn a_counter_off_by_one_is_reported() {
    let work = copy();
    let db = open(work.path());
    db.increment("ctr/0", 1).unwrap();
    db.close().unwrap();
    expect(work.path(), ViolationKind::Counter);
}

#[test]
fn a_damaged_table_is_reported() {
    let work = copy();
    let db_path = db_dir(work.path());
    let table = std::fs::read_dir(&db_path)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sst"))
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .expect("the workload flushed tables");
    let mut bytes = std::fs::read(&table).unwrap();
    bytes[100] ^= 0x40;
    std::fs::write(&table, bytes).unwrap();
    let v = expect(work.path(), ViolationKind::Verify);
    assert!(
        v.detail
            .contains(&*table.file_name().unwrap().to_string_lossy()),
        "{v}"
    );
}

#[test]
fn a_mangled_log_is_reported() {
    let work = copy();
    append_to_log(work.path(), 1, "A 999999\n");
    expect(work.path(), ViolationKind::ExpectedLog);
}

#[test]
fn an_op_in_flight_may_be_applied_or_not() {
    // Not applied: the log ends with an intent the database never saw.
    let work = copy();
    let db = open(work.path());
    let key = String::from_utf8(present_key(&db, 0, "k")).unwrap();
    db.close().unwrap();
    let n = last_op(work.path(), 0) + 1;
    append_to_log(work.path(), 0, &format!("I {n} del {key}\n"));
    let report = check(work.path()).unwrap();
    assert_eq!((report.in_flight, report.in_flight_applied), (1, 0));

    // Applied: the database has it.
    let db = open(work.path());
    db.delete(&key).unwrap();
    db.close().unwrap();
    let report = check(work.path()).unwrap();
    assert_eq!((report.in_flight, report.in_flight_applied), (1, 1));

    // An increment in flight, applied.
    let work = copy();
    let n = last_op(work.path(), 1) + 1;
    append_to_log(work.path(), 1, &format!("I {n} incr ctr/3 5\n"));
    let db = open(work.path());
    db.increment("ctr/3", 5).unwrap();
    db.close().unwrap();
    let report = check(work.path()).unwrap();
    assert_eq!((report.in_flight, report.in_flight_applied), (1, 1));
}
