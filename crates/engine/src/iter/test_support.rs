//! Helpers shared by the iterator tests: strategies, an SST builder over an
//! in-memory file system, and a driver that mixes both ends of an iterator.

use std::ops::Bound;
use std::path::Path;

use bytes::Bytes;
use proptest::prelude::*;
use strata_core::{FaultFs, FileSystem, InternalKey, ValueKind};
use strata_sstable::{TableBuilder, TableOptions, TableReader};

use super::merge::BoxedSource;

/// Few distinct user keys (the empty key included), so keys get many versions.
pub(crate) fn user_key() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(0u8..3, 0..3).prop_map(Bytes::from)
}

pub(crate) fn kind() -> impl Strategy<Value = ValueKind> {
    prop_oneof![
        Just(ValueKind::Delete),
        Just(ValueKind::Put),
        Just(ValueKind::PutWithExpiry)
    ]
}

pub(crate) fn bound() -> impl Strategy<Value = Bound<Bytes>> {
    prop_oneof![
        1 => Just(Bound::Unbounded),
        2 => user_key().prop_map(Bound::Included),
        2 => user_key().prop_map(Bound::Excluded),
    ]
}

pub(crate) fn in_bounds(key: &[u8], lower: &Bound<Bytes>, upper: &Bound<Bytes>) -> bool {
    let above = match lower {
        Bound::Included(l) => key >= &l[..],
        Bound::Excluded(l) => key > &l[..],
        Bound::Unbounded => true,
    };
    let below = match upper {
        Bound::Included(u) => key <= &u[..],
        Bound::Excluded(u) => key < &u[..],
        Bound::Unbounded => true,
    };
    above && below
}

/// An SST holding `entries` (strictly increasing), in small blocks so that
/// scans cross block boundaries.
pub(crate) fn build_table(entries: &[(InternalKey, Bytes)]) -> TableReader {
    let fs = FaultFs::new();
    let path = Path::new("/t/000001.sst");
    fs.create_dir_all(Path::new("/t")).unwrap();
    let options = TableOptions::default().block_size(128);
    let mut builder = TableBuilder::new(fs.create(path).unwrap(), path, options).unwrap();
    for (key, value) in entries {
        builder.add(key, value).unwrap();
    }
    builder.finish().unwrap();
    TableReader::open(fs.open(path).unwrap(), path, 1, None).unwrap()
}

/// `table`'s entries within the bounds, boxed as a merge source.
pub(crate) fn table_source(
    table: &TableReader,
    lower: &Bound<Bytes>,
    upper: &Bound<Bytes>,
) -> BoxedSource {
    let as_slice = |b: &Bound<Bytes>| match b {
        Bound::Included(k) => Bound::Included(k.to_vec()),
        Bound::Excluded(k) => Bound::Excluded(k.to_vec()),
        Bound::Unbounded => Bound::Unbounded,
    };
    let (lower, upper) = (as_slice(lower), as_slice(upper));
    Box::new(table.entries(
        lower.as_ref().map(|k| &k[..]),
        upper.as_ref().map(|k| &k[..]),
    ))
}

/// Takes items from the front where `dirs` says `true`, from the back where
/// it says `false`, then the rest from the front; returns them in forward
/// order. Asserts that an end returns `None` only when nothing is left and
/// that both ends stay drained.
pub(crate) fn drain_mixed<T>(mut it: impl DoubleEndedIterator<Item = T>, dirs: &[bool]) -> Vec<T> {
    let (mut front, mut back) = (Vec::new(), Vec::new());
    for &from_front in dirs {
        let item = if from_front {
            it.next()
        } else {
            it.next_back()
        };
        match item {
            Some(x) if from_front => front.push(x),
            Some(x) => back.push(x),
            None => {
                // One end running dry means nothing is left for the other.
                assert!(it.next().is_none(), "front yields after the back ran dry");
                assert!(
                    it.next_back().is_none(),
                    "back yields after the front ran dry"
                );
                break;
            }
        }
    }
    front.extend(&mut it);
    assert!(it.next().is_none(), "front yields after exhaustion");
    assert!(it.next_back().is_none(), "back yields after exhaustion");
    back.reverse();
    front.extend(back);
    front
}
