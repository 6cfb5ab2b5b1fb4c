//! Runs the `manifest_edit_decode` fuzz body over the checked-in seed corpus
//! and over a few thousand deterministic random and mutated inputs;
//! `generate_seed_corpus` (ignored) rewrites the seeds in
//! `fuzz/corpus/manifest_edit_decode/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use strata::fuzzing;
use strata::manifest::VersionEdit;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fuzz/corpus/manifest_edit_decode"
);

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The seed files: name -> one encoded edit.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let history = common::edit_history(6);
    let mut snapshot = history[5].1.snapshot_edit();
    snapshot.add_file(2, common::meta(1, 7, 9));
    let mut counters = VersionEdit::new();
    counters.log_number = Some(12);
    counters.next_file_number = Some(13);
    counters.last_seqno = Some(4_000);
    // A file recorded before the shadowed-version count existed: tag 5.
    let mut old_addition = VersionEdit::new();
    let mut unknown = common::meta(3, 2, 8);
    unknown.num_shadowed = None;
    old_addition.add_file(0, unknown);
    vec![
        ("empty", Vec::new()),
        ("counters", counters.encode()),
        ("flush", history[0].0.encode()),
        ("move", history[1].0.encode()),
        ("remove", history[2].0.encode()),
        ("snapshot", snapshot.encode()),
        ("added-tag-5", old_addition.encode()),
    ]
}

#[test]
#[ignore = "rewrites the checked-in seed corpus"]
fn generate_seed_corpus() {
    std::fs::create_dir_all(CORPUS).unwrap();
    for (name, bytes) in seeds() {
        std::fs::write(PathBuf::from(CORPUS).join(format!("seed-{name}")), bytes).unwrap();
    }
}

#[test]
fn seeds_decode() {
    for (name, bytes) in seeds() {
        let path = std::path::Path::new("seed");
        assert!(VersionEdit::decode_from(&bytes, path, 0).is_ok(), "{name}");
        fuzzing::manifest_edit_decode(&bytes);
    }
}

#[test]
fn fuzz_body_survives_corpus_and_mutations() {
    let mut inputs: Vec<Vec<u8>> = seeds().into_iter().map(|(_, b)| b).collect();
    if let Ok(entries) = std::fs::read_dir(CORPUS) {
        for entry in entries {
            inputs.push(std::fs::read(entry.unwrap().path()).unwrap());
        }
    }
    for input in &inputs {
        fuzzing::manifest_edit_decode(input);
    }
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for i in 0..4000 {
        let mut bytes = inputs[i % inputs.len()].clone();
        match rng.below(4) {
            0 => {
                for _ in 0..=rng.below(4) {
                    if !bytes.is_empty() {
                        let at = rng.below(bytes.len());
                        bytes[at] ^= 1 << rng.below(8);
                    }
                }
            }
            1 => bytes.truncate(rng.below(bytes.len() + 1)),
            2 => {
                let at = rng.below(bytes.len() + 1);
                bytes.insert(at, rng.next() as u8);
            }
            _ => {
                bytes = (0..rng.below(64)).map(|_| (rng.next() % 8) as u8).collect();
            }
        }
        fuzzing::manifest_edit_decode(&bytes);
    }
}
