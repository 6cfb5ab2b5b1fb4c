//! [`DbIterator`]: the user's view of a merged stream at one snapshot.
//!
//! The merged stream holds every version of every key. For each user key the
//! newest version with `seqno <= snapshot` decides: a put yields its value, a
//! tombstone or an expired put yields nothing, and older versions are never
//! looked at. Each call consumes whole user-key groups, from the front
//! (newest version first, the rest skipped) or from the back (oldest first,
//! remembering the newest visible one), so the two ends can be mixed without
//! splitting a key's versions between them.

use std::any::Any;

use bytes::Bytes;
use strata_core::{Error, ExpiringValue, InternalKey, Result, SeqNo, ValueKind};

use super::merge::MergingIterator;

/// An iterator over the live keys of a database in a key range, as
/// `(user key, value)` pairs, ascending from the front and descending from the
/// back; `next` and `next_back` may be mixed and never yield a key twice.
///
/// It reads one consistent snapshot: writes made after it was created are not
/// seen, and the files it reads stay on disk until it is dropped (so drop
/// long-lived iterators to let compaction reclaim space). Deleted keys and
/// values whose time to live ran out (judged once, at creation) are skipped.
/// Values are shared with the storage layers, not copied.
///
/// # Errors
/// An item is `Err` if reading a table fails ([`Error::Io`]) or finds
/// corrupt data ([`Error::Corruption`]). After the first error the iterator
/// yields `None` from both ends.
pub struct DbIterator {
    merge: MergingIterator,
    snapshot: SeqNo,
    now_ms: u64,
    done: bool,
    /// Keeps the version (memtables, table handles) the sources read alive.
    _pin: Box<dyn Any + Send + Sync>,
}

impl DbIterator {
    /// Resolves `merge` at `snapshot`, judging expiry at `now_ms`; `pin` is
    /// held, never used, for as long as the iterator lives.
    pub(crate) fn new(
        merge: MergingIterator,
        snapshot: SeqNo,
        now_ms: u64,
        pin: Box<dyn Any + Send + Sync>,
    ) -> Self {
        Self {
            merge,
            snapshot,
            now_ms,
            done: false,
            _pin: pin,
        }
    }

    fn fail(&mut self, e: Error) -> Option<Result<(Bytes, Bytes)>> {
        self.done = true;
        Some(Err(e))
    }

    /// What a key's deciding version means to the user: its value, or
    /// `None` for a tombstone or an expired value.
    fn resolve(&self, key: InternalKey, value: Bytes) -> Result<Option<(Bytes, Bytes)>> {
        match key.kind {
            ValueKind::Put => Ok(Some((key.user_key, value))),
            ValueKind::Delete => Ok(None),
            ValueKind::PutWithExpiry => match ExpiringValue::decode_bytes(&value) {
                Some((expires_at, _)) if ExpiringValue::is_expired(expires_at, self.now_ms) => {
                    Ok(None)
                }
                Some((_, user_value)) => Ok(Some((key.user_key, user_value))),
                // Builders and the WAL refuse such values: only damaged
                // data that passed its checksum gets here. Sources do not
                // say which file an entry came from.
                None => Err(Error::corruption(
                    "(merged read)",
                    0,
                    format!(
                        "value of key {:?} at seqno {} lacks its 8-byte expiry",
                        key.user_key, key.seqno
                    ),
                )),
            },
        }
    }
}

impl Iterator for DbIterator {
    type Item = Result<(Bytes, Bytes)>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let (key, value) = match self.merge.next() {
                Some(Ok(entry)) => entry,
                Some(Err(e)) => return self.fail(e),
                None => break,
            };
            if key.seqno > self.snapshot {
                continue;
            }
            // `key` is the newest visible version; older ones are shadowed.
            loop {
                match self.merge.peek_front() {
                    Some(Ok(older)) if older.user_key == key.user_key => {}
                    Some(Err(e)) => return self.fail(e),
                    _ => break,
                }
                let _shadowed = self.merge.next();
            }
            match self.resolve(key, value) {
                Ok(Some(kv)) => return Some(Ok(kv)),
                Ok(None) => {}
                Err(e) => return self.fail(e),
            }
        }
        self.done = true;
        None
    }
}

impl DoubleEndedIterator for DbIterator {
    fn next_back(&mut self) -> Option<Self::Item> {
        while !self.done {
            let (key, value) = match self.merge.next_back() {
                Some(Ok(entry)) => entry,
                Some(Err(e)) => return self.fail(e),
                None => break,
            };
            // From the back a key's versions come oldest first: the last
            // visible one met is the newest visible.
            let user_key = key.user_key.clone();
            let mut newest = (key.seqno <= self.snapshot).then_some((key, value));
            loop {
                match self.merge.peek_back() {
                    Some(Ok(newer)) if newer.user_key == user_key => {}
                    Some(Err(e)) => return self.fail(e),
                    _ => break,
                }
                match self.merge.next_back() {
                    Some(Ok(entry)) if entry.0.seqno <= self.snapshot => newest = Some(entry),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return self.fail(e),
                    None => break,
                }
            }
            let Some((key, value)) = newest else {
                continue;
            };
            match self.resolve(key, value) {
                Ok(Some(kv)) => return Some(Ok(kv)),
                Ok(None) => {}
                Err(e) => return self.fail(e),
            }
        }
        self.done = true;
        None
    }
}

impl std::fmt::Debug for DbIterator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad("DbIterator { .. }")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::ops::Bound;
    use std::sync::Arc;

    use proptest::prelude::*;
    use strata_memtable::MemTable;
    use strata_sstable::TableReader;

    use super::*;
    use crate::iter::test_support::{build_table, drain_mixed, kind, table_source, user_key};
    use crate::iter::{BoxedSource, MemSource};

    /// One write: user key, kind, value byte, expiry (for `PutWithExpiry`),
    /// and which source holds it.
    type Op = (Bytes, ValueKind, u8, u64, usize);

    /// Where the versions live: memtables (optionally pre-filtered by
    /// snapshot, as the engine does) and tables (never pre-filtered).
    enum Store {
        Mem(Arc<MemTable>),
        Table(TableReader),
    }

    fn stored_value(kind: ValueKind, value: u8, expiry: u64) -> Bytes {
        match kind {
            ValueKind::Delete => Bytes::new(),
            ValueKind::Put => Bytes::from(vec![value]),
            ValueKind::PutWithExpiry => Bytes::from(ExpiringValue::encode(expiry, &[value])),
        }
    }

    fn build_stores(ops: &[Op], table_mask: u8, sources: usize) -> Vec<Store> {
        let mut per_source = vec![BTreeMap::new(); sources];
        for (i, (key, kind, value, expiry, source)) in ops.iter().enumerate() {
            let seqno = i as SeqNo + 1;
            per_source[source % sources].insert(
                InternalKey::new(key.clone(), seqno, *kind),
                stored_value(*kind, *value, *expiry),
            );
        }
        per_source
            .into_iter()
            .enumerate()
            .map(|(i, entries)| {
                if table_mask & (1 << i) != 0 {
                    Store::Table(build_table(&entries.into_iter().collect::<Vec<_>>()))
                } else {
                    let mem = MemTable::new();
                    for (k, v) in entries {
                        mem.insert(k.user_key, k.seqno, k.kind, v).unwrap();
                    }
                    Store::Mem(Arc::new(mem))
                }
            })
            .collect()
    }

    /// Memtable sources read at the iterator's snapshot, as the engine
    /// builds them (`MemSource` drops versions shadowed at its snapshot).
    fn db_iter(stores: &[Store], snapshot: SeqNo, now_ms: u64) -> DbIterator {
        let mem_snapshot = snapshot;
        let sources: Vec<BoxedSource> = stores
            .iter()
            .map(|store| -> BoxedSource {
                match store {
                    Store::Mem(mem) => Box::new(MemSource::new(
                        Arc::clone(mem),
                        Bound::Unbounded,
                        Bound::Unbounded,
                        mem_snapshot,
                    )),
                    Store::Table(t) => table_source(t, &Bound::Unbounded, &Bound::Unbounded),
                }
            })
            .collect();
        DbIterator::new(
            MergingIterator::new(sources),
            snapshot,
            now_ms,
            Box::new(()),
        )
    }

    /// The model: per user key, the newest version at or below the snapshot
    /// decides; tombstones and expired values hide the key.
    fn model(ops: &[Op], snapshot: SeqNo, now_ms: u64) -> Vec<(Bytes, Bytes)> {
        let mut newest: BTreeMap<Bytes, (ValueKind, u8, u64)> = BTreeMap::new();
        for (i, (key, kind, value, expiry, _)) in ops.iter().enumerate() {
            let seqno = i as SeqNo + 1;
            if seqno <= snapshot {
                newest.insert(key.clone(), (*kind, *value, *expiry));
            }
        }
        newest
            .into_iter()
            .filter_map(|(key, (kind, value, expiry))| match kind {
                ValueKind::Delete => None,
                ValueKind::PutWithExpiry if expiry <= now_ms => None,
                _ => Some((key, Bytes::from(vec![value]))),
            })
            .collect()
    }

    fn op() -> impl Strategy<Value = Op> {
        (user_key(), kind(), any::<u8>(), 0u64..20, 0usize..4)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Forward, reverse and mixed scans all equal the model at a random
        /// snapshot and clock, over 1-4 memtable and table sources.
        #[test]
        fn scans_match_model(
            ops in prop_oneof![
                3 => proptest::collection::vec(op(), 0..60),
                1 => proptest::collection::vec(op(), 150..260),
            ],
            sources in 1usize..=4,
            table_mask in any::<u8>(),
            snapshot_pick in 0u64..300,
            now_ms in 0u64..22,
            dirs in proptest::collection::vec(any::<bool>(), 0..80),
        ) {
            let snapshot = snapshot_pick.min(ops.len() as SeqNo + 1);
            let stores = build_stores(&ops, table_mask, sources);
            let expected = model(&ops, snapshot, now_ms);

            let forward: Vec<_> = db_iter(&stores, snapshot, now_ms)
                .map(|r| r.unwrap())
                .collect();
            prop_assert_eq!(&forward, &expected);

            let mut reverse: Vec<_> = db_iter(&stores, snapshot, now_ms)
                .rev()
                .map(|r| r.unwrap())
                .collect();
            reverse.reverse();
            prop_assert_eq!(&reverse, &expected);

            let mixed: Vec<_> = drain_mixed(db_iter(&stores, snapshot, now_ms), &dirs)
                .into_iter()
                .map(|r| r.unwrap())
                .collect();
            prop_assert_eq!(&mixed, &expected);
        }
    }

    fn mem_with(versions: &[(&str, SeqNo, ValueKind, Bytes)]) -> Arc<MemTable> {
        let mem = MemTable::new();
        for (k, s, kind, v) in versions {
            mem.insert(Bytes::from(k.to_string()), *s, *kind, v.clone())
                .unwrap();
        }
        Arc::new(mem)
    }

    /// A live expiring value comes back without its prefix; once expired
    /// it hides the older plain value.
    #[test]
    fn expiring_value_loses_its_prefix_and_hides_older_versions_once_expired() {
        let stored = Bytes::from(ExpiringValue::encode(100, b"fresh"));
        let mem = mem_with(&[
            ("k", 1, ValueKind::Put, Bytes::from("old")),
            ("k", 2, ValueKind::PutWithExpiry, stored.clone()),
        ]);
        let stores = [Store::Mem(mem)];
        let (key, value) = db_iter(&stores, 2, 99).next().unwrap().unwrap();
        assert_eq!((&key[..], &value[..]), (&b"k"[..], &b"fresh"[..]));
        assert!(db_iter(&stores, 2, 100).next().is_none());
        assert!(db_iter(&stores, 2, 100).next_back().is_none());
        let (_, old) = db_iter(&stores, 1, 100).next().unwrap().unwrap();
        assert_eq!(old, "old");
    }

    /// A source error is yielded instead of the key whose versions it
    /// interrupted, and ends both ends.
    #[test]
    fn error_is_yielded_once_then_both_ends_are_done() {
        let mem = mem_with(&[("a", 1, ValueKind::Put, Bytes::from("x"))]);
        let failing: BoxedSource = Box::new(
            vec![
                Ok((InternalKey::new(&b"b"[..], 3, ValueKind::Put), Bytes::new())),
                Err(Error::corruption("000009.sst", 0, "bad block")),
            ]
            .into_iter(),
        );
        let mem_source: BoxedSource =
            Box::new(MemSource::new(mem, Bound::Unbounded, Bound::Unbounded, 9));
        let merge = MergingIterator::new(vec![mem_source, failing]);
        let mut it = DbIterator::new(merge, 9, 0, Box::new(()));
        assert_eq!(it.next().unwrap().unwrap().0, "a");
        assert!(it.next().unwrap().unwrap_err().is_corruption());
        assert!(it.next().is_none());
        assert!(it.next_back().is_none());
    }

    /// The pin lives exactly as long as the iterator; the iterator is `Send`
    /// and its `Debug` output is fixed.
    #[test]
    fn pin_is_held_until_drop() {
        fn assert_send<T: Send>(_: &T) {}
        let pin = Arc::new(());
        let it = DbIterator::new(
            MergingIterator::new(Vec::new()),
            0,
            0,
            Box::new(Arc::clone(&pin)),
        );
        assert_send(&it);
        assert_eq!(format!("{it:?}"), "DbIterator { .. }");
        assert_eq!(Arc::strong_count(&pin), 2);
        drop(it);
        assert_eq!(Arc::strong_count(&pin), 1);
    }
}
