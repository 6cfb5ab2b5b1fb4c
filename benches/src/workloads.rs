//! db_bench-style workloads against a whole [`strata::Db`]: each opens (or
//! reuses) a database, runs a fixed number of operations, and reports
//! operations per second. Used by the `engine-workloads` binary and, in a
//! tiny size, by a test so the code cannot rot.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use strata::{Db, Result};

use crate::{sorted_key, value};

/// What one workload did.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Workload name, as db_bench spells it where one exists.
    pub name: String,
    /// Operations (or entries, for scans) done.
    pub ops: u64,
    /// Wall time of the measured part.
    pub elapsed: Duration,
}

impl Measurement {
    /// Operations per second.
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl std::fmt::Display for Measurement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<28} {:>10} ops in {:>8.3} s = {:>12.0} ops/s ({:.3} us/op)",
            self.name,
            self.ops,
            self.elapsed.as_secs_f64(),
            self.ops_per_sec(),
            self.elapsed.as_secs_f64() * 1e6 / self.ops.max(1) as f64
        )
    }
}

/// CPU time (user + system) the calling thread has used so far, from
/// `/proc/thread-self/stat`; `None` where that file is missing. Reported next
/// to wall time because on a shared machine it moves less with other load.
pub fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line, in clock ticks (100 per second
    // on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// The value following `--name` on a command line, if any.
pub fn cli_arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The indices `0..num` in a random order fixed by `seed`.
pub fn shuffled(num: u64, seed: u64) -> Vec<u64> {
    let mut order: Vec<u64> = (0..num).collect();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    order
}

/// Puts `sorted_key(i) -> value(i)` for every `i` of `order`, from one thread.
///
/// # Errors
/// The first write error.
pub fn fill(db: &Db, name: &str, order: &[u64]) -> Result<Measurement> {
    let start = Instant::now();
    for &i in order {
        db.put(sorted_key(i), value(i))?;
    }
    Ok(Measurement {
        name: name.into(),
        ops: order.len() as u64,
        elapsed: start.elapsed(),
    })
}

/// Like [`fill`], with `order` split among `threads` writer threads.
///
/// # Errors
/// The first write error of any thread.
pub fn fill_threads(db: &Db, name: &str, order: &[u64], threads: usize) -> Result<Measurement> {
    let order: Arc<[u64]> = order.into();
    let threads = threads.max(1);
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let db = db.clone();
            let order = Arc::clone(&order);
            std::thread::spawn(move || -> Result<()> {
                for &i in order.iter().skip(t).step_by(threads) {
                    db.put(sorted_key(i), value(i))?;
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join()
            .map_err(|_| strata::Error::invalid_argument("a writer thread panicked"))??;
    }
    Ok(Measurement {
        name: name.into(),
        ops: order.len() as u64,
        elapsed: start.elapsed(),
    })
}

/// Gets every key of `order` and checks each value.
///
/// # Errors
/// A read error, or [`strata::Error::InvalidArgument`] naming a key whose
/// value is missing or wrong (the workload then measured nothing useful).
pub fn read(db: &Db, name: &str, order: &[u64]) -> Result<Measurement> {
    let start = Instant::now();
    for &i in order {
        let got = db.get(sorted_key(i))?;
        if got.as_deref() != Some(&value(i)[..]) {
            return Err(strata::Error::invalid_argument(format!(
                "key {i} read back wrong"
            )));
        }
    }
    Ok(Measurement {
        name: name.into(),
        ops: order.len() as u64,
        elapsed: start.elapsed(),
    })
}

/// Iterates over the whole database, forward (or backward) and counts
/// entries.
///
/// # Errors
/// An iteration error.
pub fn scan(db: &Db, name: &str, reverse: bool) -> Result<Measurement> {
    let start = Instant::now();
    let mut ops = 0u64;
    let it = db.scan::<&[u8], _>(..);
    if reverse {
        for kv in it.rev() {
            kv?;
            ops += 1;
        }
    } else {
        for kv in it {
            kv?;
            ops += 1;
        }
    }
    Ok(Measurement {
        name: name.into(),
        ops,
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata::{Options, SyncPolicy};

    /// The workloads in miniature: they run, and they check what they read.
    #[test]
    fn workloads_run_and_verify_at_a_small_size() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default().memtable_size(64 << 10)).unwrap();
        let order = shuffled(2_000, 1);
        assert_eq!(fill(&db, "fillrandom", &order).unwrap().ops, 2_000);
        db.flush().unwrap();
        assert_eq!(
            read(&db, "readrandom", &shuffled(2_000, 2)).unwrap().ops,
            2_000
        );
        assert_eq!(scan(&db, "readseq", false).unwrap().ops, 2_000);
        assert_eq!(scan(&db, "readreverse", true).unwrap().ops, 2_000);
        db.delete(sorted_key(5)).unwrap();
        assert!(read(&db, "readrandom", &[5]).is_err());
        drop(db);
        let synced = tempfile::tempdir().unwrap();
        let db = Db::open(
            synced.path(),
            Options::default().sync_policy(SyncPolicy::Always),
        )
        .unwrap();
        let m = fill_threads(&db, "fillsync/4", &shuffled(200, 3), 4).unwrap();
        assert_eq!(m.ops, 200);
        assert_eq!(scan(&db, "readseq", false).unwrap().ops, 200);
    }
}
