//! The builder refuses bad input with `InvalidArgument`, writes nothing for
//! it, and stays usable; an empty builder writes a valid empty table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use strata_core::{
    Error, ExpiringValue, FaultFs, FileSystem, InternalKey, MAX_KEY_SIZE, ValueKind,
};
use strata_sstable::{TableBuilder, TableOptions};

fn key(user: &[u8], seqno: u64) -> InternalKey {
    InternalKey::new(user.to_vec(), seqno, ValueKind::Put)
}

fn builder(fs: &FaultFs, opts: TableOptions) -> TableBuilder {
    let path = Path::new("/b.sst");
    TableBuilder::new(fs.create(path).unwrap(), path, opts).unwrap()
}

#[test]
fn out_of_order_and_duplicate_keys_are_rejected_and_the_builder_stays_usable() {
    let fs = FaultFs::new();
    let mut b = builder(&fs, TableOptions::default());
    b.add(&key(b"b", 5), b"1").unwrap();
    for bad in [key(b"a", 9), key(b"b", 5), key(b"b", 6)] {
        let err = b.add(&bad, b"x").unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    }
    b.add(&key(b"b", 4), b"2").unwrap();
    b.add(&key(b"c", 9), b"3").unwrap();
    let summary = b.finish().unwrap();
    assert_eq!(summary.properties.num_entries, 3);
    let table = common::open_bytes(fs.read_all(Path::new("/b.sst")).unwrap(), None).unwrap();
    let keys: Vec<_> = common::scan(&table)
        .unwrap()
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(keys, [key(b"b", 5), key(b"b", 4), key(b"c", 9)]);
}

#[test]
fn the_value_limit_applies_to_the_user_value_not_the_expiry_prefix() {
    let fs = FaultFs::new();
    let mut b = builder(&fs, TableOptions::default().max_value_size(100));
    let at_limit = strata_core::ExpiringValue::encode(7, &[1; 100]);
    let ttl = |k: &[u8]| InternalKey::new(k.to_vec(), 1, ValueKind::PutWithExpiry);
    b.add(&ttl(b"a"), &at_limit).unwrap();
    let over = strata_core::ExpiringValue::encode(7, &[1; 101]);
    assert!(matches!(
        b.add(&ttl(b"b"), &over),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn oversized_keys_and_values_are_rejected() {
    let fs = FaultFs::new();
    let mut b = builder(&fs, TableOptions::default().max_value_size(100));
    let big_key = vec![b'k'; MAX_KEY_SIZE + 1];
    assert!(matches!(
        b.add(&key(&big_key, 1), b"v"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        b.add(&key(b"a", 1), &[0; 101]),
        Err(Error::InvalidArgument(_))
    ));
    let mut enc = key(&big_key, 1).encode();
    assert!(matches!(
        b.add_encoded(&enc, b"v"),
        Err(Error::InvalidArgument(_))
    ));
    enc.truncate(5);
    assert!(matches!(
        b.add_encoded(&enc, b"v"),
        Err(Error::InvalidArgument(_))
    ));
    let short_expiry = InternalKey::new(&b"a"[..], 1, ValueKind::PutWithExpiry);
    assert!(matches!(
        b.add(&short_expiry, b"1234567"),
        Err(Error::InvalidArgument(_))
    ));
    // The limits themselves are accepted.
    let max_key = vec![b'k'; MAX_KEY_SIZE];
    b.add(&key(b"a", 1), &[7; 100]).unwrap();
    b.add(&key(&max_key, 1), b"v").unwrap();
    assert_eq!(b.num_entries(), 2);
    assert_eq!(b.finish().unwrap().properties.num_entries, 2);
}

#[test]
fn bad_options_are_rejected() {
    let fs = FaultFs::new();
    let path = Path::new("/o.sst");
    let err = TableBuilder::new(
        fs.create(path).unwrap(),
        path,
        TableOptions::default().block_size(0),
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
}

#[test]
fn an_empty_table_is_valid_and_empty() {
    let (bytes, summary) = common::build_bytes(&[], TableOptions::default());
    assert_eq!(summary.properties.num_entries, 0);
    assert_eq!(summary.properties.smallest_key, None);
    let table = common::open_bytes(bytes, None).unwrap();
    assert!(common::scan(&table).unwrap().is_empty());
    assert!(common::scan_back(&table).unwrap().is_empty());
    assert_eq!(table.get(b"a", u64::MAX).unwrap(), None);
    let mut it = table.iter();
    it.seek(&key(b"a", 1));
    assert!(!it.valid());
    it.status().unwrap();
}

#[test]
fn io_failure_poisons_the_builder() {
    let fs = FaultFs::new();
    let mut b = builder(&fs, TableOptions::default().block_size(64));
    fs.fail_nth(strata_core::FsOp::Append, 0);
    let mut saw_io = false;
    for i in 0..100u32 {
        match b.add(&key(&i.to_be_bytes(), 1), &[1; 40]) {
            Ok(()) => {}
            Err(Error::Io(_)) => {
                saw_io = true;
                break;
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert!(saw_io);
    assert!(b.add(&key(b"\xff\xff\xff\xff\xff", 1), b"v").is_err());
    assert!(b.finish().is_err());
}

#[test]
fn expiring_values_feed_max_expiry() {
    let entries = vec![
        (
            InternalKey::new(&b"a"[..], 3, ValueKind::PutWithExpiry),
            ExpiringValue::encode(500, b"x"),
        ),
        (
            InternalKey::new(&b"b"[..], 2, ValueKind::PutWithExpiry),
            ExpiringValue::encode(900, b"y"),
        ),
        (
            InternalKey::new(&b"c"[..], 1, ValueKind::Delete),
            Vec::new(),
        ),
    ];
    let (_, summary) = common::build_bytes(&entries, TableOptions::default());
    let p = summary.properties;
    assert_eq!(
        (p.num_expiring, p.num_deletions, p.max_expiry_ms),
        (2, 1, 900)
    );
}
