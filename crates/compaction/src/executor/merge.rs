//! [`MergingInputs`]: a k-way merge over the input tables of a compaction.
//!
//! A min-heap holds one entry per input that still has data: a copy of its
//! current key, parsed. Entries come out in internal-key order (user key
//! ascending, sequence number descending); equal `(user key, seqno)` pairs
//! from different inputs come out earlier input first, so the caller keeps
//! that one and drops the rest.
//!
//! Nothing read is trusted: every input must yield strictly increasing keys,
//! every key must decode (known kind, bounded length), and every
//! `PutWithExpiry` value must carry its expiry. A violation is
//! [`Error::Corruption`] naming the table; an iterator's own error (I/O or a
//! bad block) is returned as is.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use strata_core::key::split_encoded;
use strata_core::{
    Error, ExpiringValue, InternalKeyRef, MAX_KEY_SIZE, Result, SeqNo, ValueKind,
    compare_internal_keys,
};
use strata_sstable::{TableIterator, TableReader};

/// The entry under the merge cursor, borrowed from its input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    /// The encoded internal key (`user_key ‖ trailer`).
    pub(crate) encoded_key: &'a [u8],
    /// The user key part of `encoded_key`.
    pub(crate) user_key: &'a [u8],
    /// Sequence number of the write.
    pub(crate) seqno: SeqNo,
    /// What the write did.
    pub(crate) kind: ValueKind,
    /// The stored value (for `PutWithExpiry`, with its expiry prefix).
    pub(crate) value: &'a [u8],
    /// The expiry of a `PutWithExpiry`, `None` for the other kinds.
    pub(crate) expires_at_ms: Option<u64>,
}

/// One input's current entry, as kept in the heap.
struct HeapEntry {
    /// Copy of the input's current encoded key (reused across steps).
    key: Vec<u8>,
    seqno: SeqNo,
    kind: ValueKind,
    expires_at_ms: Option<u64>,
    /// Position of the input in the job: earlier wins ties.
    input: usize,
}

impl HeapEntry {
    fn user_key(&self) -> &[u8] {
        split_encoded(&self.key).0
    }
}

impl Ord for HeapEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        // The kind is left out on purpose: two writes never share a seqno, so
        // equal (user key, seqno) pairs are copies of one write (or corrupt),
        // and the earlier input must win whatever the kinds say.
        self.user_key()
            .cmp(other.user_key())
            .then_with(|| other.seqno.cmp(&self.seqno))
            .then_with(|| self.input.cmp(&other.input))
    }
}

impl PartialOrd for HeapEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for HeapEntry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for HeapEntry {}

/// A k-way merge over tables. See the module docs.
pub(crate) struct MergingInputs {
    iters: Vec<TableIterator>,
    tables: Vec<TableReader>,
    /// Entries read so far from each input, for error messages.
    positions: Vec<u64>,
    heap: BinaryHeap<Reverse<HeapEntry>>,
    entries_read: u64,
}

impl MergingInputs {
    /// Positions a cache-sparing iterator on the first entry of every table.
    ///
    /// # Errors
    /// As [`MergingInputs::advance`], for the first entries.
    pub(crate) fn new(tables: &[TableReader]) -> Result<Self> {
        let mut merge = Self {
            iters: Vec::with_capacity(tables.len()),
            tables: tables.to_vec(),
            positions: vec![0; tables.len()],
            heap: BinaryHeap::with_capacity(tables.len()),
            entries_read: 0,
        };
        for (input, table) in tables.iter().enumerate() {
            let mut it = table.iter();
            // A compaction reads each block once: caching it would only
            // evict blocks that readers still want.
            it.set_fill_cache(false);
            it.seek_to_first();
            merge.iters.push(it);
            merge.refill(input, None)?;
        }
        Ok(merge)
    }

    /// The smallest entry of all inputs; `None` once all are exhausted.
    pub(crate) fn current(&self) -> Option<Entry<'_>> {
        let Reverse(top) = self.heap.peek()?;
        let value = self.iters.get(top.input).map_or(&[][..], |it| it.value());
        Some(Entry {
            encoded_key: &top.key,
            user_key: top.user_key(),
            seqno: top.seqno,
            kind: top.kind,
            value,
            expires_at_ms: top.expires_at_ms,
        })
    }

    /// Steps past the current entry.
    ///
    /// # Errors
    /// The input's iterator error (I/O, bad block); [`Error::Corruption`] if
    /// its next key does not sort after the current one, does not decode, is
    /// longer than [`MAX_KEY_SIZE`], or is a `PutWithExpiry` whose value is
    /// shorter than its expiry.
    pub(crate) fn advance(&mut self) -> Result<()> {
        let Some(Reverse(top)) = self.heap.pop() else {
            return Ok(());
        };
        let input = top.input;
        if let Some(it) = self.iters.get_mut(input) {
            it.next();
        }
        self.refill(input, Some(top.key))
    }

    /// Entries stepped over so far, across all inputs.
    pub(crate) fn entries_read(&self) -> u64 {
        self.entries_read
    }

    /// Pushes input `input`'s current entry (if any) onto the heap, after
    /// checking it against `previous`, the input's previous key (`None` at
    /// the first entry), whose allocation then holds the new key.
    fn refill(&mut self, input: usize, previous: Option<Vec<u8>>) -> Result<()> {
        let Some(it) = self.iters.get(input) else {
            return Ok(());
        };
        if !it.valid() {
            return it.status();
        }
        self.entries_read += 1;
        let position = self.positions.get(input).copied().unwrap_or(0);
        if let Some(p) = self.positions.get_mut(input) {
            *p += 1;
        }
        let key = it.key();
        let bad = |reason: &str| self.corrupt(input, position, reason);
        if previous
            .as_deref()
            .is_some_and(|p| compare_internal_keys(p, key) != Ordering::Less)
        {
            return Err(bad("keys do not strictly increase"));
        }
        let Some(parsed) = InternalKeyRef::decode_from(key) else {
            return Err(bad("malformed internal key (short, or unknown kind)"));
        };
        if parsed.user_key.len() > MAX_KEY_SIZE {
            return Err(bad("user key longer than the maximum key size"));
        }
        let expires_at_ms = match parsed.kind {
            ValueKind::PutWithExpiry => match ExpiringValue::decode(it.value()) {
                Some((at, _)) => Some(at),
                None => return Err(bad("PutWithExpiry value shorter than its expiry")),
            },
            ValueKind::Put | ValueKind::Delete => None,
        };
        let (seqno, kind) = (parsed.seqno, parsed.kind);
        let mut buf = previous.unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(key);
        self.heap.push(Reverse(HeapEntry {
            key: buf,
            seqno,
            kind,
            expires_at_ms,
            input,
        }));
        Ok(())
    }

    fn corrupt(&self, input: usize, position: u64, reason: &str) -> Error {
        let path = self
            .tables
            .get(input)
            .map(|t| t.path().to_path_buf())
            .unwrap_or_default();
        // The table iterator does not expose block offsets: the entry's
        // ordinal locates it instead (`strata sst dump` lists entries in order).
        Error::corruption(
            path,
            0,
            format!("compaction input entry #{position}: {reason}"),
        )
    }
}
