//! Whole-database workloads: random load, random reads after a flush, full
//! scans, and synced writes from several threads (group commit).
//!
//! ```text
//! cargo run --release -p strata-benches --bin engine-workloads -- [--num N] [--synced-num M] [--dir DIR]
//! ```
//! `--only fill` stops after the random load; `--cache-mib C` sizes the
//! block cache (default 512 MiB, enough to hold every block). Defaults: N = 1,000,000 keys (16-byte keys, 100-byte values, WAL on, no
//! fsync), M = 20,000 synced writes; the data goes to a temporary directory
//! under DIR (default: the system's temp dir) and is removed afterwards.

use std::path::PathBuf;

/// mimalloc, as a storage service would link it: with glibc's malloc the
/// writer contends for arena locks with the thread freeing a flushed
/// memtable (see docs/benchmarks.md). `--no-default-features` measures the
/// system allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use strata::{Db, Options, SyncPolicy};
use strata_benches::workloads::{fill, fill_threads, read, scan, shuffled};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let num: u64 = arg(&args, "--num").map_or(Ok(1_000_000), |s| s.parse())?;
    let synced: u64 = arg(&args, "--synced-num").map_or(Ok(20_000), |s| s.parse())?;
    let base = arg(&args, "--dir").map_or_else(std::env::temp_dir, PathBuf::from);
    // `--only fill` stops after the load (for profiling one workload).
    let only = arg(&args, "--only");

    let dir = tempfile::tempdir_in(&base)?;
    // The read workload is "blocks cached": the cache holds every block.
    let cache = arg(&args, "--cache-mib").map_or(Ok(512), |s| s.parse::<u64>())?;
    let db = Db::open(
        dir.path(),
        Options::default().block_cache_bytes(cache << 20),
    )?;
    println!("{}", fill(&db, "fillrandom (1 thread)", &shuffled(num, 1))?);
    if only.as_deref() == Some("fill") {
        return Ok(());
    }
    db.flush()?;
    let levels = db.stats().levels;
    println!("  after flush: L0 holds {} tables", levels[0].files);
    // A first pass warms the block cache; the second is the measurement.
    read(&db, "warm-up", &shuffled(num, 2))?;
    // Three passes in other random orders: their spread shows the noise.
    for pass in 0..3 {
        let name = format!("readrandom (cached) #{}", pass + 1);
        println!("{}", read(&db, &name, &shuffled(num, 3 + pass))?);
    }
    println!("{}", scan(&db, "readseq", false)?);
    println!("{}", scan(&db, "readreverse", true)?);
    drop(db);

    for threads in [1, 8] {
        let dir = tempfile::tempdir_in(&base)?;
        let db = Db::open(
            dir.path(),
            Options::default().sync_policy(SyncPolicy::Always),
        )?;
        let m = fill_threads(
            &db,
            &format!("fillsync ({threads} threads)"),
            &shuffled(synced, 4),
            threads,
        )?;
        println!("{m}");
        let syncs = db.stats().wal_syncs.max(1);
        println!(
            "  {syncs} WAL fsyncs: {:.1} writes per fsync",
            m.ops as f64 / syncs as f64
        );
    }
    Ok(())
}
