//! [`TableEntries`]: a Rust `Iterator` / `DoubleEndedIterator` over a range of
//! a table, for callers that prefer `for` loops to cursors.

use std::cmp::Ordering;
use std::ops::Bound;

use bytes::Bytes;
use strata_core::{InternalKey, Result, compare_internal_keys};

use crate::iter::TableIterator;
use crate::reader::TableReader;

/// Yields `(key, value)` pairs of a table in internal-key order from the front
/// and in reverse from the back; the two ends never cross. After an error is
/// yielded the iterator is exhausted.
#[derive(Debug)]
pub struct TableEntries {
    front: TableIterator,
    back: TableIterator,
    front_started: bool,
    back_started: bool,
    /// Encoded key last yielded from each end.
    last_front: Option<Vec<u8>>,
    last_back: Option<Vec<u8>>,
    done: bool,
}

impl TableReader {
    /// Entries whose user key lies within `(lower, upper)`, as a Rust iterator.
    pub fn entries(&self, lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> TableEntries {
        TableEntries {
            front: self.range(lower, upper),
            back: self.range(lower, upper),
            front_started: false,
            back_started: false,
            last_front: None,
            last_back: None,
            done: false,
        }
    }
}

impl TableEntries {
    fn take(
        it: &TableIterator,
        other_end: &Option<Vec<u8>>,
        beyond: Ordering,
    ) -> Option<Result<(InternalKey, Bytes)>> {
        if !it.valid() {
            return it.status().err().map(Err);
        }
        if let Some(stop) = other_end
            && compare_internal_keys(it.key(), stop) != beyond.reverse()
        {
            return None;
        }
        Some(match it.internal_key() {
            Some(k) => Ok((k.to_owned(), it.value_bytes())),
            None => Err(it.corruption_here("entry key is not a valid internal key")),
        })
    }

    fn finish(
        &mut self,
        item: Option<Result<(InternalKey, Bytes)>>,
        front: bool,
    ) -> Option<Result<(InternalKey, Bytes)>> {
        match &item {
            Some(Ok(_)) => {
                let key = if front {
                    self.front.key()
                } else {
                    self.back.key()
                }
                .to_vec();
                if front {
                    self.last_front = Some(key);
                } else {
                    self.last_back = Some(key);
                }
            }
            _ => self.done = true,
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
        let item = Self::take(&self.front, &self.last_back, Ordering::Greater);
        self.finish(item, true)
    }
}

impl DoubleEndedIterator for TableEntries {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.back_started {
            self.back.prev();
        } else {
            self.back.seek_to_last();
            self.back_started = true;
        }
        let item = Self::take(&self.back, &self.last_front, Ordering::Less);
        self.finish(item, false)
    }
}
