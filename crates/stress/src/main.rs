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
//! * `strata-stress soak --dir D [--duration 10m] [--requests N]`: the
//!   server soak: starts `strata serve` (the `strata` next to this binary,
//!   or `--server PATH`) on `D/db`, loads it with `--clients` checked
//!   clients, watches its memory, sends it malformed requests, shuts it
//!   down and verifies the directory. Exit code 0 if everything held, 1 on
//!   any failure (with a report), 2 on a usage or harness error.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use strata_stress::{ChildConfig, RunConfig, SoakConfig, Stop, Strategy, Sync, Violation};

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
    /// Soak the HTTP server: many checked clients for a bounded time, its
    /// memory against a budget, then malformed and slow requests.
    Soak(SoakArgs),
}

#[derive(Debug, clap::Args)]
struct SoakArgs {
    /// Work directory (empty or absent); the database goes in DIR/db.
    #[arg(long)]
    dir: PathBuf,
    /// The `strata` executable [default: `strata` next to this binary].
    #[arg(long, value_name = "PATH")]
    server: Option<PathBuf>,
    /// Concurrent clients (one connection and thread each).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Length of the load phase (e.g. 90s, 10m).
    #[arg(long, value_parser = parse_duration, default_value = "10m")]
    duration: Duration,
    /// Stop the load after this many requests, if that comes first.
    #[arg(long)]
    requests: Option<u64>,
    /// Keys each client owns (and checks exactly).
    #[arg(long, default_value_t = 256)]
    keys: usize,
    /// Keys all clients share.
    #[arg(long, default_value_t = 1024)]
    shared_keys: usize,
    /// Seed of the clients' choices (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// The server's memtable size, in bytes [default: 4 MiB].
    #[arg(long)]
    memtable_bytes: Option<usize>,
    /// The server's block cache, in bytes [default: 16 MiB].
    #[arg(long)]
    block_cache_bytes: Option<u64>,
    /// RSS allowed above the pre-load RSS on top of the cache and three
    /// memtables, in bytes [default: 96 MiB].
    #[arg(long)]
    rss_allowance: Option<u64>,
    /// The server's --header-timeout (the slow-client cases wait for it).
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    header_timeout: Duration,
    /// The server's --stall-timeout.
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    stall_timeout: Duration,
    /// Skip the malformed-request phase.
    #[arg(long)]
    no_malformed: bool,
}

fn soak(args: SoakArgs) -> ExitCode {
    let server = match args.server {
        Some(path) => path,
        None => match std::env::current_exe() {
            Ok(exe) => exe.with_file_name(format!("strata{}", std::env::consts::EXE_SUFFIX)),
            Err(e) => {
                eprintln!("strata-stress: cannot find my own executable: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut config = SoakConfig::new(server, args.dir);
    config.clients = args.clients;
    config.duration = args.duration;
    config.requests = args.requests;
    config.keys_per_client = args.keys;
    config.shared_keys = args.shared_keys;
    config.seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    if let Some(bytes) = args.memtable_bytes {
        config.memtable_bytes = bytes;
    }
    if let Some(bytes) = args.block_cache_bytes {
        config.block_cache_bytes = bytes;
    }
    if let Some(bytes) = args.rss_allowance {
        config.rss_allowance = bytes;
    }
    config.header_timeout = args.header_timeout;
    config.stall_timeout = args.stall_timeout;
    config.malformed = !args.no_malformed;
    println!(
        "strata-stress soak: {config}, server {}",
        config.server_exe.display()
    );
    match strata_stress::soak(&config, &mut std::io::stdout()) {
        Ok(report) => {
            print!("{report}");
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("strata-stress soak: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Soak(args) => soak(args),
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
