//! [`Block`] (a validated, shareable block) and [`BlockIter`] (a cursor over it).

use std::cmp::Ordering;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use strata_core::coding::{decode_fixed32, decode_varint32};
use strata_core::{Error, InternalKeyRef, Result};

use super::{KeyComparator, RestartHints, U32_LEN};

/// A decoded block: the raw bytes plus where its restart array starts.
/// Cloning costs one reference-count increment: point lookups clone a block
/// out of the cache and again into an iterator, so this is on the hot path.
#[derive(Debug, Clone)]
pub(crate) struct Block(Arc<BlockData>);

/// What a [`Block`] shares between its clones.
#[derive(Debug)]
pub(crate) struct BlockData {
    pub(super) data: Bytes,
    /// Offset of the restart array; entries occupy `data[..restarts_offset]`.
    pub(super) restarts_offset: usize,
    pub(super) num_restarts: usize,
    pub(super) file: Arc<Path>,
    /// Absolute offset of the block in `file`, for error messages.
    pub(super) offset: u64,
}

impl Block {
    /// Checks `data`'s restart array and wraps it as a block of internal keys.
    ///
    /// Only the restart array is checked here (its count fits, the first
    /// restart is 0, offsets strictly increase inside the entry region): that
    /// is O(restarts), which keeps an uncached point lookup from paying for a
    /// walk over every entry. Entries are checked as they are read — every
    /// decode is bounds-checked and a bad one is `Corruption` — and
    /// [`Block::validate`] walks them all for `verify` and for blocks kept for
    /// a table's lifetime (the index).
    ///
    /// Errors name `offset`, the block's position in `file`; the position
    /// inside the block goes in the message, because for a compressed block
    /// it counts decompressed bytes and is not a file offset.
    ///
    /// # Errors
    /// `Corruption` if the restart array does not fit or is out of order, or
    /// the first restart is not 0.
    pub(crate) fn decode(data: Bytes, file: Arc<Path>, offset: u64) -> Result<Block> {
        let corrupt = |at: usize, reason: String| {
            Error::corruption(&*file, offset, format!("{reason} (byte {at} of the block)"))
        };
        let len = data.len();
        let count_at = len
            .checked_sub(U32_LEN)
            .ok_or_else(|| corrupt(0, format!("block of {len} bytes has no restart count")))?;
        let num_restarts = decode_fixed32(&data[count_at..]).unwrap_or(0) as usize;
        let restarts_offset = num_restarts
            .checked_mul(U32_LEN)
            .and_then(|n| count_at.checked_sub(n))
            .filter(|_| num_restarts > 0)
            .ok_or_else(|| {
                corrupt(
                    count_at,
                    format!("restart count {num_restarts} does not fit a {len}-byte block"),
                )
            })?;
        let restart = |i: usize| {
            decode_fixed32(&data[restarts_offset + i * U32_LEN..])
                .map_or(usize::MAX, |r| r as usize)
        };
        if restart(0) != 0 || (restarts_offset == 0 && num_restarts != 1) {
            return Err(corrupt(
                restarts_offset,
                "the first restart point is not the first entry".into(),
            ));
        }
        for i in 1..num_restarts {
            let (previous, current) = (restart(i - 1), restart(i));
            if current <= previous || current >= restarts_offset {
                return Err(corrupt(
                    restarts_offset + i * U32_LEN,
                    format!(
                        "restart point {i} (offset {current}) is out of order or past the entries"
                    ),
                ));
            }
        }
        Ok(Block(Arc::new(BlockData {
            data,
            restarts_offset,
            num_restarts,
            file,
            offset,
        })))
    }

    /// Walks every entry: each must decode inside the entry region, each
    /// restart offset must be met exactly at an entry that shares no prefix,
    /// and every key must be a valid internal key. A block that passes reads
    /// the same in both directions.
    ///
    /// # Errors
    /// `Corruption` naming the block's offset and the bad byte inside it.
    pub(crate) fn validate(&self) -> Result<()> {
        let data = &self.data;
        let (restarts_offset, num_restarts) = (self.restarts_offset, self.num_restarts);
        let mut key: Vec<u8> = Vec::new();
        let mut next_restart = 0;
        let mut pos = 0;
        while pos < restarts_offset {
            let entry = decode_entry_at(data, pos, restarts_offset)
                .ok_or_else(|| self.corrupt(pos, "entry runs past the entry region"))?;
            let restart = |i: usize| (i < num_restarts).then(|| self.restart_point(i));
            match restart(next_restart) {
                Some(r) if r == pos => {
                    if entry.shared != 0 {
                        return Err(self.corrupt(pos, "a restart point shares a key prefix"));
                    }
                    next_restart += 1;
                }
                Some(r) if r < pos => {
                    return Err(self.corrupt(
                        pos,
                        &format!("restart point {next_restart} is not an entry start"),
                    ));
                }
                _ => {}
            }
            if entry.shared > key.len() {
                return Err(self.corrupt(pos, "entry shares more than the previous key"));
            }
            key.truncate(entry.shared);
            key.extend_from_slice(data.get(entry.unshared).unwrap_or_default());
            if InternalKeyRef::decode_from(&key).is_none() {
                return Err(self.corrupt(pos, "key is not a valid internal key"));
            }
            pos = entry.value.end;
        }
        if restarts_offset > 0 && next_restart != num_restarts {
            return Err(self.corrupt(
                restarts_offset,
                &format!("restart point {next_restart} is past the last entry"),
            ));
        }
        Ok(())
    }

    /// Hints over this block's restart keys, for [`BlockIter::seek_with_hints`].
    pub(crate) fn restart_hints(&self) -> RestartHints {
        let keys: Vec<&[u8]> = (0..self.num_restarts)
            .map(|i| {
                let at = self.restart_point(i);
                decode_entry_at(&self.data, at, self.restarts_offset)
                    .and_then(|e| self.data.get(e.unshared))
                    .unwrap_or_default()
            })
            .collect();
        RestartHints::new(keys.iter().copied())
    }

    /// Number of restart points.
    pub(crate) fn num_restarts(&self) -> usize {
        self.num_restarts
    }

    /// Bytes held, for cache accounting.
    pub(crate) fn size(&self) -> usize {
        self.data.len()
    }

    /// A cursor over the block, ordering keys with `cmp`. It starts invalid.
    pub(crate) fn iter(&self, cmp: KeyComparator) -> BlockIter {
        BlockIter {
            block: self.clone(),
            cmp,
            current: self.restarts_offset,
            next_offset: self.restarts_offset,
            restart_index: self.num_restarts,
            key: Vec::new(),
            value: 0..0,
            error: None,
        }
    }

    pub(super) fn restart_point(&self, index: usize) -> usize {
        let at = self.restarts_offset + index * U32_LEN;
        // In range: `decode` checked every restart slot.
        self.data
            .get(at..)
            .and_then(decode_fixed32)
            .map_or(self.restarts_offset, |r| r as usize)
    }
}

impl std::ops::Deref for Block {
    type Target = BlockData;

    fn deref(&self) -> &BlockData {
        &self.0
    }
}

/// One decoded entry header.
pub(super) struct Entry {
    pub(super) shared: usize,
    pub(super) unshared: Range<usize>,
    pub(super) value: Range<usize>,
}

/// Decodes the entry header at `at`; `None` if it or its key or value runs
/// past `limit` (the start of the restart array).
#[inline]
pub(super) fn decode_entry_at(data: &[u8], at: usize, limit: usize) -> Option<Entry> {
    let region = data.get(at..limit)?;
    // Fast path: all three lengths fit one byte each, as for keys and
    // values under 128 bytes.
    if let Some(&[shared, unshared, value_len]) = region.get(..3)
        && (shared | unshared | value_len) < 0x80
    {
        let key_start = at + 3;
        let key_end = key_start + usize::from(unshared);
        let value_end = key_end + usize::from(value_len);
        return (value_end <= limit).then_some(Entry {
            shared: usize::from(shared),
            unshared: key_start..key_end,
            value: key_end..value_end,
        });
    }
    let (shared, n1) = decode_varint32(region)?;
    let (unshared, n2) = decode_varint32(region.get(n1..)?)?;
    let (value_len, n3) = decode_varint32(region.get(n1 + n2..)?)?;
    let key_start = at + n1 + n2 + n3;
    let key_end = key_start.checked_add(unshared as usize)?;
    let value_end = key_end.checked_add(value_len as usize)?;
    (value_end <= limit).then_some(Entry {
        shared: shared as usize,
        unshared: key_start..key_end,
        value: key_end..value_end,
    })
}

/// A cursor over a [`Block`]. Invalid until positioned by a seek; becomes
/// invalid when it steps off either end or meets corrupt bytes (then
/// [`BlockIter::status`] reports the corruption).
#[derive(Debug)]
pub(crate) struct BlockIter {
    block: Block,
    cmp: KeyComparator,
    /// Offset of the current entry; `== restarts_offset` when invalid.
    current: usize,
    /// Offset just past the current entry.
    next_offset: usize,
    /// Index of the restart interval holding `current`.
    restart_index: usize,
    key: Vec<u8>,
    value: Range<usize>,
    /// First corruption met: (offset inside the block, reason).
    error: Option<(usize, String)>,
}

impl BlockIter {
    /// True if positioned on an entry.
    pub(crate) fn valid(&self) -> bool {
        self.current < self.block.restarts_offset
    }

    /// The current key. REQUIRES: [`BlockIter::valid`].
    pub(crate) fn key(&self) -> &[u8] {
        debug_assert!(self.valid());
        &self.key
    }

    /// The current value. REQUIRES: [`BlockIter::valid`].
    pub(crate) fn value(&self) -> &[u8] {
        debug_assert!(self.valid());
        self.block.data.get(self.value.clone()).unwrap_or_default()
    }

    /// The current value as a zero-copy slice of the block.
    /// REQUIRES: [`BlockIter::valid`].
    pub(crate) fn value_bytes(&self) -> Bytes {
        debug_assert!(self.valid());
        self.block.data.slice(self.value.clone())
    }

    /// `Ok` unless corrupt bytes were met.
    pub(crate) fn status(&self) -> Result<()> {
        match &self.error {
            None => Ok(()),
            Some((at, reason)) => Err(Error::corruption(
                &*self.block.file,
                self.block.offset,
                format!("{reason} (byte {at} of the block)"),
            )),
        }
    }

    /// A corruption error pointing at the current entry.
    pub(crate) fn corruption_here(&self, reason: &str) -> Error {
        Error::corruption(
            &*self.block.file,
            self.block.offset,
            format!("{reason} (byte {} of the block)", self.current),
        )
    }

    /// Positions on the first entry (invalid if the block is empty).
    pub(crate) fn seek_to_first(&mut self) {
        if self.error.is_some() {
            return;
        }
        self.seek_to_restart(0);
        self.parse_next();
    }

    /// Positions on the last entry (invalid if the block is empty).
    pub(crate) fn seek_to_last(&mut self) {
        if self.error.is_some() || self.block.num_restarts == 0 {
            self.invalidate();
            return;
        }
        self.seek_to_restart(self.block.num_restarts - 1);
        while self.parse_next() && self.next_offset < self.block.restarts_offset {}
    }

    /// Positions on the first entry whose key is `>= target`; invalid if none.
    pub(crate) fn seek(&mut self, target: &[u8]) {
        self.seek_among(target, 0, usize::MAX);
    }

    /// [`BlockIter::seek`], narrowed by `hints` built from this block's
    /// restart keys (ignored if they do not match the block).
    pub(crate) fn seek_with_hints(&mut self, target: &[u8], hints: &RestartHints) {
        if hints.len() != self.block.num_restarts {
            return self.seek(target);
        }
        let range = hints.candidates(target);
        self.seek_among(target, *range.start(), *range.end());
    }

    /// Seeks, knowing that the last restart point whose key is below
    /// `target` lies in `left..=right` (or is 0).
    fn seek_among(&mut self, target: &[u8], left: usize, right: usize) {
        if self.error.is_some() || self.block.num_restarts == 0 {
            self.invalidate();
            return;
        }
        // Binary search for the last restart point whose key is < target.
        let cmp = self.cmp;
        let right = right.min(self.block.num_restarts - 1);
        let (mut left, mut right) = (left.min(right), right);
        while left < right {
            let mid = left + (right - left).div_ceil(2);
            let Some(key) = self.restart_key(mid) else {
                return;
            };
            if cmp(key, target) == Ordering::Less {
                left = mid;
            } else {
                right = mid - 1;
            }
        }
        self.seek_to_restart(left);
        while self.parse_next() {
            if (self.cmp)(&self.key, target) != Ordering::Less {
                return;
            }
        }
    }

    /// Steps to the next entry. REQUIRES: [`BlockIter::valid`].
    pub(crate) fn next(&mut self) {
        debug_assert!(self.valid());
        self.parse_next();
    }

    /// Steps to the previous entry (invalid before the first).
    /// REQUIRES: [`BlockIter::valid`].
    pub(crate) fn prev(&mut self) {
        debug_assert!(self.valid());
        let original = self.current;
        // Back up to the restart interval that starts before `original`.
        while self.block.restart_point(self.restart_index) >= original {
            if self.restart_index == 0 {
                self.invalidate();
                return;
            }
            self.restart_index -= 1;
        }
        self.seek_to_restart(self.restart_index);
        // Walk forward to the entry that ends at `original`.
        while self.parse_next() && self.next_offset < original {}
    }

    fn invalidate(&mut self) {
        self.current = self.block.restarts_offset;
        self.next_offset = self.block.restarts_offset;
        self.restart_index = self.block.num_restarts;
        self.key.clear();
        self.value = 0..0;
    }

    fn corrupt(&mut self, at: usize, reason: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some((at, reason.into()));
        }
        self.invalidate();
    }

    /// Prepares to parse the entry at restart point `index`.
    fn seek_to_restart(&mut self, index: usize) {
        self.key.clear();
        self.restart_index = index;
        self.next_offset = self.block.restart_point(index);
        self.current = self.next_offset;
    }

    /// Decodes the key stored whole at restart point `index`.
    fn restart_key(&mut self, index: usize) -> Option<&[u8]> {
        let at = self.block.restart_point(index);
        match self.decode_entry(at) {
            Some(e) if e.shared == 0 => self.block.data.get(e.unshared),
            Some(_) => {
                self.corrupt(at, format!("restart point {index} has a shared key prefix"));
                None
            }
            None => None,
        }
    }

    /// Decodes the entry header at `at`; on bad bytes records the corruption.
    fn decode_entry(&mut self, at: usize) -> Option<Entry> {
        let parsed = decode_entry_at(&self.block.data, at, self.block.restarts_offset);
        if parsed.is_none() {
            self.corrupt(at, "entry header or lengths run past the entry region");
        }
        parsed
    }

    /// Moves to the entry at `next_offset`; false (and invalid) at the end or
    /// on corruption.
    fn parse_next(&mut self) -> bool {
        self.current = self.next_offset;
        if self.current >= self.block.restarts_offset {
            self.invalidate();
            return false;
        }
        let at = self.current;
        let Some(entry) = self.decode_entry(at) else {
            return false;
        };
        if entry.shared > self.key.len() {
            self.corrupt(
                at,
                format!(
                    "entry shares {} bytes of a {}-byte key",
                    entry.shared,
                    self.key.len()
                ),
            );
            return false;
        }
        self.key.truncate(entry.shared);
        self.key
            .extend_from_slice(self.block.data.get(entry.unshared).unwrap_or_default());
        self.value = entry.value.clone();
        self.next_offset = entry.value.end;
        while self.restart_index + 1 < self.block.num_restarts
            && self.block.restart_point(self.restart_index + 1) <= self.current
        {
            self.restart_index += 1;
        }
        true
    }
}
