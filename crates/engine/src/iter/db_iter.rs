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
