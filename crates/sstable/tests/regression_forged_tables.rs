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
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use strata_core::{Error, compare_internal_keys};
use strata_sstable::TableReader;
use strata_sstable::fuzzing::{MemFile, sst_open_and_scan};

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
