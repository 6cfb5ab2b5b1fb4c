//! Flipping any single byte of a log never yields a wrong record and never
//! panics; damage in the middle of a log is reported as such.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use strata_core::Error;
use strata_wal::{BLOCK_SIZE, HEADER_SIZE, RecoveryMode};

use common::{build_log, read_bytes, record};

/// A few records, one spanning a block boundary, with padding before the last.
fn sample() -> Vec<Vec<u8>> {
    let mut records = vec![record(0, 20), vec![], record(1, 33_000), record(2, 100)];
    let (bytes, _) = build_log(&records);
    let used = bytes.len() % BLOCK_SIZE;
    records.push(record(3, BLOCK_SIZE - used - HEADER_SIZE - 4));
    records.push(record(4, 15));
    records
}

#[test]
fn single_byte_flip_anywhere_never_yields_a_wrong_record() {
    let records = sample();
    let (log, ends) = build_log(&records);
    let starts: Vec<u64> = std::iter::once(0).chain(ends.iter().copied()).collect();
    for pos in 0..log.len() {
        let mut damaged = log.clone();
        damaged[pos] ^= [0x01, 0x80, 0xff, 0x5a][pos % 4];
        // Records ending before the record (or padding) holding `pos` must survive.
        let intact = ends.iter().take_while(|&&e| e <= pos as u64).count();

        let (got, result, report) = read_bytes(&damaged, RecoveryMode::TolerateTornTail);
        result.unwrap_or_else(|e| panic!("flip at {pos}: tolerant read failed: {e}"));
        assert!(got.len() >= intact, "flip at {pos} lost an intact record");
        for (i, g) in got.iter().enumerate() {
            assert!(*g == records[i], "flip at {pos}: record {i} is wrong");
        }
        if got.len() < records.len() {
            let d = report
                .dropped
                .as_ref()
                .expect("a lost record must be reported");
            assert_eq!(d.offset, starts[got.len()].max(d.offset));
            assert!(d.offset < ends[got.len()]);
        }

        let (strict, result, _) = read_bytes(&damaged, RecoveryMode::Strict);
        assert!(strict.len() <= got.len() && strict[..] == got[..strict.len()]);
        match result {
            Ok(()) => assert_eq!(strict.len(), records.len()),
            Err(Error::Corruption { offset, .. }) => assert!(offset as usize <= pos),
            Err(e) => panic!("flip at {pos}: strict read failed with {e}"),
        }
        // A byte flip is always detected by strict reading.
        assert!(
            strict.len() < records.len(),
            "flip at {pos} went unnoticed by a strict reader"
        );
    }
}

#[test]
fn damage_mid_log_is_reported_with_the_intact_records_after_it() {
    // Record 1 lives in block 0; records 3.. start in later blocks.
    let records = vec![
        record(0, 100),
        record(1, 100),
        record(2, 40_000),
        record(3, 10),
        record(4, 40_000),
        record(5, 10),
    ];
    let (mut log, ends) = build_log(&records);
    log[ends[0] as usize + HEADER_SIZE + 3] ^= 0x10;

    let (got, result, report) = read_bytes(&log, RecoveryMode::TolerateTornTail);
    result.unwrap();
    assert_eq!(got, records[..1], "reading never resumes past damage");
    let d = report.dropped.unwrap();
    assert_eq!(d.offset, ends[0]);
    assert_eq!(d.bytes, log.len() as u64 - ends[0]);
    assert!(!d.is_torn_tail());
    // Records 3, 4 and 5 start in blocks after the damaged one and are found;
    // record 2 starts in the damaged block, which is skipped as a whole.
    assert_eq!(d.intact_records_after, 3);
    assert_eq!(d.records, 4);
    assert!(d.reason.contains("checksum"), "{}", d.reason);

    let (got, result, _) = read_bytes(&log, RecoveryMode::Strict);
    assert_eq!(got, records[..1]);
    match result {
        Err(Error::Corruption { offset, file, .. }) => {
            assert_eq!(offset, ends[0]);
            assert_eq!(file.to_str(), Some("test.log"));
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn unknown_fragment_type_with_valid_checksum_is_corruption() {
    let (mut log, _) = build_log(&[b"abc".to_vec()]);
    log[6] = 9;
    let crc = strata_core::checksum::mask(strata_core::checksum::crc32c(&[9, b'a', b'b', b'c']));
    log[..4].copy_from_slice(&crc.to_le_bytes());
    let (got, result, _) = read_bytes(&log, RecoveryMode::Strict);
    assert!(got.is_empty());
    let e = result.unwrap_err();
    assert!(e.to_string().contains("unknown fragment type 9"), "{e}");
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = common::Rng(7);
    for _ in 0..200 {
        let len = rng.below(3 * BLOCK_SIZE as u64) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for mode in [RecoveryMode::Strict, RecoveryMode::TolerateTornTail] {
            let _ = read_bytes(&bytes, mode);
        }
    }
}

#[test]
fn broken_fragment_sequences_are_corruption() {
    // MIDDLE without FIRST: a log whose first block went missing.
    let (log, _) = build_log(&[record(1, 70_000), record(2, 10)]);
    let headless = &log[BLOCK_SIZE..];
    let (got, result, _) = read_bytes(headless, RecoveryMode::Strict);
    assert!(got.is_empty());
    let e = result.unwrap_err();
    assert!(e.to_string().contains("without a FIRST"), "{e}");
    let (got, _, report) = read_bytes(headless, RecoveryMode::TolerateTornTail);
    assert!(got.is_empty());
    let d = report.dropped.unwrap();
    assert_eq!((d.offset, d.intact_records_after), (0, 1));

    // FIRST followed by FULL: a record that was never finished.
    let (first_half, _) = build_log(&[record(3, 40_000)]);
    let (next, _) = build_log(&[record(4, 10)]);
    let spliced = [&first_half[..BLOCK_SIZE], &next[..]].concat();
    let (got, result, _) = read_bytes(&spliced, RecoveryMode::Strict);
    assert!(got.is_empty());
    match result {
        Err(Error::Corruption { offset, reason, .. }) => {
            assert_eq!(offset, 0);
            assert!(reason.contains("not finished"), "{reason}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}
