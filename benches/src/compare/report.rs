//! [`Report`]: what a comparison measured, per engine and workload; as
//! JSON (serde) and as a text or Markdown table.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::engine::{Engine, EngineSettings};
use super::process::IoCounters;
use crate::db_bench::{BenchConfig, WorkloadResult};

/// Which counter of `/proc/self/io` the write amplification divides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteAmpSource {
    /// `write_bytes - cancelled_write_bytes`: bytes sent (or to be sent) to
    /// storage. Used where the file system counts them.
    WriteBytes,
    /// `wchar`: bytes passed to write calls, where the file system does not
    /// count `write_bytes` (tmpfs).
    Wchar,
}

impl WriteAmpSource {
    /// The bytes of `io` this source counts.
    pub fn bytes(self, io: IoCounters) -> u64 {
        match self {
            WriteAmpSource::WriteBytes => io.disk_bytes(),
            WriteAmpSource::Wchar => io.wchar,
        }
    }
}

/// An engine's numbers over strata's for the same workload.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ratios {
    /// Throughput over strata's: above 1, the engine is faster.
    pub ops_per_sec: f64,
    /// p99 latency over strata's: below 1, the engine's tail is shorter.
    pub p99: f64,
}

/// One workload on one engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadReport {
    /// Throughput and latency, as `strata bench` reports them.
    #[serde(flatten)]
    pub result: WorkloadResult,
    /// The process's I/O while the workload ran (the engine's background
    /// work of earlier workloads may land here too).
    pub io: IoCounters,
    /// I/O bytes over [`WorkloadResult::bytes_written`]; `None` for
    /// workloads that write nothing.
    pub write_amp: Option<f64>,
    /// Disk space of the engine's directory right after the workload
    /// (allocated blocks, as `du` counts them; no flush or compaction is
    /// waited for).
    pub dir_bytes: u64,
    /// Key and value bytes of the live entries then.
    pub live_bytes: u64,
    /// `dir_bytes / live_bytes`; `None` when nothing is live.
    pub space_amp: Option<f64>,
    /// This engine over strata; `None` for strata and when strata did not
    /// run the workload.
    pub vs_strata: Option<Ratios>,
}

/// Everything one engine did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineReport {
    /// The engine.
    pub engine: Engine,
    /// One entry per workload, in run order.
    pub workloads: Vec<WorkloadReport>,
    /// Wall time of all its workloads, opens and closes included.
    pub elapsed_secs: f64,
    /// Key and value bytes its workloads wrote.
    pub user_bytes_written: u64,
    /// The process's I/O from before the first open to after the last
    /// close (so background work and the final flush count).
    pub io: IoCounters,
    /// I/O bytes of the whole run over `user_bytes_written`.
    pub write_amp: Option<f64>,
    /// Resident set size when the engine started (what earlier engines
    /// left in the allocator counts here).
    pub start_rss_bytes: Option<u64>,
    /// Peak resident set size while it ran.
    pub peak_rss_bytes: Option<u64>,
    /// False if the peak could not be reset before the engine ran: then
    /// it is the process's peak so far.
    pub peak_rss_reset: bool,
}

impl EngineReport {
    /// The report of `workload`, if it ran.
    pub fn workload(&self, workload: &str) -> Option<&WorkloadReport> {
        self.workloads
            .iter()
            .find(|w| w.result.workload == workload)
    }
}

/// A whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Sizes, threads, seed.
    pub config: BenchConfig,
    /// What every engine was configured with.
    pub settings: EngineSettings,
    /// Which I/O counter the write amplifications use.
    pub write_amp_source: WriteAmpSource,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix_secs: u64,
    /// Logical CPUs of the machine.
    pub cpus: usize,
    /// Load averages (1, 5, 15 min) at the start and at the end: the
    /// machine may be shared.
    pub load_average: [Option<String>; 2],
    /// One report per engine, in run order.
    pub engines: Vec<EngineReport>,
}

impl Report {
    /// The engine's report, if it ran.
    pub fn engine(&self, engine: Engine) -> Option<&EngineReport> {
        self.engines.iter().find(|e| e.engine == engine)
    }

    /// Names of the workloads run, in order.
    pub fn workload_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for e in &self.engines {
            for w in &e.workloads {
                if !names.contains(&w.result.workload) {
                    names.push(w.result.workload.clone());
                }
            }
        }
        names
    }

    /// Fills every [`WorkloadReport::vs_strata`] from strata's numbers.
    pub fn compute_ratios(&mut self) {
        let baseline: Vec<(String, f64, f64)> = self
            .engine(Engine::Strata)
            .map(|s| {
                s.workloads
                    .iter()
                    .map(|w| {
                        let r = &w.result;
                        (r.workload.clone(), r.ops_per_sec, r.latency_us.p99)
                    })
                    .collect()
            })
            .unwrap_or_default();
        for e in &mut self.engines {
            for w in &mut e.workloads {
                w.vs_strata = None;
                if e.engine == Engine::Strata {
                    continue;
                }
                let r = &w.result;
                if let Some((_, ops, p99)) = baseline.iter().find(|b| b.0 == r.workload) {
                    w.vs_strata = Some(Ratios {
                        ops_per_sec: ratio(r.ops_per_sec, *ops),
                        p99: ratio(r.latency_us.p99, *p99),
                    });
                }
            }
        }
    }

    /// The per-workload table, then the per-engine summary.
    pub fn render(&self, style: TableStyle) -> String {
        let mut rows = Vec::new();
        for name in self.workload_names() {
            for e in &self.engines {
                let Some(w) = e.workload(&name) else { continue };
                let r = &w.result;
                let (ops_ratio, p99_ratio) = match w.vs_strata {
                    Some(v) => (format!("{:.2}×", v.ops_per_sec), format!("{:.2}×", v.p99)),
                    None => ("".into(), "".into()),
                };
                rows.push(vec![
                    name.clone(),
                    e.engine.name().to_owned(),
                    r.threads.to_string(),
                    r.ops.to_string(),
                    format!("{:.0}", r.ops_per_sec),
                    format!("{:.2}", r.latency_us.p50),
                    format!("{:.2}", r.latency_us.p99),
                    format!("{:.2}", r.latency_us.p999),
                    opt(w.write_amp),
                    opt(w.space_amp),
                    ops_ratio,
                    p99_ratio,
                ]);
            }
        }
        let mut out = table(
            style,
            &[
                "workload",
                "engine",
                "threads",
                "ops",
                "ops/s",
                "p50 µs",
                "p99 µs",
                "p99.9 µs",
                "write amp",
                "space amp",
                "ops/s vs strata",
                "p99 vs strata",
            ],
            2,
            &rows,
        );
        out.push('\n');
        let mib =
            |b: Option<u64>| b.map_or("-".to_owned(), |b| format!("{:.0}", b as f64 / 1048576.0));
        let summary: Vec<Vec<String>> = self
            .engines
            .iter()
            .map(|e| {
                vec![
                    e.engine.name().to_owned(),
                    format!("{:.1}", e.elapsed_secs),
                    format!("{:.1}", e.user_bytes_written as f64 / 1e6),
                    format!("{:.1}", self.write_amp_source.bytes(e.io) as f64 / 1e6),
                    opt(e.write_amp),
                    mib(e.peak_rss_bytes),
                    mib(e.start_rss_bytes),
                ]
            })
            .collect();
        out.push_str(&table(
            style,
            &[
                "engine",
                "time s",
                "user MB written",
                "I/O MB written",
                "write amp",
                "peak RSS MiB",
                "RSS at start MiB",
            ],
            1,
            &summary,
        ));
        out
    }
}

/// `a / b`, or zero when `b` is not positive.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn opt(x: Option<f64>) -> String {
    x.map_or("-".to_owned(), |x| format!("{x:.2}"))
}

/// How [`Report::render`] draws its tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableStyle {
    /// Columns aligned with spaces, for a terminal.
    Text,
    /// GitHub-flavoured Markdown.
    Markdown,
}

/// A table; the first `left` columns are left-aligned, the rest right.
fn table(style: TableStyle, headers: &[&str], left: usize, rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    match style {
        TableStyle::Markdown => {
            let _ = writeln!(out, "| {} |", headers.join(" | "));
            let rule: Vec<&str> = (0..headers.len())
                .map(|i| if i < left { "---" } else { "---:" })
                .collect();
            let _ = writeln!(out, "| {} |", rule.join(" | "));
            for row in rows {
                let _ = writeln!(out, "| {} |", row.join(" | "));
            }
        }
        TableStyle::Text => {
            let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
            for row in rows {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
                let parts: Vec<String> = cells
                    .zip(&widths)
                    .enumerate()
                    .map(|(i, (c, &w))| {
                        if i < left {
                            format!("{c:<w$}")
                        } else {
                            format!("{c:>w$}")
                        }
                    })
                    .collect();
                parts.join("  ").trim_end().to_owned()
            };
            let _ = writeln!(out, "{}", line(&mut headers.iter().copied()));
            for row in rows {
                let _ = writeln!(out, "{}", line(&mut row.iter().map(String::as_str)));
            }
        }
    }
    out
}
