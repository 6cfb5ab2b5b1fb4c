//! Runs the `engine_ops` fuzz body (an operation sequence against a
//! `BTreeMap` model) over the checked-in seed corpus and over deterministic
//! random and mutated inputs; `generate_engine_ops_seeds` (ignored) rewrites
//! the seeds in `fuzz/corpus/engine_ops/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use strata::fuzzing::{self, BatchOp, Bound, Op, ScanMode, Val, encode_ops};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/engine_ops");

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

/// Key numbers (see `strata::fuzzing::key`): 0 = "a", 1 = "b",
/// 3 = "aa", 12 = "aaa", 234 = "", 237 = "\xff", 255 = too long.
const A: u8 = 0;
const B: u8 = 1;
const AA: u8 = 3;
const AB: u8 = 4;
const AAA: u8 = 12;
const EMPTY: u8 = 234;
const FF: u8 = 237;
const LONG: u8 = 254;
const TOO_LONG: u8 = 255;

fn fill(first: u8, n: u8) -> Vec<Op> {
    (0..n)
        .map(|i| Op::Put(first.wrapping_add(i) % 39, Val::Long(100 + i)))
        .collect()
}

/// The seed files: name -> input.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let scan = |lo, hi, mode, limit| Op::Scan(lo, hi, mode, limit);
    let basics = vec![
        Op::Put(A, Val::Short(1)),
        Op::Put(AA, Val::Short(2)),
        Op::Put(EMPTY, Val::Short(3)),
        Op::Put(FF, Val::Short(4)),
        Op::Delete(AA),
        Op::Get(A),
        Op::Get(AA),
        Op::Get(EMPTY),
        scan(Bound::Unbounded, Bound::Unbounded, ScanMode::Forward, None),
        scan(
            Bound::Included(A),
            Bound::Excluded(FF),
            ScanMode::Reverse,
            Some(2),
        ),
        Op::Prefix(AAA, 1, ScanMode::Forward, None),
        Op::Batch(vec![
            BatchOp::Put(B, Val::Short(5)),
            BatchOp::Delete(A),
            BatchOp::Put(AB, Val::Long(9)),
        ]),
        scan(
            Bound::Excluded(EMPTY),
            Bound::Unbounded,
            ScanMode::Mixed {
                steps: 3,
                fronts: 0b101,
            },
            None,
        ),
    ];
    let ttl_and_counters = vec![
        Op::PutTtl(A, Val::Short(1), 10),
        Op::Increment(B, 5),
        Op::Increment(B, 0x7f),
        Op::Increment(B, 0xfb),
        Op::Put(AA, Val::Number(2)),
        Op::Increment(AA, 1),
        Op::Put(AB, Val::Number(3)),
        Op::Increment(AB, 1),
        Op::Get(A),
        Op::Advance(5),
        Op::Get(A),
        scan(
            Bound::Unbounded,
            Bound::Unbounded,
            ScanMode::ThenAdvance(1),
            None,
        ),
        Op::Get(A),
        Op::Increment(A, 3),
        Op::Batch(vec![BatchOp::PutTtl(AAA, Val::Number(7), 0)]),
        Op::Get(AAA),
        Op::Flush,
        Op::Compact,
    ];
    let mut snapshots = fill(0, 12);
    snapshots.extend([
        Op::TakeSnapshot,
        Op::Delete(0),
        Op::Put(1, Val::Short(7)),
        Op::Flush,
        Op::TakeSnapshot,
    ]);
    snapshots.extend(fill(5, 12));
    snapshots.extend([
        Op::CompactRange(Bound::Included(A), Bound::Excluded(AAA)),
        Op::SnapGet(0, 0),
        Op::SnapScan(0, Bound::Unbounded, Bound::Unbounded, ScanMode::Reverse),
        Op::DropSnapshot(0),
        Op::Compact,
        Op::SnapScan(0, Bound::Included(B), Bound::Unbounded, ScanMode::Forward),
        Op::DropSnapshot(0),
        Op::Compact,
    ]);
    let mut reopen = fill(3, 10);
    reopen.extend([
        Op::TakeSnapshot,
        Op::PutTtl(B, Val::Short(2), 50),
        Op::Reopen,
    ]);
    reopen.extend(fill(7, 6));
    reopen.extend([
        Op::SnapScan(0, Bound::Unbounded, Bound::Unbounded, ScanMode::Forward),
        Op::Crash,
        Op::SnapGet(0, 3),
        Op::Advance(40),
        Op::Get(B),
    ]);
    let limits = vec![
        Op::Put(LONG, Val::Short(1)),
        Op::Put(TOO_LONG, Val::Short(1)),
        Op::Put(A, Val::Long(250)),
        Op::Put(A, Val::Long(251)),
        Op::Delete(TOO_LONG),
        Op::Batch(vec![
            BatchOp::Put(B, Val::Short(1)),
            BatchOp::Put(AA, Val::Long(255)),
        ]),
        Op::Increment(TOO_LONG, 1),
        Op::Get(B),
        Op::Get(LONG),
    ];
    let mut size_tiered = fill(0, 40);
    size_tiered.extend([Op::Advance(60), Op::Crash]);
    size_tiered.extend(fill(20, 30));
    vec![
        ("basics", encode_ops(0, &basics)),
        ("ttl-and-counters", encode_ops(2, &ttl_and_counters)),
        (
            "snapshots-and-compaction",
            encode_ops(4 | 16 | 32, &snapshots),
        ),
        ("reopen-and-crash", encode_ops(8, &reopen)),
        ("limits", encode_ops(3, &limits)),
        ("size-tiered", encode_ops(1 | 4 | 8, &size_tiered)),
    ]
}

#[test]
#[ignore = "rewrites the checked-in seed corpus"]
fn generate_engine_ops_seeds() {
    std::fs::create_dir_all(CORPUS).unwrap();
    for (name, bytes) in seeds() {
        std::fs::write(PathBuf::from(CORPUS).join(format!("seed-{name}")), bytes).unwrap();
    }
}

#[test]
fn seeds_run_clean() {
    for (name, bytes) in seeds() {
        eprintln!("{name}:\n{}", fuzzing::engine_ops_describe(&bytes));
        fuzzing::engine_ops(&bytes);
    }
}

#[test]
fn fuzz_body_survives_corpus_and_mutations() {
    let mut inputs: Vec<Vec<u8>> = seeds().into_iter().map(|(_, b)| b).collect();
    if let Ok(entries) = std::fs::read_dir(CORPUS) {
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).unwrap();
            eprintln!("{}", path.display());
            fuzzing::engine_ops(&bytes);
            inputs.push(bytes);
        }
    }
    let mut rng = Rng(0x5eed_0e05_abcd_0002);
    for i in 0..3000 {
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
                // Splice a random run of bytes in: new operations mid-way.
                let at = rng.below(bytes.len() + 1);
                let run: Vec<u8> = (0..rng.below(24)).map(|_| rng.next() as u8).collect();
                bytes.splice(at..at, run);
            }
            _ => bytes = (0..rng.below(48)).map(|_| rng.next() as u8).collect(),
        }
        fuzzing::engine_ops(&bytes);
    }
}

/// Finding of the `engine_ops` fuzz target: `Db::compact` promises that,
/// with no live snapshot, no shadowed version remains on disk; but a table
/// already in the bottom level with no tombstone and no expiring value
/// counted as settled (`strata_compaction`'s `pick_manual`) and was not
/// rewritten, so versions kept for a snapshot released since stayed. Tables
/// now record how many such versions they hold (`num_shadowed`), and only a
/// table with none is settled.
#[test]
fn compact_after_releasing_a_snapshot_drops_shadowed_versions() {
    use std::sync::Arc;
    use strata_core::{FaultFs, FileSystem};

    let fs = FaultFs::new();
    fs.create_dir_all(std::path::Path::new("/db")).unwrap();
    let db = strata::Db::open("/db", strata::Options::default().file_system(Arc::new(fs))).unwrap();
    db.put("a", "1").unwrap();
    let snapshot = db.snapshot();
    db.put("a", "2").unwrap();
    db.compact().unwrap();
    drop(snapshot);
    db.compact().unwrap();
    let entries: u64 = db.stats().levels.iter().map(|l| l.entries).sum();
    assert_eq!(entries, 1, "{:?}", db.stats().levels);
}
