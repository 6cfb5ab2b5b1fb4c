//! The physical layout of a log: 32 KiB blocks of fragments.
//!
//! A log file is a sequence of [`BLOCK_SIZE`] blocks (the last one may be
//! short). A block holds fragments, each a [`HEADER_SIZE`]-byte header followed
//! by its payload; a fragment never crosses a block boundary. A block tail too
//! short for a header is zero-filled. A record is one `Full` fragment or a
//! `First`, any number of `Middle`, and a `Last` fragment, in consecutive
//! positions. See `docs/format.md` ("Write-ahead log") for the byte layout.

use strata_core::checksum::{crc32c_extend, mask};
use strata_core::coding::decode_fixed32;

/// Size of a block. On disk: never change.
pub const BLOCK_SIZE: usize = 32 * 1024;

/// Size of a fragment header: masked crc32c (4) ‖ length (2) ‖ type (1).
pub const HEADER_SIZE: usize = 7;

/// Largest payload a single fragment can carry.
pub const MAX_FRAGMENT_PAYLOAD: usize = BLOCK_SIZE - HEADER_SIZE;

/// The type byte of a fragment header.
///
/// On disk: never renumber. 0 is reserved: it is what zero padding and
/// zero-filled (preallocated, never written) regions read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum FragmentType {
    /// A whole record in one fragment.
    Full = 1,
    /// The first fragment of a record that continues in the next block.
    First = 2,
    /// An inner fragment of a record spanning three or more blocks.
    Middle = 3,
    /// The final fragment of a multi-fragment record.
    Last = 4,
}

impl FragmentType {
    /// Decodes a persisted type byte; `None` for 0 (padding) and unknown values.
    pub(crate) fn from_u8(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::Full),
            2 => Some(Self::First),
            3 => Some(Self::Middle),
            4 => Some(Self::Last),
            _ => None,
        }
    }
}

/// The masked crc32c stored in a header: it covers the type byte, then the payload.
pub(crate) fn fragment_checksum(kind: u8, payload: &[u8]) -> u32 {
    mask(crc32c_extend(crc32c_extend(0, &[kind]), payload))
}

/// A fragment header as stored on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FragmentHeader {
    /// Masked crc32c of type byte ‖ payload.
    pub(crate) masked_crc: u32,
    /// Payload length in bytes.
    pub(crate) len: u16,
    /// Raw type byte (validated by the reader, not here).
    pub(crate) kind: u8,
}

impl FragmentHeader {
    /// The header of a fragment of type `kind` carrying `payload`.
    ///
    /// REQUIRES: `payload.len() <= MAX_FRAGMENT_PAYLOAD` (the writer never
    /// builds longer fragments).
    pub(crate) fn for_payload(kind: FragmentType, payload: &[u8]) -> Self {
        debug_assert!(payload.len() <= MAX_FRAGMENT_PAYLOAD);
        Self {
            masked_crc: fragment_checksum(kind as u8, payload),
            len: payload.len() as u16,
            kind: kind as u8,
        }
    }

    /// Appends the 7 header bytes to `dst`.
    pub(crate) fn encode_into(&self, dst: &mut Vec<u8>) {
        dst.extend_from_slice(&self.masked_crc.to_le_bytes());
        dst.extend_from_slice(&self.len.to_le_bytes());
        dst.push(self.kind);
    }

    /// Decodes the first 7 bytes of `src`; `None` if `src` is shorter.
    pub(crate) fn decode_from(src: &[u8]) -> Option<Self> {
        let masked_crc = decode_fixed32(src)?;
        let len = u16::from_le_bytes([*src.get(4)?, *src.get(5)?]);
        let kind = *src.get(6)?;
        Some(Self {
            masked_crc,
            len,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let h = FragmentHeader::for_payload(FragmentType::First, b"abc");
        let mut buf = Vec::new();
        h.encode_into(&mut buf);
        assert_eq!(buf.len(), HEADER_SIZE);
        assert_eq!(FragmentHeader::decode_from(&buf), Some(h));
        assert_eq!(FragmentHeader::decode_from(&buf[..6]), None);
        assert_eq!(&buf[4..], &[3, 0, 2]);
    }

    #[test]
    fn checksum_covers_type_byte() {
        assert_ne!(fragment_checksum(1, b"x"), fragment_checksum(4, b"x"));
        assert_eq!(FragmentType::from_u8(0), None);
        assert_eq!(FragmentType::from_u8(5), None);
        assert_eq!(FragmentType::from_u8(4), Some(FragmentType::Last));
    }
}
