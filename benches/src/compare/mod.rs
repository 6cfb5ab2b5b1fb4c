//! The peer comparison: the [`db_bench`](crate::db_bench) workloads, in
//! one process, against strata and (with the `peers` / `peer-rocksdb`
//! features) fjall and RocksDB, configured alike ([`EngineSettings`]: WAL
//! on, fsync per write or not, the same block cache bytes, compression,
//! bloom bits and memtable size).
//!
//! Per engine and workload it reports throughput and p50/p99/p99.9 latency
//! (from the shared workload code), write amplification (the process's
//! I/O bytes from `/proc/self/io` over the user bytes written), space
//! amplification (the disk space of the engine's directory, as `du` counts
//! it, over the live user bytes), and
//! each engine's ratio to strata; per engine, the whole run's write
//! amplification and its peak resident memory. `--bin compare` runs it,
//! `--bin charts` draws its JSON.
//!
//! ```
//! use strata_benches::compare::{CompareConfig, Engine, TableStyle, run_compare};
//! use strata_benches::db_bench::{BenchConfig, NoProgress, Workload};
//!
//! let dir = tempfile::tempdir()?;
//! let config = CompareConfig {
//!     bench: BenchConfig { num: 500, synced_num: 16, ..BenchConfig::default() },
//!     engines: vec![Engine::Strata],
//!     workloads: vec![Workload::FillRandom, Workload::ReadRandom],
//!     ..CompareConfig::new(dir.path())
//! };
//! let report = run_compare(&config, &NoProgress, &mut |_, _| {})?;
//! assert!(report.render(TableStyle::Text).contains("readrandom"));
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```
//!
//! Engines run one after another, each in its own subdirectory, removed
//! afterwards. Process-wide counters (I/O, peak RSS) are therefore each
//! engine's own, except what an engine's background threads still do
//! after it closes, which no engine here leaves running.

mod engine;
#[cfg(feature = "peers")]
mod fjall_store;
mod process;
mod report;
#[cfg(feature = "peer-rocksdb")]
mod rocks_store;

pub mod charts;

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub use engine::{Compression, Engine, EngineSettings};
#[cfg(feature = "peers")]
pub use fjall_store::{FjallFactory, FjallStore};
pub use process::{IoCounters, dir_bytes, load_average, peak_rss_bytes, reset_peak_rss, rss_bytes};
pub use report::{EngineReport, Ratios, Report, TableStyle, WorkloadReport, WriteAmpSource};
#[cfg(feature = "peer-rocksdb")]
pub use rocks_store::{RocksFactory, RocksStore};

use crate::KEY_LEN;
use crate::db_bench::{
    BenchConfig, Observer, Progress, StoreError, StoreFactory, StoreResult, StrataFactory,
    Workload, WorkloadResult, remove_dir_if_present, run_all_observed,
};

/// What to compare, and how.
#[derive(Debug, Clone)]
pub struct CompareConfig {
    /// Sizes, threads, seed (the same for every engine).
    pub bench: BenchConfig,
    /// Engines, in run order (ratios are to strata, wherever it runs).
    pub engines: Vec<Engine>,
    /// Workloads, in order (see [`Workload::ALL`]).
    pub workloads: Vec<Workload>,
    /// What every engine is configured with.
    pub settings: EngineSettings,
    /// A directory for the databases (`<dir>/<engine>`, each removed after
    /// its run); it must exist.
    pub dir: PathBuf,
}

impl CompareConfig {
    /// Every available engine, every workload, default sizes and settings,
    /// databases under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            bench: BenchConfig::default(),
            engines: Engine::available(),
            workloads: Workload::ALL.to_vec(),
            settings: EngineSettings::default(),
            dir: dir.into(),
        }
    }
}

/// Runs every workload on every engine and returns what they measured;
/// `on_result` sees each workload's report as soon as it is done.
///
/// # Errors
/// An engine not built in (its feature is off), or the first error of a
/// store or of the workloads' checks (a wrong value read).
pub fn run_compare(
    config: &CompareConfig,
    progress: &dyn Progress,
    on_result: &mut dyn FnMut(Engine, &WorkloadReport),
) -> StoreResult<Report> {
    if let Some(e) = config.engines.iter().find(|e| !e.compiled_in()) {
        return Err(not_built(*e));
    }
    let write_amp_source = probe_write_amp_source(&config.dir)?;
    let started_unix_secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let load_start = load_average();
    let mut engines = Vec::with_capacity(config.engines.len());
    for &engine in &config.engines {
        engines.push(run_engine(
            engine,
            config,
            write_amp_source,
            progress,
            on_result,
        )?);
    }
    let mut report = Report {
        config: config.bench.clone(),
        settings: config.settings.clone(),
        write_amp_source,
        started_unix_secs,
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        load_average: [load_start, load_average()],
        engines,
    };
    report.compute_ratios();
    Ok(report)
}

fn not_built(engine: Engine) -> StoreError {
    let feature = match engine {
        Engine::Rocksdb => "peer-rocksdb",
        _ => "peers",
    };
    StoreError::from(format!(
        "{engine} is not built in: build with `--features {feature}`"
    ))
}

/// Whether the file system under `dir` counts `write_bytes` (ext4, xfs
/// do; tmpfs does not): writes and syncs 1 MiB there and looks.
fn probe_write_amp_source(dir: &Path) -> StoreResult<WriteAmpSource> {
    let path = dir.join("write-bytes-probe");
    let before = IoCounters::read().unwrap_or_default();
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&path)?;
        file.write_all(&vec![0x5Au8; 1 << 20])?;
        file.sync_all()?;
    }
    let after = IoCounters::read().unwrap_or_default();
    std::fs::remove_file(&path)?;
    Ok(if after.since(before).write_bytes >= 1 << 20 {
        WriteAmpSource::WriteBytes
    } else {
        WriteAmpSource::Wchar
    })
}

fn run_engine(
    engine: Engine,
    config: &CompareConfig,
    source: WriteAmpSource,
    progress: &dyn Progress,
    on_result: &mut dyn FnMut(Engine, &WorkloadReport),
) -> StoreResult<EngineReport> {
    let dir = config.dir.join(engine.name());
    let peak_rss_reset = reset_peak_rss();
    let start_rss_bytes = rss_bytes();
    let io_start = IoCounters::read().unwrap_or_default();
    let started = Instant::now();
    let mut metrics = Metrics {
        engine,
        dir: &dir,
        config: &config.bench,
        source,
        io_before: io_start,
        live_bytes: 0,
        reports: Vec::new(),
        on_result,
    };
    let outcome = drive_engine(engine, &dir, config, progress, &mut metrics);
    // The last store is closed: its final flush is in these counters.
    let io = IoCounters::read().unwrap_or_default().since(io_start);
    let elapsed_secs = started.elapsed().as_secs_f64();
    let peak_rss_bytes = peak_rss_bytes();
    remove_dir_if_present(&dir)?;
    outcome?;
    let workloads = metrics.reports;
    let user_bytes_written = workloads.iter().map(|w| w.result.bytes_written).sum();
    Ok(EngineReport {
        engine,
        write_amp: amp(source.bytes(io), user_bytes_written),
        workloads,
        elapsed_secs,
        user_bytes_written,
        io,
        start_rss_bytes,
        peak_rss_bytes,
        peak_rss_reset,
    })
}

fn drive_engine(
    engine: Engine,
    dir: &Path,
    config: &CompareConfig,
    progress: &dyn Progress,
    metrics: &mut Metrics<'_>,
) -> StoreResult<()> {
    match engine {
        Engine::Strata => {
            let factory = StrataFactory::new(dir, config.settings.strata_options());
            drive(factory, config, progress, metrics)
        }
        Engine::Fjall => drive_fjall(dir, config, progress, metrics),
        Engine::Rocksdb => drive_rocksdb(dir, config, progress, metrics),
    }
}

#[cfg(feature = "peers")]
fn drive_fjall(
    dir: &Path,
    config: &CompareConfig,
    progress: &dyn Progress,
    metrics: &mut Metrics<'_>,
) -> StoreResult<()> {
    let factory = FjallFactory::new(dir, config.settings.clone());
    drive(factory, config, progress, metrics)
}

#[cfg(not(feature = "peers"))]
fn drive_fjall(
    _: &Path,
    _: &CompareConfig,
    _: &dyn Progress,
    _: &mut Metrics<'_>,
) -> StoreResult<()> {
    Err(not_built(Engine::Fjall))
}

#[cfg(feature = "peer-rocksdb")]
fn drive_rocksdb(
    dir: &Path,
    config: &CompareConfig,
    progress: &dyn Progress,
    metrics: &mut Metrics<'_>,
) -> StoreResult<()> {
    let factory = RocksFactory::new(dir, config.settings.clone());
    drive(factory, config, progress, metrics)
}

#[cfg(not(feature = "peer-rocksdb"))]
fn drive_rocksdb(
    _: &Path,
    _: &CompareConfig,
    _: &dyn Progress,
    _: &mut Metrics<'_>,
) -> StoreResult<()> {
    Err(not_built(Engine::Rocksdb))
}

fn drive<F: StoreFactory>(
    mut factory: F,
    config: &CompareConfig,
    progress: &dyn Progress,
    metrics: &mut Metrics<'_>,
) -> StoreResult<()> {
    run_all_observed(
        &mut factory,
        &config.workloads,
        &config.bench,
        progress,
        metrics,
    )
    .map(drop)
}

/// `bytes / user`, if anything was written.
fn amp(bytes: u64, user: u64) -> Option<f64> {
    (user > 0).then(|| bytes as f64 / user as f64)
}

/// Measures around each workload of one engine.
struct Metrics<'a> {
    engine: Engine,
    dir: &'a Path,
    config: &'a BenchConfig,
    source: WriteAmpSource,
    io_before: IoCounters,
    /// Key and value bytes of the live entries, from what the workloads
    /// did: they know which keys exist.
    live_bytes: u64,
    reports: Vec<WorkloadReport>,
    on_result: &'a mut dyn FnMut(Engine, &WorkloadReport),
}

impl Metrics<'_> {
    /// Live bytes after `workload` did what `result` says, given the live
    /// bytes before.
    fn live_after(&self, workload: Workload, result: &WorkloadResult) -> u64 {
        let entry = (KEY_LEN + self.config.value_size) as u64;
        match workload {
            // Each writes distinct keys into an empty store.
            w if w.needs_fresh_store() => result.bytes_written,
            // Its puts are all of new keys.
            Workload::YcsbE => self.live_bytes + result.bytes_written,
            // Deletes the loaded key space, not YCSB E's new keys.
            Workload::DeleteRandom => self.live_bytes.saturating_sub(self.config.num * entry),
            // Overwrites and reads leave the live set as it was.
            _ => self.live_bytes,
        }
    }
}

impl<S> Observer<S> for Metrics<'_> {
    fn before(&mut self, _workload: Workload, _store: &S) -> StoreResult<()> {
        self.io_before = IoCounters::read().unwrap_or_default();
        Ok(())
    }

    fn after(
        &mut self,
        workload: Workload,
        _store: &S,
        result: &WorkloadResult,
    ) -> StoreResult<()> {
        let io = IoCounters::read().unwrap_or_default().since(self.io_before);
        self.live_bytes = self.live_after(workload, result);
        let dir_bytes = dir_bytes(self.dir);
        let report = WorkloadReport {
            result: result.clone(),
            io,
            write_amp: amp(self.source.bytes(io), result.bytes_written),
            dir_bytes,
            live_bytes: self.live_bytes,
            space_amp: amp(dir_bytes, self.live_bytes),
            vs_strata: None,
        };
        (self.on_result)(self.engine, &report);
        self.reports.push(report);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
