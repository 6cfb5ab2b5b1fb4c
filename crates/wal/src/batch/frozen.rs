//! [`FrozenBatch`]: a finished batch in shared memory, so that the memtable
//! can keep its keys and values without copying them.

use bytes::Bytes;
use strata_core::{SeqNo, ValueKind};

use super::{BATCH_HEADER_SIZE, WriteBatch, decode_op};
use strata_core::SliceReader;

/// A [`WriteBatch`] turned into reference-counted bytes by
/// [`WriteBatch::freeze`]. Its entries are slices of one shared buffer: one
/// allocation per batch however many operations it holds.
#[derive(Debug, Clone)]
pub struct FrozenBatch {
    rep: Bytes,
    count: u32,
}

/// One operation of a [`FrozenBatch`]: `(seqno, kind, key, stored value)`,
/// the value in the memtable's layout (an expiry prefix for
/// `PutWithExpiry`, empty for `Delete`).
pub type FrozenEntry = (SeqNo, ValueKind, Bytes, Bytes);

impl WriteBatch {
    /// Moves the batch into shared memory (no copy).
    pub fn freeze(self) -> FrozenBatch {
        FrozenBatch {
            count: self.count,
            rep: Bytes::from(self.rep),
        }
    }
}

impl FrozenBatch {
    /// The sequence number of the first operation.
    pub fn base_seqno(&self) -> SeqNo {
        self.rep
            .first_chunk::<8>()
            .map_or(0, |b| u64::from_le_bytes(*b))
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True if the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The operations in order, with their sequence numbers.
    pub fn iter(&self) -> impl Iterator<Item = FrozenEntry> + '_ {
        let ops = self.rep.get(BATCH_HEADER_SIZE..).unwrap_or_default();
        let mut reader = SliceReader::new(ops);
        let base = self.base_seqno();
        (0..u64::from(self.count)).map_while(move |i| {
            // `rep` was validated when the batch was built or decoded, so
            // decoding cannot fail; `map_while` only guards the invariant.
            let op = decode_op(&mut reader)?;
            Some((
                base + i,
                op.kind,
                self.rep.slice_ref(op.key),
                self.rep.slice_ref(op.value),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_entries_match_the_batch_and_take_consecutive_seqnos() {
        let mut b = WriteBatch::new();
        b.put(b"a", b"1").unwrap();
        b.delete(b"b").unwrap();
        b.put_with_expiry(b"c", b"3", 99).unwrap();
        b.set_base_seqno(40).unwrap();
        let expected: Vec<_> = b
            .iter()
            .map(|e| (e.kind, e.key.to_vec(), e.value.to_vec()))
            .collect();
        let frozen = b.freeze();
        assert_eq!(frozen.len(), 3);
        assert_eq!(frozen.base_seqno(), 40);
        let got: Vec<_> = frozen.iter().collect();
        assert_eq!(got.len(), 3);
        for (i, ((seq, kind, key, value), (ek, ekey, evalue))) in
            got.into_iter().zip(expected).enumerate()
        {
            assert_eq!(seq, 40 + i as u64);
            assert_eq!(kind, ek);
            assert_eq!(key.as_ref(), ekey.as_slice());
            assert_eq!(value.as_ref(), evalue.as_slice());
        }
    }
}
