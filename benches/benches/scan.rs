//! Scan benches on data held only in the memtable (no flush): a seek and ten
//! steps at random keys (as `seekrandom`), and a full forward scan. 100 k
//! keys of 16 bytes with 100-byte values, each written three times, so every
//! scan also steps over shadowed versions as it does after overwrites.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use strata::{Db, Options};
use strata_benches::{mix, sorted_key, value};

const KEYS: u64 = 100_000;
const VERSIONS: u64 = 3;
const SEEKS_PER_ITER: u64 = 1_000;
const STEPS_PER_SEEK: usize = 10;

fn memtable_db(dir: &std::path::Path) -> Db {
    // Large enough that nothing is flushed: every read is served from the
    // memtable.
    let db = Db::open(dir, Options::default().memtable_size(512 << 20)).expect("open");
    for round in 0..VERSIONS {
        for i in 0..KEYS {
            // A permutation of the keys (7919 is prime to `KEYS`).
            let k = (i * 7919 + round) % KEYS;
            db.put(sorted_key(k), value(i)).expect("put");
        }
    }
    db
}

fn scans(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = memtable_db(dir.path());
    assert_eq!(db.stats().levels.iter().map(|l| l.files).sum::<usize>(), 0);

    let mut group = c.benchmark_group("memtable_scan");
    group.throughput(Throughput::Elements(SEEKS_PER_ITER));
    let mut round = 0u64;
    group.bench_function("seek_and_10_next", |b| {
        b.iter(|| {
            for _ in 0..SEEKS_PER_ITER {
                round += 1;
                let from = sorted_key(mix(round) % KEYS);
                let n = db
                    .scan(from..)
                    .take(STEPS_PER_SEEK + 1)
                    .map(|r| r.expect("scan"))
                    .count();
                black_box(n);
            }
        });
    });
    group.throughput(Throughput::Elements(KEYS));
    group.bench_function("full_scan", |b| {
        b.iter(|| {
            let n = db.scan::<&[u8], _>(..).map(|r| r.expect("scan")).count();
            assert_eq!(n as u64, KEYS);
        });
    });
    group.finish();
}

criterion_group!(benches, scans);
criterion_main!(benches);
