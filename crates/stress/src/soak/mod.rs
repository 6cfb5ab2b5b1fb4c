//! The server soak: `strata serve` as a child process on loopback, many
//! concurrent clients doing a checked mix of requests for a bounded time or
//! request count, its resident memory sampled every second against a
//! budget, then malformed and slow requests, then a graceful shutdown and
//! `strata verify` of the directory it leaves.
//!
//! Phases, each of which can fail the run:
//! 1. **load** (module `load`): every answer checked; own keys exactly,
//!    shared ones for self-consistency; p50/p99/p99.9 latency per kind.
//! 2. **read-back**: each client reads all its keys and its counter.
//! 3. **memory**: peak RSS must stay under the RSS before the load plus the
//!    block cache, three memtables (one active, two waiting for their flush)
//!    and a fixed allowance for everything else (threads, connection
//!    buffers, allocator slack, table indexes and filters); and the peak of
//!    the last quarter of the run may exceed that of the second (caches
//!    warm by then) by at most a small tolerance: no leak.
//! 4. **malformed** (module `malformed`): each case gets its 4xx or a
//!    closed connection, and `GET /health` answers 200 after each.
//! 5. **shutdown**: SIGTERM, exit code 0 within 30 s, and `strata verify`
//!    finds the directory clean.

mod http;
mod load;
mod malformed;
mod report;
mod server;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

pub use report::SoakReport;

use load::{OpKind, Shared, histogram};
use report::{CaseOutcome, MemoryReport};
use server::ServerProcess;

/// How a soak runs. [`SoakConfig::new`] gives the defaults of
/// `strata-stress soak`.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// The `strata` executable (its `serve` and `verify` commands are used).
    pub server_exe: PathBuf,
    /// Work directory (empty or absent): the database goes in `WORK/db`.
    pub work: PathBuf,
    /// Concurrent clients, one connection and thread each (default 64).
    pub clients: usize,
    /// Load phase length (default 10 minutes) ...
    pub duration: Duration,
    /// ... or this many requests in all, whichever comes first.
    pub requests: Option<u64>,
    /// Keys each client owns (default 256).
    pub keys_per_client: usize,
    /// Keys all clients share (default 1024).
    pub shared_keys: usize,
    /// Seed of every client's choices.
    pub seed: u64,
    /// The server's memtable size (default 4 MiB: flushes and compactions
    /// run all the time).
    pub memtable_bytes: usize,
    /// The server's block cache (default 16 MiB).
    pub block_cache_bytes: u64,
    /// RSS allowed above the pre-load RSS beyond cache and memtables
    /// (default 128 MiB: threads and their allocator caches, connection
    /// buffers, table indexes and filters, allocator slack).
    pub rss_allowance: u64,
    /// Growth allowed from the second quarter of the run (caches warm) to
    /// the last, peak to peak (default 32 MiB): more is a leak.
    pub rss_growth_tolerance: u64,
    /// The server's `--engine-threads` (default: the server's default).
    pub engine_threads: Option<usize>,
    /// The server's header timeout (default 2 s; the slow cases wait it).
    pub header_timeout: Duration,
    /// The server's stall timeout (default 2 s).
    pub stall_timeout: Duration,
    /// The server's body limit (default 1 MiB).
    pub max_body_bytes: usize,
    /// Run the malformed phase (default true).
    pub malformed: bool,
    /// A progress line this often during the load (`None`: no progress).
    pub progress_every: Option<Duration>,
}

impl SoakConfig {
    /// The defaults, for `server_exe` and `work`.
    pub fn new(server_exe: PathBuf, work: PathBuf) -> Self {
        Self {
            server_exe,
            work,
            clients: 64,
            duration: Duration::from_secs(600),
            requests: None,
            keys_per_client: 256,
            shared_keys: 1024,
            seed: 1,
            memtable_bytes: 4 << 20,
            block_cache_bytes: 16 << 20,
            rss_allowance: 128 << 20,
            rss_growth_tolerance: 32 << 20,
            engine_threads: None,
            header_timeout: Duration::from_secs(2),
            stall_timeout: Duration::from_secs(2),
            max_body_bytes: 1 << 20,
            malformed: true,
            progress_every: Some(Duration::from_secs(10)),
        }
    }

    /// Bytes the engine may legitimately hold on top of the pre-load RSS:
    /// the block cache and three memtables.
    pub fn engine_budget(&self) -> u64 {
        self.block_cache_bytes + 3 * self.memtable_bytes as u64
    }
}

/// Runs the soak, writing progress lines to `progress`; the report says
/// whether it passed ([`SoakReport::passed`]).
///
/// # Errors
/// Harness problems only: the work directory is not empty, the server
/// cannot be started, a thread cannot be spawned. Everything the server
/// does wrong is in the report.
pub fn soak(config: &SoakConfig, progress: &mut dyn std::io::Write) -> anyhow::Result<SoakReport> {
    if config.clients == 0 || config.keys_per_client == 0 || config.shared_keys == 0 {
        bail!("clients, keys per client and shared keys must be at least 1");
    }
    if config.clients > 999 {
        bail!("at most 999 clients (their keys have three digits)");
    }
    prepare_work_dir(&config.work)?;
    let data_dir = config.work.join("db");
    let mut server = ServerProcess::start(config, &data_dir)?;
    let addr = server.addr;
    // The baseline: the server up and answering, before any load.
    let mut health = http::Conn::connect(addr, load::IO_TIMEOUT)?;
    let r = health.send("GET", "/health", &[], b"")?;
    if r.status != 200 {
        bail!("GET /health answered {} before the load", r.status);
    }
    drop(health);
    std::thread::sleep(Duration::from_millis(200));
    let baseline_rss = server.rss_bytes();
    let _ = writeln!(
        progress,
        "soak: server pid {} on {addr}, {} clients, up to {:?}{}, seed {}",
        server.pid(),
        config.clients,
        config.duration,
        config
            .requests
            .map_or(String::new(), |n| format!(" or {n} requests")),
        config.seed
    );

    // 1-2. The load and the read-back, sampling memory every second.
    let shared = Shared::default();
    let started = Instant::now();
    let deadline = started + config.duration;
    let mut samples: Vec<(Duration, u64)> = Vec::new();
    let mut peak_threads = server.threads().unwrap_or(0);
    let mut server_died = None;
    let (results, load_secs) = std::thread::scope(|scope| -> anyhow::Result<_> {
        let mut handles = Vec::with_capacity(config.clients);
        for id in 0..config.clients {
            let shared = &shared;
            let handle = std::thread::Builder::new()
                .name(format!("soak-client-{id}"))
                .spawn_scoped(scope, move || {
                    load::run_client(id, config, addr, shared, deadline)
                })
                .context("cannot spawn a client thread")?;
            handles.push(handle);
        }
        let mut last_progress = Instant::now();
        let mut last_issued = 0u64;
        while handles.iter().any(|h| !h.is_finished()) {
            std::thread::sleep(Duration::from_millis(250));
            if let Some(rss) = server.rss_bytes()
                && samples
                    .last()
                    .is_none_or(|(t, _)| started.elapsed() >= *t + Duration::from_secs(1))
            {
                samples.push((started.elapsed(), rss));
            }
            peak_threads = peak_threads.max(server.threads().unwrap_or(0));
            if let Some(status) = server.exited() {
                server_died = Some(status);
                shared.stop.store(true, Ordering::SeqCst);
            }
            let issued = shared.issued.load(Ordering::SeqCst);
            if let Some(every) = config.progress_every
                && last_progress.elapsed() >= every
            {
                let secs = last_progress.elapsed().as_secs_f64();
                let _ = writeln!(
                    progress,
                    "  {:>5.0}s  {:>10} requests  {:>8.0}/s  {} failed  rss {}",
                    started.elapsed().as_secs_f64(),
                    issued,
                    (issued - last_issued.min(issued)) as f64 / secs,
                    shared.failed.load(Ordering::SeqCst),
                    samples
                        .last()
                        .map_or("?".into(), |(_, rss)| report::mib(*rss))
                );
                last_progress = Instant::now();
                last_issued = issued;
            }
        }
        let mut results = Vec::with_capacity(handles.len());
        for handle in handles {
            match handle.join() {
                Ok(result) => results.push(result?),
                Err(_) => bail!("a client thread panicked"),
            }
        }
        let load_ended = results.iter().map(|r| r.load_ended).max();
        let load_secs = load_ended.map_or(Duration::ZERO, |end| end.duration_since(started));
        Ok((results, load_secs))
    })?;
    let load_failed = shared.failed.load(Ordering::SeqCst);
    let mut latency: Vec<_> = OpKind::ALL
        .iter()
        .map(|_| histogram())
        .collect::<anyhow::Result<_>>()?;
    let mut all = histogram()?;
    let mut read_back = 0;
    for result in &results {
        read_back += result.read_back;
        for (merged, h) in latency.iter_mut().zip(&result.latency) {
            merged.add(h)?;
            all.add(h)?;
        }
    }

    // 3. Memory.
    let memory = baseline_rss.map(|baseline| MemoryReport {
        baseline,
        samples: samples.clone(),
        budget: config.engine_budget(),
        allowance: config.rss_allowance,
        growth_tolerance: config.rss_growth_tolerance,
    });

    // 4. Malformed requests.
    let mut cases = Vec::new();
    if config.malformed && server_died.is_none() {
        let probe = malformed::Probe {
            addr,
            header_timeout: config.header_timeout,
            stall_timeout: config.stall_timeout,
            max_body_bytes: config.max_body_bytes,
            seed: config.seed,
        };
        for (name, case) in malformed::CASES {
            let case_started = Instant::now();
            let result = case(&probe);
            let health = health_after(&mut server, addr);
            let _ = writeln!(
                progress,
                "  malformed: {name}: {} / health {}",
                match &result {
                    Ok(s) => s.clone(),
                    Err(e) => format!("FAILED: {e}"),
                },
                match &health {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("FAILED: {e}"),
                }
            );
            cases.push(CaseOutcome {
                name,
                result,
                health,
                took: case_started.elapsed(),
            });
            if server.exited().is_some() {
                break;
            }
        }
    }

    // 5. Shutdown and verify.
    let after_rss = server.rss_bytes();
    let shutdown = match server.exited() {
        Some(status) => Err(format!("the server had already exited: {status}")),
        None => match server.terminate(Duration::from_secs(30)) {
            Ok((status, took)) if status.success() => Ok(took),
            Ok((status, _)) => Err(format!("exit status {status}")),
            Err(e) => Err(format!("{e:#}")),
        },
    };
    let verify = if shutdown.is_ok() {
        verify_dir(&config.server_exe, &data_dir)
    } else {
        Err("skipped: the shutdown failed".into())
    };

    Ok(SoakReport {
        clients: config.clients,
        load_secs,
        requests: all.len(),
        load_failed,
        failure_reports: shared.reports(),
        latency: OpKind::ALL.iter().map(|k| k.name()).zip(latency).collect(),
        all,
        read_back,
        memory,
        after_malformed_rss: after_rss,
        peak_threads,
        server_died: server_died.map(|s| s.to_string()),
        cases,
        shutdown,
        verify,
        server_log: server.log_tail(),
    })
}

/// The work directory must be new or empty: the soak must not run over a
/// database it did not create.
fn prepare_work_dir(work: &Path) -> anyhow::Result<()> {
    if work.exists() {
        let mut entries =
            std::fs::read_dir(work).with_context(|| format!("cannot read {}", work.display()))?;
        if entries.next().is_some() {
            bail!("the work directory {} is not empty", work.display());
        }
    }
    std::fs::create_dir_all(work).with_context(|| format!("cannot create {}", work.display()))
}

/// `GET /health` is 200 on a fresh connection and the process still runs.
fn health_after(server: &mut ServerProcess, addr: std::net::SocketAddr) -> Result<(), String> {
    if let Some(status) = server.exited() {
        return Err(format!("the server exited: {status}"));
    }
    let mut conn = http::Conn::connect(addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    let r = conn
        .send("GET", "/health", &[], b"")
        .map_err(|e| e.to_string())?;
    if r.status == 200 {
        Ok(())
    } else {
        Err(format!("status {}", r.status))
    }
}

/// `strata verify --data-dir DIR` exits 0.
fn verify_dir(exe: &Path, data_dir: &Path) -> Result<(), String> {
    let out = std::process::Command::new(exe)
        .arg("verify")
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .map_err(|e| format!("cannot run {} verify: {e}", exe.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl fmt::Display for SoakConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} clients, {} own keys each, {} shared keys, memtables {}, cache {}",
            self.clients,
            self.keys_per_client,
            self.shared_keys,
            report::mib(self.memtable_bytes as u64),
            report::mib(self.block_cache_bytes)
        )
    }
}
