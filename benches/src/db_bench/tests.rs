//! The workloads against strata and against a model store: they run, count
//! what they did, check what they read, and repeat with the same seed.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::run::Run;
use super::*;
use crate::sorted_key;

/// A `BTreeMap` behind a lock: the simplest other store, with a log of the
/// keys put and a switch that makes it return wrong values.
#[derive(Default)]
struct MapStore {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    puts: Mutex<Vec<Vec<u8>>>,
    flushes: AtomicU64,
    corrupt: bool,
}

impl Store for MapStore {
    type Bytes = Vec<u8>;
    type Cursor<'a> = std::vec::IntoIter<StoreResult<(Vec<u8>, Vec<u8>)>>;

    fn put(&self, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.puts.lock().unwrap().push(key.to_vec());
        self.map
            .lock()
            .unwrap()
            .insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let mut got = self.map.lock().unwrap().get(key).cloned();
        if self.corrupt
            && let Some(v) = got.as_mut().and_then(|v| v.first_mut())
        {
            *v ^= 1;
        }
        Ok(got)
    }

    fn delete(&self, key: &[u8]) -> StoreResult<()> {
        self.map.lock().unwrap().remove(key);
        Ok(())
    }

    fn scan_from(&self, start: &[u8]) -> Self::Cursor<'_> {
        let map = self.map.lock().unwrap();
        map.range(start.to_vec()..)
            .map(|(k, v)| Ok((k.clone(), v.clone())))
            .collect::<Vec<_>>()
            .into_iter()
    }

    fn flush(&self) -> StoreResult<()> {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn small(threads: usize) -> BenchConfig {
    BenchConfig {
        num: 2_000,
        synced_num: 96,
        value_size: 100,
        threads,
        ..BenchConfig::default()
    }
}

fn by_name<'a>(results: &'a [WorkloadResult], name: &str) -> &'a WorkloadResult {
    results.iter().find(|r| r.workload == name).unwrap()
}

#[test]
fn every_db_bench_workload_runs_on_strata_and_counts_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let options = strata::Options::default().memtable_size(64 << 10);
    let mut factory = StrataFactory::new(dir.path().join("db"), options);
    let config = small(2);
    let results = run_all(&mut factory, &Workload::DB_BENCH, &config, &NoProgress).unwrap();
    let names: Vec<&str> = results.iter().map(|r| r.workload.as_str()).collect();
    let expected: Vec<&str> = Workload::DB_BENCH.iter().map(|w| w.name()).collect();
    assert_eq!(names, expected);
    for r in &results {
        assert_eq!(r.threads, 2, "{r}");
        assert!(r.ops_per_sec > 0.0, "{r}");
        let l = r.latency_us;
        assert!(l.p50 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max, "{r}");
    }
    for name in [
        "fillseq",
        "fillrandom",
        "overwrite",
        "seekrandom",
        "deleterandom",
    ] {
        assert_eq!(by_name(&results, name).ops, 2_000, "{name}");
    }
    // fillrandom writes every key once, so every random read finds one.
    assert_eq!(by_name(&results, "readrandom").found, Some(2_000));
    assert_eq!(by_name(&results, "readmissing").found, Some(0));
    assert_eq!(by_name(&results, "readmissing").bytes, 0);
    // Each of the two threads scans every key.
    assert_eq!(by_name(&results, "readseq").ops, 4_000);
    let rww = by_name(&results, "readwhilewriting");
    assert_eq!(rww.found, Some(2_000));
    assert!(rww.background_writes.is_some());
    assert_eq!(
        by_name(&results, "fillseq").bytes,
        2_000 * (16 + 100),
        "key and value bytes"
    );
    assert_eq!(by_name(&results, "fillseq").bytes_written, 2_000 * 116);
    assert_eq!(by_name(&results, "readrandom").bytes_written, 0);
    assert_eq!(by_name(&results, "deleterandom").bytes_written, 2_000 * 16);
    assert_eq!(
        rww.bytes_written,
        rww.background_writes.unwrap() * 116,
        "the background writer's puts"
    );
    // deleterandom removed every key; the directory holds the last store.
    let db = strata::Db::open(dir.path().join("db"), strata::Options::default()).unwrap();
    assert_eq!(db.scan::<&[u8], _>(..).count(), 0);
}

#[test]
fn another_store_runs_the_same_workloads() {
    let store = MapStore::default();
    let config = small(3);
    for w in Workload::DB_BENCH {
        let r = run_workload(&store, w, &config, &NoProgress).unwrap();
        assert_eq!(r.workload, w.name());
    }
    assert!(
        store.map.lock().unwrap().is_empty(),
        "deleterandom ran last"
    );
}

#[test]
fn a_store_returning_wrong_values_fails_the_read_workloads() {
    let store = MapStore {
        corrupt: true,
        ..MapStore::default()
    };
    let config = small(1);
    run_workload(&store, Workload::FillSeq, &config, &NoProgress).unwrap();
    let err = run_workload(&store, Workload::ReadRandom, &config, &NoProgress).unwrap_err();
    assert!(err.to_string().contains("wrong value"), "{err}");
    let err = run_workload(&store, Workload::ReadWhileWriting, &config, &NoProgress).unwrap_err();
    assert!(err.to_string().contains("wrong value"), "{err}");
}

#[test]
fn readwhilewritings_writer_writes_once_even_if_told_to_stop_before_it_starts() {
    // Under load, a small run's readers can finish before the writer
    // thread is first scheduled; the workload must still have written.
    let store = MapStore::default();
    let config = small(1);
    let run = Run {
        store: &store,
        workload: Workload::ReadWhileWriting,
        config: &config,
        values: ValueSource::new(config.value_size, config.seed),
        progress: &NoProgress,
    };
    let stopped = AtomicBool::new(true);
    assert_eq!(run.write_until(&stopped).unwrap(), 1);
    assert_eq!(store.puts.lock().unwrap().len(), 1);
}

#[test]
fn a_store_that_finds_unwritten_keys_fails_readmissing() {
    let store = MapStore::default();
    store.put(&missing_key(0), b"x").unwrap();
    let config = BenchConfig { num: 1, ..small(1) };
    let err = run_workload(&store, Workload::ReadMissing, &config, &NoProgress).unwrap_err();
    assert!(err.to_string().contains("never written"), "{err}");
}

#[test]
fn the_same_seed_repeats_the_same_operations() {
    let order = |seed: u64| {
        let store = MapStore::default();
        let config = BenchConfig { seed, ..small(1) };
        run_workload(&store, Workload::FillRandom, &config, &NoProgress).unwrap();
        run_workload(&store, Workload::Overwrite, &config, &NoProgress).unwrap();
        store.puts.into_inner().unwrap()
    };
    let a = order(1);
    assert_eq!(a.len(), 4_000);
    assert_eq!(a, order(1));
    assert_ne!(a, order(2));
    // fillrandom is a permutation of the key space.
    let mut first: Vec<_> = a[..2_000].to_vec();
    first.sort();
    let all: Vec<Vec<u8>> = (0..2_000).map(|i| sorted_key(i).to_vec()).collect();
    assert_eq!(first, all);
}

#[test]
fn flush_after_writes_flushes_after_writing_workloads_only() {
    let store = MapStore::default();
    let config = BenchConfig {
        flush_after_writes: true,
        ..small(1)
    };
    for w in [Workload::FillSeq, Workload::ReadRandom, Workload::Overwrite] {
        run_workload(&store, w, &config, &NoProgress).unwrap();
    }
    assert_eq!(store.flushes.load(Ordering::Relaxed), 2);
}

/// Counts what the workloads report, from several threads.
#[derive(Default)]
struct Counting {
    started: AtomicU64,
    total: AtomicU64,
    advanced: AtomicU64,
    finished: AtomicU64,
}

impl Progress for Counting {
    fn start(&self, _workload: Workload, total_ops: u64) {
        self.started.fetch_add(1, Ordering::Relaxed);
        self.total.fetch_add(total_ops, Ordering::Relaxed);
    }
    fn advance(&self, ops: u64) {
        self.advanced.fetch_add(ops, Ordering::Relaxed);
    }
    fn finish(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn progress_adds_up_to_the_operations_done() {
    let store = MapStore::default();
    let progress = Counting::default();
    let config = small(3);
    let mut ops = 0;
    for w in [Workload::FillSeq, Workload::ReadRandom, Workload::ReadSeq] {
        ops += run_workload(&store, w, &config, &progress).unwrap().ops;
    }
    assert_eq!(progress.started.load(Ordering::Relaxed), 3);
    assert_eq!(progress.finished.load(Ordering::Relaxed), 3);
    assert_eq!(progress.advanced.load(Ordering::Relaxed), ops);
    assert_eq!(progress.total.load(Ordering::Relaxed), ops);
}

#[test]
fn ycsb_and_synced_fills_run_on_strata() {
    let dir = tempfile::tempdir().unwrap();
    let options = strata::Options::default().memtable_size(64 << 10);
    let mut factory = StrataFactory::new(dir.path().join("db"), options);
    let config = small(2);
    let workloads = [
        Workload::FillRandom,
        Workload::YcsbA,
        Workload::YcsbB,
        Workload::YcsbE,
        Workload::FillSync1,
        Workload::FillSync8,
        Workload::FillSync64,
    ];
    let results = run_all(&mut factory, &workloads, &config, &NoProgress).unwrap();
    let entry = 116;
    for name in ["ycsb-a", "ycsb-b", "ycsb-e"] {
        let r = by_name(&results, name);
        assert_eq!((r.ops, r.threads), (2_000, 2), "{r}");
        let l = r.latency_us;
        assert!(l.p50 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max, "{r}");
    }
    // About half of A's operations and a twentieth of B's and E's write.
    let writes = |name: &str| by_name(&results, name).bytes_written / entry;
    assert!(
        (850..1150).contains(&writes("ycsb-a")),
        "{}",
        writes("ycsb-a")
    );
    assert!(
        (50..160).contains(&writes("ycsb-b")),
        "{}",
        writes("ycsb-b")
    );
    assert!(
        (50..160).contains(&writes("ycsb-e")),
        "{}",
        writes("ycsb-e")
    );
    // Reads of A and B check values: every read byte is a found entry.
    let a = by_name(&results, "ycsb-a");
    assert_eq!((a.bytes - a.bytes_written) % entry, 0);
    for (name, threads) in [("fillsync-1", 1), ("fillsync-8", 8), ("fillsync-64", 64)] {
        let r = by_name(&results, name);
        assert_eq!((r.ops, r.threads), (96, threads), "{r}");
        assert_eq!(r.bytes_written, 96 * entry);
    }
    // The last store is fillsync-64's: 96 keys, nothing of the earlier fills.
    drop(factory);
    let db = strata::Db::open(dir.path().join("db"), strata::Options::default()).unwrap();
    assert_eq!(db.scan::<&[u8], _>(..).count(), 96);
}

#[test]
fn ycsb_keys_are_skewed_and_e_inserts_new_keys() {
    let store = MapStore::default();
    let config = small(1);
    run_workload(&store, Workload::FillSeq, &config, &NoProgress).unwrap();
    store.puts.lock().unwrap().clear();
    run_workload(&store, Workload::YcsbA, &config, &NoProgress).unwrap();
    let puts = std::mem::take(&mut *store.puts.lock().unwrap());
    let mut counts: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for k in &puts {
        *counts.entry(k.clone()).or_default() += 1;
    }
    let hottest = counts.values().copied().max().unwrap();
    // Zipfian 0.99 over 2000 keys: the hottest takes about 12 % of the
    // updates; uniform choice would give it well under 1 %.
    assert!(
        hottest * 100 > puts.len() * 6,
        "{hottest} of {}",
        puts.len()
    );
    assert!(counts.len() > 100, "the tail is reached too");

    let e = run_workload(&store, Workload::YcsbE, &config, &NoProgress).unwrap();
    let inserted = store.puts.lock().unwrap().clone();
    assert_eq!(inserted.len() as u64 * 116, e.bytes_written);
    let expected: Vec<Vec<u8>> = (2_000..2_000 + inserted.len() as u64)
        .map(|i| sorted_key(i).to_vec())
        .collect();
    assert_eq!(
        inserted, expected,
        "new keys, in order, after the key space"
    );
    assert_eq!(store.map.lock().unwrap().len(), 2_000 + inserted.len());
    // Scans read up to 100 entries each: E moved far more bytes than it
    // wrote.
    assert!(e.bytes > 20 * e.bytes_written);
}
