//! CRC-32C (Castagnoli) checksums, plain and masked.
//!
//! Masking follows LevelDB: a CRC stored next to data that itself contains CRCs
//! (a WAL record holding an encoded block, say) is rotated and offset so that
//! computing the CRC of a string that embeds its own CRC does not degenerate.

/// Added after rotation by [`mask`]. On disk: never change.
const MASK_DELTA: u32 = 0xa282_ead8;

/// CRC-32C of `data`.
#[inline]
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
}

/// Extends `crc` (the CRC-32C of some prefix) with `data`.
#[inline]
pub fn crc32c_extend(crc: u32, data: &[u8]) -> u32 {
    crc32c::crc32c_append(crc, data)
}

/// The masked form of `crc`, as stored on disk.
#[inline]
pub fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// Inverse of [`mask`].
#[inline]
pub fn unmask(masked: u32) -> u32 {
    masked.wrapping_sub(MASK_DELTA).rotate_left(15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // RFC 3720 B.4: 32 bytes of zeros.
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn extend_matches_whole() {
        let data = b"hello, strata write-ahead log";
        let (a, b) = data.split_at(11);
        assert_eq!(crc32c_extend(crc32c(a), b), crc32c(data));
    }

    #[test]
    fn mask_round_trips_and_changes_value() {
        for crc in [0u32, 1, 0xffff_ffff, crc32c(b"foo")] {
            assert_ne!(mask(crc), crc);
            assert_eq!(unmask(mask(crc)), crc);
            assert_ne!(mask(mask(crc)), mask(crc));
        }
    }
}
