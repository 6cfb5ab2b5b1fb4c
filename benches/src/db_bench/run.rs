//! Running workloads: the per-workload operation loops, spread over
//! threads, timed per operation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::recorder::Recorder;
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
/// [needs one](Workload::needs_fresh_store), otherwise the store the
/// previous workload left. Returns one result per workload, in order.
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
    let mut store: Option<F::Store> = None;
    let mut results = Vec::with_capacity(workloads.len());
    for &workload in workloads {
        let current = match store.take() {
            Some(s) if !workload.needs_fresh_store() => s,
            previous => {
                // Closed before the factory reuses its location.
                drop(previous);
                factory.open_fresh()?
            }
        };
        let current = store.insert(current);
        results.push(run_workload(current, workload, config, progress)?);
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
struct Run<'a, S> {
    store: &'a S,
    workload: Workload,
    config: &'a BenchConfig,
    values: ValueSource,
    progress: &'a dyn Progress,
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
                            rec.done(started, KEY_LEN);
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
        }
    }

    /// Seed for this workload's random choices: workloads differ, runs
    /// with the same seed repeat.
    fn salted_seed(&self) -> u64 {
        self.config.seed ^ mix(self.workload as u64 + 1)
    }

    /// The `j`-th random key index (with replacement) of thread `t`.
    fn random_index(&self, t: u64, j: u64) -> u64 {
        mix(mix(self.salted_seed() ^ (t << 48)).wrapping_add(j)) % self.config.num.max(1)
    }

    fn put(&self, i: u64, rec: &mut Recorder<'_>) -> StoreResult<()> {
        let value = self.values.value(i);
        let started = Instant::now();
        self.store.put(&sorted_key(i), value)?;
        rec.done(started, KEY_LEN + value.len());
        Ok(())
    }

    fn read_random(&self, t: usize, rec: &mut Recorder<'_>) -> StoreResult<()> {
        for j in 0..self.config.share(self.config.num, t) {
            let i = self.random_index(t as u64, j);
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
        let target = sorted_key(i);
        let started = Instant::now();
        let mut bytes = 0;
        let mut first = true;
        for item in self.store.scan_from(&target).take(SEEK_ENTRIES) {
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
            let writer = scope.spawn(|| -> StoreResult<u64> {
                // Its own stream of keys: thread number past every reader's.
                let t = self.config.worker_threads() as u64;
                let mut j = 0;
                while !stop.load(Ordering::Relaxed) {
                    let i = self.random_index(t, j);
                    self.store.put(&sorted_key(i), self.values.value(i))?;
                    j += 1;
                }
                Ok(j)
            });
            let readers = self.timed(true, |t, rec| self.read_random(t, rec));
            // Before anything can return: the writer runs until told.
            stop.store(true, Ordering::Relaxed);
            let writes = writer.join().map_err(|_| panicked()).and_then(|w| w);
            (readers, writes)
        });
        let mut result = readers?;
        result.background_writes = Some(writes?);
        Ok(result)
    }

    /// Runs `body(thread, recorder)` on every worker thread and merges what
    /// they recorded; the clock covers spawning to the last join.
    fn timed<F>(&self, counts_found: bool, body: F) -> StoreResult<WorkloadResult>
    where
        F: Fn(usize, &mut Recorder<'_>) -> StoreResult<()> + Sync,
    {
        let threads = self.config.worker_threads();
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
fn wrong(workload: &str, key: &[u8], what: &str) -> StoreError {
    StoreError::from(format!(
        "{workload}: key {} {what}",
        String::from_utf8_lossy(key)
    ))
}
