//! Range iterators over a memtable: every version, or the visible one per key.

use std::ops::Bound;

use bytes::Bytes;
use strata_core::{InternalKey, SeqNo};

use crate::cursor::MemTableCursor;

/// Every version of the keys in a user-key range, in internal-key order (user
/// key ascending, newest version first), as `(InternalKey, value)` pairs.
///
/// Double-ended: `next` and `next_back` may be mixed; together they yield each
/// entry once. Items are copies of the memtable's bytes. Entries inserted
/// while the iterator is live may or may not be yielded.
pub struct MemTableRange<'a> {
    front: MemTableCursor<'a>,
    back: MemTableCursor<'a>,
    lower: Bound<Bytes>,
    upper: Bound<Bytes>,
    front_started: bool,
    back_started: bool,
    /// Last key yielded from each end: the ends stop where they meet.
    front_last: Option<InternalKey>,
    back_last: Option<InternalKey>,
}

impl<'a> MemTableRange<'a> {
    pub(crate) fn new(
        front: MemTableCursor<'a>,
        back: MemTableCursor<'a>,
        lower: Bound<Bytes>,
        upper: Bound<Bytes>,
    ) -> Self {
        Self {
            front,
            back,
            lower,
            upper,
            front_started: false,
            back_started: false,
            front_last: None,
            back_last: None,
        }
    }

    fn below_upper(&self, user_key: &[u8]) -> bool {
        match &self.upper {
            Bound::Included(k) => user_key <= &k[..],
            Bound::Excluded(k) => user_key < &k[..],
            Bound::Unbounded => true,
        }
    }

    fn above_lower(&self, user_key: &[u8]) -> bool {
        match &self.lower {
            Bound::Included(k) => user_key >= &k[..],
            Bound::Excluded(k) => user_key > &k[..],
            Bound::Unbounded => true,
        }
    }
}

impl Iterator for MemTableRange<'_> {
    type Item = (InternalKey, Bytes);

    fn next(&mut self) -> Option<Self::Item> {
        if self.front_started {
            self.front.next();
        } else {
            self.front_started = true;
            match &self.lower {
                Bound::Included(k) => self.front.seek(k),
                Bound::Excluded(k) => self.front.seek_after_user_key(k),
                Bound::Unbounded => self.front.seek_to_first(),
            }
        }
        let key = self.front.key()?;
        if !self.below_upper(key.user_key)
            || self.back_last.as_ref().is_some_and(|b| key >= b.as_ref())
        {
            return None;
        }
        let key = key.to_owned();
        let value = self.front.value()?;
        self.front_last = Some(key.clone());
        Some((key, value))
    }
}

impl DoubleEndedIterator for MemTableRange<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.back_started {
            self.back.prev();
        } else {
            self.back_started = true;
            match &self.upper {
                Bound::Included(k) => self.back.seek_for_prev(k),
                Bound::Excluded(k) => self.back.seek_before_user_key(k),
                Bound::Unbounded => self.back.seek_to_last(),
            }
        }
        let key = self.back.key()?;
        if !self.above_lower(key.user_key)
            || self.front_last.as_ref().is_some_and(|f| key <= f.as_ref())
        {
            return None;
        }
        let key = key.to_owned();
        let value = self.back.value()?;
        self.back_last = Some(key.clone());
        Some((key, value))
    }
}

impl std::fmt::Debug for MemTableRange<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad("MemTableRange { .. }")
    }
}

/// For each user key in a range, its newest version with `seqno <= snapshot`
/// (tombstones included, so a caller can let them shadow older data).
///
/// Double-ended; `next` and `next_back` may be mixed and never yield the same
/// user key twice.
pub struct VisibleRange<'a> {
    inner: MemTableRange<'a>,
    snapshot: SeqNo,
    /// User key last yielded from the front: its older versions are skipped.
    front_last: Option<Bytes>,
    /// User key last yielded from the back: the front stops when it meets it.
    back_last: Option<Bytes>,
    /// Entry the back end pulled while looking for the end of a key's versions;
    /// it belongs to the next smaller user key and is the last remaining entry.
    back_pending: Option<(InternalKey, Bytes)>,
}

impl<'a> VisibleRange<'a> {
    pub(crate) fn new(inner: MemTableRange<'a>, snapshot: SeqNo) -> Self {
        Self {
            inner,
            snapshot,
            front_last: None,
            back_last: None,
            back_pending: None,
        }
    }
}

fn same_key(last: &Option<Bytes>, key: &InternalKey) -> bool {
    last.as_ref().is_some_and(|k| *k == key.user_key)
}

impl Iterator for VisibleRange<'_> {
    type Item = (InternalKey, Bytes);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (key, value) = self.inner.next().or_else(|| self.back_pending.take())?;
            if key.seqno > self.snapshot || same_key(&self.front_last, &key) {
                continue;
            }
            if same_key(&self.back_last, &key) {
                // The back end already yielded this key and everything after it.
                return None;
            }
            self.front_last = Some(key.user_key.clone());
            return Some((key, value));
        }
    }
}

impl DoubleEndedIterator for VisibleRange<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        loop {
            let (key, value) = self
                .back_pending
                .take()
                .or_else(|| self.inner.next_back())?;
            if key.seqno > self.snapshot {
                continue;
            }
            if same_key(&self.front_last, &key) {
                // The front end already yielded this key and everything before it.
                return None;
            }
            // Walking backwards meets a key's versions oldest first: the newest
            // visible one is the last visible entry before the key changes.
            let mut best = (key, value);
            while let Some(prev) = self.inner.next_back() {
                if prev.0.user_key != best.0.user_key {
                    self.back_pending = Some(prev);
                    break;
                }
                if prev.0.seqno <= self.snapshot {
                    best = prev;
                }
            }
            self.back_last = Some(best.0.user_key.clone());
            return Some(best);
        }
    }
}

impl std::fmt::Debug for VisibleRange<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisibleRange")
            .field("snapshot", &self.snapshot)
            .finish_non_exhaustive()
    }
}
