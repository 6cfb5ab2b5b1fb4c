//! Regression (the crash test saw 190–280 L0 tables after 82 restarts
//! under size-tiered and time-window compaction): a restart-heavy workload
//! (open, a few hundred writes, sometimes a flush, close; the next open
//! flushes what the WAL held) makes L0 runs of all sizes. Runs of odd sizes
//! between runs they overlap shared a bucket with none of their neighbours,
//! so no bucket was ever ready and L0 grew without bound.
//!
//! The bound `docs/compaction.md` documents: once compaction has caught up,
//! L0 holds at most `max_threshold` runs under size-tiered, and at most one
//! file per closed window plus `max_threshold` runs in the current window
//! under time-window. After every cycle the test waits (up to a deadline)
//! for compaction to get there; the timer is set to an hour, so only the
//! triggers on open and after flushes can do it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata::manifest::recover;
use strata::{Clock, Db, ManualClock, Options};
use strata_core::{FaultFs, FileSystem};

use common::compaction::{tiny_size_tiered, tiny_time_window};

const DIR: &str = "/db";
/// `tiny_size_tiered`'s `max_threshold`.
const MAX_RUNS: usize = 4;
const CYCLES: u64 = 60;
const WINDOW_MS: u64 = 1000;

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `(number, size, max_seqno, window)` of each L0 table, newest first.
fn l0_tables(fs: &FaultFs) -> Vec<(u64, u64, u64, u64)> {
    let state = recover(fs, Path::new(DIR)).unwrap().state;
    let mut tables: Vec<_> = state
        .level(0)
        .unwrap()
        .iter()
        .map(|m| (m.number, m.size, m.max_seqno, m.max_time_ms / WINDOW_MS))
        .collect();
    tables.sort_by_key(|t| std::cmp::Reverse(t.2));
    tables
}

/// Runs the cycles; after each, waits until L0 holds at most `bound(closed
/// windows holding data)` tables. Returns the compactions done, by reason.
fn restart_cycles(
    opts: Options,
    clock: &ManualClock,
    bound: impl Fn(usize) -> usize,
) -> BTreeMap<String, u64> {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new(DIR)).unwrap();
    let opts = opts
        .file_system(Arc::new(fs.clone()))
        .memtable_size(16 << 10)
        .block_size(512)
        .compaction_interval(Duration::from_secs(3600));
    let mut rng = Rng(0x5eed_0b0d_1e55_0001);
    let mut windows = BTreeSet::new();
    let mut compactions = BTreeMap::new();
    for cycle in 0..CYCLES {
        let db = Db::open(DIR, opts.clone()).unwrap();
        windows.insert(clock.now_millis() / WINDOW_MS);
        // 1 to 400 writes over 300 keys: tables from a few entries (a WAL
        // replayed at open) to a full memtable.
        for _ in 0..=rng.next() % 400 {
            let r = rng.next();
            let key = format!("key-{:03}", r % 300);
            if r.is_multiple_of(11) {
                db.delete(&key).unwrap();
            } else {
                db.put(&key, format!("value {r} ").repeat(1 + (r % 5) as usize))
                    .unwrap();
            }
        }
        if rng.next().is_multiple_of(3) {
            db.flush().unwrap();
        }
        let closed_windows = windows.len() - 1;
        let limit = bound(closed_windows);
        let deadline = Instant::now() + Duration::from_secs(20);
        // A memtable filled by the writes may still be on its way to L0.
        let settled = || {
            let stats = db.stats();
            stats.immutable_memtables == 0 && stats.levels[0].files <= limit
        };
        while !settled() {
            assert!(
                Instant::now() < deadline,
                "cycle {cycle}: L0 stays above {limit} tables: {:?}",
                db.stats().levels[0]
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        for (reason, n) in db.stats().compactions {
            *compactions.entry(reason).or_insert(0) += n;
        }
        db.close().unwrap();
        let tables = l0_tables(&fs);
        assert!(tables.len() <= limit, "cycle {cycle}: {tables:?}");
        clock.advance(WINDOW_MS / 8);
    }
    eprintln!("compactions: {compactions:?}");
    compactions
}

#[test]
fn size_tiered_keeps_at_most_max_threshold_runs_across_restarts() {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let opts = Options::default()
        .clock(clock.clone())
        .compaction(tiny_size_tiered());
    let compactions = restart_cycles(opts, &clock, |_| MAX_RUNS);
    // Buckets alone could not have done it.
    assert!(compactions.get("run_count") > Some(&0), "{compactions:?}");
}

#[test]
fn time_window_keeps_one_file_per_closed_window_across_restarts() {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let opts = Options::default()
        .clock(clock.clone())
        .compaction(tiny_time_window(WINDOW_MS));
    let compactions = restart_cycles(opts, &clock, |closed| closed + MAX_RUNS);
    assert!(
        compactions.get("window_closed") > Some(&0),
        "{compactions:?}"
    );
}
