//! Compaction under load: random puts with overwrites, then what each
//! strategy wrote (write amplification), kept (space amplification) and how
//! fast random reads are, before and after `compact()`.
//!
//! ```text
//! cargo run --release -p strata-benches --bin compaction-workloads -- \
//!     [--num N] [--strategy leveled|tiered|window] [--cache-mib C] [--reads R] [--dir DIR] [--mmap]
//!     [--base-mib B] [--l0-trigger F] [--memtable-mib M]
//! ```
//! Defaults: N = 10,000,000 puts of keys drawn from N (so about 37% are
//! overwrites), 16-byte keys, 100-byte values, WAL on without fsync, a
//! 64 MiB block cache, R = 1,000,000 reads, leveled, tables read with
//! `pread` (`--mmap`: through memory maps, `Options::mmap_reads`), leveled
//! with its default L1 target (`--base-mib`: `Leveled::base_level_size`),
//! L0 trigger (`--l0-trigger`: `Leveled::l0_trigger`) and memtable size
//! (`--memtable-mib`: `Options::memtable_size`).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Instant;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use strata::{Db, Leveled, Options, SizeTiered, Stats, TimeWindow};
use strata_benches::workloads::{Measurement, cli_arg, thread_cpu_time};
use strata_benches::{KEY_LEN, VALUE_LEN, mix, sorted_key, value};

/// The key the `i`-th put writes: uniform over `0..num`, so keys repeat.
fn key_of(i: u64, num: u64) -> u64 {
    mix(i) % num
}

fn report(stats: &Stats, live_bytes: u64, what: &str) {
    let on_disk: u64 = stats.levels.iter().map(|l| l.bytes).sum();
    let levels: Vec<String> = stats
        .levels
        .iter()
        .filter(|l| l.files > 0)
        .map(|l| {
            format!(
                "L{}: {} files {:.0} MB",
                l.level,
                l.files,
                l.bytes as f64 / 1e6
            )
        })
        .collect();
    println!("  {what}: {}", levels.join(", "));
    println!(
        "  write amp {:.2} (user {:.0} MB; WAL {:.0} MB, flush {:.0} MB, compaction {:.0} MB written, {:.0} MB read); space amp {:.2}; stalls {} ({:.2} s)",
        stats.write_amplification,
        stats.user_bytes_written as f64 / 1e6,
        stats.wal_bytes_written as f64 / 1e6,
        stats.flush_bytes_written as f64 / 1e6,
        stats.compaction_bytes_written as f64 / 1e6,
        stats.compaction_bytes_read as f64 / 1e6,
        on_disk as f64 / live_bytes.max(1) as f64,
        stats.stalls,
        stats.stall_time.as_secs_f64()
    );
    println!("  compactions {:?}", stats.compactions);
}

fn reads(db: &Db, num: u64, reads: u64, seed: u64, name: &str) -> strata::Result<Measurement> {
    let start = Instant::now();
    let cpu_start = thread_cpu_time();
    for j in 0..reads {
        let i = mix(seed.wrapping_add(j)) % num;
        // The value of the last put of this key is unknown here (several
        // puts may have written it); that it exists is checked.
        if db.get(sorted_key(key_of(i, num)))?.is_none() {
            return Err(strata::Error::invalid_argument("a written key is missing"));
        }
    }
    if let (Some(before), Some(after)) = (cpu_start, thread_cpu_time()) {
        let cpu = after.saturating_sub(before);
        println!(
            "  {name}: reading thread used {:.2} s of CPU ({:.3} us/op)",
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / reads.max(1) as f64
        );
    }
    Ok(Measurement {
        name: name.into(),
        ops: reads,
        elapsed: start.elapsed(),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let num: u64 = cli_arg(&args, "--num").map_or(Ok(10_000_000), |s| s.parse())?;
    let n_reads: u64 = cli_arg(&args, "--reads").map_or(Ok(1_000_000), |s| s.parse())?;
    let cache = cli_arg(&args, "--cache-mib").map_or(Ok(64), |s| s.parse::<u64>())?;
    let strategy = cli_arg(&args, "--strategy").unwrap_or_else(|| "leveled".to_owned());
    let base = cli_arg(&args, "--dir").map_or_else(std::env::temp_dir, PathBuf::from);

    let mmap = args.iter().any(|a| a == "--mmap");
    let mut leveled = Leveled::default();
    if let Some(mib) = cli_arg(&args, "--base-mib") {
        leveled = leveled.base_level_size(mib.parse::<u64>()? << 20);
    }
    if let Some(files) = cli_arg(&args, "--l0-trigger") {
        leveled = leveled.l0_trigger(files.parse()?);
    }
    let mut opts = Options::default();
    if let Some(mib) = cli_arg(&args, "--memtable-mib") {
        opts = opts.memtable_size(mib.parse::<usize>()? << 20);
    }
    let opts = opts.block_cache_bytes(cache << 20).mmap_reads(mmap);
    let opts = match strategy.as_str() {
        "leveled" => opts.compaction(leveled),
        "tiered" => opts.compaction(SizeTiered::default()),
        "window" => opts.compaction(TimeWindow::default()),
        other => return Err(format!("unknown strategy {other}").into()),
    };
    let dir = tempfile::tempdir_in(&base)?;
    let db = Db::open(dir.path(), opts)?;
    println!(
        "strategy {strategy}, {num} puts, block cache {cache} MiB, {}",
        if mmap { "mmap reads" } else { "pread" }
    );

    let mut distinct = vec![0u64; usize::try_from(num.div_ceil(64))?];
    let start = Instant::now();
    for i in 0..num {
        let k = key_of(i, num);
        if let Some(word) = distinct.get_mut(usize::try_from(k / 64)?) {
            *word |= 1 << (k % 64);
        }
        db.put(sorted_key(k), value(i))?;
    }
    let load = Measurement {
        name: "load (random, with overwrites)".into(),
        ops: num,
        elapsed: start.elapsed(),
    };
    println!("{load}");
    let live: u64 = distinct.iter().map(|w| u64::from(w.count_ones())).sum();
    let live_bytes = live * (KEY_LEN + VALUE_LEN) as u64;
    println!(
        "  {live} distinct keys ({:.0} MB live)",
        live_bytes as f64 / 1e6
    );
    db.flush()?;
    report(&db.stats(), live_bytes, "after the load and a flush");
    println!(
        "{}",
        reads(&db, num, n_reads, 1 << 40, "readrandom after load")?
    );

    let start = Instant::now();
    db.compact()?;
    println!("  compact() took {:.1} s", start.elapsed().as_secs_f64());
    report(&db.stats(), live_bytes, "after compact()");
    println!(
        "{}",
        reads(&db, num, n_reads, 2 << 40, "readrandom after compact")?
    );
    Ok(())
}
