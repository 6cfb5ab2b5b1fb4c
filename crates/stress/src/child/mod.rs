//! The child: opens the database and runs the mixed workload from several
//! threads until it is killed (or, for tests, until each thread has done a
//! given number of steps), logging every write to the expected-state log.
//!
//! Each worker thread owns its keys (`tNN/...`) and keeps a model of them,
//! so it also checks its own reads while it runs: gets and scans of its keys
//! must match the model exactly, scans of another thread's keys must be in
//! order with every batch group whole, counters never go backwards. A
//! failed check ends the child with a [`Violation`](crate::Violation).
//!
//! A housekeeping thread samples the engine's stats for the parent and,
//! under time-window compaction, runs a full manual compaction whenever the
//! tree holds more than [`MAX_WINDOW_TABLES`] tables.

mod own;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use strata::Db;

use crate::config::{Strategy, Sync, child_options};
use crate::keyspace::MAX_THREADS;
use crate::log::round_dir;
use worker::Worker;

/// How a child runs.
#[derive(Debug, Clone)]
pub struct ChildConfig {
    /// The work directory: the database is `WORK/db`, the logs
    /// `WORK/expected/round-RRRRRR/`.
    pub work: PathBuf,
    /// Seeds every thread's choices (and the compression of new tables).
    pub seed: u64,
    /// The round: part of every value written, so values of different
    /// children never collide. Each round is run once.
    pub round: u32,
    /// The compaction strategy.
    pub strategy: Strategy,
    /// The WAL sync policy.
    pub sync: Sync,
    /// Worker threads (1 to [`MAX_THREADS`]).
    pub threads: usize,
    /// Stop cleanly (and close the database) after this many steps per
    /// thread; `None` runs until killed or `max_duration`.
    pub steps_per_thread: Option<u64>,
    /// Stop cleanly after this long whatever happens, so a child whose
    /// parent died does not run forever.
    pub max_duration: Duration,
}

/// What a child that stopped on its own did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChildSummary {
    /// Writes acknowledged, over all threads.
    pub writes: u64,
    /// Reads checked against the threads' models.
    pub reads_checked: u64,
}

/// The database directory inside a work directory.
pub fn db_dir(work: &Path) -> PathBuf {
    work.join("db")
}

/// Runs the workload. Returns when every thread has done its steps or
/// `max_duration` passed (never, in a crash test: the parent kills first).
///
/// # Errors
/// A [`Violation`](crate::Violation) (downcast the error) if a check of
/// the child's own reads failed; any other error if the engine or the log
/// failed.
pub fn run_child(cfg: &ChildConfig) -> anyhow::Result<ChildSummary> {
    anyhow::ensure!(
        (1..=MAX_THREADS).contains(&cfg.threads),
        "threads must be within 1..={MAX_THREADS}"
    );
    let logs = round_dir(&cfg.work, cfg.round);
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let db_path = db_dir(&cfg.work);
    let db = Db::open(&db_path, child_options(cfg.strategy, cfg.sync, cfg.seed))
        .with_context(|| format!("opening {}", db_path.display()))?;

    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + cfg.max_duration;
    let outcome = std::thread::scope(|s| {
        let housekeeper = s.spawn(|| {
            let compact_above = (cfg.strategy == Strategy::Window).then_some(MAX_WINDOW_TABLES);
            let result = housekeeping(&db, &logs.join("stats"), compact_above, &stop, deadline);
            if result.is_err() {
                stop.store(true, Ordering::SeqCst);
            }
            result
        });
        let workers: Vec<_> = (0..cfg.threads)
            .map(|t| {
                let db = &db;
                let stop = &stop;
                s.spawn(move || -> anyhow::Result<ChildSummary> {
                    let result = Worker::new(db, cfg, t).and_then(|mut w| w.run(stop, deadline));
                    if result.is_err() {
                        // One failure ends the run: the others stop too.
                        stop.store(true, Ordering::SeqCst);
                    }
                    result
                })
            })
            .collect();
        let mut total = ChildSummary::default();
        let mut first_error = None;
        for w in workers {
            match w.join() {
                Ok(Ok(s)) => {
                    total.writes += s.writes;
                    total.reads_checked += s.reads_checked;
                }
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(_) => {
                    first_error.get_or_insert(anyhow::anyhow!("a worker thread panicked"));
                }
            }
        }
        stop.store(true, Ordering::SeqCst);
        match housekeeper.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(_) => {
                first_error.get_or_insert(anyhow::anyhow!("the housekeeping thread panicked"));
            }
        }
        first_error.map_or(Ok(total), Err)
    });
    let closed = db.close().context("closing the database");
    let summary = outcome?;
    closed?;
    Ok(summary)
}

/// Under time-window compaction, more tables than this and the
/// housekeeping thread compacts everything. Time-window keeps one table per
/// closed window by design (whole tables expire together), and with 500 ms
/// windows and this workload's mostly non-expiring data that is two or
/// three tables per child run, hundreds after a hundred kills, which slows
/// every read and so the test; an operator would widen the windows or
/// compact, and the child compacts. It also puts kills in the middle of
/// manual compactions. Leveled and size-tiered keep their table count
/// bounded on their own (size-tiered by its run-count rule: a 60-kill run
/// stayed at 6 to 9 tables, where it reached 190 to 280 before).
const MAX_WINDOW_TABLES: usize = 48;

/// Every 50 ms: writes `flushes=N compactions=M` to `path`, so the parent
/// can tell how much background work the killed child did, and compacts
/// the whole tree when it holds more than `compact_above` tables.
fn housekeeping(
    db: &Db,
    path: &Path,
    compact_above: Option<usize>,
    stop: &AtomicBool,
    deadline: Instant,
) -> anyhow::Result<()> {
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        let stats = db.stats();
        let compactions: u64 = stats.compactions.values().sum();
        // A kill mid-write leaves a file the parent cannot parse and skips.
        let _ = std::fs::write(
            path,
            format!("flushes={} compactions={compactions}\n", stats.flushes),
        );
        let tables: usize = stats.levels.iter().map(|l| l.files).sum();
        if compact_above.is_some_and(|max| tables > max) {
            db.compact()
                .with_context(|| format!("housekeeping compaction of {tables} tables"))?;
        }
    }
    Ok(())
}
