//! Flipping any single byte of a log never yields a wrong record and never
//! panics; garbage in the middle of a log is corruption in both modes, while a
//! zero-filled hole (a power-loss trace) is tolerated and reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use strata_core::Error;
use strata_wal::{BLOCK_SIZE, HEADER_SIZE, RecoveryMode};

use common::{build_log, corruption_offset, read_bytes, record};

/// A few records, one spanning a block boundary, with padding before the
/// last block, which holds two records.
fn sample() -> Vec<Vec<u8>> {
    let mut records = vec![record(0, 20), vec![], record(1, 33_000), record(2, 100)];
    let (bytes, _) = build_log(&records);
    let used = bytes.len() % BLOCK_SIZE;
    records.push(record(3, BLOCK_SIZE - used - HEADER_SIZE - 4));
    records.push(record(4, 15));
    records.push(record(5, 3000));
    records
}

/// Block where the record starting at `start` has its first fragment: a
/// record starting in a block's padding tail starts in the next block.
fn first_fragment_block(start: u64) -> u64 {
    let block = BLOCK_SIZE as u64;
    if block - start % block < HEADER_SIZE as u64 {
        start / block + 1
    } else {
        start / block
    }
}

#[test]
fn single_byte_flip_anywhere_never_yields_a_wrong_record() {
    let records = sample();
    let (log, ends) = build_log(&records);
    let starts: Vec<u64> = std::iter::once(0).chain(ends.iter().copied()).collect();
    let (mut torn, mut corrupt) = (0, 0);
    for pos in 0..log.len() {
        let mut damaged = log.clone();
        damaged[pos] ^= [0x01, 0x80, 0xff, 0x5a][pos % 4];
        // Records ending before the record (or padding) holding `pos` must survive.
        let intact = ends.iter().take_while(|&&e| e <= pos as u64).count();
        // A tolerant reader searches on byte by byte after the damage: every
        // record after the damaged one is "intact after" it, and makes a
        // flip (never a zero-filled hole) corruption.
        let found_after = records.len().saturating_sub(intact + 1);
        let in_padding = (pos as u64) < first_fragment_block(starts[intact]) * BLOCK_SIZE as u64;

        let (strict, strict_result, _) = read_bytes(&damaged, RecoveryMode::Strict);
        let strict_offset = match strict_result {
            Err(Error::Corruption { offset, .. }) => offset,
            other => panic!("flip at {pos}: a strict reader must notice it: {other:?}"),
        };
        assert!(strict_offset as usize <= pos, "flip at {pos}");
        assert_eq!(strict, records[..strict.len()], "flip at {pos}");
        assert!(
            strict.len() >= intact,
            "flip at {pos} lost an intact record"
        );

        let (got, result, report) = read_bytes(&damaged, RecoveryMode::TolerateTornTail);
        for (i, g) in got.iter().enumerate() {
            assert!(*g == records[i], "flip at {pos}: record {i} is wrong");
        }
        assert!(got.len() >= intact, "flip at {pos} lost an intact record");
        if in_padding {
            // Padding belongs to no record: tolerated without loss.
            result.unwrap();
            assert_eq!(got, records, "flip at {pos}");
            continue;
        }
        assert_eq!(got, strict, "flip at {pos}");
        if found_after == 0 {
            // Damage in the last record(s): a torn tail, dropped and reported.
            result.unwrap_or_else(|e| panic!("flip at {pos}: tolerant read failed: {e}"));
            let d = report.dropped.expect("a lost record must be reported");
            assert_eq!(d.offset, strict_offset, "flip at {pos}");
            assert_eq!(d.offset, starts[got.len()].max(d.offset));
            assert!(d.offset < ends[got.len()]);
            assert!(d.is_torn_tail(), "flip at {pos}: {d:?}");
            torn += 1;
        } else {
            // Intact records after non-zero damage: corruption, as in Strict.
            match result {
                Err(Error::Corruption { offset, reason, .. }) => {
                    assert_eq!(offset, strict_offset, "flip at {pos}");
                    assert!(
                        reason.contains(&format!("{found_after} intact records after")),
                        "flip at {pos}: {reason}"
                    );
                }
                other => panic!("flip at {pos}: expected corruption, got {other:?}"),
            }
            corrupt += 1;
        }
    }
    assert!(
        torn > 3000 && corrupt > 60_000,
        "{torn} torn, {corrupt} corrupt"
    );
}

#[test]
fn garbage_mid_log_with_intact_records_after_it_is_corruption_in_both_modes() {
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

    for mode in [RecoveryMode::TolerateTornTail, RecoveryMode::Strict] {
        let (got, result, report) = read_bytes(&log, mode);
        assert_eq!(
            got,
            records[..1],
            "{mode:?}: reading never resumes past damage"
        );
        assert!(report.dropped.is_none(), "{mode:?}");
        match result {
            Err(Error::Corruption {
                offset,
                file,
                reason,
            }) => {
                assert_eq!(offset, ends[0], "{mode:?}");
                assert_eq!(file.to_str(), Some("test.log"));
                assert!(reason.contains("checksum"), "{reason}");
            }
            other => panic!("{mode:?}: expected corruption, got {other:?}"),
        }
    }
}

#[test]
fn garbage_in_the_last_record_is_a_tolerated_torn_tail() {
    let records = vec![record(0, 100), record(1, 40_000), record(2, 10)];
    let (mut log, ends) = build_log(&records);
    let last = log.len() - 3;
    log[last] ^= 0x44;
    let (got, result, report) = read_bytes(&log, RecoveryMode::TolerateTornTail);
    result.unwrap();
    assert_eq!(got, records[..2]);
    let d = report.dropped.unwrap();
    assert_eq!(
        (d.offset, d.records, d.intact_records_after),
        (ends[1], 1, 0)
    );
    assert!(d.is_torn_tail());
}

/// A power loss can persist a later unsynced page but not an earlier one:
/// zeros before intact records. Tolerated, reported, nothing read past it.
#[test]
fn zero_filled_block_mid_log_is_tolerated_and_reported() {
    let records = vec![
        record(0, 100),
        record(1, 40_000),
        record(2, 30_000),
        record(3, 10),
        record(4, 40_000),
        record(5, 10),
    ];
    let (log, ends) = build_log(&records);
    // Block 1 holds the end of record 1 and part of record 2; record 3
    // onwards start in block 2 and later.
    assert!(ends[0] < BLOCK_SIZE as u64 && ends[2] > 2 * BLOCK_SIZE as u64);
    let mut holed = log.clone();
    holed[BLOCK_SIZE..2 * BLOCK_SIZE].fill(0);

    let (got, result, report) = read_bytes(&holed, RecoveryMode::TolerateTornTail);
    result.unwrap();
    assert_eq!(got, records[..1], "reading never resumes past a hole");
    let d = report.dropped.unwrap();
    assert_eq!(
        d.offset, ends[0],
        "the drop starts at the record the hole breaks"
    );
    assert_eq!(d.bytes, holed.len() as u64 - ends[0]);
    assert!(d.reason.contains("zero-filled"), "{}", d.reason);
    // Records 4 and 5 start in blocks after the hole (record 3 starts in
    // block 2, behind the rest of record 2, and is found too).
    assert_eq!(d.intact_records_after, 3);
    assert_eq!(d.records, 4);
    assert!(!d.is_torn_tail());

    let (got, result, _) = read_bytes(&holed, RecoveryMode::Strict);
    assert_eq!(got, records[..1]);
    assert_eq!(corruption_offset(&result.unwrap_err()), Some(ends[0]));
}

/// The usual shape of a lost page: the page holding a record's start was
/// written back before that record was appended (zeros from the record start
/// to the page end), or a page inside a record never was (a whole zero page).
#[test]
fn zero_filled_page_inside_a_record_is_a_hole_not_corruption() {
    let records = vec![
        record(0, 5000),
        record(1, 20_000),
        record(2, 40_000),
        record(3, 10),
    ];
    let (log, ends) = build_log(&records);
    let page = 4096;

    // Record 1 starts mid-page: zeros from its start to the page end.
    let mut from_record_start = log.clone();
    let start = ends[0] as usize;
    from_record_start[start..start.next_multiple_of(page)].fill(0);
    // Record 1's header survived; a whole page inside its payload did not.
    let mut inner_page = log.clone();
    let p = start.next_multiple_of(page) + page;
    inner_page[p..p + page].fill(0);
    // Non-zero damage at the same place, as a contrast.
    let mut garbage = log.clone();
    garbage[p..p + page].fill(0x5a);

    for (name, bytes, hole) in [
        ("record start", &from_record_start, true),
        ("inner page", &inner_page, true),
        ("garbage", &garbage, false),
    ] {
        let (got, result, report) = read_bytes(bytes, RecoveryMode::TolerateTornTail);
        assert_eq!(got, records[..1], "{name}");
        if hole {
            result.unwrap_or_else(|e| panic!("{name}: {e}"));
            let d = report.dropped.unwrap();
            // Records 2 and 3 follow the damaged record 1 and are intact.
            assert_eq!((d.offset, d.intact_records_after), (ends[0], 2), "{name}");
        } else {
            assert_eq!(corruption_offset(&result.unwrap_err()), Some(ends[0]));
        }
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
    // Not zeros, and an intact record follows: corruption in both modes.
    let (got, result, _) = read_bytes(headless, RecoveryMode::TolerateTornTail);
    assert!(got.is_empty());
    assert_eq!(corruption_offset(&result.unwrap_err()), Some(0));

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
