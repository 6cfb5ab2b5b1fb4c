//! [`BlockHandle`]: where a block lives in a table file.

use strata_core::SliceReader;
use strata_core::coding::{MAX_VARINT64_LEN, put_varint64};

/// Offset and size of a block's stored bytes; `size` excludes the 5-byte
/// trailer that follows them.
///
/// Encoded (in index block values) as `offset varint64 ‖ size varint64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BlockHandle {
    /// Absolute file offset of the block's first byte.
    pub offset: u64,
    /// Bytes of the stored (possibly compressed) block, trailer excluded.
    pub size: u64,
}

impl BlockHandle {
    /// Longest encoding.
    pub(crate) const MAX_ENCODED_LEN: usize = 2 * MAX_VARINT64_LEN;

    /// Appends the varint encoding to `dst`.
    pub(crate) fn encode_into(&self, dst: &mut Vec<u8>) {
        put_varint64(dst, self.offset);
        put_varint64(dst, self.size);
    }

    /// Decodes a handle that must fill `src` exactly; `None` if it does not.
    pub(crate) fn decode_from(src: &[u8]) -> Option<Self> {
        let mut r = SliceReader::new(src);
        let handle = Self {
            offset: r.varint64()?,
            size: r.varint64()?,
        };
        r.is_empty().then_some(handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strict_length() {
        for h in [
            BlockHandle { offset: 0, size: 0 },
            BlockHandle {
                offset: 300,
                size: 4096,
            },
            BlockHandle {
                offset: u64::MAX,
                size: u64::MAX,
            },
        ] {
            let mut buf = Vec::new();
            h.encode_into(&mut buf);
            assert!(buf.len() <= BlockHandle::MAX_ENCODED_LEN);
            assert_eq!(BlockHandle::decode_from(&buf), Some(h));
            buf.push(0);
            assert_eq!(BlockHandle::decode_from(&buf), None, "trailing byte");
            buf.truncate(buf.len() - 2);
            assert_eq!(BlockHandle::decode_from(&buf), None, "truncated");
        }
    }
}
