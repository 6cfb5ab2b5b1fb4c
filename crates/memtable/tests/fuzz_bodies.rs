//! Runs the fuzz bodies over the checked-in seed corpus (if present) and over
//! a few thousand deterministic random inputs, so they are exercised by
//! `cargo test` and cannot rot. `generate_seed_corpus` (ignored) rewrites the
//! seeds in `fuzz/corpus/memtable_ops/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use strata_memtable::fuzzing::memtable_ops;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fuzz/corpus/memtable_ops"
);

/// What an insert op writes (`memtable_ops` derives it from the high nibble
/// of the op's second byte).
#[derive(Clone, Copy)]
enum Kind {
    Delete,
    Expiring,
    Put,
}

/// One 3-byte op of `memtable_ops`: `[code, a, b]`.
type Op = [u8; 3];

/// Inserts into key `key` (an index into the body's key list, 0..7) a value
/// of `len` (0..5) bytes `fill`; the seqno advances by `1 + fill % 3`.
fn insert(key: u8, kind: Kind, len: u8, fill: u8) -> Op {
    let high = match kind {
        Kind::Delete => 0..=3,
        Kind::Expiring => 4..=5,
        Kind::Put => 6..=15,
    };
    let a = (0..=255u8)
        .find(|a| a % 7 == key && high.contains(&(a >> 4)) && a % 5 == len)
        .unwrap();
    [0, a, fill]
}

/// `get(key, snapshot)`.
fn get(key: u8, snapshot: u8) -> Op {
    [2, key, snapshot]
}

/// Scans of `lo..hi` (key indexes) and the visible versions at `snapshot` (< 64).
fn scan(lo: u8, hi: u8, snapshot: u8) -> Op {
    [3 | (snapshot << 2), lo, hi]
}

fn seeds() -> Vec<(&'static str, Vec<Op>)> {
    let all_keys_put: Vec<Op> = (0..7).map(|k| insert(k, Kind::Put, 2, k)).collect();
    let puts_and_gets = [
        all_keys_put.clone(),
        (0..7).map(|k| get(k, 40)).collect(),
        vec![get(3, 0), get(3, 1)],
    ]
    .concat();
    // One key with many versions of every kind, read at each snapshot.
    let versions = [
        (0..12)
            .map(|i| {
                let kind = [Kind::Put, Kind::Delete, Kind::Expiring][i % 3];
                insert(1, kind, (i % 5) as u8, i as u8)
            })
            .collect::<Vec<_>>(),
        (0..30).step_by(2).map(|s| get(1, s)).collect(),
    ]
    .concat();
    let scans = [
        all_keys_put.clone(),
        vec![
            insert(2, Kind::Delete, 0, 1),
            insert(5, Kind::Expiring, 4, 2),
        ],
        vec![
            scan(0, 6, 63),
            scan(0, 6, 3),
            scan(1, 4, 20),
            scan(4, 4, 20),
            scan(6, 0, 20),
        ],
    ]
    .concat();
    // Keys 4, 5, 6 share a 16-byte prefix and differ after it.
    let shared_prefix = [
        vec![
            insert(6, Kind::Put, 1, 7),
            insert(4, Kind::Put, 3, 8),
            insert(5, Kind::Delete, 0, 9),
            insert(4, Kind::Expiring, 2, 10),
            insert(6, Kind::Put, 4, 11),
        ],
        vec![
            get(4, 63),
            get(5, 63),
            get(6, 4),
            scan(4, 6, 63),
            scan(0, 6, 10),
        ],
    ]
    .concat();
    // Ends in a partial op, cut to `[0, 2]` by `seed_bytes` (the body pads
    // it with zeros: a put into key 2).
    let partial = vec![insert(0, Kind::Put, 1, 5), scan(0, 3, 9), [0, 2, 0]];

    vec![
        ("seed-puts-and-gets", puts_and_gets),
        ("seed-versions", versions),
        ("seed-scans", scans),
        ("seed-shared-prefix", shared_prefix),
        ("seed-partial-op", partial),
    ]
}

/// The bytes of a seed; the last one ends in a 2-byte partial op.
fn seed_bytes(name: &str, ops: &[Op]) -> Vec<u8> {
    let mut bytes = ops.concat();
    if name == "seed-partial-op" {
        bytes.pop();
    }
    bytes
}

/// Writes the seed corpus; run with `--ignored` after changing the op encoding.
#[test]
#[ignore = "rewrites fuzz/corpus/memtable_ops"]
fn generate_seed_corpus() {
    std::fs::create_dir_all(CORPUS).unwrap();
    for (name, ops) in seeds() {
        std::fs::write(PathBuf::from(CORPUS).join(name), seed_bytes(name, &ops)).unwrap();
    }
}

#[test]
fn seeds_pass_the_body() {
    for (name, ops) in seeds() {
        let bytes = seed_bytes(name, &ops);
        assert!(!bytes.is_empty() && bytes.len() < 200, "{name}");
        memtable_ops(&bytes);
    }
}

#[test]
fn checked_in_corpus_passes_and_is_current() {
    let Ok(dir) = std::fs::read_dir(CORPUS) else {
        return; // The corpus directory is optional.
    };
    let mut files = 0;
    for entry in dir {
        let path = entry.unwrap().path();
        memtable_ops(&std::fs::read(&path).unwrap());
        files += 1;
    }
    assert!(files > 0, "{CORPUS} exists but holds no files");
    for (name, ops) in seeds() {
        let checked_in = std::fs::read(Path::new(CORPUS).join(name))
            .unwrap_or_else(|e| panic!("seed {name} is missing ({e}): run generate_seed_corpus"));
        assert!(
            checked_in == seed_bytes(name, &ops),
            "seed {name} is stale: run generate_seed_corpus"
        );
    }
}

#[test]
fn random_inputs_pass_the_body() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for n in 0..3_000 {
        let len = n % 300;
        let input: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        memtable_ops(&input);
    }
}
