//! The parent: spawns a child, lets it run a random while, SIGKILLs it,
//! checks the directory it left, and repeats on the same directory until
//! enough kills or time have passed.
//!
//! With several strategy × sync combinations the kills go round-robin over
//! them; each combination has its own work directory
//! (`WORK/<strategy>-<sync>/`) and [`Checker`]. Everything random (child
//! seeds, run times) comes from one seed, so a run's sequence of children
//! can be replayed; where a kill lands is up to the scheduler.

mod summary;

use std::fs::File;
use std::io::Write;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata::Db;

pub use summary::{ComboSummary, Failure, Summary};

use crate::check::{Checker, RoundReport};
use crate::child::db_dir;
use crate::config::{Strategy, Sync, child_options};
use crate::log::round_dir;
use crate::violation::{Violation, ViolationKind};

/// When a run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this many kills (in total over the combinations).
    Kills(u64),
    /// When this much time has passed (checked between kills).
    Duration(Duration),
}

/// How a crash-test run goes.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The work directory; must be empty or absent.
    pub work: PathBuf,
    /// Strategy × sync combinations, served round-robin.
    pub combos: Vec<(Strategy, Sync)>,
    /// When to stop.
    pub stop: Stop,
    /// Seeds the child seeds and run times.
    pub seed: u64,
    /// Worker threads per child.
    pub threads: usize,
    /// How long a child runs before it is killed, in milliseconds (drawn
    /// uniformly; includes its start-up and recovery).
    pub child_ms: RangeInclusive<u64>,
    /// The `strata-stress` executable to run as `child`.
    pub child_exe: PathBuf,
}

/// Runs the crash test; writes one line per kill and the summary to `out`.
///
/// # Errors
/// A [`Failure`] naming the first violation (or harness failure), with
/// what is needed to look into it.
pub fn run(cfg: &RunConfig, out: &mut dyn Write) -> Result<Summary, Box<Failure>> {
    let start = Instant::now();
    let mut summary = Summary::new(cfg);
    let harness = |summary: &Summary, detail: String| {
        Box::new(Failure::harness(
            cfg,
            summary,
            Violation::new(ViolationKind::Harness, detail),
        ))
    };
    if cfg.combos.is_empty() {
        return Err(harness(
            &summary,
            "no strategy × sync combination to run".into(),
        ));
    }
    if std::fs::read_dir(&cfg.work).is_ok_and(|mut d| d.next().is_some()) {
        return Err(harness(
            &summary,
            format!(
                "{} is not empty: a run starts from an empty work directory",
                cfg.work.display()
            ),
        ));
    }
    let mut checkers = Vec::new();
    for &(strategy, sync) in &cfg.combos {
        let work = combo_dir(&cfg.work, strategy, sync);
        // Created here, so that every child finds a database: a kill during
        // the very first open is not what this test is about.
        Db::open(db_dir(&work), child_options(strategy, sync, cfg.seed))
            .and_then(|db| db.close())
            .map_err(|e| {
                harness(
                    &summary,
                    format!("creating the database in {}: {e}", work.display()),
                )
            })?;
        checkers.push(Checker::new(&work, cfg.threads, strategy));
    }
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut rounds = vec![0u32; cfg.combos.len()];
    let mut turn = 0usize;
    while !done(cfg.stop, summary.kills, start) {
        let combo = turn % cfg.combos.len();
        turn += 1;
        let (Some(&(strategy, sync)), Some(checker), Some(round)) = (
            cfg.combos.get(combo),
            checkers.get_mut(combo),
            rounds.get_mut(combo),
        ) else {
            break;
        };
        let kill = Kill {
            strategy,
            sync,
            round: *round,
            child_seed: rng.random(),
            run_ms: rng.random_range(cfg.child_ms.clone()),
        };
        *round += 1;
        let work = combo_dir(&cfg.work, strategy, sync);
        let fail =
            |summary: &Summary, v: Violation| Box::new(Failure::new(cfg, summary, &kill, &work, v));
        spawn_and_kill(cfg, &work, &kill).map_err(|v| fail(&summary, v))?;
        summary.kills += 1;
        let report = checker
            .check_round(kill.round)
            .map_err(|v| fail(&summary, v))?;
        summary.add(combo, &report, start.elapsed());
        let _ = writeln!(out, "{}", progress_line(&summary, &kill, &report));
        if let Some(previous) = kill.round.checked_sub(1) {
            // Keep the last round's logs only: enough to look into a failure.
            let _ = std::fs::remove_dir_all(round_dir(&work, previous));
        }
    }
    summary.elapsed = start.elapsed();
    let _ = write!(out, "{summary}");
    Ok(summary)
}

/// One child's life.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kill {
    pub(crate) strategy: Strategy,
    pub(crate) sync: Sync,
    pub(crate) round: u32,
    pub(crate) child_seed: u64,
    pub(crate) run_ms: u64,
}

/// `WORK/<strategy>-<sync>`.
pub fn combo_dir(work: &Path, strategy: Strategy, sync: Sync) -> PathBuf {
    work.join(format!("{strategy}-{sync}"))
}

fn done(stop: Stop, kills: u64, start: Instant) -> bool {
    match stop {
        Stop::Kills(n) => kills >= n,
        Stop::Duration(d) => start.elapsed() >= d,
    }
}

/// Starts the child, waits `run_ms` (it must not exit meanwhile), kills it
/// with SIGKILL (`Child::kill` on Unix) and reaps it.
fn spawn_and_kill(cfg: &RunConfig, work: &Path, kill: &Kill) -> Result<(), Violation> {
    let harness = |what: &str, e: std::io::Error| {
        Violation::new(ViolationKind::Harness, format!("{what}: {e}"))
    };
    let logs = round_dir(work, kill.round);
    std::fs::create_dir_all(&logs).map_err(|e| harness("creating the round directory", e))?;
    let stderr_path = logs.join("child.stderr");
    let stderr =
        File::create(&stderr_path).map_err(|e| harness("creating the child's stderr file", e))?;
    let max_ms = cfg.child_ms.end().saturating_add(60_000);
    let mut child = Command::new(&cfg.child_exe)
        .arg("child")
        .arg("--dir")
        .arg(work)
        .args(["--seed", &kill.child_seed.to_string()])
        .args(["--round", &kill.round.to_string()])
        .args(["--strategy", &kill.strategy.to_string()])
        .args(["--sync", &kill.sync.to_string()])
        .args(["--threads", &cfg.threads.to_string()])
        .args(["--max-ms", &max_ms.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| harness(&format!("spawning {}", cfg.child_exe.display()), e))?;
    let deadline = Instant::now() + Duration::from_millis(kill.run_ms);
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Ok(Some(status)) => {
                let said = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                return Err(Violation::new(
                    ViolationKind::Child,
                    format!(
                        "the child exited on its own ({status}) before the kill; its stderr:\n{}",
                        said.trim_end()
                    ),
                ));
            }
            Err(e) => return Err(harness("waiting for the child", e)),
        }
    }
    child.kill().map_err(|e| harness("killing the child", e))?;
    child.wait().map_err(|e| harness("reaping the child", e))?;
    Ok(())
}

fn progress_line(summary: &Summary, kill: &Kill, report: &RoundReport) -> String {
    let mut notes = Vec::new();
    if report.torn_wal_tail {
        notes.push("torn WAL tail".to_owned());
    }
    if report.leftover_tables > 0 {
        notes.push(format!("{} cut table(s)", report.leftover_tables));
    }
    if report.leftover_other > 0 {
        notes.push(format!("{} other leftover(s)", report.leftover_other));
    }
    format!(
        "kill {:>5} {}-{} round {:>4}: ran {:>4} ms, {:>6} acked ops ok, {}/{} in flight applied, {} live tables, {} flushes, {} compactions{}{}",
        summary.kills,
        kill.strategy,
        kill.sync,
        kill.round,
        kill.run_ms,
        report.acked_ops,
        report.in_flight_applied,
        report.in_flight,
        report.live_tables,
        report.flushes,
        report.compactions,
        if notes.is_empty() { "" } else { "; " },
        notes.join(", ")
    )
}
