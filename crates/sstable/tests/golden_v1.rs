//! Format version 1 is frozen: checked-in tables still read correctly, the
//! builder still writes them byte for byte, and a corrupted copy is rejected.
//! Regenerate (only for a deliberate format change, with a new version) with
//! `cargo test -p strata-sstable --test golden_v1 -- --ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use bytes::Bytes;
use strata_core::{Error, ExpiringValue, InternalKey, ValueKind};
use strata_sstable::{CompressionType, TableOptions};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name)
}

/// Entries plus the options a fixture was built with.
type Case = (Vec<(InternalKey, Vec<u8>)>, TableOptions);

/// The worked example of `docs/format.md`.
fn tiny() -> Case {
    let entries = vec![
        (
            InternalKey::new(&b"a"[..], 1, ValueKind::Put),
            b"v".to_vec(),
        ),
        (
            InternalKey::new(&b"b"[..], 2, ValueKind::Delete),
            Vec::new(),
        ),
    ];
    (entries, TableOptions::default().time_range(1000, 2000))
}

/// Several lz4 blocks, every kind, a filter.
fn multi_block() -> Case {
    let mut entries = Vec::new();
    for i in 0..120u64 {
        let user = Bytes::from(format!("golden-{:04}", i / 3));
        let (kind, value) = match i % 3 {
            0 => (ValueKind::Put, format!("value {i} ").repeat(4).into_bytes()),
            1 => (
                ValueKind::PutWithExpiry,
                ExpiringValue::encode(5_000 + i, b"ttl"),
            ),
            _ => (ValueKind::Delete, Vec::new()),
        };
        entries.push((InternalKey::new(user, 1000 - i, kind), value));
    }
    let opts = TableOptions::default()
        .block_size(512)
        .compression(CompressionType::Lz4)
        .time_range(1_700_000_000_000, 1_700_000_100_000);
    (entries, opts)
}

fn cases() -> [(&'static str, Case); 2] {
    [
        ("v1-tiny.sst", tiny()),
        ("v1-multi-block-lz4.sst", multi_block()),
    ]
}

#[test]
fn fixtures_read_back_and_rebuild_identically() {
    for (name, (entries, opts)) in cases() {
        let on_disk = std::fs::read(fixture(name)).unwrap();
        let table = common::open_bytes(on_disk.clone(), None).unwrap();
        assert_eq!(common::scan(&table).unwrap(), entries, "{name}");
        assert_eq!(common::scan_back(&table).unwrap(), entries, "{name}");
        let (rebuilt, _) = common::build_bytes(&entries, opts);
        assert!(
            rebuilt == on_disk,
            "{name}: the builder no longer writes format v1 byte for byte"
        );
    }
}

#[test]
fn corrupted_fixture_is_rejected() {
    let bytes = std::fs::read(fixture("v1-multi-block-lz4-corrupt.sst")).unwrap();
    let table = common::open_bytes(bytes, None).unwrap();
    let err = common::scan(&table).unwrap_err();
    assert!(matches!(err, Error::Corruption { offset: 0, .. }), "{err}");
}

#[test]
#[ignore = "writes the fixtures"]
fn generate_fixtures() {
    for (name, (entries, opts)) in cases() {
        let (bytes, _) = common::build_bytes(&entries, opts);
        std::fs::write(fixture(name), &bytes).unwrap();
        if name == "v1-multi-block-lz4.sst" {
            let mut bad = bytes;
            bad[20] ^= 0x40; // inside the first data block
            std::fs::write(fixture("v1-multi-block-lz4-corrupt.sst"), bad).unwrap();
        }
    }
}
