//! A table with valid checksums but keys out of order (found by the
//! `sst_open_and_scan` fuzz target, which forged the CRCs) used to scan as
//! a disordered sequence; it must read as corruption instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use strata_core::Error;
use strata_sstable::TableReader;
use strata_sstable::fuzzing::{MemFile, sst_open_and_scan};

const FIXTURE: &[u8] = include_bytes!("fixtures/fuzz-unsorted-keys.sst");

#[test]
fn disordered_keys_with_valid_checksums_are_corruption() {
    // The fuzz body's consistency checks must hold on this input.
    sst_open_and_scan(FIXTURE);

    let table = TableReader::open(
        Arc::new(MemFile::new(FIXTURE.to_vec())),
        "fuzz.sst",
        1,
        None,
    )
    .expect("the footer, index and filter of this table are valid");
    let mut it = table.iter();
    it.seek_to_first();
    let mut previous: Option<Vec<u8>> = None;
    while it.valid() {
        if let Some(p) = &previous {
            assert!(
                strata_core::compare_internal_keys(p, it.key()).is_lt(),
                "the scan returned keys out of order"
            );
        }
        previous = Some(it.key().to_vec());
        it.next();
    }
    assert!(
        matches!(it.status(), Err(Error::Corruption { .. })),
        "{:?}",
        it.status()
    );
}
