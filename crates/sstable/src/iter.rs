//! [`TableIterator`]: a two-level cursor (index block → data block) over a
//! table, with optional user-key bounds.
//!
//! Invariant: when valid, the cursor sits on an entry whose user key lies
//! within the bounds. Every step checks that keys keep strictly increasing
//! (forward) or decreasing (backward): block checksums stop accidents, but
//! a file with valid checksums and disordered keys must still read as
//! corrupt, never as a scan out of order. Errors are sticky: the first corruption or I/O error
//! makes the iterator invalid for good and is reported by `status`.
//! An iterator is used by one thread at a time (it is `Send`); it keeps the
//! table's state alive through an `Arc`.

use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use strata_core::key::{pack_trailer, split_encoded};
use strata_core::{
    Error, InternalKey, InternalKeyRef, MAX_SEQNO, Result, ValueKind, compare_internal_keys,
};

use crate::block::BlockIter;
use crate::reader::TableInner;

/// A cursor over a table's entries in internal-key order. Created by
/// [`TableReader::iter`](crate::TableReader::iter) or
/// [`TableReader::range`](crate::TableReader::range); starts unpositioned.
pub struct TableIterator {
    table: Arc<TableInner>,
    index: BlockIter,
    data: Option<BlockIter>,
    /// Offset of the block `data` iterates.
    data_offset: u64,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    error: Option<Error>,
    fill_cache: bool,
    scratch: Vec<u8>,
    /// The key the cursor left on its last step, for the order check.
    step_from: Vec<u8>,
}

impl TableIterator {
    pub(crate) fn new(table: Arc<TableInner>) -> Self {
        let index = table.index.iter(compare_internal_keys);
        Self {
            table,
            index,
            data: None,
            data_offset: u64::MAX,
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
            error: None,
            fill_cache: true,
            scratch: Vec::new(),
            step_from: Vec::new(),
        }
    }

    /// Restricts the iterator to user keys within `(lower, upper)` and
    /// unpositions it.
    pub fn set_bounds(&mut self, lower: Bound<Vec<u8>>, upper: Bound<Vec<u8>>) {
        self.lower = lower;
        self.upper = upper;
        self.data = None;
    }

    /// A new, unpositioned cursor over the same table with the same bounds
    /// and cache setting (an error of `self` is not carried over).
    pub(crate) fn unpositioned_copy(&self) -> Self {
        let mut copy = Self::new(Arc::clone(&self.table));
        copy.lower = self.lower.clone();
        copy.upper = self.upper.clone();
        copy.fill_cache = self.fill_cache;
        copy
    }

    /// Whether blocks read by this iterator are added to the block cache
    /// (default true; long scans may turn it off to spare the cache).
    pub fn set_fill_cache(&mut self, fill: bool) {
        self.fill_cache = fill;
    }

    /// True if positioned on an entry.
    pub fn valid(&self) -> bool {
        self.data.as_ref().is_some_and(BlockIter::valid)
    }

    /// The current encoded internal key (`user_key ‖ trailer`); empty if not valid.
    pub fn key(&self) -> &[u8] {
        match &self.data {
            Some(d) if d.valid() => d.key(),
            _ => &[],
        }
    }

    /// The current user key; empty if not valid.
    pub fn user_key(&self) -> &[u8] {
        split_encoded(self.key()).0
    }

    /// The current key decoded; `None` if not valid or the kind byte is unknown.
    pub fn internal_key(&self) -> Option<InternalKeyRef<'_>> {
        InternalKeyRef::decode_from(self.key())
    }

    /// The current value; empty if not valid.
    pub fn value(&self) -> &[u8] {
        match &self.data {
            Some(d) if d.valid() => d.value(),
            _ => &[],
        }
    }

    /// The current value as shared bytes (no copy); empty if not valid.
    pub fn value_bytes(&self) -> Bytes {
        match &self.data {
            Some(d) if d.valid() => d.value_bytes(),
            _ => Bytes::new(),
        }
    }

    /// `Ok` unless the iterator met corrupt data or an I/O error.
    ///
    /// # Errors
    /// The first [`Error::Corruption`] or [`Error::Io`] met; the iterator stays
    /// invalid afterwards.
    pub fn status(&self) -> Result<()> {
        match &self.error {
            None => Ok(()),
            Some(e) => Err(copy_error(e)),
        }
    }

    /// Positions on the first entry within the bounds.
    pub fn seek_to_first(&mut self) {
        match self.lower.clone() {
            Bound::Unbounded => {
                if self.error.is_some() {
                    return;
                }
                self.index.seek_to_first();
                if self.load_block() {
                    self.data_mut(BlockIter::seek_to_first);
                }
                self.skip_forward();
                self.check_separator();
                self.check_upper();
            }
            Bound::Included(b) | Bound::Excluded(b) => {
                self.fill_scratch(&b, MAX_SEQNO, ValueKind::SEEK);
                let target = std::mem::take(&mut self.scratch);
                self.seek_encoded(&target);
                self.scratch = target;
            }
        }
    }

    /// Positions on the last entry within the bounds.
    pub fn seek_to_last(&mut self) {
        if self.error.is_some() {
            return;
        }
        match self.upper.clone() {
            Bound::Unbounded => self.raw_seek_to_last(),
            Bound::Excluded(b) => {
                self.fill_scratch(&b, MAX_SEQNO, ValueKind::SEEK);
                self.raw_seek_scratch();
                if self.valid() {
                    self.raw_prev();
                } else if self.error.is_none() {
                    self.raw_seek_to_last();
                }
            }
            Bound::Included(b) => {
                // The smallest internal key of `b`: its oldest possible version.
                self.fill_scratch(&b, 0, ValueKind::Delete);
                self.raw_seek_scratch();
                if self.valid() && self.user_key() != b.as_slice() {
                    self.raw_prev();
                } else if !self.valid() && self.error.is_none() {
                    self.raw_seek_to_last();
                }
            }
        }
        if self.valid() && !self.lower_ok() {
            self.data = None;
        }
    }

    /// Positions on the first entry `>= target` within the bounds.
    pub fn seek(&mut self, target: &InternalKey) {
        let mut enc = std::mem::take(&mut self.scratch);
        enc.clear();
        target.encode_into(&mut enc);
        self.seek_encoded(&enc);
        self.scratch = enc;
    }

    /// [`TableIterator::seek`] with an encoded internal key.
    pub fn seek_encoded(&mut self, target: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let target_ok = bound_allows_lower(&self.lower, split_encoded(target).0);
        if target_ok {
            self.raw_seek(target);
        } else {
            // Clamp to the lower bound.
            let b = match &self.lower {
                Bound::Included(b) | Bound::Excluded(b) => b.clone(),
                Bound::Unbounded => Vec::new(),
            };
            self.fill_scratch(&b, MAX_SEQNO, ValueKind::SEEK);
            self.raw_seek_scratch();
        }
        // Only an excluded lower bound's own versions can remain below it.
        while self.valid() && !self.lower_ok() {
            self.raw_next();
        }
        self.check_upper();
    }

    /// Steps to the next entry (invalid past the last one within bounds).
    /// Does nothing if not valid.
    pub fn next(&mut self) {
        if !self.valid() {
            return;
        }
        self.raw_next();
        self.check_upper();
    }

    /// Steps to the previous entry (invalid before the first one within
    /// bounds). Does nothing if not valid.
    pub fn prev(&mut self) {
        if !self.valid() {
            return;
        }
        self.raw_prev();
        if self.valid() && !self.lower_ok() {
            self.data = None;
        }
    }

    /// A corruption error pointing at the current data block.
    pub(crate) fn corruption_here(&self, reason: &str) -> Error {
        Error::corruption(&*self.table.path, self.data_offset, reason)
    }

    fn lower_ok(&self) -> bool {
        bound_allows_lower(&self.lower, self.user_key())
    }

    fn check_upper(&mut self) {
        if self.valid() {
            let uk = self.user_key();
            let ok = match &self.upper {
                Bound::Unbounded => true,
                Bound::Included(b) => uk <= b.as_slice(),
                Bound::Excluded(b) => uk < b.as_slice(),
            };
            if !ok {
                self.data = None;
            }
        }
    }

    fn fill_scratch(&mut self, user_key: &[u8], seqno: u64, kind: ValueKind) {
        self.scratch.clear();
        self.scratch.extend_from_slice(user_key);
        self.scratch
            .extend_from_slice(&pack_trailer(seqno, kind).to_le_bytes());
    }

    fn raw_seek_scratch(&mut self) {
        let target = std::mem::take(&mut self.scratch);
        self.raw_seek(&target);
        self.scratch = target;
    }

    fn raw_seek(&mut self, target: &[u8]) {
        self.index.seek_with_hints(target, &self.table.index_hints);
        if self.load_block() {
            self.data_mut(|d| d.seek(target));
        }
        self.skip_forward();
        if self.valid() && compare_internal_keys(self.key(), target).is_lt() {
            let e =
                self.corruption_here("a seek landed below its target: index and blocks disagree");
            self.fail(e);
        }
        self.check_separator();
    }

    fn raw_seek_to_last(&mut self) {
        self.index.seek_to_last();
        if self.load_block() {
            self.data_mut(BlockIter::seek_to_last);
        }
        self.skip_backward();
        self.check_separator();
    }

    fn raw_next(&mut self) {
        self.remember_step_origin();
        self.data_mut(BlockIter::next);
        self.skip_forward();
        self.check_step(std::cmp::Ordering::Less);
    }

    fn raw_prev(&mut self) {
        self.remember_step_origin();
        self.data_mut(BlockIter::prev);
        self.skip_backward();
        self.check_step(std::cmp::Ordering::Greater);
    }

    fn remember_step_origin(&mut self) {
        self.step_from.clear();
        if let Some(d) = self.data.as_ref().filter(|d| d.valid()) {
            self.step_from.extend_from_slice(d.key());
        }
    }

    /// After a step, `compare(origin, new key)` must be `expected`, and the
    /// new key must not sort above its block's index separator (lookups
    /// rely on both).
    fn check_step(&mut self, expected: std::cmp::Ordering) {
        if !self.valid() {
            return;
        }
        if compare_internal_keys(&self.step_from, self.key()) != expected {
            let e = self.corruption_here("keys out of order");
            self.fail(e);
        } else {
            self.check_separator();
        }
    }

    fn check_separator(&mut self) {
        if self.valid()
            && self.index.valid()
            && compare_internal_keys(self.key(), self.index.key()).is_gt()
        {
            let e = self.corruption_here("key above its block's index separator");
            self.fail(e);
        }
    }

    fn data_mut(&mut self, f: impl FnOnce(&mut BlockIter)) {
        if let Some(d) = &mut self.data {
            f(d);
        }
    }

    /// Moves to the first entry of the following blocks while the data
    /// cursor is exhausted.
    fn skip_forward(&mut self) {
        while self.data.is_some() && !self.valid() {
            if !self.check_data_status() || !self.index.valid() {
                self.data = None;
                return;
            }
            self.index.next();
            if self.load_block() {
                self.data_mut(BlockIter::seek_to_first);
            }
        }
    }

    /// Moves to the last entry of the preceding blocks while the data
    /// cursor is exhausted.
    fn skip_backward(&mut self) {
        while self.data.is_some() && !self.valid() {
            if !self.check_data_status() || !self.index.valid() {
                self.data = None;
                return;
            }
            self.index.prev();
            if self.load_block() {
                self.data_mut(BlockIter::seek_to_last);
            }
        }
    }

    fn check_data_status(&mut self) -> bool {
        if let Some(Err(e)) = self.data.as_ref().map(BlockIter::status) {
            self.fail(e);
            return false;
        }
        true
    }

    /// Points `data` at the block under the index cursor. Returns false (with
    /// `data` cleared) if the index is exhausted or the block cannot be read.
    fn load_block(&mut self) -> bool {
        if !self.index.valid() {
            self.data = None;
            if let Err(e) = self.index.status() {
                self.fail(e);
            }
            return false;
        }
        let handle = match self.table.decode_handle(self.index.value()) {
            Ok(h) => h,
            Err(e) => {
                self.fail(e);
                return false;
            }
        };
        if self.data.is_some() && self.data_offset == handle.offset {
            return true;
        }
        match self.table.data_block(handle, self.fill_cache) {
            Ok(block) => {
                self.data = Some(block.iter(compare_internal_keys));
                self.data_offset = handle.offset;
                true
            }
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    fn fail(&mut self, e: Error) {
        self.data = None;
        if self.error.is_none() {
            self.error = Some(e);
        }
    }
}

fn bound_allows_lower(lower: &Bound<Vec<u8>>, user_key: &[u8]) -> bool {
    match lower {
        Bound::Unbounded => true,
        Bound::Included(b) => user_key >= b.as_slice(),
        Bound::Excluded(b) => user_key > b.as_slice(),
    }
}

/// A copy of `e` for repeated `status()` calls (`Error` is not `Clone`).
pub(crate) fn copy_error(e: &Error) -> Error {
    match e {
        Error::Corruption {
            file,
            offset,
            reason,
        } => Error::corruption(file.clone(), *offset, reason.clone()),
        Error::Io(io) => Error::Io(std::io::Error::new(io.kind(), io.to_string())),
        Error::InvalidArgument(s) => Error::InvalidArgument(s.clone()),
        Error::Locked { path } => Error::Locked { path: path.clone() },
        Error::Closed => Error::Closed,
        other => Error::Io(std::io::Error::other(other.to_string())),
    }
}

impl std::fmt::Debug for TableIterator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableIterator")
            .field("path", &self.table.path)
            .field("valid", &self.valid())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}
