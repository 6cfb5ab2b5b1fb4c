//! Block trailers: compression and checksums for every block of a table.
//!
//! A stored block is followed by a 5-byte trailer:
//!
//! ```text
//! [stored bytes: size][type: u8][masked crc32c: u32 LE]
//! ```
//!
//! The crc covers the stored bytes and then the type byte. For
//! [`CompressionType::Lz4`] the stored bytes are `uncompressed_len: u32 LE ‖
//! lz4 block`. A block is stored compressed only if that saves at least 1/8 of
//! its size (RocksDB's rule); otherwise it is stored as is with type 0.

use std::path::Path;

use bytes::Bytes;
use strata_core::checksum::{crc32c, crc32c_extend, mask, unmask};
use strata_core::coding::decode_fixed32;
use strata_core::{Error, RandomAccessFile, Result};

use crate::handle::BlockHandle;
use crate::options::CompressionType;

/// Bytes of a block trailer.
pub(crate) const TRAILER_LEN: usize = 5;

/// Bytes of the uncompressed-length prefix of an lz4 block.
const LZ4_PREFIX_LEN: usize = 4;

/// Largest uncompressed block a reader accepts: a maximal block-size option
/// plus one maximal entry. Guards allocations driven by on-disk lengths.
const MAX_UNCOMPRESSED_BLOCK: usize = crate::options::MAX_BLOCK_SIZE_OPTION
    + strata_core::MAX_VALUE_SIZE
    + strata_core::MAX_KEY_SIZE
    + 1024;

/// LZ4 cannot expand data by more than ~255x (one length byte per 255
/// matched bytes); a claimed length beyond this bound is corrupt.
const LZ4_MAX_RATIO: usize = 255;

/// The masked checksum stored in a trailer.
fn trailer_crc(stored: &[u8], kind: u8) -> u32 {
    mask(crc32c_extend(crc32c(stored), &[kind]))
}

/// Turns raw blocks into stored bytes plus trailer, reusing its buffers.
#[derive(Debug, Default)]
pub(crate) struct BlockEncoder {
    out: Vec<u8>,
}

impl BlockEncoder {
    /// Encodes `raw` with `compression` (falling back to none when it does not
    /// pay) and returns the bytes to append: stored block then trailer.
    pub(crate) fn encode(&mut self, raw: &[u8], compression: CompressionType) -> &[u8] {
        self.out.clear();
        let mut kind = CompressionType::None;
        // Never compress what a reader would refuse to decompress.
        if compression == CompressionType::Lz4
            && raw.len() <= MAX_UNCOMPRESSED_BLOCK
            && let Ok(len) = u32::try_from(raw.len())
        {
            let max = lz4_flex::block::get_maximum_output_size(raw.len());
            self.out.resize(LZ4_PREFIX_LEN + max, 0);
            self.out[..LZ4_PREFIX_LEN].copy_from_slice(&len.to_le_bytes());
            match lz4_flex::block::compress_into(raw, &mut self.out[LZ4_PREFIX_LEN..]) {
                Ok(n) if LZ4_PREFIX_LEN + n <= raw.len() - raw.len() / 8 => {
                    self.out.truncate(LZ4_PREFIX_LEN + n);
                    kind = CompressionType::Lz4;
                }
                _ => self.out.clear(),
            }
        }
        if kind == CompressionType::None {
            self.out.extend_from_slice(raw);
        }
        let crc = trailer_crc(&self.out, kind as u8);
        self.out.push(kind as u8);
        self.out.extend_from_slice(&crc.to_le_bytes());
        &self.out
    }
}

/// Reads the block at `handle`, verifies its trailer and decompresses it.
///
/// `limit` is the end of the region the block must lie in (trailer included).
///
/// # Errors
/// [`Error::Corruption`] at `handle.offset` if the handle is out of range, the
/// checksum does not match, the compression type is unknown or the block does
/// not decompress to its recorded length; [`Error::Io`] if the read fails.
pub(crate) fn read_block(
    file: &dyn RandomAccessFile,
    path: &Path,
    handle: BlockHandle,
    limit: u64,
) -> Result<Bytes> {
    let bad = |reason: String| Error::corruption(path, handle.offset, reason);
    let len = handle
        .size
        .checked_add(TRAILER_LEN as u64)
        .filter(|len| {
            handle
                .offset
                .checked_add(*len)
                .is_some_and(|end| end <= limit)
        })
        .and_then(|len| usize::try_from(len).ok())
        .ok_or_else(|| {
            bad(format!(
                "block handle (offset {}, size {}) extends past {limit}",
                handle.offset, handle.size
            ))
        })?;
    let stored = file.read_bytes(handle.offset, len)?;
    decode_stored_block(stored, path, handle.offset)
}

/// Verifies and decodes `stored ‖ trailer` read from `offset`.
pub(crate) fn decode_stored_block(mut buf: Bytes, path: &Path, offset: u64) -> Result<Bytes> {
    let bad = |reason: String| Error::corruption(path, offset, reason);
    let size = buf
        .len()
        .checked_sub(TRAILER_LEN)
        .ok_or_else(|| bad("block shorter than its trailer".into()))?;
    let (stored, trailer) = buf.split_at(size);
    let kind = trailer.first().copied().unwrap_or_default();
    let stored_crc = decode_fixed32(trailer.get(1..).unwrap_or_default()).unwrap_or_default();
    let actual = trailer_crc(stored, kind);
    if stored_crc != actual {
        return Err(bad(format!(
            "block checksum mismatch (stored {:#010x}, computed {:#010x})",
            unmask(stored_crc),
            unmask(actual)
        )));
    }
    match CompressionType::from_u8(kind) {
        Some(CompressionType::None) => {
            // No copy: for a mapped file `buf` is a view of the map.
            buf.truncate(size);
            Ok(buf)
        }
        Some(CompressionType::Lz4) => {
            let raw_len = decode_fixed32(stored)
                .ok_or_else(|| bad("lz4 block shorter than its length prefix".into()))?
                as usize;
            let payload = stored.get(LZ4_PREFIX_LEN..).unwrap_or_default();
            let bound = payload
                .len()
                .saturating_mul(LZ4_MAX_RATIO)
                .saturating_add(64)
                .min(MAX_UNCOMPRESSED_BLOCK);
            if raw_len > bound {
                return Err(bad(format!(
                    "lz4 block claims {raw_len} uncompressed bytes from {} stored",
                    payload.len()
                )));
            }
            let mut out = vec![0u8; raw_len];
            match lz4_flex::block::decompress_into(payload, &mut out) {
                Ok(n) if n == raw_len => Ok(Bytes::from(out)),
                Ok(n) => Err(bad(format!(
                    "lz4 block decompressed to {n} bytes, expected {raw_len}"
                ))),
                Err(e) => Err(bad(format!("lz4 block does not decompress: {e}"))),
            }
        }
        None => Err(bad(format!("unknown block compression type {kind}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(raw: &[u8], compression: CompressionType) -> (u8, Bytes) {
        let mut enc = BlockEncoder::default();
        let stored = enc.encode(raw, compression).to_vec();
        let kind = stored[stored.len() - TRAILER_LEN];
        let back = decode_stored_block(Bytes::from(stored), Path::new("t"), 7).unwrap();
        (kind, back)
    }

    #[test]
    fn compressible_block_is_compressed_and_round_trips() {
        let raw = b"abcdabcdabcdabcd".repeat(100);
        let (kind, back) = round_trip(&raw, CompressionType::Lz4);
        assert_eq!(kind, CompressionType::Lz4 as u8);
        assert_eq!(&back[..], &raw[..]);
        let (kind, back) = round_trip(&raw, CompressionType::None);
        assert_eq!(kind, 0);
        assert_eq!(&back[..], &raw[..]);
    }

    #[test]
    fn incompressible_block_is_stored_raw() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let raw: Vec<u8> = (0..997)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let (kind, back) = round_trip(&raw, CompressionType::Lz4);
        assert_eq!(kind, 0);
        assert_eq!(&back[..], &raw[..]);
        let (kind, back) = round_trip(&[], CompressionType::Lz4);
        assert_eq!((kind, back.len()), (0, 0));
    }

    #[test]
    fn any_flipped_bit_is_detected() {
        let raw = b"hello hello hello hello hello hello".repeat(4);
        for compression in [CompressionType::None, CompressionType::Lz4] {
            let stored = BlockEncoder::default().encode(&raw, compression).to_vec();
            for i in 0..stored.len() {
                let mut bad = stored.clone();
                bad[i] ^= 0x10;
                let err = decode_stored_block(Bytes::from(bad), Path::new("t"), 99).unwrap_err();
                assert!(matches!(err, Error::Corruption { offset: 99, .. }));
            }
        }
    }

    #[test]
    fn absurd_uncompressed_length_is_rejected_before_allocating() {
        let mut stored = u32::MAX.to_le_bytes().to_vec();
        stored.extend_from_slice(&[0x10, b'a']);
        let crc = trailer_crc(&stored, 1);
        stored.push(1);
        stored.extend_from_slice(&crc.to_le_bytes());
        let err = decode_stored_block(Bytes::from(stored), Path::new("t"), 3).unwrap_err();
        assert!(err.to_string().contains("claims"), "{err}");
    }
}
