//! Runs the fuzz bodies over the seed corpus and over deterministic random and
//! mutated inputs; `generate_seed_corpus` (ignored) writes the seeds.

use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata_core::{ExpiringValue, FaultFs, FileSystem, InternalKey, ValueKind};

use super::*;
use crate::{CompressionType, TableBuilder, TableOptions};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus")).join(target)
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let Ok(dir) = std::fs::read_dir(corpus_dir(target)) else {
        return Vec::new();
    };
    let mut files: Vec<_> = dir.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn table_bytes(n: usize, opts: TableOptions) -> Vec<u8> {
    let fs = FaultFs::new();
    let path = Path::new("/seed.sst");
    // A fixed time range keeps the generated seeds byte-for-byte reproducible.
    let opts = opts.time_range(1_700_000_000_000, 1_700_000_360_000);
    let mut b = TableBuilder::new(fs.create(path).unwrap(), path, opts).unwrap();
    for i in 0..n {
        let user = format!("k{:03}", i / 2);
        let seq = 1000 - i as u64;
        let (kind, value) = match i % 4 {
            0 => (
                ValueKind::Put,
                format!("value-{i}").repeat(1 + i % 3).into_bytes(),
            ),
            1 => (ValueKind::Delete, Vec::new()),
            2 => (ValueKind::PutWithExpiry, ExpiringValue::encode(77, b"ttl")),
            _ => (ValueKind::Put, vec![b'z'; i % 40]),
        };
        b.add(&InternalKey::new(user.into_bytes(), seq, kind), &value)
            .unwrap();
    }
    b.finish().unwrap();
    fs.read_all(path).unwrap()
}

fn sst_seeds() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty", table_bytes(0, TableOptions::default())),
        ("one-entry", table_bytes(1, TableOptions::default())),
        (
            "multi-block",
            table_bytes(60, TableOptions::default().block_size(128)),
        ),
        (
            "lz4",
            table_bytes(
                60,
                TableOptions::default()
                    .block_size(256)
                    .compression(CompressionType::Lz4),
            ),
        ),
        (
            "no-filter",
            table_bytes(
                20,
                TableOptions::default()
                    .bloom_bits_per_key(0)
                    .restart_interval(1),
            ),
        ),
    ]
}

fn block_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, n, restart) in [("empty", 0, 16), ("small", 5, 2), ("restarts", 40, 4)] {
        let mut b = BlockBuilder::new(restart);
        for i in 0..n {
            let key = InternalKey::new(format!("key{i:04}").into_bytes(), 9, ValueKind::Put);
            b.add(&key.encode(), format!("v{i}").as_bytes());
        }
        out.push((name, b.finish().to_vec()));
    }
    out
}

fn bloom_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, n, bits) in [("tiny", 1, 10), ("ten-bits", 50, 10), ("few-bits", 30, 3)] {
        let mut b = BloomBuilder::new(bits);
        for i in 0..n {
            b.add(format!("user{i}").as_bytes());
        }
        out.push((name, b.finish()));
    }
    out.push((
        "raw-input",
        b"\x09abcdefghijklmnopqrstuvwxyz0123456789".to_vec(),
    ));
    out
}

fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    match rng.random_range(0..5) {
        0 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            v[i] ^= 1 << rng.random_range(0..8);
        }
        1 => v.truncate(rng.random_range(0..=v.len())),
        2 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            v[i] = rng.random();
        }
        3 => {
            let i = rng.random_range(0..=v.len());
            let junk: Vec<u8> = (0..rng.random_range(1..16)).map(|_| rng.random()).collect();
            v.splice(i..i, junk);
        }
        _ => {
            v = (0..rng.random_range(0..300))
                .map(|_| rng.random())
                .collect();
        }
    }
    v
}

fn drive(target: &str, seeds: Vec<(&'static str, Vec<u8>)>, body: fn(&[u8]), runs: usize) {
    let mut inputs: Vec<Vec<u8>> = seeds.into_iter().map(|(_, v)| v).collect();
    inputs.extend(corpus(target));
    for input in &inputs {
        body(input);
    }
    let mut rng = StdRng::seed_from_u64(0x5eed_0000 + target.len() as u64);
    for _ in 0..runs {
        let i = rng.random_range(0..inputs.len());
        let input = mutate(&mut rng, &inputs[i]);
        body(&input);
    }
}

#[test]
fn sst_open_and_scan_survives_corpus_and_mutations() {
    drive("sst_open_and_scan", sst_seeds(), sst_open_and_scan, 3000);
}

#[test]
fn block_decode_survives_corpus_and_mutations() {
    drive("block_decode", block_seeds(), block_decode, 3000);
}

#[test]
fn bloom_probe_survives_corpus_and_mutations() {
    drive("bloom_probe", bloom_seeds(), bloom_probe, 3000);
}

#[test]
fn seeds_are_valid() {
    for (name, bytes) in sst_seeds() {
        let t = TableReader::open(Arc::new(MemFile::new(bytes)), name, 0, None).unwrap();
        let _ = t.properties();
    }
}

/// Writes the seed corpus: `cargo test -p strata-sstable -- --ignored generate_seed_corpus`.
#[test]
#[ignore = "writes files into fuzz/corpus"]
fn generate_seed_corpus() {
    for (target, seeds) in [
        ("sst_open_and_scan", sst_seeds()),
        ("block_decode", block_seeds()),
        ("bloom_probe", bloom_seeds()),
    ] {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in seeds {
            std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
        }
    }
}
