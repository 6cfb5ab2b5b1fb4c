//! Memtable benches: insert into a table growing to 1 M entries, and point
//! gets on a 1 M-entry table. Keys are 16 bytes in random order, values 100
//! bytes; key and value `Bytes` are slices of two large buffers, as when an
//! engine applies a decoded write batch. The memtable copies them into its
//! arena, so the measured path allocates nothing but arena chunks.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use strata_benches::{KEY_LEN, VALUE_LEN, mix};
use strata_core::ValueKind;
use strata_memtable::MemTable;

const ENTRIES: usize = 1_000_000;

const GETS_PER_ITER: usize = 1_000;

/// `ENTRIES` distinct 16-byte keys in random order (hex of a bijective mix).
fn keys() -> Vec<Bytes> {
    let mut buf = Vec::with_capacity(ENTRIES * KEY_LEN);
    for i in 0..ENTRIES as u64 {
        buf.extend_from_slice(format!("{:016x}", mix(i)).as_bytes());
    }
    let buf = Bytes::from(buf);
    (0..ENTRIES)
        .map(|i| buf.slice(i * KEY_LEN..(i + 1) * KEY_LEN))
        .collect()
}

fn values() -> Vec<Bytes> {
    let buf = Bytes::from(
        (0..ENTRIES * VALUE_LEN)
            .map(|i| i as u8)
            .collect::<Vec<u8>>(),
    );
    (0..ENTRIES)
        .map(|i| buf.slice(i * VALUE_LEN..(i + 1) * VALUE_LEN))
        .collect()
}

fn filled(keys: &[Bytes], values: &[Bytes]) -> MemTable {
    let mem = MemTable::new();
    for (i, (k, v)) in keys.iter().zip(values).enumerate() {
        let inserted = mem.insert(k, i as u64 + 1, ValueKind::Put, v);
        assert!(inserted.is_ok(), "a 116-byte entry was refused");
    }
    mem
}

fn insert(c: &mut Criterion) {
    let keys = keys();
    let values = values();
    let mut group = c.benchmark_group("memtable");
    group.throughput(Throughput::Elements(ENTRIES as u64));
    // One iteration fills a fresh table to 1 M entries (~1 s): flat sampling
    // with the minimum sample count keeps the bench near ten iterations.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.bench_function("insert", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // Handles are cloned outside the timed loop; the table is
                // dropped outside it too.
                let batch: Vec<(Bytes, Bytes)> =
                    keys.iter().cloned().zip(values.iter().cloned()).collect();
                let mem = MemTable::new();
                let start = Instant::now();
                for (i, (k, v)) in batch.into_iter().enumerate() {
                    let inserted = mem.insert(k, i as u64 + 1, ValueKind::Put, v);
                    assert!(inserted.is_ok(), "a 116-byte entry was refused");
                }
                total += start.elapsed();
                black_box(mem.len());
                drop(mem);
            }
            total
        });
    });
    group.finish();
}

fn get(c: &mut Criterion) {
    let keys = keys();
    let mem = filled(&keys, &values());
    let mut group = c.benchmark_group("memtable");
    group.throughput(Throughput::Elements(GETS_PER_ITER as u64));
    let mut next = 0u64;
    group.bench_function("get", |b| {
        b.iter(|| {
            for _ in 0..GETS_PER_ITER {
                next += 1;
                let key = &keys[(mix(next ^ 0x5EED) % ENTRIES as u64) as usize];
                black_box(mem.get(key, u64::MAX >> 8));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, insert, get);
criterion_main!(benches);
