//! Runs the `wal_read` fuzz body over the checked-in seed corpus and over a
//! few thousand deterministic mutations; `generate_seed_corpus` (ignored)
//! rewrites the seeds in `fuzz/corpus/wal_read/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use strata_wal::{BLOCK_SIZE, HEADER_SIZE, WriteBatch, fuzzing};

use common::{Rng, build_log, record};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/wal_read");

/// (key, value or `None` for a delete, expiry).
type Op<'a> = (&'a [u8], Option<&'a [u8]>, Option<u64>);

fn batch(base: u64, ops: &[Op<'_>]) -> Vec<u8> {
    let mut b = WriteBatch::new();
    for &(key, value, expiry) in ops {
        match (value, expiry) {
            (None, _) => b.delete(key).unwrap(),
            (Some(v), None) => b.put(key, v).unwrap(),
            (Some(v), Some(at)) => b.put_with_expiry(key, v, at).unwrap(),
        }
    }
    b.set_base_seqno(base).unwrap();
    b.as_bytes().to_vec()
}

fn small_batches() -> Vec<Vec<u8>> {
    vec![
        batch(1, &[(b"apple", Some(b"red"), None), (b"pear", None, None)]),
        batch(3, &[(b"plum", Some(b"purple"), Some(1_700_000_000_000))]),
        batch(4, &[]),
        batch(4, &[(b"", Some(b""), None), (b"k", None, None)]),
    ]
}

/// The seed files: name → bytes of a log.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let batches = small_batches();
    let (plain, _) = build_log(&batches);

    let big = batch(10, &[(b"big", Some(&record(1, 33_000)), None)]);
    let (spanning, _) = build_log(&[batches[0].clone(), big, batches[1].clone()]);

    // A first batch sized to leave 3 bytes of block padding.
    let filler_len = BLOCK_SIZE - HEADER_SIZE - 3 - 21; // 21: batch header and op overhead
    let filler = batch(20, &[(b"fill", Some(&vec![b'f'; filler_len]), None)]);
    assert_eq!(filler.len() + HEADER_SIZE, BLOCK_SIZE - 3);
    let (padded, _) = build_log(&[filler, batches[0].clone()]);

    let (mut torn, ends) = build_log(&batches);
    torn.truncate(ends[2] as usize + 5);

    let (mut corrupt, ends) = build_log(&batches);
    corrupt[ends[0] as usize + HEADER_SIZE + 2] ^= 0x40;

    let (empties, _) = build_log(&[vec![], vec![], batch(7, &[])]);
    vec![
        ("seed-batches", plain),
        ("seed-spanning", spanning),
        ("seed-padding", padded),
        ("seed-torn-tail", torn),
        ("seed-corrupt-crc", corrupt),
        ("seed-empty-records", empties),
    ]
}

#[test]
#[ignore = "rewrites fuzz/corpus/wal_read; run by hand after a format change"]
fn generate_seed_corpus() {
    std::fs::create_dir_all(CORPUS).unwrap();
    for (name, bytes) in seeds() {
        std::fs::write(PathBuf::from(CORPUS).join(name), bytes).unwrap();
    }
}

#[test]
fn checked_in_corpus_passes() {
    let Ok(dir) = std::fs::read_dir(CORPUS) else {
        return; // The corpus directory is optional.
    };
    let mut files = 0;
    for entry in dir {
        let path = entry.unwrap().path();
        fuzzing::wal_read(&std::fs::read(&path).unwrap());
        files += 1;
    }
    assert!(files > 0, "{CORPUS} exists but holds no files");
}

#[test]
fn seeds_pass() {
    for (_, bytes) in seeds() {
        fuzzing::wal_read(&bytes);
    }
}

fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    let len = data.len() as u64;
    match rng.below(6) {
        0 if len > 0 => {
            let i = rng.below(len) as usize;
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len) as usize;
            data[i] = rng.next() as u8;
        }
        2 => data.truncate(rng.below(len + 1) as usize),
        3 => {
            let at = rng.below(len + 1) as usize;
            let n = rng.below(16) as usize;
            let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            data.splice(at..at, bytes);
        }
        4 if len > 0 => {
            let from = rng.below(len) as usize;
            let to = (from + rng.below(64) as usize).min(data.len());
            let copy = data[from..to].to_vec();
            let at = rng.below(len + 1) as usize;
            data.splice(at..at, copy);
        }
        _ => data.extend(std::iter::repeat_n(0, rng.below(40) as usize)),
    }
}

/// Damaged logs: mutations of the framing itself.
#[test]
fn mutated_logs_never_panic() {
    let mut rng = Rng(0x5eed);
    let seeds = seeds();
    for round in 0..2000 {
        let (_, seed) = &seeds[round % seeds.len()];
        let mut data = seed.clone();
        for _ in 0..=rng.below(3) {
            mutate(&mut rng, &mut data);
        }
        fuzzing::wal_read(&data);
    }
}

/// Intact framing around damaged batches, so the batch decoder sees them.
#[test]
fn mutated_batches_in_valid_logs_never_panic() {
    let mut rng = Rng(0xba7c);
    let batches = small_batches();
    for _ in 0..2000 {
        let mut records = batches.clone();
        for r in records.iter_mut() {
            if rng.below(2) == 0 {
                mutate(&mut rng, r);
            }
        }
        let (log, _) = build_log(&records);
        fuzzing::wal_read(&log);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(99);
    for _ in 0..1000 {
        let len = rng.below(200) as usize;
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        fuzzing::wal_read(&data);
    }
}
