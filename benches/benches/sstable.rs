//! SST benches on real files: table build throughput, full scan throughput,
//! point lookups with blocks cached and not, bloom probes, and seeks.
//!
//! The lookup benches share one table of 1 M entries (16-byte keys, 100-byte
//! values, 4 KiB blocks, 10 bloom bits per key, no compression).
#![expect(clippy::expect_used, reason = "a bench aborts if its setup fails")]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use strata_benches::{KEY_LEN, VALUE_LEN, mix, sorted_key, write_table};
use strata_core::{FileSystem, InternalKey, StdFs};
use strata_sstable::{BlockCache, TableOptions, TableReader};

const ENTRIES: u64 = 1_000_000;
const BUILD_ENTRIES: u64 = 200_000;

fn open(path: &std::path::Path, cache: Option<Arc<BlockCache>>) -> TableReader {
    let file = StdFs.open(path).expect("open table");
    TableReader::open(file, path, 1, cache).expect("table opens")
}

fn build(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut group = c.benchmark_group("table");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(
        BUILD_ENTRIES * (KEY_LEN + VALUE_LEN) as u64,
    ));
    group.bench_function("build_200k", |b| {
        b.iter(|| {
            write_table(
                dir.path(),
                "build.sst",
                BUILD_ENTRIES,
                TableOptions::default(),
            )
            .expect("build")
        })
    });
    group.finish();
}

fn lookups(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, summary) = write_table(dir.path(), "1m.sst", ENTRIES, TableOptions::default())
        .expect("build 1M table");

    // Cached: a cache larger than the table, warmed by one full pass of gets.
    let cache = Arc::new(BlockCache::new(2 * summary.file_size));
    let cached = open(&path, Some(cache));
    for i in (0..ENTRIES).step_by(16) {
        cached.get(&sorted_key(i), u64::MAX >> 8).expect("warm");
    }
    let uncached = open(&path, None);

    let mut group = c.benchmark_group("table");
    let mut n = 0u64;
    group.bench_function("get_cached_1m", |b| {
        b.iter(|| {
            n += 1;
            let key = sorted_key(mix(n) % ENTRIES);
            black_box(cached.get(&key, u64::MAX >> 8).expect("get"))
        })
    });
    group.bench_function("get_uncached_1m", |b| {
        b.iter(|| {
            n += 1;
            let key = sorted_key(mix(n) % ENTRIES);
            black_box(uncached.get(&key, u64::MAX >> 8).expect("get"))
        })
    });
    group.bench_function("get_missing_1m", |b| {
        b.iter(|| {
            n += 1;
            // Keys past the last one, so the bloom filter decides.
            let key = sorted_key(ENTRIES + mix(n) % ENTRIES);
            black_box(cached.get(&key, u64::MAX >> 8).expect("get"))
        })
    });
    group.bench_function("bloom_probe", |b| {
        b.iter(|| {
            n += 1;
            black_box(cached.may_contain(&sorted_key(mix(n))))
        })
    });
    group.bench_function("seek_cached_1m", |b| {
        let mut it = cached.iter();
        b.iter(|| {
            n += 1;
            let target =
                InternalKey::seek_key(sorted_key(mix(n) % ENTRIES).to_vec(), u64::MAX >> 8);
            it.seek(&target);
            black_box(it.valid())
        })
    });

    group.throughput(Throughput::Bytes(ENTRIES * (KEY_LEN + VALUE_LEN) as u64));
    group.sample_size(10);
    group.bench_function("scan_1m", |b| {
        b.iter_batched(
            || cached.iter(),
            |mut it| {
                let mut bytes = 0usize;
                it.seek_to_first();
                while it.valid() {
                    bytes += it.key().len() + it.value().len();
                    it.next();
                }
                it.status().expect("scan");
                black_box(bytes)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
    // Keep the bloom probe honest: the table does contain its keys.
    assert!(cached.may_contain(&sorted_key(ENTRIES / 2)));
}

criterion_group!(benches, build, lookups);
criterion_main!(benches);
