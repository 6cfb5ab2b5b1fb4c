//! [`Footer`]: the fixed-size tail of a table that locates its meta blocks.
//!
//! Layout (64 bytes, all little-endian):
//!
//! ```text
//! offset  size  field
//!      0     8  filter block offset      (0 with size 0 = no filter)
//!      8     8  filter block size        (trailer excluded)
//!     16     8  properties block offset
//!     24     8  properties block size
//!     32     8  index block offset
//!     40     8  index block size
//!     48     4  format version (1)
//!     52     4  masked crc32c of bytes 0..52
//!     56     8  magic: the ASCII bytes "STRATSST"
//! ```

use std::path::Path;

use strata_core::checksum::{crc32c, mask, unmask};
use strata_core::coding::{put_fixed32, put_fixed64};
use strata_core::{Error, Result, SliceReader};

use crate::handle::BlockHandle;

/// Bytes of an encoded footer.
pub(crate) const FOOTER_LEN: usize = 64;

/// The last 8 bytes of every table file: "STRATSST" in ASCII.
pub(crate) const TABLE_MAGIC: u64 = u64::from_le_bytes(*b"STRATSST");

/// Table format versions. One line per version; never reuse a number.
///
/// * 1 — the first format: blocks, bloom filter, properties v1, 64-byte footer.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Decoded footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Footer {
    /// `None` when the table has no filter block.
    pub(crate) filter: Option<BlockHandle>,
    pub(crate) properties: BlockHandle,
    pub(crate) index: BlockHandle,
}

impl Footer {
    /// Appends the 64-byte encoding to `dst`.
    pub(crate) fn encode_into(&self, dst: &mut Vec<u8>) {
        let start = dst.len();
        let filter = self.filter.unwrap_or_default();
        for h in [filter, self.properties, self.index] {
            put_fixed64(dst, h.offset);
            put_fixed64(dst, h.size);
        }
        put_fixed32(dst, FORMAT_VERSION);
        let crc = mask(crc32c(dst.get(start..).unwrap_or_default()));
        put_fixed32(dst, crc);
        put_fixed64(dst, TABLE_MAGIC);
    }

    /// Decodes and validates the footer of a `file_size`-byte file, given its
    /// last [`FOOTER_LEN`] bytes. Every meta block must lie (with its trailer)
    /// before the footer, in the order filter, properties, index.
    ///
    /// # Errors
    /// [`Error::Corruption`] at the footer's offset for a bad magic number,
    /// unknown version, checksum mismatch or out-of-range handle.
    pub(crate) fn decode_from(src: &[u8], file: &Path, file_size: u64) -> Result<Self> {
        let footer_offset = file_size.saturating_sub(FOOTER_LEN as u64);
        let bad = |reason: String| Error::corruption(file, footer_offset, reason);
        if src.len() != FOOTER_LEN {
            return Err(bad(format!(
                "footer is {} bytes, not {FOOTER_LEN}",
                src.len()
            )));
        }
        let mut r = SliceReader::new(src);
        let mut handles = [BlockHandle::default(); 3];
        for h in &mut handles {
            h.offset = r.fixed64().ok_or_else(|| bad("short footer".into()))?;
            h.size = r.fixed64().ok_or_else(|| bad("short footer".into()))?;
        }
        let version = r.fixed32().ok_or_else(|| bad("short footer".into()))?;
        let stored_crc = r.fixed32().ok_or_else(|| bad("short footer".into()))?;
        let magic = r.fixed64().ok_or_else(|| bad("short footer".into()))?;
        if magic != TABLE_MAGIC {
            return Err(bad(format!(
                "bad magic number {magic:#018x}: not a strata table"
            )));
        }
        let covered = src.get(..52).ok_or_else(|| bad("short footer".into()))?;
        let actual = crc32c(covered);
        if unmask(stored_crc) != actual {
            return Err(bad(format!(
                "footer checksum mismatch (stored {:#010x}, computed {actual:#010x})",
                unmask(stored_crc)
            )));
        }
        if version != FORMAT_VERSION {
            return Err(bad(format!("unsupported table format version {version}")));
        }
        let [filter, properties, index] = handles;
        let filter = (filter != BlockHandle::default()).then_some(filter);
        // Meta blocks follow each other; each ends (trailer included) where the next starts at the latest.
        let mut limit = footer_offset;
        for (name, h) in [("index", index), ("properties", properties)]
            .into_iter()
            .chain(filter.map(|f| ("filter", f)))
        {
            let end = h
                .offset
                .checked_add(h.size)
                .and_then(|e| e.checked_add(crate::block_io::TRAILER_LEN as u64));
            match end {
                Some(end) if end <= limit => limit = h.offset,
                _ => {
                    return Err(bad(format!(
                        "{name} handle (offset {}, size {}) extends past {limit}",
                        h.offset, h.size
                    )));
                }
            }
        }
        Ok(Self {
            filter,
            properties,
            index,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Footer {
        Footer {
            filter: Some(BlockHandle {
                offset: 100,
                size: 20,
            }),
            properties: BlockHandle {
                offset: 125,
                size: 30,
            },
            index: BlockHandle {
                offset: 160,
                size: 40,
            },
        }
    }

    #[test]
    fn round_trip() {
        let mut buf = Vec::new();
        sample().encode_into(&mut buf);
        assert_eq!(buf.len(), FOOTER_LEN);
        assert_eq!(&buf[56..], b"STRATSST");
        let size = 205 + FOOTER_LEN as u64;
        assert_eq!(
            Footer::decode_from(&buf, Path::new("t"), size).unwrap(),
            sample()
        );
    }

    #[test]
    fn every_flipped_byte_is_rejected() {
        let mut buf = Vec::new();
        sample().encode_into(&mut buf);
        let size = 205 + FOOTER_LEN as u64;
        for i in 0..buf.len() {
            let mut bad = buf.clone();
            bad[i] ^= 0x01;
            let err = Footer::decode_from(&bad, Path::new("t"), size).unwrap_err();
            assert!(
                matches!(err, Error::Corruption { offset: 205, .. }),
                "{i}: {err}"
            );
        }
    }

    #[test]
    fn handles_past_the_footer_are_rejected() {
        let mut f = sample();
        f.index.size = 1000;
        let mut buf = Vec::new();
        f.encode_into(&mut buf);
        assert!(Footer::decode_from(&buf, Path::new("t"), 269).is_err());
        let mut f = sample();
        f.properties.offset = u64::MAX;
        let mut buf = Vec::new();
        f.encode_into(&mut buf);
        assert!(Footer::decode_from(&buf, Path::new("t"), 269).is_err());
    }
}
