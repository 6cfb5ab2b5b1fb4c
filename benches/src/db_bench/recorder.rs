//! [`Recorder`]: one thread's counts and latency histogram; merged into a
//! [`WorkloadResult`] when the workload ends.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::{Latency, Progress, StoreResult, WorkloadResult};

/// Progress is reported every this many operations per thread.
const PROGRESS_EVERY: u64 = 512;

/// Latencies above this (ns) are recorded as this.
const MAX_TRACKED_NS: u64 = 60_000_000_000;

/// What one worker thread did.
pub(crate) struct Recorder<'p> {
    hist: Histogram<u64>,
    ops: u64,
    bytes: u64,
    bytes_written: u64,
    found: u64,
    unreported: u64,
    progress: &'p dyn Progress,
}

impl<'p> Recorder<'p> {
    pub(crate) fn new(progress: &'p dyn Progress) -> StoreResult<Self> {
        Ok(Self {
            hist: Histogram::new_with_bounds(1, MAX_TRACKED_NS, 3)?,
            ops: 0,
            bytes: 0,
            bytes_written: 0,
            found: 0,
            unreported: 0,
            progress,
        })
    }

    /// Counts one operation that started at `started` and moved `bytes`.
    pub(crate) fn done(&mut self, started: Instant, bytes: usize) {
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.hist.saturating_record(ns.max(1));
        self.ops += 1;
        self.bytes += bytes as u64;
        self.unreported += 1;
        if self.unreported >= PROGRESS_EVERY {
            self.progress.advance(self.unreported);
            self.unreported = 0;
        }
    }

    /// Counts one write (put or delete) that started at `started` and sent
    /// `bytes` of keys and values.
    pub(crate) fn done_write(&mut self, started: Instant, bytes: usize) {
        self.done(started, bytes);
        self.bytes_written += bytes as u64;
    }

    /// Counts a read that found its key.
    pub(crate) fn found(&mut self) {
        self.found += 1;
    }

    pub(crate) fn ops(&self) -> u64 {
        self.ops
    }

    /// Reports the operations not yet reported.
    pub(crate) fn flush_progress(&mut self) {
        if self.unreported > 0 {
            self.progress.advance(self.unreported);
            self.unreported = 0;
        }
    }

    /// Adds `other`'s counts and latencies to this one.
    pub(crate) fn merge(&mut self, other: &Recorder<'_>) -> StoreResult<()> {
        self.hist.add(&other.hist)?;
        self.ops += other.ops;
        self.bytes += other.bytes;
        self.bytes_written += other.bytes_written;
        self.found += other.found;
        Ok(())
    }

    /// The result of a workload whose threads' recorders were merged into
    /// this one; `counts_found` for the point-read workloads.
    pub(crate) fn finish(
        &self,
        workload: &str,
        threads: usize,
        elapsed: Duration,
        counts_found: bool,
    ) -> WorkloadResult {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let us = |ns: u64| ns as f64 / 1_000.0;
        let latency_us = if self.hist.is_empty() {
            Latency::default()
        } else {
            Latency {
                mean: self.hist.mean() / 1_000.0,
                p50: us(self.hist.value_at_quantile(0.50)),
                p99: us(self.hist.value_at_quantile(0.99)),
                p999: us(self.hist.value_at_quantile(0.999)),
                max: us(self.hist.max()),
            }
        };
        WorkloadResult {
            workload: workload.to_owned(),
            threads,
            ops: self.ops,
            elapsed_secs: elapsed.as_secs_f64(),
            ops_per_sec: self.ops as f64 / secs,
            micros_per_op: latency_us.mean,
            bytes: self.bytes,
            bytes_written: self.bytes_written,
            mb_per_sec: self.bytes as f64 / 1e6 / secs,
            found: counts_found.then_some(self.found),
            background_writes: None,
            latency_us,
        }
    }
}
