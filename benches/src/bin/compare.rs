//! The peer comparison: the same workloads, in one process, on strata and
//! (with features) fjall and RocksDB, configured alike.
//!
//! ```text
//! cargo run --release -p strata-benches --features peers --bin compare -- \
//!     [--num N] [--synced-num M] [--threads T] [--cache-mib C] \
//!     [--compression none|lz4] [--sync] [--engines strata,fjall,rocksdb] \
//!     [--workloads fillseq,...] [--seed S] [--dir DIR] [--json FILE] [--markdown]
//! ```
//! Defaults: N = 1,000,000 keys (16-byte keys, 100-byte values), M = 10,000
//! puts per synced fill, 1 thread, a 64 MiB block cache, no compression,
//! WAL on without fsync per write (`--sync`: with), every engine built in
//! (`--features peers` adds fjall, `--features peer-rocksdb` RocksDB),
//! every workload. Each engine's database goes to a temporary directory
//! under DIR (default: the system's temp dir), removed after its run.
//! Prints one line per workload to stderr as it finishes, then the tables
//! (text, or Markdown with `--markdown`) to stdout; `--json` also writes
//! the whole report, which `--bin charts` draws.
#![forbid(unsafe_code)]

/// mimalloc, as `engine-workloads` and a storage service would link it.
/// RocksDB's C++ code allocates through the system allocator regardless.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use strata_benches::compare::{CompareConfig, Engine, TableStyle, run_compare};
use strata_benches::db_bench::{NoProgress, Workload};

const USAGE: &str = "usage: compare [--num N] [--synced-num M] [--threads T] [--cache-mib C] \
[--compression none|lz4] [--sync] [--engines strata,fjall,rocksdb] [--workloads LIST] \
[--seed S] [--dir DIR] [--json FILE] [--markdown]";

struct Args {
    config: CompareConfig,
    json: Option<PathBuf>,
    markdown: bool,
    parent: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args {
        config: CompareConfig::new(PathBuf::new()),
        json: None,
        markdown: false,
        parent: None,
    };
    let c = &mut parsed.config;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let number = |v: String| -> Result<u64, String> {
            v.parse()
                .map_err(|_| format!("{flag}: `{v}` is not a number"))
        };
        match flag.as_str() {
            "--num" => c.bench.num = number(value()?)?,
            "--synced-num" => c.bench.synced_num = number(value()?)?,
            "--threads" => c.bench.threads = number(value()?)?.max(1) as usize,
            "--seed" => c.bench.seed = number(value()?)?,
            "--cache-mib" => c.settings.cache_bytes = number(value()?)? << 20,
            "--compression" => c.settings.compression = value()?.parse()?,
            "--sync" => c.settings.sync = true,
            "--engines" => {
                c.engines = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--workloads" => {
                c.workloads = value()?
                    .split(',')
                    .map(|w| w.parse::<Workload>().map_err(|e| e.to_string()))
                    .collect::<Result<_, _>>()?;
            }
            "--dir" => parsed.parent = Some(PathBuf::from(value()?)),
            "--json" => parsed.json = Some(PathBuf::from(value()?)),
            "--markdown" => parsed.markdown = true,
            "--help" | "-h" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if let Some(e) = c.engines.iter().find(|e| !e.compiled_in()) {
        return Err(format!(
            "{e} is not built in: add `--features {}`",
            if *e == Engine::Rocksdb {
                "peer-rocksdb"
            } else {
                "peers"
            }
        ));
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args = match parse(&args) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let temp = match &args.parent {
        Some(parent) => tempfile::tempdir_in(parent),
        None => tempfile::tempdir(),
    };
    let temp = match temp {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot create a temporary directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    args.config.dir = temp.path().to_path_buf();
    let c = &args.config;
    let engines: Vec<&str> = c.engines.iter().map(|e| e.name()).collect();
    println!(
        "compare: {} keys of 16 bytes, {}-byte values, {} thread(s), {} synced puts per synced fill; \
         WAL on, {}; block cache {} MiB; compression {}; bloom {} bits/key; memtable {} MiB; \
         engines {}; seed {}",
        c.bench.num,
        c.bench.value_size,
        c.bench.worker_threads(),
        c.bench.synced_num,
        if c.settings.sync {
            "fsync per write"
        } else {
            "no fsync per write"
        },
        c.settings.cache_bytes >> 20,
        c.settings.compression.name(),
        c.settings.bloom_bits_per_key,
        c.settings.memtable_bytes >> 20,
        engines.join(", "),
        c.bench.seed
    );
    let report = run_compare(&args.config, &NoProgress, &mut |engine, w| {
        eprintln!("{engine:<8} {}", w.result);
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("the comparison failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let style = if args.markdown {
        TableStyle::Markdown
    } else {
        TableStyle::Text
    };
    print!("{}", report.render(style));
    println!(
        "load average (1/5/15 min) at start {}, at end {}; write amplification counts {:?}",
        report.load_average[0].as_deref().unwrap_or("?"),
        report.load_average[1].as_deref().unwrap_or("?"),
        report.write_amp_source
    );
    if let Some(path) = &args.json {
        let written = serde_json::to_string_pretty(&report)
            .map_err(|e| e.to_string())
            .and_then(|json| std::fs::write(path, json + "\n").map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
