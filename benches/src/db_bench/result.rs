//! [`WorkloadResult`]: what one workload measured.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Latency of single operations, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest operation.
    pub max: f64,
}

/// The outcome of one workload. Serialises to JSON as a flat record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadResult {
    /// The workload's name (`fillseq`, `readrandom`, ...).
    pub workload: String,
    /// Worker threads (readers for `readwhilewriting`).
    pub threads: usize,
    /// Operations measured: puts, gets, deletes, seeks, or entries read
    /// by `readseq`.
    pub ops: u64,
    /// Wall time of the measured part, in seconds.
    pub elapsed_secs: f64,
    /// `ops / elapsed_secs`, over all threads.
    pub ops_per_sec: f64,
    /// Mean latency of one operation (µs); with several threads this is
    /// not `1 / ops_per_sec`.
    pub micros_per_op: f64,
    /// Key and value bytes moved (written, or read and found).
    pub bytes: u64,
    /// Key and value bytes the workload wrote (puts, keys of deletes, and
    /// the background writer's puts in `readwhilewriting`): the user bytes
    /// of write amplification.
    pub bytes_written: u64,
    /// `bytes / elapsed_secs`, in MB (10^6 bytes) per second.
    pub mb_per_sec: f64,
    /// Reads that found their key (point-read workloads only).
    pub found: Option<u64>,
    /// Puts the background writer of `readwhilewriting` did meanwhile.
    pub background_writes: Option<u64>,
    /// Per-operation latency.
    pub latency_us: Latency,
}

impl fmt::Display for WorkloadResult {
    /// One line in the style of db_bench.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<16} : {:>10.3} micros/op {:>12.0} ops/sec {:>8.1} MB/s (p50 {:.2} p99 {:.2} p99.9 {:.2} us)",
            self.workload,
            self.micros_per_op,
            self.ops_per_sec,
            self.mb_per_sec,
            self.latency_us.p50,
            self.latency_us.p99,
            self.latency_us.p999
        )?;
        if let Some(found) = self.found {
            write!(f, " ({found} of {} found)", self.ops)?;
        }
        if let Some(writes) = self.background_writes {
            write!(f, " ({writes} writes meanwhile)")?;
        }
        Ok(())
    }
}
