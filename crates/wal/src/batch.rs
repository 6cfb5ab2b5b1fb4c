//! [`WriteBatch`]: the operations of one atomic write, and their encoding.
//!
//! A batch keeps its encoded form (`rep`) and appends each operation to it, so
//! encoding for the log is free and `approximate_size` is exact:
//!
//! ```text
//! base_seqno: u64 LE ‖ count: u32 LE ‖ op*
//! op = kind: u8 ‖ varint key_len ‖ key [‖ varint value_len ‖ value]
//! ```
//!
//! `kind` is the [`ValueKind`] discriminant (on disk: never renumber). `Delete`
//! ops have no value field. A `PutWithExpiry` op's value is stored in the
//! [`ExpiringValue`] layout (`expires_at_ms: u64 LE ‖ user value`), exactly as
//! the memtable and SSTs store it, so the engine inserts it unchanged.
//!
//! Invariants of every `WriteBatch` (built or decoded): `rep` holds the header
//! and exactly `count` well-formed ops; keys are at most [`MAX_KEY_SIZE`] bytes
//! and user values at most [`MAX_VALUE_SIZE`].

use std::path::Path;

use strata_core::coding::{put_length_prefixed, varint_len};
use strata_core::{
    Error, ExpiringValue, MAX_KEY_SIZE, MAX_SEQNO, MAX_VALUE_SIZE, Result, SeqNo, SliceReader,
    ValueKind,
};

/// Bytes of the batch header: base seqno (8) ‖ count (4).
pub const BATCH_HEADER_SIZE: usize = 12;

/// One operation of a batch, as iterated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchEntry<'a> {
    /// What the operation does.
    pub kind: ValueKind,
    /// The user key.
    pub key: &'a [u8],
    /// The value as stored: empty for `Delete`; for `PutWithExpiry`, the
    /// [`ExpiringValue`] layout (8-byte expiry prefix, then the user value).
    pub value: &'a [u8],
}

impl BatchEntry<'_> {
    /// The expiry (unix milliseconds) of a `PutWithExpiry` entry, else `None`.
    pub fn expires_at_ms(&self) -> Option<u64> {
        match self.kind {
            ValueKind::PutWithExpiry => ExpiringValue::decode(self.value).map(|(at, _)| at),
            _ => None,
        }
    }

    /// The user value without any expiry prefix (empty for `Delete`).
    pub fn user_value(&self) -> &[u8] {
        match self.kind {
            ValueKind::PutWithExpiry => ExpiringValue::decode(self.value).map_or(&[], |(_, v)| v),
            _ => self.value,
        }
    }
}

/// An ordered set of writes applied atomically, taking consecutive sequence
/// numbers from [`WriteBatch::base_seqno`].
#[derive(Clone, PartialEq, Eq)]
pub struct WriteBatch {
    rep: Vec<u8>,
    count: u32,
}

impl Default for WriteBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl WriteBatch {
    /// An empty batch with base seqno 0.
    pub fn new() -> Self {
        Self {
            rep: vec![0; BATCH_HEADER_SIZE],
            count: 0,
        }
    }

    /// An empty batch with room for `bytes` of encoded operations, so that
    /// building it does not reallocate.
    pub fn with_capacity(bytes: usize) -> Self {
        let mut rep = Vec::with_capacity(BATCH_HEADER_SIZE.saturating_add(bytes));
        rep.resize(BATCH_HEADER_SIZE, 0);
        Self { rep, count: 0 }
    }

    /// Adds a put of `key` → `value`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the key exceeds [`MAX_KEY_SIZE`], the
    /// value exceeds [`MAX_VALUE_SIZE`], the batch already holds `u32::MAX`
    /// ops, or the new op's seqno (base + op index, once a base is set) would
    /// exceed [`MAX_SEQNO`]; the batch is then unchanged.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        check_sizes(key, value)?;
        self.push(ValueKind::Put, key, Some(value))
    }

    /// Adds a put of `key` → `value` that expires at `expires_at_ms` (unix
    /// milliseconds; the value is live strictly before it).
    ///
    /// # Errors
    /// As [`WriteBatch::put`].
    pub fn put_with_expiry(&mut self, key: &[u8], value: &[u8], expires_at_ms: u64) -> Result<()> {
        check_sizes(key, value)?;
        let stored = ExpiringValue::encode(expires_at_ms, value);
        self.push(ValueKind::PutWithExpiry, key, Some(&stored))
    }

    /// Adds a deletion of `key`.
    ///
    /// # Errors
    /// As [`WriteBatch::put`] (for the key and the op count).
    pub fn delete(&mut self, key: &[u8]) -> Result<()> {
        check_sizes(key, &[])?;
        self.push(ValueKind::Delete, key, None)
    }

    fn push(&mut self, kind: ValueKind, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        let count = self
            .count
            .checked_add(1)
            .ok_or_else(|| Error::invalid_argument("write batch holds too many operations"))?;
        // Keeps the invariant `set_base_seqno` checks: base + count - 1 <= MAX_SEQNO.
        let base = self.base_seqno();
        if base
            .checked_add(u64::from(self.count))
            .is_none_or(|seqno| seqno > MAX_SEQNO)
        {
            return Err(Error::invalid_argument(format!(
                "op {} from base seqno {base} would exceed the maximum seqno",
                self.count
            )));
        }
        self.rep.push(kind as u8);
        put_length_prefixed(&mut self.rep, key);
        if let Some(value) = value {
            put_length_prefixed(&mut self.rep, value);
        }
        self.set_count(count);
        Ok(())
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True if the batch holds no operations.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes of the encoded batch (what the log record will carry, before framing).
    pub fn approximate_size(&self) -> usize {
        self.rep.len()
    }

    /// Removes every operation and resets the base seqno to 0.
    pub fn clear(&mut self) {
        self.rep.clear();
        self.rep.resize(BATCH_HEADER_SIZE, 0);
        self.count = 0;
    }

    /// The sequence number of the first operation; op `i` gets `base + i`.
    pub fn base_seqno(&self) -> SeqNo {
        self.rep
            .first_chunk::<8>()
            .map_or(0, |b| u64::from_le_bytes(*b))
    }

    /// The sequence number of the last operation.
    ///
    /// An empty batch takes no sequence number; this then returns the base,
    /// which is *not* a seqno the batch used. The next free seqno after any
    /// batch is `base_seqno() + len()`.
    pub fn last_seqno(&self) -> SeqNo {
        self.base_seqno() + u64::from(self.count.saturating_sub(1))
    }

    /// Sets the base sequence number; the engine does this when it commits the batch.
    ///
    /// Ops added later must fit too (see [`WriteBatch::put`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the batch's last seqno would exceed
    /// [`MAX_SEQNO`] (for an empty batch: if `base` exceeds it).
    pub fn set_base_seqno(&mut self, base: SeqNo) -> Result<()> {
        let fits = base
            .checked_add(u64::from(self.count.saturating_sub(1)))
            .is_some_and(|last| last <= MAX_SEQNO);
        if !fits {
            return Err(Error::invalid_argument(format!(
                "sequence numbers from {base} for {} ops exceed the maximum",
                self.count
            )));
        }
        if let Some(header) = self.rep.first_chunk_mut::<8>() {
            *header = base.to_le_bytes();
        }
        Ok(())
    }

    /// The operations in insertion order.
    pub fn iter(&self) -> BatchIter<'_> {
        BatchIter {
            reader: SliceReader::new(self.rep.get(BATCH_HEADER_SIZE..).unwrap_or_default()),
            remaining: self.count,
        }
    }

    /// The encoded batch, ready to be a log record.
    pub fn as_bytes(&self) -> &[u8] {
        &self.rep
    }

    /// Appends the encoded batch to `dst`.
    pub fn encode_into(&self, dst: &mut Vec<u8>) {
        dst.extend_from_slice(&self.rep);
    }

    /// Decodes and fully validates an encoded batch (a log record read from
    /// `file`, whose first fragment is at `offset`).
    ///
    /// # Errors
    /// [`Error::Corruption`] at `offset` if the header is short, an op is
    /// truncated or has an unknown kind, a key or value exceeds the limits,
    /// the ops do not match `count`, or the seqnos overflow [`MAX_SEQNO`].
    pub fn decode_from(bytes: &[u8], file: &Path, offset: u64) -> Result<Self> {
        let corrupt = |reason: String| Error::corruption(file, offset, reason);
        let mut r = SliceReader::new(bytes);
        let (Some(base), Some(count)) = (r.fixed64(), r.fixed32()) else {
            return Err(corrupt(format!(
                "write batch of {} bytes is shorter than its header",
                bytes.len()
            )));
        };
        let mut found: u32 = 0;
        while !r.is_empty() {
            let at = r.position();
            let op = decode_op(&mut r).ok_or_else(|| {
                corrupt(format!("write batch op {found} at byte {at} is malformed"))
            })?;
            check_sizes(op.key, op.user_value())
                .map_err(|_| corrupt(format!("write batch op {found} exceeds the size limits")))?;
            found = found
                .checked_add(1)
                .ok_or_else(|| corrupt("write batch holds too many ops".to_owned()))?;
        }
        if found != count {
            return Err(corrupt(format!(
                "write batch header says {count} ops, found {found}"
            )));
        }
        let last = base.checked_add(u64::from(count.saturating_sub(1)));
        if last.is_none_or(|last| last > MAX_SEQNO) {
            return Err(corrupt(format!(
                "write batch seqnos from {base} for {count} ops exceed the maximum"
            )));
        }
        Ok(Self {
            rep: bytes.to_vec(),
            count,
        })
    }

    fn set_count(&mut self, count: u32) {
        self.count = count;
        if let Some(slot) = self.rep.get_mut(8..BATCH_HEADER_SIZE) {
            slot.copy_from_slice(&count.to_le_bytes());
        }
    }
}

fn check_sizes(key: &[u8], value: &[u8]) -> Result<()> {
    if key.len() > MAX_KEY_SIZE {
        return Err(Error::invalid_argument(format!(
            "key of {} bytes exceeds the limit of {MAX_KEY_SIZE}",
            key.len()
        )));
    }
    if value.len() > MAX_VALUE_SIZE {
        return Err(Error::invalid_argument(format!(
            "value of {} bytes exceeds the limit of {MAX_VALUE_SIZE}",
            value.len()
        )));
    }
    Ok(())
}

/// Decodes one op; `None` if truncated, of unknown kind, or (for
/// `PutWithExpiry`) shorter than the expiry prefix.
fn decode_op<'a>(r: &mut SliceReader<'a>) -> Option<BatchEntry<'a>> {
    let kind = ValueKind::from_u8(r.u8()?)?;
    let key = length_prefixed(r)?;
    let value = match kind {
        ValueKind::Delete => &[][..],
        ValueKind::Put => length_prefixed(r)?,
        ValueKind::PutWithExpiry => {
            let v = length_prefixed(r)?;
            if v.len() < ExpiringValue::PREFIX_LEN {
                return None;
            }
            v
        }
    };
    Some(BatchEntry { kind, key, value })
}

/// A varint length and that many bytes; `None` also for a non-minimal varint,
/// so that every valid batch has exactly one encoding.
fn length_prefixed<'a>(r: &mut SliceReader<'a>) -> Option<&'a [u8]> {
    let start = r.position();
    let len = r.varint64()?;
    if varint_len(len) != r.position() - start {
        return None;
    }
    r.bytes(usize::try_from(len).ok()?)
}

/// Iterator over a batch's operations, from [`WriteBatch::iter`].
#[derive(Debug, Clone)]
pub struct BatchIter<'a> {
    reader: SliceReader<'a>,
    remaining: u32,
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = BatchEntry<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        // `rep` is validated, so decoding cannot fail; `?` only guards the invariant.
        let op = decode_op(&mut self.reader)?;
        self.remaining = self.remaining.saturating_sub(1);
        Some(op)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining as usize))
    }
}

impl<'a> IntoIterator for &'a WriteBatch {
    type Item = BatchEntry<'a>;
    type IntoIter = BatchIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl std::fmt::Debug for WriteBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBatch")
            .field("base_seqno", &self.base_seqno())
            .field("count", &self.count)
            .field("bytes", &self.rep.len())
            .finish()
    }
}

mod frozen;
pub use frozen::{FrozenBatch, FrozenEntry};

#[cfg(test)]
mod tests;
