//! Running workloads: the per-workload operation loops, spread over
//! threads, timed per operation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::recorder::Recorder;
use super::ycsb::Mix;
use super::{
    BenchConfig, Progress, Store, StoreError, StoreFactory, StoreResult, ValueSource, Workload,
    WorkloadResult, missing_key,
};
use crate::workloads::shuffled;
use crate::{KEY_LEN, mix, sorted_key};

/// Entries `seekrandom` reads per seek: the one sought and 10 nexts.
const SEEK_ENTRIES: usize = 11;

/// Runs `workloads` in order on stores from `factory`: a fresh store for
/// the first workload and for every one that
/// [needs one](Workload::needs_fresh_store) (a [synced](Workload::is_synced)
/// one for the synced fills), otherwise the store the previous workload
/// left. Returns one result per workload, in order.
///
/// # Errors
/// The first error of a store, or a read that returned a wrong value (the
/// run stops there).
pub fn run_all<F: StoreFactory>(
    factory: &mut F,
    workloads: &[Workload],
    config: &BenchConfig,
    progress: &dyn Progress,
) -> StoreResult<Vec<WorkloadResult>> {
    run_all_observed(factory, workloads, config, progress, &mut ())
}

/// Sees each workload of [`run_all_observed`] run: to measure what the
/// results do not hold (the process's I/O, the store's size on disk).
pub trait Observer<S> {
    /// `workload` is about to run on `store` (already opened).
    ///
    /// # Errors
    /// Stops the run.
    fn before(&mut self, workload: Workload, store: &S) -> StoreResult<()>;

    /// `workload` ran on `store` (still open) and measured `result`.
    ///
    /// # Errors
    /// Stops the run.
    fn after(&mut self, workload: Workload, store: &S, result: &WorkloadResult) -> StoreResult<()>;
}

/// Observes nothing.
impl<S> Observer<S> for () {
    fn before(&mut self, _: Workload, _: &S) -> StoreResult<()> {
        Ok(())
    }

    fn after(&mut self, _: Workload, _: &S, _: &WorkloadResult) -> StoreResult<()> {
        Ok(())
    }
}

/// [`run_all`], telling `observer` before and after each workload. The
/// last store is dropped (closed) before this returns.
///
/// # Errors
/// As [`run_all`], and the observer's errors.
pub fn run_all_observed<F: StoreFactory>(
    factory: &mut F,
    workloads: &[Workload],
    config: &BenchConfig,
    progress: &dyn Progress,
    observer: &mut dyn Observer<F::Store>,
) -> StoreResult<Vec<WorkloadResult>> {
    let mut store: Option<F::Store> = None;
    let mut results = Vec::with_capacity(workloads.len());
    for &workload in workloads {
        let current = match store.take() {
            Some(s) if !workload.needs_fresh_store() => s,
            previous => {
                // Closed before the factory reuses its location.
                drop(previous);
                if workload.is_synced() {
                    factory.open_fresh_synced()?
                } else {
                    factory.open_fresh()?
                }
            }
        };
        let current = store.insert(current);
        observer.before(workload, current)?;
        let result = run_workload(current, workload, config, progress)?;
        observer.after(workload, current, &result)?;
        results.push(result);
    }
    Ok(results)
}

/// Runs one workload on `store` as it is (see [`Workload`] for what each
/// does), then flushes it if [`BenchConfig::flush_after_writes`] asks.
///
/// # Errors
/// The first error of the store, or a read that returned a wrong value.
pub fn run_workload<S: Store>(
    store: &S,
    workload: Workload,
    config: &BenchConfig,
    progress: &dyn Progress,
) -> StoreResult<WorkloadResult> {
    let run = Run {
        store,
        workload,
        config,
        values: ValueSource::new(config.value_size, config.seed),
        progress,
    };
    let total = match workload {
        Workload::ReadSeq => config.num * config.worker_threads() as u64,
        w if w.is_synced() => config.synced_num,
        _ => config.num,
    };
    progress.start(workload, total);
    let result = run.measure();
    progress.finish();
    let result = result?;
    if config.flush_after_writes && workload.writes() {
        store.flush()?;
    }
    Ok(result)
}

/// One workload's inputs, shared by its threads.
pub(super) struct Run<'a, S> {
    pub(super) store: &'a S,
    pub(super) workload: Workload,
    pub(super) config: &'a BenchConfig,
    pub(super) values: ValueSource,
    pub(super) progress: &'a dyn Progress,
}

impl<S: Store> Run<'_, S> {
    fn measure(&self) -> StoreResult<WorkloadResult> {
        let name = self.workload.name();
        let threads = self.config.worker_threads();
        let num = self.config.num;
        match self.workload {
            Workload::FillSeq => self.timed(false, |t, rec| {
                let first = (0..t).map(|u| self.config.share(num, u)).sum::<u64>();
                for i in first..first + self.config.share(num, t) {
                    self.put(i, rec)?;
                }
                Ok(())
            }),
            Workload::FillRandom | Workload::DeleteRandom => {
                // A permutation: every key once. Built before the clock runs.
                let order = shuffled(num, self.salted_seed());
                self.timed(false, |t, rec| {
                    for &i in order.iter().skip(t).step_by(threads) {
                        if self.workload == Workload::FillRandom {
                            self.put(i, rec)?;
                        } else {
                            let started = Instant::now();
                            self.store.delete(&sorted_key(i))?;
                            rec.done_write(started, KEY_LEN);
                        }
                    }
                    Ok(())
                })
            }
            Workload::Overwrite => self.timed(false, |t, rec| {
                for j in 0..self.config.share(num, t) {
                    self.put(self.random_index(t as u64, j), rec)?;
                }
                Ok(())
            }),
            Workload::ReadRandom => self.timed(true, |t, rec| self.read_random(t, rec)),
            Workload::ReadMissing => self.timed(true, |t, rec| {
                for j in 0..self.config.share(num, t) {
                    let key = missing_key(self.random_index(t as u64, j));
                    let started = Instant::now();
                    let got = self.store.get(&key)?;
                    rec.done(started, 0);
                    if got.is_some() {
                        return Err(wrong(name, &key, "found a key that was never written"));
                    }
                }
                Ok(())
            }),
            Workload::ReadSeq => self.timed(false, |_, rec| self.read_seq(rec)),
            Workload::SeekRandom => self.timed(false, |t, rec| {
                for j in 0..self.config.share(num, t) {
                    self.seek(self.random_index(t as u64, j), rec)?;
                }
                Ok(())
            }),
            Workload::ReadWhileWriting => self.read_while_writing(),
            Workload::YcsbA => self.ycsb(Mix::ReadUpdate, 50),
            Workload::YcsbB => self.ycsb(Mix::ReadUpdate, 95),
            Workload::YcsbE => self.ycsb(Mix::ScanInsert, 95),
            Workload::FillSync1 | Workload::FillSync8 | Workload::FillSync64 => {
                let threads = self.workload.synced_threads().unwrap_or(1);
                let total = self.config.synced_num;
                let order = shuffled(total, self.salted_seed());
                self.timed_on(threads, false, |t, rec| {
                    for &i in order.iter().skip(t).step_by(threads) {
                        self.put(i, rec)?;
                    }
                    Ok(())
                })
            }
        }
    }

    /// Seed for this workload's random choices: workloads differ, runs
    /// with the same seed repeat.
    pub(super) fn salted_seed(&self) -> u64 {
        self.config.seed ^ mix(self.workload as u64 + 1)
    }

    /// The `j`-th random number of thread `t`.
    pub(super) fn random(&self, t: u64, j: u64) -> u64 {
        mix(mix(self.salted_seed() ^ (t << 48)).wrapping_add(j))
    }

    /// The `j`-th random key index (with replacement) of thread `t`.
    fn random_index(&self, t: u64, j: u64) -> u64 {
        self.random(t, j) % self.config.num.max(1)
    }

    pub(super) fn put(&self, i: u64, rec: &mut Recorder<'_>) -> StoreResult<()> {
        let value = self.values.value(i);
        let started = Instant::now();
        self.store.put(&sorted_key(i), value)?;
        rec.done_write(started, KEY_LEN + value.len());
        Ok(())
    }

    /// Gets key index `i`, counts the read and checks the value, if found.
    pub(super) fn get_checked(&self, i: u64, rec: &mut Recorder<'_>) -> StoreResult<()> {
        let key = sorted_key(i);
        let started = Instant::now();
        let got = self.store.get(&key)?;
        match got {
            Some(value) => {
                rec.done(started, KEY_LEN + value.as_ref().len());
                rec.found();
                if value.as_ref() != self.values.value(i) {
                    return Err(wrong(self.workload.name(), &key, "read back a wrong value"));
                }
            }
            None => rec.done(started, 0),
        }
        Ok(())
    }

    fn read_random(&self, t: usize, rec: &mut Recorder<'_>) -> StoreResult<()> {
        for j in 0..self.config.share(self.config.num, t) {
            self.get_checked(self.random_index(t as u64, j), rec)?;
        }
        Ok(())
    }

    fn read_seq(&self, rec: &mut Recorder<'_>) -> StoreResult<()> {
        let mut cursor = self.store.scan_from(b"");
        let mut previous: Vec<u8> = Vec::new();
        loop {
            let started = Instant::now();
            let Some(item) = cursor.next() else { break };
            let (key, value) = item?;
            rec.done(started, key.as_ref().len() + value.as_ref().len());
            if rec.ops() > 1 && key.as_ref() <= previous.as_slice() {
                return Err(wrong(
                    self.workload.name(),
                    key.as_ref(),
                    "out of key order",
                ));
            }
            previous.clear();
            previous.extend_from_slice(key.as_ref());
        }
        Ok(())
    }

    fn seek(&self, i: u64, rec: &mut Recorder<'_>) -> StoreResult<()> {
        self.seek_and_read(i, SEEK_ENTRIES, rec)
    }

    /// One operation: seeks to key index `i` and reads `entries` entries
    /// from there (fewer at the end of the store).
    pub(super) fn seek_and_read(
        &self,
        i: u64,
        entries: usize,
        rec: &mut Recorder<'_>,
    ) -> StoreResult<()> {
        let target = sorted_key(i);
        let started = Instant::now();
        let mut bytes = 0;
        let mut first = true;
        for item in self.store.scan_from(&target).take(entries) {
            let (key, value) = item?;
            if first && key.as_ref() < &target[..] {
                return Err(wrong(
                    self.workload.name(),
                    &target,
                    "seek landed before its key",
                ));
            }
            first = false;
            bytes += key.as_ref().len() + value.as_ref().len();
        }
        rec.done(started, bytes);
        Ok(())
    }

    fn read_while_writing(&self) -> StoreResult<WorkloadResult> {
        let stop = AtomicBool::new(false);
        let (readers, writes) = std::thread::scope(|scope| {
            let writer = scope.spawn(|| self.write_until(&stop));
            let readers = self.timed(true, |t, rec| self.read_random(t, rec));
            // Before anything can return: the writer runs until told.
            stop.store(true, Ordering::Relaxed);
            let writes = writer.join().map_err(|_| panicked()).and_then(|w| w);
            (readers, writes)
        });
        let mut result = readers?;
        let writes = writes?;
        result.background_writes = Some(writes);
        result.bytes_written = writes * (KEY_LEN + self.values.size()) as u64;
        Ok(result)
    }

    /// readwhilewriting's writer: random puts until `stop`, and at least
    /// one however soon it is set (a small run under load can finish its
    /// reads before this thread is first scheduled; the workload still
    /// reports a write). Returns the puts made.
    pub(super) fn write_until(&self, stop: &AtomicBool) -> StoreResult<u64> {
        // Its own stream of keys: thread number past every reader's.
        let t = self.config.worker_threads() as u64;
        let mut j = 0;
        loop {
            let i = self.random_index(t, j);
            self.store.put(&sorted_key(i), self.values.value(i))?;
            j += 1;
            if stop.load(Ordering::Relaxed) {
                return Ok(j);
            }
        }
    }

    /// Runs `body(thread, recorder)` on every worker thread and merges what
    /// they recorded; the clock covers spawning to the last join.
    pub(super) fn timed<F>(&self, counts_found: bool, body: F) -> StoreResult<WorkloadResult>
    where
        F: Fn(usize, &mut Recorder<'_>) -> StoreResult<()> + Sync,
    {
        self.timed_on(self.config.worker_threads(), counts_found, body)
    }

    /// [`Self::timed`] on `threads` threads.
    fn timed_on<F>(
        &self,
        threads: usize,
        counts_found: bool,
        body: F,
    ) -> StoreResult<WorkloadResult>
    where
        F: Fn(usize, &mut Recorder<'_>) -> StoreResult<()> + Sync,
    {
        let progress = self.progress;
        let started = Instant::now();
        let recorders: Vec<StoreResult<Recorder<'_>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let body = &body;
                    scope.spawn(move || -> StoreResult<Recorder<'_>> {
                        let mut rec = Recorder::new(progress)?;
                        body(t, &mut rec)?;
                        rec.flush_progress();
                        Ok(rec)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().map_err(|_| panicked())?)
                .collect()
        });
        let elapsed: Duration = started.elapsed();
        let mut total = Recorder::new(progress)?;
        for rec in recorders {
            total.merge(&rec?)?;
        }
        Ok(total.finish(self.workload.name(), threads, elapsed, counts_found))
    }
}

fn panicked() -> StoreError {
    StoreError::from("a workload thread panicked")
}

/// A store misbehaved: the run's numbers would mean nothing.
pub(super) fn wrong(workload: &str, key: &[u8], what: &str) -> StoreError {
    StoreError::from(format!(
        "{workload}: key {} {what}",
        String::from_utf8_lossy(key)
    ))
}
