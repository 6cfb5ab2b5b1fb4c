//! [`Summary`] of a crash-test run and the [`Failure`] that ends one.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::{Kill, RunConfig};
use crate::check::RoundReport;
use crate::config::{Strategy, Sync};
use crate::violation::{Violation, ViolationKind};

/// Totals of one strategy × sync combination.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ComboSummary {
    /// The compaction strategy.
    pub strategy: Strategy,
    /// The sync policy.
    pub sync: Sync,
    /// Children killed and verified.
    pub kills: u64,
    /// Acknowledged writes verified.
    pub acked_ops: u64,
    /// Ops in flight at a kill.
    pub in_flight: u64,
    /// Of those, found applied.
    pub in_flight_applied: u64,
    /// Kills that left a torn WAL tail.
    pub torn_wal_tails: u64,
    /// Kills that cut a flush or compaction (left a table no manifest names).
    pub cut_table_writes: u64,
    /// Flushes the children reported (a lower bound).
    pub flushes: u64,
    /// Compactions the children reported (a lower bound).
    pub compactions: u64,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Children killed and verified, in total.
    pub kills: u64,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
    /// The run's seed.
    pub seed: u64,
    /// Worker threads per child.
    pub threads: usize,
    /// Per combination, in the order given.
    pub combos: Vec<ComboSummary>,
}

impl Summary {
    pub(super) fn new(cfg: &RunConfig) -> Self {
        Self {
            kills: 0,
            elapsed: Duration::ZERO,
            seed: cfg.seed,
            threads: cfg.threads,
            combos: cfg
                .combos
                .iter()
                .map(|&(strategy, sync)| ComboSummary {
                    strategy,
                    sync,
                    kills: 0,
                    acked_ops: 0,
                    in_flight: 0,
                    in_flight_applied: 0,
                    torn_wal_tails: 0,
                    cut_table_writes: 0,
                    flushes: 0,
                    compactions: 0,
                })
                .collect(),
        }
    }

    pub(super) fn add(&mut self, combo: usize, r: &RoundReport, elapsed: Duration) {
        self.elapsed = elapsed;
        if let Some(c) = self.combos.get_mut(combo) {
            c.kills += 1;
            c.acked_ops += r.acked_ops;
            c.in_flight += r.in_flight;
            c.in_flight_applied += r.in_flight_applied;
            c.torn_wal_tails += u64::from(r.torn_wal_tail);
            c.cut_table_writes += u64::from(r.leftover_tables > 0);
            c.flushes += r.flushes;
            c.compactions += r.compactions;
        }
    }

    /// Acknowledged writes verified, in total.
    pub fn acked_ops(&self) -> u64 {
        self.combos.iter().map(|c| c.acked_ops).sum()
    }
}

impl fmt::Display for Summary {
    /// A table per combination, then the totals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "\n{:<18} {:>6} {:>11} {:>11} {:>8} {:>9} {:>9} {:>11}",
            "strategy-sync",
            "kills",
            "acked ops",
            "in flight",
            "torn WAL",
            "cut table",
            "flushes",
            "compactions"
        )?;
        for c in &self.combos {
            writeln!(
                f,
                "{:<18} {:>6} {:>11} {:>11} {:>8} {:>9} {:>9} {:>11}",
                format!("{}-{}", c.strategy, c.sync),
                c.kills,
                c.acked_ops,
                format!("{}/{}", c.in_flight_applied, c.in_flight),
                c.torn_wal_tails,
                c.cut_table_writes,
                c.flushes,
                c.compactions
            )?;
        }
        writeln!(
            f,
            "strata-stress: {} kills, {} acknowledged ops verified, 0 violations, {:.1} s (seed {}, {} threads per child)",
            self.kills,
            self.acked_ops(),
            self.elapsed.as_secs_f64(),
            self.seed,
            self.threads
        )
    }
}

/// The first violation of a run, and where to look.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Failure {
    /// What was broken.
    pub violation: Violation,
    /// The run so far (kills before this one all verified).
    pub summary: Summary,
    /// The kill that failed: strategy, sync, round, child seed, run time.
    pub context: Option<String>,
    /// The combination's work directory: `db/` is the directory as the
    /// child left it, `check/` the checker's recovered copy,
    /// `expected/round-N/` the logs and the child's stderr.
    pub work: Option<PathBuf>,
    /// A command that replays the run's sequence of children up to here.
    pub repro: String,
}

impl Failure {
    pub(super) fn new(
        cfg: &RunConfig,
        summary: &Summary,
        kill: &Kill,
        work: &std::path::Path,
        violation: Violation,
    ) -> Self {
        Self {
            violation,
            summary: summary.clone(),
            context: Some(format!(
                "kill {} ({}-{} round {}, child seed {}, killed after {} ms)",
                summary.kills + 1,
                kill.strategy,
                kill.sync,
                kill.round,
                kill.child_seed,
                kill.run_ms
            )),
            work: Some(work.to_path_buf()),
            repro: repro(cfg, summary.kills + 1),
        }
    }

    pub(super) fn harness(cfg: &RunConfig, summary: &Summary, violation: Violation) -> Self {
        Self {
            violation,
            summary: summary.clone(),
            context: None,
            work: None,
            repro: repro(cfg, summary.kills + 1),
        }
    }
}

fn repro(cfg: &RunConfig, kills: u64) -> String {
    fn distinct<T: PartialEq + ToString>(items: impl Iterator<Item = T>) -> String {
        let mut seen: Vec<T> = Vec::new();
        for item in items {
            if !seen.contains(&item) {
                seen.push(item);
            }
        }
        seen.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
    format!(
        "strata-stress run --dir NEW_DIR --kills {kills} --seed {} --threads {} --min-ms {} --max-ms {} --strategy {} --sync {}",
        cfg.seed,
        cfg.threads,
        cfg.child_ms.start(),
        cfg.child_ms.end(),
        distinct(cfg.combos.iter().map(|(s, _)| *s)),
        distinct(cfg.combos.iter().map(|(_, y)| *y)),
    )
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.violation.kind == ViolationKind::Harness {
            return writeln!(f, "ERROR: {}", self.violation.detail);
        }
        writeln!(f, "VIOLATION: {}", self.violation)?;
        if let Some(c) = &self.context {
            writeln!(f, "  at {c}")?;
        }
        if let Some(w) = &self.work {
            writeln!(
                f,
                "  kept for inspection: {} (db/ as the child left it, check/ the recovered copy, expected/ the logs)",
                w.display()
            )?;
        }
        writeln!(
            f,
            "  after {} verified kills, {} acknowledged ops, {:.1} s",
            self.summary.kills,
            self.summary.acked_ops(),
            self.summary.elapsed.as_secs_f64()
        )?;
        writeln!(
            f,
            "  replay the same children (kill timing differs): {}",
            self.repro
        )
    }
}
