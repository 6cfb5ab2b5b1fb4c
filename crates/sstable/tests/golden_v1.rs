//! Format version 1 is frozen: checked-in tables still read correctly, the
//! builder still writes the current ones byte for byte, and a corrupted copy
//! is rejected.
//!
//! Two generations of fixtures: `v1-*.sst` have properties version 1 (the
//! first release, read-only now: their shadowed-version count is unknown)
//! and `v1-props2-*.sst` properties version 2 (what the builder writes).
//! They differ only inside the properties block. Regenerate the current ones
//! (only for a deliberate format change, with a new version) with
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

/// `(current fixture, properties-version-1 fixture of the same table,
/// shadowed versions in it, case)`.
fn cases() -> [(&'static str, &'static str, u64, Case); 2] {
    [
        ("v1-props2-tiny.sst", "v1-tiny.sst", 0, tiny()),
        // Three versions of each of 40 user keys.
        (
            "v1-props2-multi-block-lz4.sst",
            "v1-multi-block-lz4.sst",
            80,
            multi_block(),
        ),
    ]
}

#[test]
fn fixtures_read_back_and_rebuild_identically() {
    for (name, _, shadowed, (entries, opts)) in cases() {
        let on_disk = std::fs::read(fixture(name)).unwrap();
        let table = common::open_bytes(on_disk.clone(), None).unwrap();
        assert_eq!(common::scan(&table).unwrap(), entries, "{name}");
        assert_eq!(common::scan_back(&table).unwrap(), entries, "{name}");
        assert_eq!(table.properties().num_shadowed, Some(shadowed), "{name}");
        let (rebuilt, _) = common::build_bytes(&entries, opts);
        assert!(
            rebuilt == on_disk,
            "{name}: the builder no longer writes format v1 byte for byte"
        );
    }
}

/// The properties block's `(offset, stored size + trailer)`, from the footer.
fn properties_span(table: &[u8]) -> std::ops::Range<usize> {
    let footer = &table[table.len() - 64..];
    let word = |at: usize| u64::from_le_bytes(footer[at..at + 8].try_into().unwrap()) as usize;
    word(16)..word(16) + word(24) + 5
}

#[test]
fn properties_version_1_fixtures_still_read_with_an_unknown_shadowed_count() {
    for (current, old, _, (entries, _)) in cases() {
        let old_bytes = std::fs::read(fixture(old)).unwrap();
        let table = common::open_bytes(old_bytes.clone(), None).unwrap();
        assert_eq!(common::scan(&table).unwrap(), entries, "{old}");
        assert_eq!(common::scan_back(&table).unwrap(), entries, "{old}");
        let p = table.properties();
        assert_eq!(p.num_shadowed, None, "{old}");
        assert_eq!(p.num_entries, entries.len() as u64, "{old}");

        // Version 2 only gave the reserved number a meaning: same length,
        // same bytes outside the properties block.
        let new_bytes = std::fs::read(fixture(current)).unwrap();
        assert_eq!(old_bytes.len(), new_bytes.len(), "{old}");
        let span = properties_span(&new_bytes);
        assert_eq!(span, properties_span(&old_bytes), "{old}");
        for (i, (a, b)) in old_bytes.iter().zip(&new_bytes).enumerate() {
            assert!(a == b || span.contains(&i), "{old}: byte {i} differs");
        }
        assert_eq!((old_bytes[span.start], new_bytes[span.start]), (1, 2));
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
    // The properties-version-1 fixtures (and the corrupted copy, built from
    // the version-1 multi-block table) are frozen: only the current ones
    // are written.
    for (name, _, _, (entries, opts)) in cases() {
        let (bytes, _) = common::build_bytes(&entries, opts);
        std::fs::write(fixture(name), &bytes).unwrap();
    }
}
