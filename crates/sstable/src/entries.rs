//! [`TableEntries`]: a Rust `Iterator` / `DoubleEndedIterator` over a range of
//! a table, for callers that prefer `for` loops to cursors.
//!
//! Each end has its own cursor, made on that end's first call (a scan that
//! only goes forward never builds the back one). A cursor stays on the entry
//! its end yielded last, so each end compares against the other's current key
//! to stop where they meet: no key is copied to remember a position.

use std::ops::Bound;

use bytes::Bytes;
use strata_core::{InternalKey, Result, compare_internal_keys};

use crate::iter::TableIterator;
use crate::reader::TableReader;

/// Yields `(key, value)` pairs of a table in internal-key order from the front
/// and in reverse from the back; the two ends never cross. After an error is
/// yielded, or once either end is exhausted, the iterator yields nothing more
/// from either end.
#[derive(Debug)]
pub struct TableEntries {
    /// The front cursor; unpositioned until the front's first call.
    front: TableIterator,
    /// The back cursor, made from `front` on the back's first call.
    back: Option<TableIterator>,
    front_started: bool,
    done: bool,
}

impl TableReader {
    /// Entries whose user key lies within `(lower, upper)`, as a Rust iterator.
    pub fn entries(&self, lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> TableEntries {
        TableEntries {
            front: self.range(lower, upper),
            back: None,
            front_started: false,
            done: false,
        }
    }
}

impl TableEntries {
    /// The entry under `it`, unless `it` is exhausted or has reached the
    /// entry `other` (the opposite end's last yield) sits on.
    fn take(
        it: &TableIterator,
        other: Option<&TableIterator>,
        forward: bool,
    ) -> Option<Result<(InternalKey, Bytes)>> {
        if !it.valid() {
            return it.status().err().map(Err);
        }
        if let Some(other) = other {
            let order = compare_internal_keys(it.key(), other.key());
            // The other end is valid (an exhausted end ends the iterator), so
            // reaching its key means every entry between them is yielded.
            if (forward && order.is_ge()) || (!forward && order.is_le()) {
                return None;
            }
        }
        Some(match it.internal_key() {
            Some(k) => Ok((k.to_owned(), it.value_bytes())),
            None => Err(it.corruption_here("entry key is not a valid internal key")),
        })
    }

    fn finish(
        &mut self,
        item: Option<Result<(InternalKey, Bytes)>>,
    ) -> Option<Result<(InternalKey, Bytes)>> {
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

impl Iterator for TableEntries {
    type Item = Result<(InternalKey, Bytes)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.front_started {
            self.front.next();
        } else {
            self.front.seek_to_first();
            self.front_started = true;
        }
        let item = Self::take(&self.front, self.back.as_ref(), true);
        self.finish(item)
    }
}

impl DoubleEndedIterator for TableEntries {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let back = match &mut self.back {
            Some(back) => {
                back.prev();
                back
            }
            None => {
                let back = self.back.insert(self.front.unpositioned_copy());
                back.seek_to_last();
                back
            }
        };
        let front = self.front_started.then_some(&self.front);
        let item = Self::take(back, front, false);
        self.finish(item)
    }
}
