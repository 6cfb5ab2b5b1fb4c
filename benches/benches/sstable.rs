//! SST benches on real files: table build throughput, full scan throughput,
//! point lookups with blocks cached and not, bloom probes, and seeks.
//!
//! The lookup benches share one table of 1 M entries (16-byte keys, 100-byte
//! values, 4 KiB blocks, 10 bloom bits per key, no compression).
#![expect(clippy::expect_used, reason = "a bench aborts if its setup fails")]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use strata_benches::{KEY_LEN, VALUE_LEN, mix, sorted_key, value, write_table};
use strata_core::{FileSystem, InternalKey, MAX_SEQNO, StdFs, ValueKind};
use strata_sstable::bench_support::DataBlock;
use strata_sstable::{BlockCache, TableOptions, TableReader};

const ENTRIES: u64 = 1_000_000;
const BUILD_ENTRIES: u64 = 200_000;
const PROBES: u64 = 1 << 16;

fn open(path: &std::path::Path, cache: Option<Arc<BlockCache>>) -> TableReader {
    let file = StdFs.open(path).expect("open table");
    TableReader::open(file, path, 1, cache).expect("table opens")
}

/// Seek inside one 4 KiB data block of 32 entries (16-byte user keys,
/// 100-byte values, restart interval 16), as a point lookup does after the
/// index named the block.
fn block_seek(c: &mut Criterion) {
    let keys: Vec<Vec<u8>> = (0..32u64)
        .map(|i| InternalKey::new(sorted_key(i * 2).to_vec(), i + 1, ValueKind::Put).encode())
        .collect();
    let values: Vec<[u8; VALUE_LEN]> = (0..32u64).map(value).collect();
    let block = DataBlock::build(
        keys.iter()
            .map(Vec::as_slice)
            .zip(values.iter().map(|v| &v[..])),
        16,
    )
    .expect("block builds");
    let targets: Vec<Vec<u8>> = (0..64u64)
        .map(|i| InternalKey::seek_key(sorted_key(i).to_vec(), MAX_SEQNO).encode())
        .collect();
    let mut n = 0usize;
    c.bench_function("block/seek_4k", |b| {
        b.iter(|| {
            n = (n + 1) % targets.len();
            black_box(block.seek(&targets[n]))
        })
    });
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
        cached.get(&sorted_key(i), MAX_SEQNO).expect("warm");
    }
    let uncached = open(&path, None);

    // Probe keys are made before timing: formatting a key costs as much as
    // a bloom probe.
    let present: Vec<[u8; KEY_LEN]> = (0..PROBES).map(|i| sorted_key(mix(i) % ENTRIES)).collect();
    let missing: Vec<[u8; KEY_LEN]> = (0..PROBES)
        .map(|i| sorted_key(ENTRIES + mix(i) % ENTRIES))
        .collect();
    let seeks: Vec<InternalKey> = present
        .iter()
        .map(|k| InternalKey::seek_key(k.to_vec(), MAX_SEQNO))
        .collect();

    let mut group = c.benchmark_group("table");
    let mut n = 0usize;
    group.bench_function("get_cached_1m", |b| {
        b.iter(|| {
            n = (n + 1) % present.len();
            black_box(cached.get(&present[n], MAX_SEQNO).expect("get"))
        })
    });
    group.bench_function("get_uncached_1m", |b| {
        b.iter(|| {
            n = (n + 1) % present.len();
            black_box(uncached.get(&present[n], MAX_SEQNO).expect("get"))
        })
    });
    group.bench_function("get_missing_1m", |b| {
        b.iter(|| {
            n = (n + 1) % missing.len();
            // Keys past the last one, so the bloom filter decides.
            black_box(cached.get(&missing[n], MAX_SEQNO).expect("get"))
        })
    });
    group.bench_function("bloom_probe", |b| {
        b.iter(|| {
            n = (n + 1) % missing.len();
            black_box(cached.may_contain(&missing[n]))
        })
    });
    group.bench_function("seek_cached_1m", |b| {
        let mut it = cached.iter();
        b.iter(|| {
            n = (n + 1) % seeks.len();
            it.seek(&seeks[n]);
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

criterion_group!(benches, block_seek, build, lookups);
criterion_main!(benches);
