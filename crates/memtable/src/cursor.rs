//! A seekable, bidirectional cursor over every version in a memtable.

use std::ops::Bound;

use bytes::Bytes;
use crossbeam_skiplist::{SkipMap, map::Entry};
use strata_core::{InternalKey, InternalKeyRef, SeqNo};

use crate::key_view::{KeyView, LookupKey, MemKey};

/// A position in a memtable's internal-key order, LevelDB style: `seek*`
/// positions it, `next`/`prev` move it, `key`/`value` read it while `valid()`.
///
/// Stepping is lock-free. `next` is O(1); `prev` searches from the top of the
/// skiplist (O(log n)) because nodes have no back links. Entries inserted
/// while the cursor is live may or may not be seen, but the order of what is
/// seen is always the internal-key order.
pub struct MemTableCursor<'a> {
    map: &'a SkipMap<MemKey, Bytes>,
    current: Option<Entry<'a, MemKey, Bytes>>,
}

impl<'a> MemTableCursor<'a> {
    pub(crate) fn new(map: &'a SkipMap<MemKey, Bytes>) -> Self {
        Self { map, current: None }
    }

    /// True if the cursor is on an entry.
    pub fn valid(&self) -> bool {
        self.current.is_some()
    }

    /// The current entry's key; `None` if not valid.
    pub fn key(&self) -> Option<&InternalKey> {
        self.current.as_ref().map(|e| &e.key().ikey)
    }

    /// The current entry's value; `None` if not valid.
    pub fn value(&self) -> Option<&Bytes> {
        self.current.as_ref().map(|e| e.value())
    }

    /// True if the cursor is on a version of `user_key`. Cheaper than
    /// comparing `key()`'s user key: keys of up to 16 bytes are told apart
    /// by the prefix kept in the node, without reading the key's bytes.
    pub fn on_user_key(&self, user_key: &[u8]) -> bool {
        self.current.as_ref().is_some_and(|e| {
            let probe = LookupKey::first_of(user_key);
            e.key().parts().same_user_key(&probe.parts())
        })
    }

    /// Positions on the first entry; invalid if the memtable is empty.
    pub fn seek_to_first(&mut self) {
        self.current = self.map.front();
    }

    /// Positions on the last entry; invalid if the memtable is empty.
    pub fn seek_to_last(&mut self) {
        self.current = self.map.back();
    }

    /// Positions on the newest version of the first user key `>= user_key`.
    pub fn seek(&mut self, user_key: &[u8]) {
        let probe = LookupKey::first_of(user_key);
        self.current = self.map.lower_bound(Bound::Included(probe.as_dyn()));
    }

    /// Positions on the first entry `>= (user_key, snapshot)` in internal-key
    /// order: the newest version of `user_key` visible at `snapshot` if there
    /// is one, else the next user key's newest version.
    pub fn seek_visible(&mut self, user_key: &[u8], snapshot: SeqNo) {
        let probe = LookupKey::visible_at(user_key, snapshot);
        self.current = self.map.lower_bound(Bound::Included(probe.as_dyn()));
    }

    /// Positions on the first entry `>= target` in internal-key order.
    pub fn seek_internal(&mut self, target: InternalKeyRef<'_>) {
        let probe = LookupKey::new(target.user_key, target.seqno, target.kind as u8);
        self.current = self.map.lower_bound(Bound::Included(probe.as_dyn()));
    }

    /// Positions on the oldest version of the last user key `<= user_key`
    /// (the entry a reverse scan starting at `user_key` meets first).
    pub fn seek_for_prev(&mut self, user_key: &[u8]) {
        let probe = LookupKey::last_of(user_key);
        self.current = self.map.upper_bound(Bound::Included(probe.as_dyn()));
    }

    /// Positions on the last entry `<= target` in internal-key order.
    pub fn seek_for_prev_internal(&mut self, target: InternalKeyRef<'_>) {
        let probe = LookupKey::new(target.user_key, target.seqno, target.kind as u8);
        self.current = self.map.upper_bound(Bound::Included(probe.as_dyn()));
    }

    /// Moves to the next entry; becomes invalid past the last. No-op if invalid.
    pub fn next(&mut self) {
        if let Some(entry) = &mut self.current
            && !entry.move_next()
        {
            self.current = None;
        }
    }

    /// Moves to the previous entry; becomes invalid before the first. No-op if
    /// invalid.
    pub fn prev(&mut self) {
        if let Some(entry) = &mut self.current
            && !entry.move_prev()
        {
            self.current = None;
        }
    }
}

impl std::fmt::Debug for MemTableCursor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemTableCursor")
            .field("key", &self.key())
            .finish()
    }
}
