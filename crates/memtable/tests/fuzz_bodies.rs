//! Runs the fuzz bodies over the checked-in seed corpus (if present) and over
//! a few thousand deterministic random inputs, so they are exercised by
//! `cargo test` and cannot rot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use strata_memtable::fuzzing::memtable_ops;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus")).join(target);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect()
}

#[test]
fn memtable_ops_corpus_and_random_inputs() {
    for input in corpus("memtable_ops") {
        memtable_ops(&input);
    }
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
