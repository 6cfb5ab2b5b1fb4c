//! [`BenchConfig`]: the knobs every workload shares.

use serde::{Deserialize, Serialize};

/// How big a run is and how it is driven.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchConfig {
    /// Keys in the key space (`sorted_key(0..num)`), and operations per
    /// workload, split among the threads (except `readseq`, where every
    /// thread scans the whole store, and the synced fills).
    pub num: u64,
    /// Puts of each synced fill (`fillsync-1`, `-8`, `-64`), split among
    /// its threads: fsyncs are slow, so these do fewer operations.
    pub synced_num: u64,
    /// Bytes of each value.
    pub value_size: usize,
    /// Worker threads per workload (readers, for `readwhilewriting`).
    /// Zero counts as one.
    pub threads: usize,
    /// Seed of every random choice (key orders, values).
    pub seed: u64,
    /// Call [`Store::flush`](super::Store::flush) after each workload that
    /// writes, outside the timed part, so later reads find the data in
    /// tables rather than in memory.
    pub flush_after_writes: bool,
}

impl Default for BenchConfig {
    /// One million keys, 10 000 synced puts, 100-byte values, one thread,
    /// seed 301 (db_bench's), no flushes.
    fn default() -> Self {
        Self {
            num: 1_000_000,
            synced_num: 10_000,
            value_size: 100,
            threads: 1,
            seed: 301,
            flush_after_writes: false,
        }
    }
}

impl BenchConfig {
    /// `threads`, at least one.
    pub fn worker_threads(&self) -> usize {
        self.threads.max(1)
    }

    /// The operations thread `t` of [`Self::worker_threads`] does when
    /// `total` are split among them: the first `total % threads` threads do
    /// one more.
    pub fn share(&self, total: u64, t: usize) -> u64 {
        share(total, self.worker_threads(), t)
    }
}

/// The operations thread `t` of `threads` (at least one) does when `total`
/// are split among them: the first `total % threads` threads do one more.
pub(crate) fn share(total: u64, threads: usize, t: usize) -> u64 {
    let threads = threads.max(1) as u64;
    total / threads + u64::from((t as u64) < total % threads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_total() {
        for threads in 1..6 {
            let config = BenchConfig {
                threads,
                ..BenchConfig::default()
            };
            for total in [0, 1, 7, 1000, 1001] {
                let sum: u64 = (0..threads).map(|t| config.share(total, t)).sum();
                assert_eq!(sum, total, "{threads} threads, {total} ops");
            }
        }
    }
}
