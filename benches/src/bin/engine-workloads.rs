//! Whole-database workloads: random load, random reads after a flush and
//! after a full compaction, full scans, and synced writes from several
//! threads (group commit).
//!
//! ```text
//! cargo run --release -p strata-benches --bin engine-workloads -- \
//!     [--num N] [--synced-num M] [--dir DIR] [--cache-mib C] \
//!     [--strategy leveled|tiered|window|none] [--only fill]
//! ```
//! Defaults: N = 1,000,000 keys (16-byte keys, 100-byte values, WAL on, no
//! fsync), M = 20,000 synced writes, a 512 MiB block cache (enough to hold
//! every block of 1 M keys), leveled compaction. `none` turns automatic
//! compaction off (tables accumulate in L0 until `compact()`). `--only
//! fill` stops after the load. The data goes to a temporary directory under
//! DIR (default: the system's temp dir) and is removed afterwards.
#![forbid(unsafe_code)]

use std::path::PathBuf;

/// mimalloc, as a storage service would link it: with glibc's malloc the
/// writer contends for arena locks with the thread freeing a flushed
/// memtable (see docs/benchmarks.md). `--no-default-features` measures the
/// system allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use strata::{Db, Leveled, Options, SizeTiered, Stats, SyncPolicy, TimeWindow};
use strata_benches::workloads::{cli_arg, fill, fill_threads, read, scan, shuffled};
use strata_benches::{KEY_LEN, VALUE_LEN};

fn with_strategy(opts: Options, name: &str) -> Result<Options, String> {
    Ok(match name {
        "leveled" => opts.compaction(Leveled::default()),
        "tiered" => opts.compaction(SizeTiered::default()),
        "window" => opts.compaction(TimeWindow::default()),
        "none" => opts.auto_compaction(false),
        other => return Err(format!("unknown strategy {other}")),
    })
}

fn describe(stats: &Stats, num: u64) -> String {
    let levels: Vec<String> = stats
        .levels
        .iter()
        .filter(|l| l.files > 0)
        .map(|l| {
            format!(
                "L{} {} files {:.1} MB",
                l.level,
                l.files,
                l.bytes as f64 / 1e6
            )
        })
        .collect();
    let on_disk: u64 = stats.levels.iter().map(|l| l.bytes).sum();
    let user = num * (KEY_LEN + VALUE_LEN) as u64;
    format!(
        "{}; space amp {:.2}; write amp {:.2}; compactions {:?}",
        levels.join(", "),
        on_disk as f64 / user as f64,
        stats.write_amplification,
        stats.compactions
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let num: u64 = cli_arg(&args, "--num").map_or(Ok(1_000_000), |s| s.parse())?;
    let synced: u64 = cli_arg(&args, "--synced-num").map_or(Ok(20_000), |s| s.parse())?;
    let base = cli_arg(&args, "--dir").map_or_else(std::env::temp_dir, PathBuf::from);
    let cache = cli_arg(&args, "--cache-mib").map_or(Ok(512), |s| s.parse::<u64>())?;
    let strategy = cli_arg(&args, "--strategy").unwrap_or_else(|| "leveled".to_owned());
    let only = cli_arg(&args, "--only");

    let dir = tempfile::tempdir_in(&base)?;
    let opts = with_strategy(Options::default().block_cache_bytes(cache << 20), &strategy)?;
    let db = Db::open(dir.path(), opts)?;
    println!("strategy {strategy}, block cache {cache} MiB");
    println!("{}", fill(&db, "fillrandom (1 thread)", &shuffled(num, 1))?);
    if only.as_deref() == Some("fill") {
        return Ok(());
    }
    db.flush()?;
    println!("  after flush: {}", describe(&db.stats(), num));
    // A first pass warms the block cache; three passes in other random
    // orders follow, their spread shows the noise.
    read(&db, "warm-up", &shuffled(num, 2))?;
    for pass in 0..3 {
        let name = format!("readrandom after flush #{}", pass + 1);
        println!("{}", read(&db, &name, &shuffled(num, 3 + pass))?);
    }
    let started = std::time::Instant::now();
    db.compact()?;
    println!(
        "  compact() took {:.2} s: {}",
        started.elapsed().as_secs_f64(),
        describe(&db.stats(), num)
    );
    read(&db, "warm-up", &shuffled(num, 6))?;
    for pass in 0..2 {
        let name = format!("readrandom after compact #{}", pass + 1);
        println!("{}", read(&db, &name, &shuffled(num, 7 + pass))?);
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
