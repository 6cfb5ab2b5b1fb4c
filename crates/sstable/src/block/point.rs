//! Point seeks: the lean path a table lookup takes through its index block and
//! one data block.
//!
//! A [`BlockIter`](super::BlockIter) keeps what stepping backwards and
//! iterating need (its own key buffer, the current restart interval). A point
//! lookup needs neither: it seeks once, maybe steps forward once, and reads the
//! value. [`Block::seek_point`] does only that, rebuilding keys into a buffer
//! the caller reuses for the index and the data block of one lookup.

use std::cmp::Ordering;
use std::ops::{Range, RangeInclusive};

use bytes::Bytes;
use strata_core::{Error, Result};

use super::KeyComparator;
use super::iter::{Block, decode_entry_at};

/// An entry found by a point seek. Its key is in the buffer the seek was
/// given.
#[derive(Debug, Clone)]
pub(crate) struct PointEntry {
    /// The entry's value inside the block.
    value: Range<usize>,
}

impl Block {
    /// The first entry whose key is `>= target`, its key left in `key`;
    /// `None` if every key sorts below `target`.
    ///
    /// `restarts` bounds the restart points the binary search considers: the
    /// last restart key below `target` must lie in it (or be the first).
    /// Pass `0..=usize::MAX` when nothing narrows the search.
    ///
    /// # Errors
    /// `Corruption` if an entry on the way cannot be decoded.
    pub(crate) fn seek_point(
        &self,
        target: &[u8],
        cmp: KeyComparator,
        restarts: RangeInclusive<usize>,
        key: &mut Vec<u8>,
    ) -> Result<Option<PointEntry>> {
        if self.num_restarts == 0 {
            return Ok(None);
        }
        let right = (*restarts.end()).min(self.num_restarts - 1);
        let (mut left, mut right) = ((*restarts.start()).min(right), right);
        // Binary search for the last restart point whose key is < target.
        while left < right {
            let mid = left + (right - left).div_ceil(2);
            let at = self.restart_point(mid);
            let restart_key = decode_entry_at(&self.data, at, self.restarts_offset)
                .filter(|e| e.shared == 0)
                .and_then(|e| self.data.get(e.unshared))
                .ok_or_else(|| self.corrupt(at, "restart entry cannot be decoded"))?;
            if cmp(restart_key, target) == Ordering::Less {
                left = mid;
            } else {
                right = mid - 1;
            }
        }
        key.clear();
        let mut at = self.restart_point(left);
        while at < self.restarts_offset {
            let entry = self.decode_into(at, key)?;
            if cmp(key, target) != Ordering::Less {
                return Ok(Some(entry));
            }
            at = entry.value.end;
        }
        Ok(None)
    }

    /// The entry after `entry` (whose key must be in `key`), its key left in
    /// `key`; `None` after the last entry.
    ///
    /// # Errors
    /// `Corruption` if the next entry cannot be decoded.
    pub(crate) fn next_point(
        &self,
        entry: &PointEntry,
        key: &mut Vec<u8>,
    ) -> Result<Option<PointEntry>> {
        let at = entry.value.end;
        if at >= self.restarts_offset {
            return Ok(None);
        }
        self.decode_into(at, key).map(Some)
    }

    /// The value of an entry found in this block.
    pub(crate) fn point_value(&self, entry: &PointEntry) -> &[u8] {
        self.data.get(entry.value.clone()).unwrap_or_default()
    }

    /// The value of an entry found in this block, as a zero-copy slice.
    pub(crate) fn point_value_bytes(&self, entry: &PointEntry) -> Bytes {
        self.data.slice(entry.value.clone())
    }

    /// Decodes the entry at `at`, applying its key delta to `key` (the
    /// previous entry's key, or empty at a restart point).
    fn decode_into(&self, at: usize, key: &mut Vec<u8>) -> Result<PointEntry> {
        let entry = decode_entry_at(&self.data, at, self.restarts_offset)
            .filter(|e| e.shared <= key.len())
            .ok_or_else(|| self.corrupt(at, "entry cannot be decoded"))?;
        key.truncate(entry.shared);
        key.extend_from_slice(self.data.get(entry.unshared).unwrap_or_default());
        Ok(PointEntry { value: entry.value })
    }

    pub(super) fn corrupt(&self, at: usize, reason: &str) -> Error {
        Error::corruption(
            &*self.file,
            self.offset,
            format!("{reason} (byte {at} of the block)"),
        )
    }
}
