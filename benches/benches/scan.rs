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

fn memtable_db(dir: &std::path::Path) -> strata::Result<Db> {
    // Large enough that nothing is flushed: every read is served from the
    // memtable.
    let db = Db::open(dir, Options::default().memtable_size(512 << 20))?;
    for round in 0..VERSIONS {
        for i in 0..KEYS {
            // A permutation of the keys (7919 is prime to `KEYS`).
            let k = (i * 7919 + round) % KEYS;
            db.put(sorted_key(k), value(i))?;
        }
    }
    Ok(db)
}

fn scans(c: &mut Criterion) {
    // `_dir` lives to the end: dropping it deletes the database.
    let (db, _dir) = match tempfile::tempdir()
        .map_err(strata::Error::from)
        .and_then(|dir| Ok((memtable_db(dir.path())?, dir)))
    {
        Ok(opened) if opened.0.stats().levels.iter().all(|l| l.files == 0) => opened,
        Ok(_) => return eprintln!("scan bench: the memtable was flushed"),
        Err(e) => return eprintln!("scan bench: cannot fill the database: {e}"),
    };

    let mut group = c.benchmark_group("memtable_scan");
    group.throughput(Throughput::Elements(SEEKS_PER_ITER));
    let mut round = 0u64;
    group.bench_function("seek_and_10_next", |b| {
        b.iter(|| {
            for _ in 0..SEEKS_PER_ITER {
                round += 1;
                let from = sorted_key(mix(round) % KEYS);
                // An error ends the count, and the bench reports nonsense
                // rather than panicking.
                let n = db
                    .scan(from..)
                    .take(STEPS_PER_SEEK + 1)
                    .map_while(Result::ok)
                    .count();
                black_box(n);
            }
        });
    });
    group.throughput(Throughput::Elements(KEYS));
    group.bench_function("full_scan", |b| {
        b.iter(|| {
            let n = db.scan::<&[u8], _>(..).map_while(Result::ok).count();
            assert_eq!(n as u64, KEYS, "a full scan read every key");
        });
    });
    group.finish();
}

criterion_group!(benches, scans);
criterion_main!(benches);
