//! `strata-stress`: the crash test of strata.
//!
//! * `strata-stress run --dir D (--kills N | --duration 2h)`: the parent:
//!   spawns `strata-stress child` on `D`, kills it with SIGKILL after a
//!   random 50 to 1500 ms, verifies the directory, repeats; over every
//!   strategy × sync combination given (default: all nine, round-robin).
//!   Exit code 0 when every kill verified, 1 on the first violation (with a
//!   report), 2 on a usage or harness error.
//! * `strata-stress child --dir D --seed S --round R --strategy S --sync P
//!   --threads N`: the workload, until killed (the parent runs it).
//!   Exit code 3 if a check of its own reads failed, 2 on an error.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use strata_stress::{ChildConfig, RunConfig, Stop, Strategy, Sync, Violation};

#[derive(Debug, Parser)]
#[command(
    name = "strata-stress",
    version,
    about = "Crash test for strata: kill -9 a writer at random moments, verify what recovery keeps"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the crash test: spawn, kill, verify, repeat.
    Run {
        /// Work directory (empty or absent); one subdirectory per combination.
        #[arg(long)]
        dir: PathBuf,
        /// Stop after this many kills in total.
        #[arg(
            long,
            conflicts_with = "duration",
            required_unless_present = "duration"
        )]
        kills: Option<u64>,
        /// Stop after this long (e.g. 90s, 30m, 2h), checked between kills.
        #[arg(long, value_parser = parse_duration)]
        duration: Option<Duration>,
        /// Compaction strategies, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "leveled,tiered,window")]
        strategy: Vec<Strategy>,
        /// Sync policies, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "always,never,interval")]
        sync: Vec<Sync>,
        /// Seed of the child seeds and run times (default: from the clock).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads per child.
        #[arg(long, default_value_t = 4)]
        threads: usize,
        /// Shortest time a child runs before the kill, in ms.
        #[arg(long, default_value_t = 50)]
        min_ms: u64,
        /// Longest time a child runs before the kill, in ms.
        #[arg(long, default_value_t = 1500)]
        max_ms: u64,
        /// Print only the summary, not a line per kill.
        #[arg(long)]
        quiet: bool,
    },
    /// The workload (spawned by `run`): runs until killed.
    Child {
        /// Work directory: the database is DIR/db, the logs DIR/expected.
        #[arg(long)]
        dir: PathBuf,
        /// Seed of the workload.
        #[arg(long)]
        seed: u64,
        /// Round number (a new one per child on a directory).
        #[arg(long, default_value_t = 0)]
        round: u32,
        /// Compaction strategy.
        #[arg(long)]
        strategy: Strategy,
        /// Sync policy.
        #[arg(long)]
        sync: Sync,
        /// Worker threads.
        #[arg(long, default_value_t = 4)]
        threads: usize,
        /// Stop cleanly after this many steps per thread.
        #[arg(long)]
        steps: Option<u64>,
        /// Stop cleanly after this many ms (a guard against orphans).
        #[arg(long, default_value_t = 60_000)]
        max_ms: u64,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run {
            dir,
            kills,
            duration,
            strategy,
            sync,
            seed,
            threads,
            min_ms,
            max_ms,
            quiet,
        } => {
            if min_ms > max_ms {
                eprintln!("strata-stress: --min-ms {min_ms} is above --max-ms {max_ms}");
                return ExitCode::from(2);
            }
            let exe = match std::env::current_exe() {
                Ok(exe) => exe,
                Err(e) => {
                    eprintln!("strata-stress: cannot find my own executable: {e}");
                    return ExitCode::from(2);
                }
            };
            let seed = seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            });
            let stop = match (kills, duration) {
                (Some(n), _) => Stop::Kills(n),
                (None, Some(d)) => Stop::Duration(d),
                (None, None) => Stop::Kills(0),
            };
            let combos = strategy
                .iter()
                .flat_map(|&s| sync.iter().map(move |&y| (s, y)))
                .collect();
            let cfg = RunConfig {
                work: dir,
                combos,
                stop,
                seed,
                threads,
                child_ms: min_ms..=max_ms,
                child_exe: exe,
            };
            println!(
                "strata-stress run: seed {seed}, work directory {}",
                cfg.work.display()
            );
            let mut out: Box<dyn std::io::Write> = if quiet {
                Box::new(std::io::sink())
            } else {
                Box::new(std::io::stdout())
            };
            match strata_stress::run(&cfg, &mut out) {
                Ok(summary) => {
                    if quiet {
                        print!("{summary}");
                    }
                    ExitCode::SUCCESS
                }
                Err(failure) => {
                    eprint!("{failure}");
                    if failure.violation.kind == strata_stress::ViolationKind::Harness {
                        ExitCode::from(2)
                    } else {
                        ExitCode::from(1)
                    }
                }
            }
        }
        Command::Child {
            dir,
            seed,
            round,
            strategy,
            sync,
            threads,
            steps,
            max_ms,
        } => {
            let cfg = ChildConfig {
                work: dir,
                seed,
                round,
                strategy,
                sync,
                threads,
                steps_per_thread: steps,
                max_duration: Duration::from_millis(max_ms),
            };
            match strata_stress::run_child(&cfg) {
                Ok(s) => {
                    println!("writes {} reads checked {}", s.writes, s.reads_checked);
                    ExitCode::SUCCESS
                }
                Err(e) => match e.downcast_ref::<Violation>() {
                    Some(v) => {
                        eprintln!("strata-stress child: VIOLATION: {v}");
                        ExitCode::from(3)
                    }
                    None => {
                        eprintln!("strata-stress child: error: {e:#}");
                        ExitCode::from(2)
                    }
                },
            }
        }
    }
}

/// `90s`, `30m`, `2h`, `500ms`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 90s, 30m or 2h"))?;
    let secs = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?} (use ms, s, m or h)"
            ));
        }
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("2d").is_err());
        assert!(parse_duration("h").is_err());
    }
}
