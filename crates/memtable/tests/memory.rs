//! `approximate_memory_usage` grows with every insert and stays within a sane
//! factor of the raw key and value bytes, so the engine rotates memtables at
//! roughly the configured size.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use strata_core::ValueKind;
use strata_memtable::MemTable;

fn grow(key_len: usize, value_len: usize, n: u64) -> (usize, usize) {
    let mem = MemTable::new();
    let mut raw = 0;
    let mut last = mem.approximate_memory_usage();
    assert_eq!(last, 0);
    for i in 0..n {
        let mut key = vec![b'k'; key_len];
        key[..8].copy_from_slice(&i.to_be_bytes());
        mem.insert(
            Bytes::from(key),
            i + 1,
            ValueKind::Put,
            Bytes::from(vec![0u8; value_len]),
        )
        .unwrap();
        raw += key_len + value_len;
        let now = mem.approximate_memory_usage();
        assert!(
            now > last + key_len + value_len - 1,
            "usage must grow by at least the raw bytes"
        );
        last = now;
    }
    (raw, last)
}

#[test]
fn usage_is_within_a_sane_factor_of_raw_bytes() {
    // Large values: overhead is small relative to the payload.
    let (raw, usage) = grow(16, 1000, 2_000);
    assert!(
        usage >= raw && usage <= raw + raw / 5,
        "raw {raw}, usage {usage}"
    );

    // Typical small entries (16-byte keys, 100-byte values): two header
    // words, 4 bytes of padding to whole words and 2 links on average, so
    // a 64 MiB memtable holds about 440 000 of them.
    let (raw, usage) = grow(16, 100, 10_000);
    let per_entry_overhead = (usage - raw) / 10_000;
    assert!(
        (32..=40).contains(&per_entry_overhead),
        "per-entry overhead {per_entry_overhead} is not two header words, padding and ~2 links"
    );
}

#[test]
fn tombstones_and_versions_are_charged_too() {
    let mem = MemTable::new();
    mem.insert(
        Bytes::from_static(b"k"),
        1,
        ValueKind::Put,
        Bytes::from_static(b"v"),
    )
    .unwrap();
    let one = mem.approximate_memory_usage();
    mem.insert(Bytes::from_static(b"k"), 2, ValueKind::Delete, Bytes::new())
        .unwrap();
    let two = mem.approximate_memory_usage();
    assert!(two > one, "a tombstone still occupies a node");
    assert!(two - one >= strata_memtable::ENTRY_OVERHEAD);
}
