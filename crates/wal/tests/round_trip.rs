//! Records written with `LogWriter` read back identically, on real files,
//! whatever their size and position relative to block boundaries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use strata_core::{FileSystem, StdFs};
use strata_wal::{BLOCK_SIZE, HEADER_SIZE, LogWriter, RecoveryMode};

use common::{read_path, record};

fn round_trip_on_disk(records: &[Vec<u8>]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000001.log");
    let fs = StdFs;
    let mut w = LogWriter::new(fs.create(&path).unwrap());
    for r in records {
        w.add_record(r).unwrap();
    }
    w.sync().unwrap();
    assert_eq!(w.len(), std::fs::metadata(&path).unwrap().len());
    for mode in [RecoveryMode::Strict, RecoveryMode::TolerateTornTail] {
        let (got, result, report) = read_path(&fs, &path, mode);
        result.unwrap();
        assert_eq!(got.len(), records.len());
        for (i, (g, r)) in got.iter().zip(records).enumerate() {
            assert!(g == r, "record {i} ({} bytes) differs", r.len());
        }
        assert_eq!(report.records, records.len() as u64);
        assert_eq!(report.valid_len, w.len());
        assert!(report.dropped.is_none());
    }
}

#[test]
fn sizes_around_block_boundaries() {
    let sizes = [
        0,
        1,
        BLOCK_SIZE - HEADER_SIZE - 1, // 32760
        BLOCK_SIZE - HEADER_SIZE,     // 32761: fills a block exactly
        BLOCK_SIZE - HEADER_SIZE + 1, // 32762: one byte spills over
        BLOCK_SIZE,
        2 * BLOCK_SIZE,
        100 * 1024,
    ];
    for &size in &sizes {
        round_trip_on_disk(&[record(size as u64, size)]);
    }
    let all: Vec<_> = sizes
        .iter()
        .enumerate()
        .map(|(i, &s)| record(i as u64, s))
        .collect();
    round_trip_on_disk(&all);
}

#[test]
fn empty_log_and_empty_records() {
    round_trip_on_disk(&[]);
    round_trip_on_disk(&[vec![], vec![], record(1, 3), vec![]]);
}

/// Every amount of space left in a block (0..=8 bytes: padding, an exactly
/// header-sized tail giving an empty FIRST fragment, a one-byte fragment).
#[test]
fn every_small_block_tail() {
    for leftover in 0..=HEADER_SIZE + 1 {
        let first = BLOCK_SIZE - HEADER_SIZE - leftover;
        round_trip_on_disk(&[record(1, first), record(2, 10), vec![], record(3, 5)]);
        round_trip_on_disk(&[record(1, first), vec![], record(2, 40_000)]);
    }
}

#[test]
fn many_small_records_across_blocks() {
    let records: Vec<_> = (0..3000).map(|i| record(i, (i % 97) as usize)).collect();
    round_trip_on_disk(&records);
}
