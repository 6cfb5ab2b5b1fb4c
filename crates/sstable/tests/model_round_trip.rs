//! Tables read back exactly what was written, compared with a `BTreeMap`
//! model: scans both ways, point lookups at snapshots, seeks, and user-key
//! bounds, across block sizes, restart intervals, compression and filters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::ops::Bound;

use bytes::Bytes;
use proptest::prelude::*;
use strata_core::{InternalKey, MAX_KEY_SIZE, ValueKind};
use strata_sstable::{CompressionType, FilterHash, TableOptions, TableReader};

type Model = BTreeMap<InternalKey, Vec<u8>>;

fn kind() -> impl Strategy<Value = ValueKind> {
    prop_oneof![Just(ValueKind::Put), Just(ValueKind::Delete)]
}

fn user_key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![Just(0u8), Just(1), Just(b'a'), Just(0xff)],
        0..4,
    )
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..40),
        1 => (any::<u8>(), 100usize..3000).prop_map(|(b, n)| vec![b; n]),
    ]
}

fn model() -> impl Strategy<Value = Model> {
    prop::collection::vec((user_key(), 0u64..50, kind(), value()), 0..300).prop_map(|ops| {
        ops.into_iter()
            .map(|(k, s, kind, v)| (InternalKey::new(k, s, kind), v))
            .collect()
    })
}

fn options() -> impl Strategy<Value = TableOptions> {
    (
        prop_oneof![Just(32usize), Just(256), Just(4096), Just(65536)],
        prop_oneof![Just(1usize), Just(2), Just(16)],
        prop_oneof![Just(CompressionType::None), Just(CompressionType::Lz4)],
        prop_oneof![Just(0u32), Just(10)],
    )
        .prop_map(|(bs, ri, c, bloom)| {
            TableOptions::default()
                .block_size(bs)
                .restart_interval(ri)
                .compression(c)
                .bloom_bits_per_key(bloom)
        })
}

fn bound() -> impl Strategy<Value = Bound<Vec<u8>>> {
    prop_oneof![
        Just(Bound::Unbounded),
        user_key().prop_map(Bound::Included),
        user_key().prop_map(Bound::Excluded),
    ]
}

fn in_bounds(k: &[u8], lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    let lo_ok = match lo {
        Bound::Unbounded => true,
        Bound::Included(b) => k >= b.as_slice(),
        Bound::Excluded(b) => k > b.as_slice(),
    };
    let hi_ok = match hi {
        Bound::Unbounded => true,
        Bound::Included(b) => k <= b.as_slice(),
        Bound::Excluded(b) => k < b.as_slice(),
    };
    lo_ok && hi_ok
}

fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    b.as_ref().map(Vec::as_slice)
}

fn entries(model: &Model) -> Vec<(InternalKey, Vec<u8>)> {
    model.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn expected_get(model: &Model, user: &[u8], snapshot: u64) -> Option<(u64, ValueKind, Vec<u8>)> {
    let seek = InternalKey::seek_key(Bytes::copy_from_slice(user), snapshot);
    model
        .range(seek..)
        .next()
        .filter(|(k, _)| k.user_key == user)
        .map(|(k, v)| (k.seqno, k.kind, v.clone()))
}

fn check_table(table: &TableReader, model: &Model, probes: &[(Vec<u8>, u64)]) {
    let all = entries(model);
    assert_eq!(common::scan(table).unwrap(), all);
    assert_eq!(common::scan_back(table).unwrap(), all);
    for (user, snapshot) in probes {
        let got = table
            .get(user, *snapshot)
            .unwrap()
            .map(|v| (v.seqno, v.kind, v.value.to_vec()));
        assert_eq!(
            got,
            expected_get(model, user, *snapshot),
            "get {user:?}@{snapshot}"
        );
        // The split form the engine uses (hash once, ask the filter, then
        // look up without it) answers the same.
        let hash = FilterHash::of(user);
        assert_eq!(table.may_contain_hash(hash), table.may_contain(user));
        let split = if table.may_contain_hash(hash) {
            table.get_unfiltered(user, *snapshot).unwrap()
        } else {
            None
        };
        assert_eq!(
            split.map(|v| (v.seqno, v.kind, v.value.to_vec())),
            expected_get(model, user, *snapshot),
            "hashed get {user:?}@{snapshot}"
        );
        // A seek to any key lands on the model's successor.
        for kind in [ValueKind::Delete, ValueKind::SEEK] {
            let target = InternalKey::new(user.clone(), *snapshot, kind);
            let mut it = table.iter();
            it.seek(&target);
            let want = model.range(target..).next();
            match want {
                Some((k, v)) => {
                    assert!(it.valid());
                    assert_eq!(&it.internal_key().unwrap().to_owned(), k);
                    assert_eq!(it.value(), v.as_slice());
                }
                None => assert!(!it.valid()),
            }
            it.status().unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn table_matches_model(
        model in model(),
        opts in options(),
        probes in prop::collection::vec((user_key(), 0u64..55), 1..20),
    ) {
        let table = common::build_table(&entries(&model), opts);
        prop_assert_eq!(table.properties().num_entries, model.len() as u64);
        check_table(&table, &model, &probes);
        // Every present key is found at the newest snapshot.
        for k in model.keys() {
            prop_assert!(table.get(&k.user_key, u64::MAX).unwrap().is_some());
        }
    }

    #[test]
    fn bounded_iteration_matches_model(
        model in model(),
        opts in options(),
        lo in bound(),
        hi in bound(),
        seeks in prop::collection::vec((user_key(), 0u64..55), 0..5),
    ) {
        let table = common::build_table(&entries(&model), opts);
        let want: Vec<_> = model
            .iter()
            .filter(|(k, _)| in_bounds(&k.user_key, &lo, &hi))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();

        let mut it = table.range(as_ref(&lo), as_ref(&hi));
        it.seek_to_first();
        let mut fwd = Vec::new();
        while it.valid() {
            fwd.push((it.internal_key().unwrap().to_owned(), it.value().to_vec()));
            it.next();
        }
        prop_assert_eq!(&fwd, &want);

        it.seek_to_last();
        let mut back = Vec::new();
        while it.valid() {
            back.push((it.internal_key().unwrap().to_owned(), it.value().to_vec()));
            it.prev();
        }
        back.reverse();
        prop_assert_eq!(&back, &want);
        it.status().unwrap();

        // The Rust iterator agrees in both directions.
        let all: Vec<_> = table
            .entries(as_ref(&lo), as_ref(&hi))
            .map(|r| r.map(|(k, v)| (k, v.to_vec())).unwrap())
            .collect();
        prop_assert_eq!(&all, &want);
        let mut rev: Vec<_> = table
            .entries(as_ref(&lo), as_ref(&hi))
            .rev()
            .map(|r| r.map(|(k, v)| (k, v.to_vec())).unwrap())
            .collect();
        rev.reverse();
        prop_assert_eq!(&rev, &want);

        // Seeks inside bounds land on the first in-bounds entry >= target.
        for (user, s) in seeks {
            let target = InternalKey::new(user, s, ValueKind::SEEK);
            it.seek(&target);
            let expect = want.iter().find(|(k, _)| *k >= target);
            match expect {
                Some((k, _)) => {
                    prop_assert!(it.valid());
                    prop_assert_eq!(&it.internal_key().unwrap().to_owned(), k);
                }
                None => prop_assert!(!it.valid()),
            }
        }
    }
}

#[test]
fn entries_from_both_ends_meet_without_overlap() {
    let data = common::sample_entries(50, 8);
    let table = common::build_table(&data, TableOptions::default().block_size(128));
    for split in [0, 1, 10, data.len() - 1, data.len(), data.len() + 5] {
        let mut e = table.entries(Bound::Unbounded, Bound::Unbounded);
        let mut front: Vec<_> = e.by_ref().take(split).map(|r| r.unwrap().0).collect();
        let mut rear: Vec<_> = e.by_ref().rev().map(|r| r.unwrap().0).collect();
        rear.reverse();
        front.extend(rear);
        let want: Vec<_> = data.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(front, want, "split {split}");
    }
}

#[test]
fn many_versions_of_one_key() {
    let mut model = Model::new();
    for s in 1..=2000u64 {
        let kind = if s % 10 == 0 {
            ValueKind::Delete
        } else {
            ValueKind::Put
        };
        model.insert(
            InternalKey::new(&b"hot"[..], s, kind),
            s.to_le_bytes().to_vec(),
        );
    }
    model.insert(
        InternalKey::new(&b"cold"[..], 5, ValueKind::Put),
        b"c".to_vec(),
    );
    for opts in [
        TableOptions::default(),
        TableOptions::default().block_size(64),
    ] {
        let table = common::build_table(&entries(&model), opts);
        let probes: Vec<_> = [0u64, 1, 9, 10, 11, 999, 1000, 2000, 5000]
            .into_iter()
            .map(|s| (b"hot".to_vec(), s))
            .collect();
        check_table(&table, &model, &probes);
    }
}

#[test]
fn sixty_four_kib_keys_and_empty_keys() {
    let mut model = Model::new();
    for (i, fill) in [b'a', b'b', b'c'].into_iter().enumerate() {
        let mut user = vec![fill; MAX_KEY_SIZE];
        user[MAX_KEY_SIZE - 1] = i as u8;
        model.insert(InternalKey::new(user, 3, ValueKind::Put), vec![fill; 10]);
        let mut user = vec![fill; MAX_KEY_SIZE];
        user[0] = b'0';
        model.insert(InternalKey::new(user, 4, ValueKind::Delete), Vec::new());
    }
    model.insert(
        InternalKey::new(&b""[..], 9, ValueKind::Put),
        b"empty".to_vec(),
    );
    model.insert(
        InternalKey::new(&b""[..], 8, ValueKind::Put),
        b"older".to_vec(),
    );
    for c in [CompressionType::None, CompressionType::Lz4] {
        let table = common::build_table(&entries(&model), TableOptions::default().compression(c));
        let probes: Vec<_> = model
            .keys()
            .map(|k| (k.user_key.to_vec(), k.seqno))
            .chain([(vec![b'b'; MAX_KEY_SIZE], 9), (Vec::new(), 8)])
            .collect();
        check_table(&table, &model, &probes);
    }
}
