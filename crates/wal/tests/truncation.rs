//! A log cut at any byte offset (a torn tail) reads back exactly the records
//! that were complete before the cut, and reports the rest as dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use strata_wal::{BLOCK_SIZE, HEADER_SIZE, RecoveryMode};

use common::{build_log, read_bytes, record};

/// Records covering FULL, FIRST/MIDDLE/LAST, empty records, an empty FIRST
/// fragment and zero padding at a block tail.
fn sample() -> Vec<Vec<u8>> {
    let mut records = vec![record(0, 50), record(1, 70_000), vec![], record(2, 9)];
    // Leave exactly 3 bytes in the current block: the next record pads them.
    let (bytes, _) = build_log(&records);
    let used = bytes.len() % BLOCK_SIZE;
    records.push(record(3, BLOCK_SIZE - used - HEADER_SIZE - 3));
    records.push(record(4, 20));
    // Leave exactly one header's worth: the next record starts with an empty FIRST.
    let (bytes, _) = build_log(&records);
    let used = bytes.len() % BLOCK_SIZE;
    records.push(record(5, BLOCK_SIZE - used - 2 * HEADER_SIZE));
    records.push(record(6, 30));
    records.push(vec![]);
    records
}

#[test]
fn cut_at_every_offset_reads_exactly_the_complete_records() {
    let records = sample();
    let (log, ends) = build_log(&records);
    assert!(
        log.len() > 3 * BLOCK_SIZE,
        "the sample spans several blocks"
    );
    for cut in 0..=log.len() {
        let complete = ends.iter().take_while(|&&e| e <= cut as u64).count();
        let valid_len = if complete == 0 { 0 } else { ends[complete - 1] };

        let (got, result, report) = read_bytes(&log[..cut], RecoveryMode::TolerateTornTail);
        result.unwrap_or_else(|e| panic!("cut {cut}: tolerant read failed: {e}"));
        assert_eq!(got.len(), complete, "cut {cut}");
        assert!(got.iter().zip(&records).all(|(g, r)| g == r), "cut {cut}");
        assert_eq!(report.records, complete as u64);
        assert_eq!(report.valid_len, valid_len, "cut {cut}");
        match &report.dropped {
            // Zeros after the last record (block padding) read as the
            // log's end, as a preallocated log's unwritten space does.
            None => assert!(
                cut as u64 == valid_len
                    || cut % BLOCK_SIZE == 0
                    || log[valid_len as usize..cut].iter().all(|&b| b == 0),
                "cut {cut}: an incomplete tail went unreported"
            ),
            Some(d) => {
                // The drop starts at the torn record (after any padding).
                assert!(d.offset >= valid_len && d.offset < valid_len + HEADER_SIZE as u64);
                assert_eq!(d.bytes, cut as u64 - d.offset, "cut {cut}");
                assert_eq!(report.bytes_dropped(), d.bytes);
                assert!(d.is_torn_tail(), "cut {cut}: {d:?}");
                assert!(report.records_dropped() <= 1);
            }
        }

        let (strict, result, _) = read_bytes(&log[..cut], RecoveryMode::Strict);
        assert_eq!(strict, got, "cut {cut}");
        match result {
            Ok(()) => assert!(report.dropped.is_none(), "cut {cut}"),
            Err(e) => {
                assert!(e.is_corruption(), "cut {cut}: {e}");
                assert!(
                    cut as u64 != valid_len,
                    "cut {cut} at a record end is clean"
                );
            }
        }
    }
}

#[test]
fn torn_record_counts_as_one_dropped_record() {
    let records = vec![record(0, 10), record(1, 40_000)];
    let (log, ends) = build_log(&records);
    let (got, _, report) = read_bytes(&log[..log.len() - 1], RecoveryMode::TolerateTornTail);
    assert_eq!(got, records[..1]);
    let d = report.dropped.unwrap();
    assert_eq!(d.offset, ends[0]);
    assert_eq!(d.records, 1);
    assert_eq!(d.intact_records_after, 0);
}

/// Preallocated or zero-extended space after the last record (strata
/// preallocates synced logs; some file systems show it after a crash) is
/// the end of the log, in both modes: no record is lost there.
#[test]
fn zero_filled_tail_is_the_end_of_the_log() {
    let records = vec![record(0, 10), record(1, 100)];
    let (log, ends) = build_log(&records);
    for zeros in [1, HEADER_SIZE, 5000, 3 * BLOCK_SIZE + 17] {
        let mut log = log.clone();
        log.resize(log.len() + zeros, 0);
        for mode in [RecoveryMode::TolerateTornTail, RecoveryMode::Strict] {
            let (got, result, report) = read_bytes(&log, mode);
            result.unwrap();
            assert_eq!(got, records, "{zeros} zeros, {mode:?}");
            assert_eq!(report.dropped, None);
            assert_eq!(report.valid_len, ends[1]);
        }
    }
}

/// Zeros after an intact first fragment are a torn record, not an end.
#[test]
fn zeros_inside_a_record_are_still_damage() {
    let records = vec![record(0, 10), record(1, 2 * BLOCK_SIZE)];
    let (mut log, ends) = build_log(&records);
    // Keep the FIRST fragment's block, zero everything after it.
    let first_block_end = BLOCK_SIZE;
    log[first_block_end..].fill(0);
    let (got, result, report) = read_bytes(&log, RecoveryMode::TolerateTornTail);
    result.unwrap();
    assert_eq!(got, records[..1]);
    let d = report.dropped.unwrap();
    assert_eq!((d.offset, d.records), (ends[0], 1));
    let (_, strict, _) = read_bytes(&log, RecoveryMode::Strict);
    assert!(strict.unwrap_err().is_corruption());
}
