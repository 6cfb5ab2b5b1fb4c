//! A seekable, bidirectional cursor over every version in a memtable.

use bytes::Bytes;
use strata_core::{InternalKeyRef, SeqNo};

use crate::arena::NodeRef;
use crate::skiplist::{Header, NULL, Probe, SkipList};

/// A position in a memtable's internal-key order, LevelDB style: `seek*`
/// positions it, `next`/`prev` move it, `key`/`value` read it while `valid()`.
///
/// Stepping is lock-free. `next` is O(1); `prev` searches from the top of the
/// skiplist (O(log n)) because nodes have no back links. Entries inserted
/// while the cursor is live may or may not be seen, but the order of what is
/// seen is always the internal-key order.
///
/// The current user key is copied out of the memtable when the cursor
/// lands on an entry; the value only when [`value`](Self::value) asks.
pub struct MemTableCursor<'a> {
    list: &'a SkipList,
    node: NodeRef,
    header: Option<Header>,
    key: Vec<u8>,
}

/// Where a cursor of one memtable stood: a later cursor of the same
/// memtable can go on from there with [`MemTableCursor::seek_after_position`]
/// instead of searching from the top of the skiplist.
///
/// It stays usable for as long as the memtable lives: entries are never
/// removed from a memtable, so the entry it names is never unlinked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CursorPosition {
    list: u64,
    node: NodeRef,
}

impl<'a> MemTableCursor<'a> {
    pub(crate) fn new(list: &'a SkipList) -> Self {
        Self {
            list,
            node: NULL,
            header: None,
            key: Vec::new(),
        }
    }

    fn land(&mut self, node: NodeRef) {
        self.node = node;
        if node == NULL {
            self.header = None;
            return;
        }
        let h = self.list.header(node);
        self.list.read_key(node, &h, &mut self.key);
        self.header = Some(h);
    }

    /// True if the cursor is on an entry.
    pub fn valid(&self) -> bool {
        self.header.is_some()
    }

    /// The current entry's key, borrowed from the cursor; `None` if not valid.
    pub fn key(&self) -> Option<InternalKeyRef<'_>> {
        self.header.map(|h| InternalKeyRef {
            user_key: &self.key,
            seqno: h.seqno,
            kind: h.kind,
        })
    }

    /// A copy of the current entry's value; `None` if not valid.
    pub fn value(&self) -> Option<Bytes> {
        self.header.map(|h| {
            let mut out = Vec::with_capacity(h.value_len);
            self.list.read_value(self.node, &h, &mut out);
            Bytes::from(out)
        })
    }

    /// Appends the current entry's value to `out`; false (nothing
    /// appended) if not valid.
    pub fn append_value(&self, out: &mut Vec<u8>) -> bool {
        match self.header {
            Some(h) => {
                self.list.read_value(self.node, &h, out);
                true
            }
            None => false,
        }
    }

    /// Length of the current entry's value; `None` if not valid.
    pub fn value_len(&self) -> Option<usize> {
        self.header.map(|h| h.value_len)
    }

    /// True if the cursor is on a version of `user_key`.
    pub fn on_user_key(&self, user_key: &[u8]) -> bool {
        self.header.is_some() && self.key == user_key
    }

    /// Where the cursor stands; `None` if not valid.
    pub fn position(&self) -> Option<CursorPosition> {
        self.header.map(|_| CursorPosition {
            list: self.list.id(),
            node: self.node,
        })
    }

    /// Positions on the entry after the one at `pos`, in O(1): the first
    /// entry `>` that one's key, as [`seek_after_internal`] with its key
    /// would find. Returns false, and leaves the cursor where it was, if
    /// `pos` was taken in another memtable.
    ///
    /// [`seek_after_internal`]: Self::seek_after_internal
    pub fn seek_after_position(&mut self, pos: CursorPosition) -> bool {
        if pos.list != self.list.id() {
            return false;
        }
        let n = self.list.next(pos.node);
        self.land(n);
        true
    }

    /// Positions on the first entry; invalid if the memtable is empty.
    pub fn seek_to_first(&mut self) {
        let n = self.list.first();
        self.land(n);
    }

    /// Positions on the last entry; invalid if the memtable is empty.
    pub fn seek_to_last(&mut self) {
        let n = self.list.last();
        self.land(n);
    }

    /// Positions on the newest version of the first user key `>= user_key`.
    pub fn seek(&mut self, user_key: &[u8]) {
        let n = self.list.find_ge(&Probe::first_of(user_key));
        self.land(n);
    }

    /// Positions on the first entry `>= (user_key, snapshot)` in internal-key
    /// order: the newest version of `user_key` visible at `snapshot` if there
    /// is one, else the next user key's newest version.
    pub fn seek_visible(&mut self, user_key: &[u8], snapshot: SeqNo) {
        let probe = Probe::visible_at(user_key, snapshot);
        let n = self.list.find_ge(&probe);
        self.land(n);
    }

    /// Positions on the first entry `>= target` in internal-key order.
    pub fn seek_internal(&mut self, target: InternalKeyRef<'_>) {
        let probe = Probe::of(target);
        let n = self.list.find_ge(&probe);
        self.land(n);
    }

    /// Positions on the first entry `> target` in internal-key order.
    pub fn seek_after_internal(&mut self, target: InternalKeyRef<'_>) {
        let probe = Probe::of(target);
        let n = self.list.find_gt(&probe);
        self.land(n);
    }

    /// Positions on the oldest version of the last user key `<= user_key`
    /// (the entry a reverse scan starting at `user_key` meets first).
    pub fn seek_for_prev(&mut self, user_key: &[u8]) {
        let n = self.list.find_le(&Probe::last_of(user_key));
        self.land(n);
    }

    /// Positions on the last entry `<= target` in internal-key order.
    pub fn seek_for_prev_internal(&mut self, target: InternalKeyRef<'_>) {
        let probe = Probe::of(target);
        let n = self.list.find_le(&probe);
        self.land(n);
    }

    /// Positions on the last entry `< target` in internal-key order.
    pub fn seek_before_internal(&mut self, target: InternalKeyRef<'_>) {
        let probe = Probe::of(target);
        let n = self.list.find_lt(&probe);
        self.land(n);
    }

    /// Positions on the last version of the last user key `< user_key`.
    pub(crate) fn seek_before_user_key(&mut self, user_key: &[u8]) {
        let n = self.list.find_lt(&Probe::first_of(user_key));
        self.land(n);
    }

    /// Positions on the newest version of the first user key `> user_key`.
    pub(crate) fn seek_after_user_key(&mut self, user_key: &[u8]) {
        let n = self.list.find_gt(&Probe::last_of(user_key));
        self.land(n);
    }

    /// Moves to the next entry; becomes invalid past the last. No-op if invalid.
    pub fn next(&mut self) {
        if self.header.is_some() {
            let n = self.list.next(self.node);
            self.land(n);
        }
    }

    /// Moves to the previous entry; becomes invalid before the first. No-op if
    /// invalid.
    pub fn prev(&mut self) {
        if let Some(h) = self.header {
            let probe = Probe::new(&self.key, h.seqno, h.kind as u8);
            let n = self.list.find_lt(&probe);
            self.land(n);
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
