//! Group commit: many threads append concurrently, one fsync covers a whole
//! group, every acknowledged record is durable, and a failed write or sync
//! reaches every writer of its group and stops the log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use strata_core::{FileSystem, FsOp, WritableFile};
use strata_wal::{LogWriter, RecoveryMode, SyncPolicy, Wal};

use common::{fault_fs, read_path};

/// A file whose sync takes as long as a real disk flush, so that writers
/// pile up behind the leader as they do in production.
struct SlowSync(Box<dyn WritableFile>);

impl WritableFile for SlowSync {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.append(data)
    }
    fn sync(&mut self) -> io::Result<()> {
        thread::sleep(Duration::from_micros(500));
        self.0.sync()
    }
    fn len(&self) -> u64 {
        self.0.len()
    }
}

fn rec(thread: usize, i: usize) -> Vec<u8> {
    format!("thread {thread} record {i:04} {}", "x".repeat(i % 50)).into_bytes()
}

#[test]
fn eight_threads_share_fsyncs_and_every_record_survives_power_loss() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 200;
    let (fs, path) = fault_fs();
    let file = Box::new(SlowSync(fs.create(&path).unwrap()));
    fs.sync_dir(Path::new("/db")).unwrap();
    let wal = Arc::new(Wal::new(LogWriter::new(file), SyncPolicy::Always));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (wal, barrier) = (Arc::clone(&wal), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                for i in 0..PER_THREAD {
                    wal.append(&rec(t, i)).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stats = wal.stats();
    let total = (THREADS * PER_THREAD) as u64;
    assert_eq!(stats.records, total);
    assert_eq!(stats.syncs, stats.appends, "Always syncs every group");
    assert!(
        stats.syncs < total / 2,
        "group commit should share syncs: {stats:?}"
    );
    assert_eq!(fs.op_count(FsOp::Sync), stats.syncs);
    eprintln!("{total} records, {} groups/syncs", stats.syncs);

    fs.power_loss();
    let (got, result, _) = read_path(&fs, &path, RecoveryMode::Strict);
    result.unwrap();
    assert_eq!(got.len() as u64, total);
    // Each thread's records are present, in its own order.
    for t in 0..THREADS {
        let prefix = format!("thread {t} ");
        let mine: Vec<_> = got
            .iter()
            .filter(|r| r.starts_with(prefix.as_bytes()))
            .collect();
        let expected: Vec<_> = (0..PER_THREAD).map(|i| rec(t, i)).collect();
        assert_eq!(mine.len(), PER_THREAD);
        assert!(mine.iter().zip(&expected).all(|(a, b)| *a == b));
    }
}

#[test]
fn append_with_orders_the_log_like_the_closures() {
    let (fs, path) = fault_fs();
    let wal = Arc::new(Wal::new(
        LogWriter::new(fs.create(&path).unwrap()),
        SyncPolicy::Never,
    ));
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (wal, counter) = (Arc::clone(&wal), Arc::clone(&counter));
            thread::spawn(move || {
                for _ in 0..100 {
                    wal.append_with(|buf| {
                        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        buf.extend_from_slice(&n.to_le_bytes());
                        Ok(())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let refused = wal.append_with(|_| -> strata_core::Result<()> {
        Err(strata_core::Error::invalid_argument("no"))
    });
    assert!(refused.is_err());
    assert!(
        !wal.has_failed(),
        "an encode error is the caller's, not the log's"
    );
    let (got, result, _) = read_path(&fs, &path, RecoveryMode::Strict);
    result.unwrap();
    let seq: Vec<u64> = got
        .iter()
        .map(|r| u64::from_le_bytes(r[..8].try_into().unwrap()))
        .collect();
    assert_eq!(seq, (0..400).collect::<Vec<_>>());
}

#[test]
fn failed_sync_fails_the_group_and_every_later_append() {
    let (fs, path) = fault_fs();
    let wal = Wal::new(
        LogWriter::new(fs.create(&path).unwrap()),
        SyncPolicy::Always,
    );
    wal.append(b"ok").unwrap();
    fs.fail_nth(FsOp::Sync, 0);
    assert!(wal.append(b"lost").is_err());
    assert!(wal.has_failed());
    // Even though the fault fired once, the log stays closed for writes.
    let appends = fs.op_count(FsOp::Append);
    assert!(wal.append(b"later").is_err());
    assert!(wal.sync().is_err());
    assert_eq!(fs.op_count(FsOp::Append), appends);
}

#[test]
fn io_error_reaches_every_concurrent_writer_and_acknowledged_records_survive() {
    const THREADS: usize = 8;
    let (fs, path) = fault_fs();
    let file = Box::new(SlowSync(fs.create(&path).unwrap()));
    fs.sync_dir(Path::new("/db")).unwrap();
    let wal = Arc::new(Wal::new(LogWriter::new(file), SyncPolicy::Always));
    fs.fail_from(FsOp::Append, 30);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let wal = Arc::clone(&wal);
            thread::spawn(move || {
                let mut acked = Vec::new();
                for i in 0..100 {
                    match wal.append(&rec(t, i)) {
                        Ok(()) => acked.push(rec(t, i)),
                        Err(e) => {
                            assert!(matches!(e, strata_core::Error::Io(_)), "{e}");
                            // After the first failure nothing more is accepted.
                            assert!(wal.append(&rec(t, 1000)).is_err());
                            return acked;
                        }
                    }
                }
                panic!("thread {t} never saw the injected failure");
            })
        })
        .collect();
    let acked: Vec<Vec<u8>> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert!(wal.has_failed());
    fs.power_loss();
    let (got, result, _) = read_path(&fs, &path, RecoveryMode::Strict);
    result.unwrap();
    for r in &acked {
        assert!(got.contains(r), "an acknowledged record was lost");
    }
    assert_eq!(
        got.len(),
        acked.len(),
        "only acknowledged records are durable"
    );
}

struct PanicOnAppend;

impl WritableFile for PanicOnAppend {
    fn append(&mut self, _: &[u8]) -> io::Result<()> {
        panic!("simulated bug in a file implementation");
    }
    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn len(&self) -> u64 {
        0
    }
}

#[test]
fn a_panicking_leader_fails_the_log_instead_of_hanging_it() {
    let wal = Arc::new(Wal::new(
        LogWriter::new(Box::new(PanicOnAppend)),
        SyncPolicy::Always,
    ));
    let w = Arc::clone(&wal);
    assert!(thread::spawn(move || w.append(b"x")).join().is_err());
    assert!(wal.has_failed());
    assert!(wal.append(b"y").is_err());
}
