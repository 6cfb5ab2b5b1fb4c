use std::path::Path;

use proptest::prelude::*;

use super::*;

fn decode(bytes: &[u8]) -> Result<WriteBatch> {
    WriteBatch::decode_from(bytes, Path::new("test.log"), 100)
}

#[test]
fn layout_is_header_then_ops() {
    let mut b = WriteBatch::new();
    b.put(b"k", b"v").unwrap();
    b.delete(b"d").unwrap();
    b.put_with_expiry(b"t", b"x", 0x0102).unwrap();
    b.set_base_seqno(7).unwrap();
    let expected: Vec<u8> = [
        &7u64.to_le_bytes()[..],
        &3u32.to_le_bytes(),
        &[1, 1, b'k', 1, b'v'],
        &[0, 1, b'd'],
        &[2, 1, b't', 9, 0x02, 0x01, 0, 0, 0, 0, 0, 0, b'x'],
    ]
    .concat();
    assert_eq!(b.as_bytes(), &expected[..]);
    assert_eq!(b.approximate_size(), expected.len());
    assert_eq!(b.last_seqno(), 9);
    let ops: Vec<_> = b.iter().collect();
    assert_eq!(ops[0].kind, ValueKind::Put);
    assert_eq!(ops[1].value, b"");
    assert_eq!(ops[2].expires_at_ms(), Some(0x0102));
    assert_eq!(ops[2].user_value(), b"x");
    assert_eq!(ops[0].expires_at_ms(), None);
}

#[test]
fn oversized_key_or_value_is_refused_and_batch_unchanged() {
    let mut b = WriteBatch::new();
    b.put(b"a", b"1").unwrap();
    let before = b.clone();
    let big_key = vec![0; MAX_KEY_SIZE + 1];
    assert!(matches!(
        b.put(&big_key, b""),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(b.delete(&big_key), Err(Error::InvalidArgument(_))));
    assert!(matches!(
        b.put_with_expiry(&big_key, b"", 1),
        Err(Error::InvalidArgument(_))
    ));
    let big_value = vec![0; MAX_VALUE_SIZE + 1];
    assert!(matches!(
        b.put(b"k", &big_value),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        b.put_with_expiry(b"k", &big_value, 1),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(b, before, "a refused op leaves the batch exactly as it was");
    assert_eq!(b.as_bytes(), before.as_bytes());
    b.put(&vec![0; MAX_KEY_SIZE], b"").unwrap();
    assert_eq!(b.len(), 2);
    assert_ne!(b, before);
}

#[test]
fn seqno_overflow_is_refused() {
    let mut b = WriteBatch::new();
    b.put(b"a", b"").unwrap();
    b.put(b"b", b"").unwrap();
    assert!(b.set_base_seqno(MAX_SEQNO).is_err());
    b.set_base_seqno(MAX_SEQNO - 1).unwrap();
    assert_eq!(b.last_seqno(), MAX_SEQNO);
}

#[test]
fn ops_added_after_the_base_must_fit_below_max_seqno() {
    let mut b = WriteBatch::new();
    b.put(b"a", b"").unwrap();
    b.set_base_seqno(MAX_SEQNO - 1).unwrap();
    b.delete(b"b").unwrap();
    assert_eq!(b.last_seqno(), MAX_SEQNO);
    let before = b.clone();
    assert!(matches!(b.put(b"c", b""), Err(Error::InvalidArgument(_))));
    assert!(matches!(b.delete(b"c"), Err(Error::InvalidArgument(_))));
    assert!(matches!(
        b.put_with_expiry(b"c", b"", 1),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(b, before);
    // Every batch built without error decodes: its seqnos fit.
    assert_eq!(decode(b.as_bytes()).unwrap(), b);

    // An empty batch may take the maximum as its base; its first op is MAX_SEQNO.
    let mut empty = WriteBatch::new();
    empty.set_base_seqno(MAX_SEQNO).unwrap();
    assert!(empty.set_base_seqno(MAX_SEQNO + 1).is_err());
    assert_eq!(
        empty.last_seqno(),
        MAX_SEQNO,
        "the base, for an empty batch"
    );
    empty.put(b"a", b"").unwrap();
    assert!(empty.put(b"b", b"").is_err());
    assert_eq!((empty.len(), empty.last_seqno()), (1, MAX_SEQNO));
}

#[test]
fn clear_resets_everything() {
    let mut b = WriteBatch::new();
    b.put(b"a", b"1").unwrap();
    b.set_base_seqno(5).unwrap();
    b.clear();
    assert!(b.is_empty());
    assert_eq!(b, WriteBatch::new());
    assert_eq!(b.iter().count(), 0);
}

fn sample() -> WriteBatch {
    let mut b = WriteBatch::new();
    b.put(b"alpha", b"one").unwrap();
    b.delete(b"beta").unwrap();
    b.put_with_expiry(b"gamma", b"three", 1_700_000_000_000)
        .unwrap();
    b.put(b"", b"").unwrap();
    b.set_base_seqno(1000).unwrap();
    b
}

#[test]
fn truncation_at_every_byte_is_corruption() {
    let bytes = sample().as_bytes().to_vec();
    assert_eq!(decode(&bytes).unwrap(), sample());
    for cut in 0..bytes.len() {
        match decode(&bytes[..cut]) {
            Err(Error::Corruption { offset, .. }) => assert_eq!(offset, 100),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn bad_count_kind_and_lengths_are_corruption() {
    let good = sample().as_bytes().to_vec();
    let mut wrong_count = good.clone();
    wrong_count[8] = 5;
    assert!(decode(&wrong_count).unwrap_err().is_corruption());
    let mut bad_kind = good.clone();
    bad_kind[BATCH_HEADER_SIZE] = 9;
    assert!(decode(&bad_kind).unwrap_err().is_corruption());
    // A non-minimal varint (0x85 0x00 for 5) has a second encoding: refused.
    let mut overlong = good[..BATCH_HEADER_SIZE + 1].to_vec();
    overlong.extend_from_slice(&[0x85, 0x00]);
    overlong.extend_from_slice(&good[BATCH_HEADER_SIZE + 2..]);
    assert!(decode(&overlong).unwrap_err().is_corruption());
    // An expiring value shorter than its 8-byte prefix.
    let mut short = vec![0; 8];
    short.extend_from_slice(&1u32.to_le_bytes());
    short.extend_from_slice(&[2, 1, b'k', 3, 1, 2, 3]);
    assert!(decode(&short).unwrap_err().is_corruption());
    // Seqnos past the maximum.
    let mut seq = good.clone();
    seq[..8].copy_from_slice(&MAX_SEQNO.to_le_bytes());
    assert!(decode(&seq).unwrap_err().is_corruption());
}

#[test]
fn every_single_byte_flip_decodes_or_errors_without_panic() {
    let good = sample().as_bytes().to_vec();
    for i in 0..good.len() {
        for x in [0x01, 0x80, 0xff] {
            let mut b = good.clone();
            b[i] ^= x;
            if let Ok(batch) = decode(&b) {
                assert_eq!(batch.as_bytes(), &b[..]);
                assert_eq!(batch.iter().count(), batch.len());
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Put(Vec<u8>, Vec<u8>),
    PutExp(Vec<u8>, Vec<u8>, u64),
    Del(Vec<u8>),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let bytes = || proptest::collection::vec(any::<u8>(), 0..40);
    prop_oneof![
        (bytes(), bytes()).prop_map(|(k, v)| Op::Put(k, v)),
        (bytes(), bytes(), any::<u64>()).prop_map(|(k, v, t)| Op::PutExp(k, v, t)),
        bytes().prop_map(Op::Del),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip(ops in proptest::collection::vec(op_strategy(), 0..20), base in 0..=MAX_SEQNO - 100) {
        let mut b = WriteBatch::new();
        for op in &ops {
            match op {
                Op::Put(k, v) => b.put(k, v).unwrap(),
                Op::PutExp(k, v, t) => b.put_with_expiry(k, v, *t).unwrap(),
                Op::Del(k) => b.delete(k).unwrap(),
            }
        }
        b.set_base_seqno(base).unwrap();
        let mut encoded = Vec::new();
        b.encode_into(&mut encoded);
        let d = decode(&encoded).unwrap();
        prop_assert_eq!(&d, &b);
        prop_assert_eq!(d.base_seqno(), base);
        prop_assert_eq!(d.len(), ops.len());
        for (entry, op) in d.iter().zip(&ops) {
            match op {
                Op::Put(k, v) => {
                    prop_assert_eq!(entry.kind, ValueKind::Put);
                    prop_assert_eq!((entry.key, entry.value), (&k[..], &v[..]));
                }
                Op::PutExp(k, v, t) => {
                    prop_assert_eq!(entry.kind, ValueKind::PutWithExpiry);
                    prop_assert_eq!((entry.key, entry.user_value()), (&k[..], &v[..]));
                    prop_assert_eq!(entry.expires_at_ms(), Some(*t));
                }
                Op::Del(k) => {
                    prop_assert_eq!(entry.kind, ValueKind::Delete);
                    prop_assert_eq!(entry.key, &k[..]);
                }
            }
        }
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode(&bytes);
    }
}
