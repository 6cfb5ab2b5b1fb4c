//! Every single-byte corruption of a small table is either reported as
//! `Corruption` (or `Io`) naming the file, or leaves reads exactly correct —
//! never a panic, never wrong data. Also: truncated files are rejected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use strata_core::{Error, InternalKey};
use strata_sstable::{BlockCache, CompressionType, TableOptions};

type Entries = Vec<(InternalKey, Vec<u8>)>;

/// Opens, scans both ways and gets every key; `Ok(true)` if everything
/// matched `want` exactly, `Err` for the first error.
fn read_everything(bytes: Vec<u8>, want: &Entries) -> strata_core::Result<()> {
    let cache = Arc::new(BlockCache::new(1 << 20));
    let table = common::open_bytes(bytes, Some(cache))?;
    let fwd = common::scan(&table)?;
    assert_eq!(&fwd, want, "forward scan returned wrong data");
    let back = common::scan_back(&table)?;
    assert_eq!(&back, want, "backward scan returned wrong data");
    let mut newest_seen = Vec::new();
    for (k, v) in want {
        if newest_seen.last() == Some(&k.user_key) {
            continue;
        }
        newest_seen.push(k.user_key.clone());
        let got = table
            .get(&k.user_key, u64::MAX)?
            .expect("present key not found");
        assert_eq!(
            (got.seqno, got.kind, &got.value[..]),
            (k.seqno, k.kind, &v[..])
        );
    }
    assert_eq!(table.get(b"absent-key", u64::MAX)?, None);
    Ok(())
}

fn sweep(opts: TableOptions) {
    let want = common::sample_entries(40, 12);
    let (bytes, summary) = common::build_bytes(&want, opts);
    assert!(
        summary.properties.num_data_blocks >= 3,
        "want several blocks"
    );
    read_everything(bytes.clone(), &want).unwrap();
    let (mut detected, mut harmless) = (0, 0);
    for xor in [0xff, 0x01] {
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= xor;
            match read_everything(bad, &want) {
                Ok(()) => harmless += 1,
                Err(Error::Corruption { file, .. }) => {
                    assert_eq!(file, std::path::Path::new("/t.sst"));
                    detected += 1;
                }
                Err(Error::Io(_)) => detected += 1,
                Err(e) => panic!("byte {i} ^ {xor:#x}: unexpected error {e}"),
            }
        }
    }
    // crc32c catches every single-byte error, so nothing slips through silently.
    assert_eq!(
        harmless, 0,
        "{harmless} corruptions went unnoticed ({detected} detected)"
    );
}

#[test]
fn every_byte_flip_is_detected_uncompressed() {
    sweep(TableOptions::default().block_size(256));
}

#[test]
fn every_byte_flip_is_detected_lz4() {
    sweep(
        TableOptions::default()
            .block_size(256)
            .compression(CompressionType::Lz4)
            .restart_interval(4),
    );
}

#[test]
fn every_truncation_is_rejected() {
    let want = common::sample_entries(10, 4);
    let (bytes, _) = common::build_bytes(&want, TableOptions::default().block_size(128));
    for len in 0..bytes.len() {
        let err = common::open_bytes(bytes[..len].to_vec(), None).unwrap_err();
        assert!(err.is_corruption(), "length {len}: {err}");
    }
}

#[test]
fn corruption_errors_name_the_damaged_block() {
    let want = common::sample_entries(40, 12);
    let (bytes, _) = common::build_bytes(&want, TableOptions::default().block_size(256));
    // Byte 10 lies in the first data block, which starts at offset 0.
    let mut bad = bytes.clone();
    bad[10] ^= 0xff;
    let table = common::open_bytes(bad, None).unwrap();
    let err = common::scan(&table).unwrap_err();
    assert!(matches!(err, Error::Corruption { offset: 0, .. }), "{err}");
    // The last byte is part of the footer's magic.
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    let err = common::open_bytes(bad, None).unwrap_err();
    assert!(
        matches!(err, Error::Corruption { offset, .. } if offset == n as u64 - 64),
        "{err}"
    );
}
