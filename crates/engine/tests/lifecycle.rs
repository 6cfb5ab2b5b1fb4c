//! Lifecycle edges: options changed between opens, `flush()` under steady
//! writes, `close()` after a background failure, and how often the manifest
//! is rewritten.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use strata::{Db, Error, Options, SyncPolicy};
use strata_core::{FaultFs, FileSystem, FsOp};

fn options(fs: &FaultFs) -> Options {
    Options::default()
        .file_system(Arc::new(fs.clone()))
        .memtable_size(4096)
}

#[test]
fn lowering_the_value_limit_does_not_stop_recovery() {
    let fs = FaultFs::new();
    let big = vec![7u8; 10_000];
    let db = Db::open("/db", options(&fs)).unwrap();
    db.put("big", &big).unwrap();
    db.put_with_ttl("big-ttl", &big, Duration::from_secs(3600))
        .unwrap();
    db.close().unwrap();

    // The WAL is replayed into a table under the new, lower limit.
    let db = Db::open("/db", options(&fs).max_value_size(100)).unwrap();
    assert_eq!(db.get("big").unwrap().as_deref(), Some(&big[..]));
    assert_eq!(db.get("big-ttl").unwrap().as_deref(), Some(&big[..]));
    assert!(matches!(
        db.put("again", &big),
        Err(Error::InvalidArgument(_))
    ));
    db.put("small", "ok").unwrap();
    db.flush().unwrap();
    assert_eq!(db.get("big").unwrap().as_deref(), Some(&big[..]));
}

#[test]
fn flush_returns_while_writers_keep_rotating_memtables() {
    let fs = FaultFs::new();
    let db = Db::open("/db", options(&fs).max_immutable_memtables(2)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let db = db.clone();
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                db.put(format!("key{:06}", i % 5000), [1u8; 200]).unwrap();
                i += 1;
            }
        })
    };
    // Each flush must finish although the immutable queue never drains;
    // a hang fails the test at the deadline instead of hanging CI.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let flusher = {
        let db = db.clone();
        std::thread::spawn(move || {
            for _ in 0..20 {
                db.flush().unwrap();
            }
            done_tx.send(()).unwrap();
        })
    };
    let finished = done_rx.recv_timeout(Duration::from_secs(120));
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(
        finished.is_ok(),
        "flush() did not return under steady writes"
    );
    flusher.join().unwrap();
}

#[test]
fn close_reports_a_background_failure() {
    let fs = FaultFs::new();
    let opts = options(&fs).sync_policy(SyncPolicy::Interval(Duration::from_millis(5)));
    let db = Db::open("/db", opts.clone()).unwrap();
    db.put("a", "1").unwrap();
    // Every sync fails from now on: the background interval sync records it.
    fs.fail_from(FsOp::Sync, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !matches!(db.put("b", "2"), Err(Error::Background(_) | Error::Io(_))) {
        assert!(
            std::time::Instant::now() < deadline,
            "the failure never surfaced"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        db.close().is_err(),
        "close must not report a clean shutdown"
    );
    fs.clear_faults();
    let db = Db::open("/db", opts).unwrap();
    assert_eq!(db.get("a").unwrap().as_deref(), Some(&b"1"[..]));
}

fn manifests(fs: &FaultFs, dir: &Path) -> usize {
    fs.list(dir)
        .unwrap()
        .iter()
        .filter(|n| n.starts_with("MANIFEST-"))
        .count()
}

#[test]
fn a_large_manifest_is_not_rewritten_on_every_flush() {
    let fs = FaultFs::new();
    // Without compaction every table stays in L0: the state only grows.
    let db = Db::open(
        "/db",
        options(&fs)
            .manifest_rewrite_bytes(256)
            .auto_compaction(false),
    )
    .unwrap();
    let renames_before = fs.op_count(FsOp::Rename);
    let flushes = 60;
    for i in 0..flushes {
        db.put(format!("key{i:04}"), "v").unwrap();
        db.flush().unwrap();
    }
    // Every table stays in L0 (no compaction), so the state, and with it
    // each rewrite, grows; rewrites must stay rare (geometric spacing).
    let rewrites = fs.op_count(FsOp::Rename) - renames_before;
    assert!(rewrites >= 2, "the manifest was never rewritten");
    assert!(rewrites <= 12, "{rewrites} rewrites for {flushes} flushes");
    assert_eq!(manifests(&fs, Path::new("/db")), 1);
    db.close().unwrap();
    let db = Db::open("/db", options(&fs).auto_compaction(false)).unwrap();
    assert_eq!(db.stats().levels[0].files, flushes);
    assert_eq!(db.get("key0059").unwrap().as_deref(), Some(&b"v"[..]));
}

#[test]
fn reads_stay_right_with_more_than_64_overlapping_l0_tables() {
    let fs = FaultFs::new();
    let db = Db::open("/db", options(&fs).auto_compaction(false)).unwrap();
    let rounds = 70;
    for round in 0..rounds {
        // Every table covers "a".."z", so all overlap every lookup.
        db.put("a", "edge").unwrap();
        db.put("z", "edge").unwrap();
        db.put("shared", format!("{round}")).unwrap();
        db.put(format!("only{round:02}"), format!("{round}"))
            .unwrap();
        if round == 3 {
            db.delete("a").unwrap();
        }
        db.flush().unwrap();
    }
    assert_eq!(db.stats().levels[0].files, rounds);
    assert_eq!(db.get("shared").unwrap().as_deref(), Some(&b"69"[..]));
    assert_eq!(db.get("a").unwrap().as_deref(), Some(&b"edge"[..]));
    for round in 0..rounds {
        let key = format!("only{round:02}");
        let want = format!("{round}");
        assert_eq!(
            db.get(&key).unwrap().as_deref(),
            Some(want.as_bytes()),
            "{key}"
        );
    }
    assert_eq!(db.get("missing").unwrap(), None);
    // The oldest table (beyond the first 64 asked up front) still answers.
    let snapshot_free_scan: Vec<_> = db.prefix("only").map(|kv| kv.unwrap().0).collect();
    assert_eq!(snapshot_free_scan.len(), rounds);
}

#[test]
fn writes_that_never_wait_are_not_counted_as_stalls() {
    let fs = FaultFs::new();
    // A memtable that never fills: nothing can make a writer wait.
    let db = Db::open("/db", Options::default().file_system(Arc::new(fs.clone()))).unwrap();
    for i in 0..200 {
        db.put(format!("k{i}"), "v").unwrap();
    }
    let stats = db.stats();
    assert_eq!(stats.stalls, 0, "{stats:?}");
    assert!(stats.stall_time.is_zero());
}
