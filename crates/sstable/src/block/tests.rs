use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use proptest::prelude::*;

use super::*;

use strata_core::{InternalKey, MAX_SEQNO, ValueKind, compare_internal_keys};

/// Blocks hold internal keys; the tests give every user key one version.
fn ik(user_key: &[u8]) -> Vec<u8> {
    InternalKey::new(user_key.to_vec(), 1, ValueKind::Put).encode()
}

/// Where a seek for `user_key` must land: before all its versions.
fn target(user_key: &[u8]) -> Vec<u8> {
    InternalKey::seek_key(user_key.to_vec(), MAX_SEQNO).encode()
}

fn user(key: &[u8]) -> Vec<u8> {
    key[..key.len() - 8].to_vec()
}

const CMP: KeyComparator = compare_internal_keys;

fn build(entries: &BTreeMap<Vec<u8>, Vec<u8>>, interval: usize) -> Block {
    let mut b = BlockBuilder::new(interval);
    for (k, v) in entries {
        b.add(&ik(k), v);
    }
    let size = b.estimated_size();
    let raw = Bytes::copy_from_slice(b.finish());
    assert_eq!(raw.len(), size, "estimated_size must be exact at finish");
    Block::decode(raw, Arc::from(Path::new("test.sst")), 4096).unwrap()
}

fn forward(block: &Block) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut it = block.iter(CMP);
    let mut out = Vec::new();
    it.seek_to_first();
    while it.valid() {
        out.push((user(it.key()), it.value().to_vec()));
        it.next();
    }
    it.status().unwrap();
    out
}

fn backward(block: &Block) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut it = block.iter(CMP);
    let mut out = Vec::new();
    it.seek_to_last();
    while it.valid() {
        out.push((user(it.key()), it.value().to_vec()));
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
    let mut it = block.iter(CMP);
    it.seek(&target(b"a"));
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
    let mut it = block.iter(CMP);
    it.seek(&target(b"key0051"));
    assert_eq!(user(it.key()), b"key0052");
    it.prev();
    assert_eq!(user(it.key()), b"key0050");
    it.seek(&target(b"key0052"));
    assert_eq!(user(it.key()), b"key0052");
    it.seek(&target(b""));
    assert_eq!(user(it.key()), b"key0000");
    it.prev();
    assert!(!it.valid());
    it.seek(&target(b"key9"));
    assert!(!it.valid());
    it.status().unwrap();
}

#[test]
fn values_are_zero_copy_slices() {
    let entries = BTreeMap::from([(b"a".to_vec(), b"apple".to_vec())]);
    let block = build(&entries, 16);
    let mut it = block.iter(CMP);
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
    // Zero restarts: readers could scan forward but not seek or go back.
    assert!(bad(vec![0, 0, 0, 0]).is_corruption());
    // One restart pointing past the entries; errors name the block's offset.
    match bad(vec![9, 9, 9, 0, 0, 0, 1, 0, 0, 0]) {
        strata_core::Error::Corruption { offset, .. } => assert_eq!(offset, 100),
        other => panic!("{other}"),
    }
}

/// `Block::decode` then `Block::validate`: the checks `verify` makes.
fn decode_validated(raw: Bytes, file: Arc<Path>) -> strata_core::Result<Block> {
    let block = Block::decode(raw, file, 0)?;
    block.validate()?;
    Ok(block)
}

/// Raw block bytes for two entries, the second at offset `second`.
fn two_entries(restarts: &[u32]) -> (Vec<u8>, usize) {
    let mut raw = Vec::new();
    for user_key in [b"a", b"b"] {
        let key = ik(user_key);
        raw.extend_from_slice(&[0, key.len() as u8, 1]);
        raw.extend_from_slice(&key);
        raw.push(b'v');
    }
    let second = raw.len() / 2;
    for r in restarts {
        raw.extend_from_slice(&r.to_le_bytes());
    }
    raw.extend_from_slice(&(restarts.len() as u32).to_le_bytes());
    (raw, second)
}

#[test]
fn restarts_must_sit_on_entry_starts() {
    let file: Arc<Path> = Arc::from(Path::new("t"));
    let decode = |raw: Vec<u8>| decode_validated(Bytes::from(raw), file.clone());
    let (_, second) = two_entries(&[0]);
    decode(two_entries(&[0]).0).unwrap();
    decode(two_entries(&[0, second as u32]).0).unwrap();
    // Mid-entry restart, and a first restart that is not the first entry.
    assert!(decode(two_entries(&[0, 3]).0).unwrap_err().is_corruption());
    assert!(
        decode(two_entries(&[second as u32]).0)
            .unwrap_err()
            .is_corruption()
    );
}

#[test]
fn keys_must_be_internal_keys() {
    let file: Arc<Path> = Arc::from(Path::new("t"));
    let decode = |raw: Vec<u8>| decode_validated(Bytes::from(raw), file.clone());
    // A 3-byte key is shorter than a trailer.
    let mut short = vec![0, 3, 0, b'a', b'b', b'c'];
    short.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
    assert!(decode(short).unwrap_err().is_corruption());
    // A trailer with kind 9.
    let mut key = ik(b"a");
    let kind_at = key.len() - 8;
    key[kind_at] = 9;
    let mut unknown = vec![0, key.len() as u8, 0];
    unknown.extend_from_slice(&key);
    unknown.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
    assert!(decode(unknown).unwrap_err().is_corruption());
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
        // The block layer has no checksum (the trailer has): damaged bytes
        // may decode to other entries, but a block that validates must read
        // the same forwards and backwards, and nothing may panic or loop,
        // whether or not it was validated.
        let bytes = Bytes::from(bytes);
        if let Ok(block) = Block::decode(bytes.clone(), file.clone(), 0) {
            let mut it = block.iter(CMP);
            it.seek_to_first();
            let mut n = 0;
            while it.valid() && n < 10_000 {
                it.next();
                n += 1;
            }
            it.seek_to_last();
            while it.valid() && n < 20_000 {
                it.prev();
                n += 1;
            }
            it.seek(&target(b"k020"));
            let _ = it.status();
        }
        if let Ok(block) = decode_validated(bytes, file.clone()) {
            let mut fwd = Vec::new();
            let mut it = block.iter(CMP);
            it.seek_to_first();
            while it.valid() && fwd.len() < 10_000 {
                fwd.push(it.key().to_vec());
                it.next();
            }
            it.status().unwrap();
            let mut back = Vec::new();
            it.seek_to_last();
            while it.valid() && back.len() < 10_000 {
                back.push(it.key().to_vec());
                it.prev();
            }
            it.status().unwrap();
            back.reverse();
            assert_eq!(fwd, back);
            it.seek(&target(b"k020"));
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
        let mut it = block.iter(CMP);
        let mut key = Vec::new();
        for probe in &probes {
            it.seek(&target(probe));
            let want = entries.range(probe.clone()..).next();
            let point = block.seek_point(&target(probe), CMP, 0..=usize::MAX, &mut key).unwrap();
            prop_assert_eq!(
                point.map(|e| (user(&key), block.point_value(&e).to_vec())),
                want.map(|(k, v)| (k.clone(), v.clone()))
            );
            match want {
                None => prop_assert!(!it.valid()),
                Some((k, v)) => {
                    prop_assert!(it.valid());
                    prop_assert_eq!(user(it.key()), k.clone());
                    prop_assert_eq!(it.value(), &v[..]);
                    // prev from a seek lands on the predecessor.
                    let before = entries.range(..probe.clone()).next_back();
                    it.prev();
                    match before {
                        None => prop_assert!(!it.valid()),
                        Some((bk, _)) => prop_assert_eq!(user(it.key()), bk.clone()),
                    }
                }
            }
        }
        it.status().unwrap();
    }
}

fn versions_strategy() -> impl Strategy<Value = Vec<(Vec<u8>, u64)>> {
    // Keys sharing long prefixes, keys that are prefixes of others, zero
    // bytes, and several versions of a key: what could fool the hints.
    proptest::collection::btree_set(
        (
            prop_oneof![
                proptest::collection::vec(0u8..3, 0..4),
                proptest::collection::vec(0u8..3, 0..14).prop_map(|t| [
                    b"common-prefix/".to_vec(),
                    t
                ]
                .concat()),
            ],
            0u64..4,
        ),
        1..300,
    )
    .prop_map(|set| set.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn seeks_with_hints_land_where_plain_seeks_do(
        versions in versions_strategy(),
        interval in 1usize..6,
        probes in proptest::collection::vec(
            (proptest::collection::vec(0u8..3, 0..18), 0u64..5, any::<bool>()), 0..40),
    ) {
        // Internal order: user key ascending, seqno descending.
        let mut keys: Vec<Vec<u8>> = versions
            .iter()
            .map(|(k, s)| InternalKey::new(k.clone(), *s, ValueKind::Put).encode())
            .collect();
        keys.sort_by(|a, b| compare_internal_keys(a, b));
        let mut b = BlockBuilder::new(interval);
        for k in &keys {
            b.add(k, b"v");
        }
        let block = Block::decode(Bytes::copy_from_slice(b.finish()), Arc::from(Path::new("t")), 0).unwrap();
        let hints = block.restart_hints();
        let (mut plain, mut hinted) = (block.iter(CMP), block.iter(CMP));
        let mut targets: Vec<Vec<u8>> = keys.clone();
        for (user_key, seqno, prefixed) in probes {
            let user_key = if prefixed { [b"common-prefix/".to_vec(), user_key].concat() } else { user_key };
            targets.push(InternalKey::new(user_key, seqno, ValueKind::SEEK).encode());
        }
        let mut key = Vec::new();
        for t in &targets {
            plain.seek(t);
            hinted.seek_with_hints(t, &hints);
            prop_assert_eq!(plain.valid(), hinted.valid());
            if plain.valid() {
                prop_assert_eq!(plain.key(), hinted.key());
            }
            // The point-lookup path lands on the same entry and steps to the
            // same successor.
            let point = block.seek_point(t, CMP, hints.candidates(t), &mut key).unwrap();
            prop_assert_eq!(point.is_some(), plain.valid());
            if let Some(entry) = point {
                prop_assert_eq!(&key[..], plain.key());
                prop_assert_eq!(block.point_value(&entry), plain.value());
                prop_assert_eq!(&block.point_value_bytes(&entry)[..], plain.value());
                let next = block.next_point(&entry, &mut key).unwrap();
                plain.next();
                prop_assert_eq!(next.is_some(), plain.valid());
                if next.is_some() {
                    prop_assert_eq!(&key[..], plain.key());
                }
            }
        }
    }
}
