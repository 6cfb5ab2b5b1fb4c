//! Tables with valid checksums but broken invariants, found by the
//! `sst_open_and_scan` fuzz target (libFuzzer forges CRCs by learning from
//! comparisons). Checksums stop accidents; these must still read as
//! corruption, never as wrong answers.
//!
//! * `fuzz-unsorted-keys.sst`: data keys out of order; a scan used to return
//!   them in that order.
//! * `fuzz-seek-misses-key.sst`: index separators out of order; a seek used
//!   to land on a key smaller than its target. Now refused at open.
//! * `fuzz-forged-filter.sst`: a bloom filter rewritten to exclude a stored
//!   key. Not detectable without a scan, and documented: the filter is
//!   trusted, so `get` may miss that key, but scans and `may_contain` agree.
//! * A data block re-checksummed after its only key was cut to one byte:
//!   blocks are checked entry by entry as reads meet them, so `get` must
//!   call that key corrupt, not read a trailer of zeros (a deletion).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use strata_core::checksum::{crc32c, crc32c_extend, mask};
use strata_core::{Error, FaultFs, FileSystem, InternalKey, ValueKind, compare_internal_keys};
use strata_sstable::fuzzing::{MemFile, sst_open_and_scan};
use strata_sstable::{TableOptions, TableReader};

mod common;

const UNSORTED: &[u8] = include_bytes!("fixtures/fuzz-unsorted-keys.sst");
const SEEK_MISSES: &[u8] = include_bytes!("fixtures/fuzz-seek-misses-key.sst");
const FORGED_FILTER: &[u8] = include_bytes!("fixtures/fuzz-forged-filter.sst");

fn open(bytes: &[u8]) -> TableReader {
    TableReader::open(Arc::new(MemFile::new(bytes.to_vec())), "fuzz.sst", 1, None)
        .expect("footer, index and filter of this table are valid")
}

/// Scans forward; returns the keys seen and the final status.
fn scan(table: &TableReader) -> (Vec<Vec<u8>>, strata_core::Result<()>) {
    let mut it = table.iter();
    it.seek_to_first();
    let mut keys: Vec<Vec<u8>> = Vec::new();
    while it.valid() {
        keys.push(it.key().to_vec());
        it.next();
    }
    (keys, it.status())
}

#[test]
fn disordered_keys_with_valid_checksums_are_corruption() {
    sst_open_and_scan(UNSORTED);
    let (keys, status) = scan(&open(UNSORTED));
    assert!(
        keys.windows(2)
            .all(|w| compare_internal_keys(&w[0], &w[1]).is_lt())
    );
    assert!(
        matches!(status, Err(Error::Corruption { .. })),
        "{status:?}"
    );
}

#[test]
fn index_out_of_order_is_corruption_at_open() {
    sst_open_and_scan(SEEK_MISSES);
    let err = TableReader::open(
        Arc::new(MemFile::new(SEEK_MISSES.to_vec())),
        "fuzz.sst",
        1,
        None,
    )
    .expect_err("an index whose keys do not increase must not open");
    assert!(matches!(err, Error::Corruption { .. }), "{err}");
}

#[test]
fn a_forged_filter_can_hide_keys_from_get_only() {
    sst_open_and_scan(FORGED_FILTER);
    let table = open(FORGED_FILTER);
    let (keys, status) = scan(&table);
    status.unwrap();
    let mut hidden = 0;
    for key in &keys {
        let user_key = strata_core::key::split_encoded(key).0;
        let found = table.get(user_key, strata_core::MAX_SEQNO).unwrap();
        if table.may_contain(user_key) {
            assert!(
                found.is_some(),
                "the filter admits the key, so get must find it"
            );
        } else {
            assert!(found.is_none());
            hidden += 1;
        }
    }
    assert!(hidden > 0, "this fixture's filter hides at least one key");
}

#[test]
fn a_key_shorter_than_its_trailer_is_corruption_on_get() {
    // Two keys, so the index separator (from `b`) lies above the forged key.
    let entries: Vec<_> = [b"a", b"b"]
        .iter()
        .map(|k| {
            (
                InternalKey::new(k.to_vec(), 7, ValueKind::Put),
                b"v".to_vec(),
            )
        })
        .collect();
    let (mut bytes, _) = common::build_bytes(&entries, TableOptions::default());
    // The only data block starts the file: two entries of (0 shared, 9 key
    // bytes, 1 value byte, key + 8-byte trailer, value), restart 0, count 1.
    let block_len = 2 * (3 + 9 + 1) + 4 + 4;
    assert_eq!(
        &bytes[..4],
        &[0, 9, 1, b'a'],
        "layout assumed by the forgery"
    );
    assert_eq!(
        &bytes[13..17],
        &[0, 9, 1, b'b'],
        "layout assumed by the forgery"
    );
    // The same bytes, read as a 1-byte key `a` and a 9-byte value.
    bytes[1] = 1;
    bytes[2] = 9;
    let crc = mask(crc32c_extend(crc32c(&bytes[..block_len]), &[0]));
    bytes[block_len + 1..block_len + 5].copy_from_slice(&crc.to_le_bytes());

    let fs = FaultFs::new();
    let path = std::path::Path::new("/forged.sst");
    let mut file = fs.create(path).unwrap();
    file.append(&bytes).unwrap();
    drop(file);
    let err = strata_sstable::verify_table(&fs, path).unwrap_err();
    assert!(matches!(err, Error::Corruption { offset: 0, .. }), "{err}");

    let table = common::open_bytes(bytes, None).unwrap();
    let err = table.get(b"a", strata_core::MAX_SEQNO).unwrap_err();
    assert!(matches!(err, Error::Corruption { offset: 0, .. }), "{err}");
}
