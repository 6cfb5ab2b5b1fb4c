//! A log cut at any byte offset (a torn tail) reads back exactly the records
//! that were complete before the cut, and reports the rest as dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use strata_wal::{BLOCK_SIZE, HEADER_SIZE, RecoveryMode};

use std::sync::Arc;

use strata_wal::LogReader;

use common::{MemFile, build_log, read_bytes, read_with, record};

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
            None => assert!(
                cut as u64 == valid_len || (cut % BLOCK_SIZE == 0),
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

/// Preallocated or zero-extended space after the last record (some file
/// systems show it after a crash) is dropped as zero fill, not a lost record.
#[test]
fn zero_filled_tail_drops_no_record() {
    let records = vec![record(0, 10), record(1, 100)];
    let (mut log, ends) = build_log(&records);
    log.resize(log.len() + 5000, 0);
    let (got, result, report) = read_bytes(&log, RecoveryMode::TolerateTornTail);
    result.unwrap();
    assert_eq!(got, records);
    let d = report.dropped.unwrap();
    assert_eq!((d.offset, d.bytes, d.records), (ends[1], 5000, 0));
    let (_, strict, _) = read_bytes(&log, RecoveryMode::Strict);
    assert!(strict.unwrap_err().is_corruption());
}

/// A reader for logs that may be preallocated.
fn read_preallocated(
    bytes: &[u8],
    mode: RecoveryMode,
) -> (
    Vec<Vec<u8>>,
    strata_core::Result<()>,
    strata_wal::RecoveryReport,
) {
    let file = Arc::new(MemFile(bytes.to_vec()));
    read_with(
        LogReader::new(file, "test.log", mode)
            .unwrap()
            .zero_tail_is_end(true),
    )
}

/// With `zero_tail_is_end`, zeros from a record boundary to the end of the
/// file (a preallocated log's unwritten space) are the log's end in both
/// modes; without it they are the drop shown above.
#[test]
fn a_preallocated_log_ends_where_its_zeros_start() {
    let records = vec![record(0, 10), record(1, 100)];
    let (log, ends) = build_log(&records);
    for zeros in [1, HEADER_SIZE, 5000, 3 * BLOCK_SIZE + 17] {
        let mut log = log.clone();
        log.resize(log.len() + zeros, 0);
        for mode in [RecoveryMode::TolerateTornTail, RecoveryMode::Strict] {
            let (got, result, report) = read_preallocated(&log, mode);
            result.unwrap();
            assert_eq!(got, records, "{zeros} zeros, {mode:?}");
            assert_eq!(report.dropped, None);
            assert_eq!(report.valid_len, ends[1]);
        }
    }
}

/// Even so, zeros after an intact first fragment are a torn record.
#[test]
fn zeros_inside_a_record_of_a_preallocated_log_are_still_damage() {
    let records = vec![record(0, 10), record(1, 2 * BLOCK_SIZE)];
    let (mut log, ends) = build_log(&records);
    // Keep the block with the FIRST fragment, zero everything after it.
    log[BLOCK_SIZE..].fill(0);
    let (got, result, report) = read_preallocated(&log, RecoveryMode::TolerateTornTail);
    result.unwrap();
    assert_eq!(got, records[..1]);
    let d = report.dropped.unwrap();
    assert_eq!((d.offset, d.records), (ends[0], 1));
    let (_, strict, _) = read_preallocated(&log, RecoveryMode::Strict);
    assert!(strict.unwrap_err().is_corruption());
}

/// A cut preallocated log reads like a cut log, except that a cut leaving
/// only zeros after the last whole record (block padding) is clean.
#[test]
fn a_cut_preallocated_log_keeps_exactly_the_complete_records() {
    let records = vec![record(0, 50), record(1, 70_000), record(2, 9)];
    let (log, ends) = build_log(&records);
    for cut in (0..=log.len()).step_by(7) {
        let complete = ends.iter().take_while(|&&e| e <= cut as u64).count();
        let valid_len = if complete == 0 {
            0
        } else {
            ends[complete - 1] as usize
        };
        let mut image = log[..cut].to_vec();
        image.resize(log.len() + 4096, 0);
        let (got, result, report) = read_preallocated(&image, RecoveryMode::TolerateTornTail);
        result.unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        assert_eq!(got, records[..complete], "cut {cut}");
        let only_zeros_left = log[valid_len..cut].iter().all(|&b| b == 0);
        assert_eq!(
            report.dropped.is_none(),
            only_zeros_left,
            "cut {cut}: {report:?}"
        );
    }
}
