//! [`Checker`]: verifies the data directory a killed child left against the
//! expected-state logs, round after round.
//!
//! The checker holds the verified state after the previous round (every
//! thread's keys, every counter). For a round it:
//! 1. waits until every short-TTL value has surely expired;
//! 2. copies `WORK/db` to `WORK/check` (the next child recovers the
//!    original itself, so recovery of a crashed directory, and crashes
//!    during it, happen in the child too);
//! 3. runs `strata::verify` on the crashed copy: no problem allowed (a torn
//!    WAL tail and leftover files are warnings: a crash leaves them);
//! 4. opens the copy and reads everything: a forward scan, a reverse scan
//!    and a get of every key must agree, keys strictly ascending;
//! 5. checks that every batch group is whole, that each thread's keys equal
//!    the model after its acknowledged ops (or after those and its op in
//!    flight), that each counter equals its acknowledged increments (plus
//!    some of those in flight), and that no key outside the key space exists;
//! 6. closes the copy and runs `strata::verify` again (the recovered
//!    directory must be clean too), then adopts the state found as the
//!    model for the next round.
//!
//! On a violation the copy and `WORK/db` are left as they are, for
//! inspection.

mod counters;
mod read;
mod thread;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use strata::{Db, FileKind, FileStatus, VerifyReport};

use crate::child::db_dir;
use crate::config::{Strategy, checker_options};
use crate::keyspace::{
    COUNTER_PREFIX, COUNTERS, GROUP_KEYS, OpId, counter_key, decode_value, group_of, thread_prefix,
};
use crate::log::{ThreadLog, round_dir, thread_log_path};
use crate::op::{KeyMap, MAX_SHORT_TTL_MS};
use crate::violation::{Violation, ViolationKind};

/// What one verified round found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoundReport {
    /// Acknowledged writes whose effect was verified.
    pub acked_ops: u64,
    /// Ops in flight when the child died (at most one per thread).
    pub in_flight: u64,
    /// Of those, the ones found applied (an op whose effect cannot be told
    /// apart, such as deleting an absent key, counts as not applied).
    pub in_flight_applied: u64,
    /// Keys compared (present or expected).
    pub keys_checked: u64,
    /// The crashed directory had a torn WAL tail (a kill mid-append).
    pub torn_wal_tail: bool,
    /// Tables no manifest references in the crashed directory: a flush or
    /// compaction was cut short by the kill.
    pub leftover_tables: u64,
    /// Other leftovers (old WALs or manifests, temporary files).
    pub leftover_other: u64,
    /// Live tables after recovery.
    pub live_tables: u64,
    /// Flushes the child reported (sampled every 50 ms: a lower bound).
    pub flushes: u64,
    /// Compactions the child reported (sampled likewise).
    pub compactions: u64,
}

/// Verifies rounds of one work directory in order; see the module doc.
#[derive(Debug)]
pub struct Checker {
    work: PathBuf,
    threads: usize,
    strategy: Strategy,
    /// The verified state of every thread's keys.
    keys: KeyMap,
    /// The verified value of every counter ever written.
    counters: BTreeMap<String, i64>,
}

impl Checker {
    /// A checker for a work directory whose database is empty.
    pub fn new(work: &Path, threads: usize, strategy: Strategy) -> Self {
        Self {
            work: work.to_path_buf(),
            threads,
            strategy,
            keys: KeyMap::new(),
            counters: BTreeMap::new(),
        }
    }

    /// Checks the directory after round `round` (the child is dead), and on
    /// success adopts the state found for the next round.
    ///
    /// # Errors
    /// The first [`Violation`] found.
    pub fn check_round(&mut self, round: u32) -> Result<RoundReport, Violation> {
        // Every short-TTL put was issued before now, so it expires by now
        // plus its TTL; one more millisecond covers clock truncation.
        std::thread::sleep(Duration::from_millis(MAX_SHORT_TTL_MS + 2));
        let logs = (0..self.threads)
            .map(|t| ThreadLog::read(&thread_log_path(&self.work, round, t)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut report = RoundReport::default();
        read_child_stats(&round_dir(&self.work, round).join("stats"), &mut report);

        let check = self.work.join("check");
        copy_dir(&db_dir(&self.work), &check)?;
        let crashed = run_verify(&check, "the crashed directory")?;
        count_leftovers(&crashed, &mut report);

        let db = while_locked(|| Db::open(&check, checker_options(self.strategy)))
            .map_err(|e| engine("opening the crashed directory", &e))?;
        let state = self.check_open_db(&db, round, &logs, &mut report);
        let closed = db
            .close()
            .map_err(|e| engine("closing the recovered directory", &e));
        let (keys, counters) = state?;
        closed?;
        let recovered = run_verify(&check, "the recovered directory")?;
        report.live_tables = recovered
            .files
            .iter()
            .filter(|f| f.kind == FileKind::Table && f.level.is_some())
            .count() as u64;

        self.keys = keys;
        self.counters = counters;
        let _ = std::fs::remove_dir_all(&check);
        Ok(report)
    }

    /// The checks that need the open database; returns the state found.
    fn check_open_db(
        &self,
        db: &Db,
        round: u32,
        logs: &[ThreadLog],
        report: &mut RoundReport,
    ) -> Result<(KeyMap, BTreeMap<String, i64>), Violation> {
        let expected_keys = self.keys.keys().cloned();
        let found = read::read_all(db, expected_keys)?;
        report.keys_checked = found.len().max(self.keys.len()) as u64;
        check_groups_whole(&found)?;

        let mut keys = KeyMap::new();
        for (t, log) in logs.iter().enumerate() {
            let prefix = thread_prefix(t);
            let base = sub_map(&self.keys, &prefix);
            let seen = sub_map(&found, &prefix);
            let outcome = thread::check_thread(t, round, &base, log, &seen)?;
            report.acked_ops += log.acked.len() as u64;
            if log.in_flight.is_some() {
                report.in_flight += 1;
            }
            if outcome.in_flight_applied {
                report.in_flight_applied += 1;
            }
            keys.extend(outcome.state);
        }
        let counters = counters::check_counters(&self.counters, logs, &found, report)?;
        check_no_strays(&found, self.threads)?;
        Ok((keys, counters))
    }
}

/// Every batch group in `found` is whole: all its keys present, written by
/// one op, or none present. Needs no model: groups are only written whole.
fn check_groups_whole(found: &KeyMap) -> Result<(), Violation> {
    let mut groups: BTreeMap<&[u8], Vec<Option<OpId>>> = BTreeMap::new();
    for (k, v) in found {
        if let Some(g) = group_of(k) {
            groups.entry(g).or_default().push(decode_value(k, v));
        }
    }
    for (group, ids) in groups {
        let first = ids.first().copied().flatten();
        if ids.len() != GROUP_KEYS as usize || first.is_none() || ids.iter().any(|i| *i != first) {
            let shown: Vec<String> = ids
                .iter()
                .map(|i| i.map_or_else(|| "?".to_owned(), |i| i.to_string()))
                .collect();
            return Err(Violation::new(
                ViolationKind::HalfAppliedBatch,
                format!(
                    "batch group {} has {} of its {GROUP_KEYS} keys, written by ops [{}]; a batch writes all of them",
                    String::from_utf8_lossy(group),
                    ids.len(),
                    shown.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Every key found belongs to a thread of this run or is a counter.
fn check_no_strays(found: &KeyMap, threads: usize) -> Result<(), Violation> {
    let owned = |k: &[u8]| (0..threads).any(|t| k.starts_with(thread_prefix(t).as_bytes()));
    let counter = |k: &[u8]| (0..COUNTERS).any(|c| k == counter_key(c).as_bytes());
    match found.iter().find(|(k, _)| !owned(k) && !counter(k)) {
        None => Ok(()),
        Some((k, v)) => Err(Violation::new(
            ViolationKind::NeverWritten,
            format!(
                "key {} ({} value bytes) is outside the key space: no thread or counter ({COUNTER_PREFIX}N) owns it",
                String::from_utf8_lossy(k),
                v.len()
            ),
        )),
    }
}

/// The entries of `map` whose key starts with `prefix`.
fn sub_map(map: &KeyMap, prefix: &str) -> KeyMap {
    map.range(prefix.as_bytes().to_vec()..)
        .take_while(|(k, _)| k.starts_with(prefix.as_bytes()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn engine(what: &str, e: &strata::Error) -> Violation {
    Violation::new(ViolationKind::Engine, format!("{what}: {e}"))
}

/// `strata::verify` of `dir`; any problem is a violation.
fn run_verify(dir: &Path, what: &str) -> Result<VerifyReport, Violation> {
    let report = while_locked(|| strata::verify(dir))
        .map_err(|e| engine(&format!("verifying {what}"), &e))?;
    if report.is_ok() {
        return Ok(report);
    }
    let problems: Vec<String> = report.problems().map(ToString::to_string).collect();
    Err(Violation::new(
        ViolationKind::Verify,
        format!(
            "strata::verify of {what} ({}):\n  {}",
            dir.display(),
            problems.join("\n  ")
        ),
    ))
}

/// Runs `f` again while it fails with `Locked`, for up to about 2 s.
///
/// The checker's own handles are closed before the next one opens, but a
/// process spawned by another thread of this process (the crash tests run
/// several stress runs at once) holds a copy of every open descriptor
/// from its fork until its exec, and with it any `flock` the directory's
/// lock file carried; the lock is released a moment later. A directory
/// still locked after 2 s is a real error.
fn while_locked<T>(mut f: impl FnMut() -> strata::Result<T>) -> strata::Result<T> {
    let mut tries = 0;
    loop {
        match f() {
            Err(strata::Error::Locked { .. }) if tries < 200 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

fn count_leftovers(report: &VerifyReport, round: &mut RoundReport) {
    for file in report.warnings() {
        let FileStatus::Warning { reason, .. } = &file.status else {
            continue;
        };
        match file.kind {
            FileKind::Wal if reason.starts_with("torn tail") => round.torn_wal_tail = true,
            FileKind::Table => round.leftover_tables += 1,
            _ => round.leftover_other += 1,
        }
    }
}

/// Reads the child's last `flushes=N compactions=M` line, if readable.
fn read_child_stats(path: &Path, report: &mut RoundReport) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    for word in text.split_whitespace() {
        match word.split_once('=') {
            Some(("flushes", n)) => report.flushes = n.parse().unwrap_or(0),
            Some(("compactions", n)) => report.compactions = n.parse().unwrap_or(0),
            _ => {}
        }
    }
}

/// Replaces `to` with a copy of every file in `from` (a flat directory).
fn copy_dir(from: &Path, to: &Path) -> Result<(), Violation> {
    let io = |what: &str, e: std::io::Error| {
        Violation::new(ViolationKind::Harness, format!("{what}: {e}"))
    };
    if to.exists() {
        std::fs::remove_dir_all(to).map_err(|e| io("removing the old check copy", e))?;
    }
    std::fs::create_dir_all(to).map_err(|e| io("creating the check copy", e))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| io(&format!("listing {}", from.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io("listing the database", e))?;
        if entry.file_type().map_err(|e| io("stat", e))?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))
                .map_err(|e| io(&format!("copying {}", entry.path().display()), e))?;
        }
    }
    Ok(())
}
