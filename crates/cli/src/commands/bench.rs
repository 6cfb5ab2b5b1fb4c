//! `strata bench`: the db_bench (and, on request, YCSB and synced-fill)
//! workloads of `strata_benches::db_bench` on a strata database, with a progress bar on stderr and a table or JSON on
//! stdout.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use serde_json::json;
use strata::{Options, SyncPolicy};
use strata_benches::db_bench::{
    BenchConfig, Progress, StrataFactory, Workload, WorkloadResult, run_all,
};

use crate::cli::BenchArgs;
use crate::format::table;

pub(crate) fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let workloads = args
        .workloads
        .clone()
        .unwrap_or_else(|| Workload::DB_BENCH.to_vec());
    let config = BenchConfig {
        num: args.num,
        synced_num: args.synced_num,
        value_size: args.value_size,
        threads: usize::from(args.threads),
        seed: args.seed,
        flush_after_writes: args.flush,
    };
    // Kept until the end: dropping it removes the temporary directory.
    let temp;
    let dir: PathBuf = match &args.data_dir {
        Some(dir) => {
            ensure_empty(dir)?;
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir().context("cannot create a temporary directory")?;
            temp.path().join("db")
        }
    };
    let options = if args.sync {
        Options::default().sync_policy(SyncPolicy::Always)
    } else {
        Options::default()
    }
    .mmap_reads(args.mmap_reads);
    let mut factory = StrataFactory::new(&dir, options);
    let progress = Bar::new(!args.json && std::io::stderr().is_terminal());
    if !args.json {
        println!(
            "strata bench: {} keys of 16 bytes, {}-byte values, {} thread(s), WAL {}, tables read with {}, seed {}",
            config.num,
            config.value_size,
            config.worker_threads(),
            if args.sync {
                "fsync per write"
            } else {
                "not synced"
            },
            if args.mmap_reads { "mmap" } else { "pread" },
            config.seed
        );
    }
    let results = run_all(&mut factory, &workloads, &config, &progress)
        .map_err(|e| anyhow::anyhow!(e))
        .context("the benchmark failed")?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let report = json!({
            "config": config,
            "sync": args.sync,
            "data_dir": args.data_dir,
            "results": results,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        out.write_all(render(&results).as_bytes())?;
        if let Some(dir) = &args.data_dir {
            writeln!(out, "the last database is in {}", dir.display())?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The bench deletes and recreates its database: refuse a directory that
/// holds anything.
fn ensure_empty(dir: &Path) -> anyhow::Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "{} is not empty: bench needs an empty or absent --data-dir, \
                     because it deletes and recreates the database in it",
                    dir.display()
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// The result table.
fn render(results: &[WorkloadResult]) -> String {
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            let mut notes = Vec::new();
            if let Some(found) = r.found {
                notes.push(format!("{found} of {} found", r.ops));
            }
            if let Some(writes) = r.background_writes {
                notes.push(format!("{writes} writes meanwhile"));
            }
            vec![
                r.workload.clone(),
                r.ops.to_string(),
                format!("{:.0}", r.ops_per_sec),
                format!("{:.3}", r.micros_per_op),
                format!("{:.2}", r.latency_us.p50),
                format!("{:.2}", r.latency_us.p99),
                format!("{:.2}", r.latency_us.p999),
                format!("{:.1}", r.mb_per_sec),
                notes.join(", "),
            ]
        })
        .collect();
    table(
        &[
            "workload",
            "ops",
            "ops/s",
            "µs/op",
            "p50 µs",
            "p99 µs",
            "p99.9 µs",
            "MB/s",
            "notes",
        ],
        &[8],
        &rows,
    )
}

/// An indicatif bar per workload, on stderr; draws nothing when hidden.
struct Bar {
    visible: bool,
    current: Mutex<Option<ProgressBar>>,
}

impl Bar {
    fn new(visible: bool) -> Self {
        Self {
            visible,
            current: Mutex::new(None),
        }
    }

    fn with_current(&self, f: impl FnOnce(&mut Option<ProgressBar>)) {
        f(&mut self.current.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

impl Progress for Bar {
    fn start(&self, workload: Workload, total_ops: u64) {
        let target = if self.visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total_ops), target);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:>16} [{bar:40}] {human_pos}/{human_len} {rate} eta {eta}",
        ) {
            let style = style
                .with_key(
                    "rate",
                    |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:>9.0} ops/s", state.per_sec());
                    },
                )
                .progress_chars("=> ");
            bar.set_style(style);
        }
        bar.set_message(workload.name());
        bar.enable_steady_tick(Duration::from_millis(200));
        self.with_current(|current| *current = Some(bar));
    }

    fn advance(&self, ops: u64) {
        self.with_current(|current| {
            if let Some(bar) = current {
                bar.inc(ops);
            }
        });
    }

    fn finish(&self) {
        self.with_current(|current| {
            if let Some(bar) = current.take() {
                bar.finish_and_clear();
            }
        });
    }
}
