//! The compaction threads run `compaction_nice` levels below the thread
//! that opened the database; the flush thread runs alike. Linux only (the
//! option does nothing elsewhere). One test in its own binary: it finds the
//! threads by name in `/proc/self/task`, which other tests' databases in the
//! same process would confuse.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use strata::{Db, Options};

/// (name, nice value) from a `/proc/.../stat` line: "tid (name) state
/// ppid ...". The name may hold spaces and parens, so fields are counted
/// after the last ')'; nice is field 19.
fn parse_stat(stat: &str) -> (String, i32) {
    let open = stat.find('(').unwrap();
    let close = stat.rfind(')').unwrap();
    let nice = stat[close + 1..].split_whitespace().nth(16).unwrap();
    (stat[open + 1..close].to_string(), nice.parse().unwrap())
}

/// (name, nice value) of every thread of this process.
fn threads() -> Vec<(String, i32)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        // A thread that exited meanwhile has no stat to read.
        if let Ok(stat) = std::fs::read_to_string(task.unwrap().path().join("stat")) {
            out.push(parse_stat(&stat));
        }
    }
    out
}

fn nice_of(name: &str) -> Vec<i32> {
    threads()
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, nice)| nice)
        .collect()
}

/// Waits for the threads called `name` to show `want` (a new thread names
/// itself and sets its priority as it starts); returns what they last
/// showed.
fn eventually(name: &str, want: &[i32]) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = nice_of(name);
        if got == want || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn compaction_threads_run_below_the_opener_and_flush_alike() {
    // Threads inherit their creator's nice value: the database's threads
    // start from this thread's.
    let base = parse_stat(&std::fs::read_to_string("/proc/thread-self/stat").unwrap()).1;
    let lowered = (base + 5).min(19);

    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(eventually("strata-compact-", &[lowered]), [lowered]);
    // Once it has flushed, the flush thread is past anything it does at
    // start: it must still run at the opener's priority.
    db.put("k", "v").unwrap();
    db.flush().unwrap();
    assert_eq!(nice_of("strata-flush"), [base]);
    db.close().unwrap();

    let db = Db::open(
        dir.path(),
        Options::default().compaction_threads(2).compaction_nice(0),
    )
    .unwrap();
    assert_eq!(eventually("strata-compact-", &[base, base]), [base, base]);
    assert_eq!(db.get("k").unwrap().as_deref(), Some(&b"v"[..]));
    db.close().unwrap();

    let db = Db::open(dir.path(), Options::default().compaction_nice(19)).unwrap();
    assert_eq!(eventually("strata-compact-", &[19]), [19]);
    db.close().unwrap();

    let err = Db::open(dir.path(), Options::default().compaction_nice(20)).unwrap_err();
    assert!(err.to_string().contains("compaction_nice 20"), "{err}");
}
