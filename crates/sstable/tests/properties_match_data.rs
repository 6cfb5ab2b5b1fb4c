//! The properties block describes the table's data exactly, survives a
//! reopen, and compression on/off gives identical reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use strata_core::ValueKind;
use strata_sstable::{CompressionType, TableOptions};

#[test]
fn properties_round_trip_and_match_the_data() {
    let data = common::sample_entries(300, 30);
    let opts = TableOptions::default()
        .block_size(1024)
        .time_range(1_000, 2_000)
        .compression(CompressionType::Lz4);
    let (bytes, summary) = common::build_bytes(&data, opts);
    let table = common::open_bytes(bytes.clone(), None).unwrap();
    let p = table.properties();
    assert_eq!(p, &summary.properties);

    let count = |kind| data.iter().filter(|(k, _)| k.kind == kind).count() as u64;
    assert_eq!(p.num_entries, data.len() as u64);
    assert_eq!(p.num_deletions, count(ValueKind::Delete));
    assert_eq!(p.num_expiring, count(ValueKind::PutWithExpiry));
    // Versions below a newer one of the same user key (1 to 3 per key here).
    let shadowed = data
        .windows(2)
        .filter(|w| w[0].0.user_key == w[1].0.user_key);
    assert_eq!(p.num_shadowed, Some(shadowed.count() as u64));
    assert!(p.num_shadowed > Some(0));
    assert_eq!(
        p.raw_key_bytes,
        data.iter()
            .map(|(k, _)| k.user_key.len() as u64)
            .sum::<u64>()
    );
    assert_eq!(
        p.raw_value_bytes,
        data.iter().map(|(_, v)| v.len() as u64).sum::<u64>()
    );
    assert_eq!(
        p.min_seqno,
        data.iter().map(|(k, _)| k.seqno).min().unwrap()
    );
    assert_eq!(
        p.max_seqno,
        data.iter().map(|(k, _)| k.seqno).max().unwrap()
    );
    assert_eq!(p.smallest_key.as_ref(), Some(&data[0].0));
    assert_eq!(p.largest_key.as_ref(), Some(&data[data.len() - 1].0));
    assert_eq!((p.min_time_ms, p.max_time_ms), (1_000, 2_000));
    assert_eq!(p.max_expiry_ms, 1_000 + 299);
    assert_eq!(p.compression, CompressionType::Lz4);
    assert_eq!(
        (p.block_size, p.restart_interval, p.bloom_bits_per_key),
        (1024, 16, 10)
    );
    assert!(p.num_data_blocks > 10);
    assert!(p.filter_size > 0 && p.index_size > 0);
    // Data blocks, filter, properties, index and footer add up to the file.
    assert!(p.data_size + p.filter_size + p.index_size + 64 < bytes.len() as u64);
    assert!(p.data_size + p.filter_size + p.index_size + 64 + 200 > bytes.len() as u64);
}

#[test]
fn compression_on_and_off_read_identically() {
    let data = common::sample_entries(500, 60);
    let plain = common::build_bytes(&data, TableOptions::default()).0;
    let lz4 = common::build_bytes(
        &data,
        TableOptions::default().compression(CompressionType::Lz4),
    )
    .0;
    assert!(
        lz4.len() * 2 < plain.len(),
        "lz4 {} vs plain {}",
        lz4.len(),
        plain.len()
    );
    let a = common::open_bytes(plain, None).unwrap();
    let b = common::open_bytes(lz4, None).unwrap();
    assert_eq!(common::scan(&a).unwrap(), data);
    assert_eq!(common::scan(&b).unwrap(), data);
    assert_eq!(common::scan_back(&b).unwrap(), data);
    for (k, _) in data.iter().step_by(13) {
        assert_eq!(
            a.get(&k.user_key, k.seqno).unwrap(),
            b.get(&k.user_key, k.seqno).unwrap()
        );
    }
}

#[test]
fn without_a_filter_everything_may_match() {
    let data = common::sample_entries(50, 5);
    let t = common::build_table(&data, TableOptions::default().bloom_bits_per_key(0));
    assert_eq!(t.properties().filter_size, 0);
    assert!(t.may_contain(b"definitely-not-there"));
    assert_eq!(t.get(b"definitely-not-there", u64::MAX).unwrap(), None);
    let t = common::build_table(&data, TableOptions::default());
    let absent = (0..1000)
        .filter(|i| t.may_contain(format!("nope{i}").as_bytes()))
        .count();
    assert!(absent < 50, "filter passes {absent}/1000 absent keys");
    assert!(data.iter().all(|(k, _)| t.may_contain(&k.user_key)));
}
