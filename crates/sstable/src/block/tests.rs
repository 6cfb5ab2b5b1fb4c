use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use proptest::prelude::*;

use super::*;

fn bytewise(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.cmp(b)
}

fn build(entries: &BTreeMap<Vec<u8>, Vec<u8>>, interval: usize) -> Block {
    let mut b = BlockBuilder::new(interval);
    for (k, v) in entries {
        b.add(k, v);
    }
    let size = b.estimated_size();
    let raw = Bytes::copy_from_slice(b.finish());
    assert_eq!(raw.len(), size, "estimated_size must be exact at finish");
    Block::decode(raw, Arc::from(Path::new("test.sst")), 4096).unwrap()
}

fn forward(block: &Block) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut it = block.iter(bytewise);
    let mut out = Vec::new();
    it.seek_to_first();
    while it.valid() {
        out.push((it.key().to_vec(), it.value().to_vec()));
        it.next();
    }
    it.status().unwrap();
    out
}

fn backward(block: &Block) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut it = block.iter(bytewise);
    let mut out = Vec::new();
    it.seek_to_last();
    while it.valid() {
        out.push((it.key().to_vec(), it.value().to_vec()));
        it.prev();
    }
    it.status().unwrap();
    out.reverse();
    out
}

#[test]
fn empty_block_has_no_entries() {
    let block = build(&BTreeMap::new(), 16);
    assert!(forward(&block).is_empty());
    let mut it = block.iter(bytewise);
    it.seek(b"a");
    assert!(!it.valid());
    it.seek_to_last();
    assert!(!it.valid());
    it.status().unwrap();
}

#[test]
fn seek_lands_on_first_key_not_below_target() {
    let entries: BTreeMap<Vec<u8>, Vec<u8>> = (0..100u32)
        .map(|i| {
            (
                format!("key{:04}", i * 2).into_bytes(),
                i.to_le_bytes().to_vec(),
            )
        })
        .collect();
    let block = build(&entries, 4);
    let mut it = block.iter(bytewise);
    it.seek(b"key0051");
    assert_eq!(it.key(), b"key0052");
    it.prev();
    assert_eq!(it.key(), b"key0050");
    it.seek(b"key0052");
    assert_eq!(it.key(), b"key0052");
    it.seek(b"");
    assert_eq!(it.key(), b"key0000");
    it.prev();
    assert!(!it.valid());
    it.seek(b"key9");
    assert!(!it.valid());
    it.status().unwrap();
}

#[test]
fn values_are_zero_copy_slices() {
    let entries = BTreeMap::from([(b"a".to_vec(), b"apple".to_vec())]);
    let block = build(&entries, 16);
    let mut it = block.iter(bytewise);
    it.seek_to_first();
    assert_eq!(it.value_bytes(), Bytes::from_static(b"apple"));
}

#[test]
fn restart_array_is_validated() {
    let file: Arc<Path> = Arc::from(Path::new("t"));
    let bad = |raw: Vec<u8>| Block::decode(Bytes::from(raw), file.clone(), 100).unwrap_err();
    assert!(bad(vec![1, 2]).is_corruption());
    // Claims 1000 restarts in an 8-byte block.
    assert!(bad(vec![0, 0, 0, 0, 0xe8, 3, 0, 0]).is_corruption());
    // One restart pointing past the entries.
    let e = bad(vec![9, 9, 9, 0, 0, 0, 1, 0, 0, 0]);
    match e {
        strata_core::Error::Corruption { offset, .. } => assert_eq!(offset, 102),
        other => panic!("{other}"),
    }
}

#[test]
fn every_truncation_and_flip_is_caught_or_harmless() {
    let entries: BTreeMap<Vec<u8>, Vec<u8>> = (0..40u32)
        .map(|i| {
            (
                format!("k{:03}", i).into_bytes(),
                vec![i as u8; (i % 7) as usize],
            )
        })
        .collect();
    let mut b = BlockBuilder::new(4);
    for (k, v) in &entries {
        b.add(k, v);
    }
    let raw = b.finish().to_vec();
    let file: Arc<Path> = Arc::from(Path::new("t"));
    let exercise = |bytes: Vec<u8>| {
        // The block layer has no checksum (the trailer does); here we only
        // require that nothing panics or loops, whatever the bytes.
        if let Ok(block) = Block::decode(Bytes::from(bytes), file.clone(), 0) {
            let mut it = block.iter(bytewise);
            let mut n = 0;
            it.seek_to_first();
            while it.valid() && n < 10_000 {
                it.next();
                n += 1;
            }
            it.seek_to_last();
            while it.valid() && n < 20_000 {
                it.prev();
                n += 1;
            }
            it.seek(b"k020");
            let _ = it.status();
        }
    };
    for cut in 0..raw.len() {
        exercise(raw[..cut].to_vec());
    }
    for i in 0..raw.len() {
        for x in [0x01, 0x80, 0xff] {
            let mut bytes = raw.clone();
            bytes[i] ^= x;
            exercise(bytes);
        }
    }
}

fn model_strategy() -> impl Strategy<Value = (BTreeMap<Vec<u8>, Vec<u8>>, usize)> {
    (
        proptest::collection::btree_map(
            proptest::collection::vec(0u8..4, 0..12),
            proptest::collection::vec(any::<u8>(), 0..20),
            0..200,
        ),
        1usize..20,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip_against_model(
        (entries, interval) in model_strategy(),
        probes in proptest::collection::vec(proptest::collection::vec(0u8..4, 0..12), 0..20),
    ) {
        let block = build(&entries, interval);
        let expected: Vec<_> = entries.clone().into_iter().collect();
        prop_assert_eq!(&forward(&block), &expected);
        prop_assert_eq!(&backward(&block), &expected);
        let mut it = block.iter(bytewise);
        for probe in &probes {
            it.seek(probe);
            let want = entries.range(probe.clone()..).next();
            match want {
                None => prop_assert!(!it.valid()),
                Some((k, v)) => {
                    prop_assert!(it.valid());
                    prop_assert_eq!(it.key(), &k[..]);
                    prop_assert_eq!(it.value(), &v[..]);
                    // prev from a seek lands on the predecessor.
                    let before = entries.range(..probe.clone()).next_back();
                    it.prev();
                    match before {
                        None => prop_assert!(!it.valid()),
                        Some((bk, _)) => prop_assert_eq!(it.key(), &bk[..]),
                    }
                }
            }
        }
        it.status().unwrap();
    }
}
