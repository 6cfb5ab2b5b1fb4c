//! Little-endian fixed-width and LEB128 varint encodings, and a checked reader.
//!
//! Every persisted integer in strata is written with these helpers. Decoding
//! never panics: a short or malformed input yields `None`, which the caller turns
//! into [`Error::Corruption`](crate::Error::Corruption) naming its file and offset.

/// Longest encoding of a `u32` varint.
pub const MAX_VARINT32_LEN: usize = 5;
/// Longest encoding of a `u64` varint.
pub const MAX_VARINT64_LEN: usize = 10;

/// Appends `v` as 4 little-endian bytes.
#[inline]
pub fn put_fixed32(dst: &mut Vec<u8>, v: u32) {
    dst.extend_from_slice(&v.to_le_bytes());
}

/// Appends `v` as 8 little-endian bytes.
#[inline]
pub fn put_fixed64(dst: &mut Vec<u8>, v: u64) {
    dst.extend_from_slice(&v.to_le_bytes());
}

/// Reads a little-endian `u32` from the first 4 bytes of `src`.
#[inline]
pub fn decode_fixed32(src: &[u8]) -> Option<u32> {
    let bytes: [u8; 4] = src.get(..4)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

/// Reads a little-endian `u64` from the first 8 bytes of `src`.
#[inline]
pub fn decode_fixed64(src: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = src.get(..8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// Appends `v` as a LEB128 varint (7 bits per byte, high bit = more follows).
#[inline]
pub fn put_varint32(dst: &mut Vec<u8>, v: u32) {
    put_varint64(dst, u64::from(v));
}

/// Appends `v` as a LEB128 varint.
#[inline]
pub fn put_varint64(dst: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        dst.push((v as u8) | 0x80);
        v >>= 7;
    }
    dst.push(v as u8);
}

/// Number of bytes [`put_varint64`] writes for `v`.
#[inline]
pub fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Decodes a varint `u64` from the start of `src`; returns it and the bytes used.
///
/// `None` if `src` ends mid-varint, the varint is longer than 10 bytes, or it
/// overflows 64 bits.
#[inline]
pub fn decode_varint64(src: &[u8]) -> Option<(u64, usize)> {
    let mut result: u64 = 0;
    for (i, &byte) in src.iter().take(MAX_VARINT64_LEN).enumerate() {
        let bits = u64::from(byte & 0x7f);
        let shift = 7 * i as u32;
        // The tenth byte may carry only the top bit of a u64.
        if i == MAX_VARINT64_LEN - 1 && bits > 1 {
            return None;
        }
        result |= bits << shift;
        if byte & 0x80 == 0 {
            return Some((result, i + 1));
        }
    }
    None
}

/// Decodes a varint `u32` from the start of `src`; returns it and the bytes used.
#[inline]
pub fn decode_varint32(src: &[u8]) -> Option<(u32, usize)> {
    // Fast path: one byte, the common case for lengths inside blocks.
    if let Some(&b) = src.first()
        && b < 0x80
    {
        return Some((u32::from(b), 1));
    }
    let (v, n) = decode_varint64(src.get(..src.len().min(MAX_VARINT32_LEN))?)?;
    Some((u32::try_from(v).ok()?, n))
}

/// Appends `data.len()` as a varint, then `data`.
#[inline]
pub fn put_length_prefixed(dst: &mut Vec<u8>, data: &[u8]) {
    put_varint64(dst, data.len() as u64);
    dst.extend_from_slice(data);
}

/// A forward cursor over untrusted bytes. Every read is bounds-checked and
/// returns `None` instead of panicking; [`SliceReader::position`] tells the
/// caller where decoding stopped, for error messages.
#[derive(Debug, Clone)]
pub struct SliceReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> SliceReader<'a> {
    /// A reader positioned at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True once every byte is consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unconsumed bytes.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// Reads a little-endian `u32`.
    pub fn fixed32(&mut self) -> Option<u32> {
        let v = decode_fixed32(self.rest())?;
        self.pos += 4;
        Some(v)
    }

    /// Reads a little-endian `u64`.
    pub fn fixed64(&mut self) -> Option<u64> {
        let v = decode_fixed64(self.rest())?;
        self.pos += 8;
        Some(v)
    }

    /// Reads a varint `u32`.
    pub fn varint32(&mut self) -> Option<u32> {
        let (v, n) = decode_varint32(self.rest())?;
        self.pos += n;
        Some(v)
    }

    /// Reads a varint `u64`.
    pub fn varint64(&mut self) -> Option<u64> {
        let (v, n) = decode_varint64(self.rest())?;
        self.pos += n;
        Some(v)
    }

    /// Reads exactly `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    /// Reads a varint length, then that many bytes.
    pub fn length_prefixed(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        let out = self
            .varint64()
            .and_then(|n| usize::try_from(n).ok())
            .and_then(|n| self.bytes(n));
        if out.is_none() {
            self.pos = start;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn varint_edges() {
        for v in [0u64, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX] {
            let mut buf = Vec::new();
            put_varint64(&mut buf, v);
            assert_eq!(buf.len(), varint_len(v));
            assert_eq!(decode_varint64(&buf), Some((v, buf.len())));
        }
        assert_eq!(varint_len(u64::MAX), MAX_VARINT64_LEN);
    }

    #[test]
    fn varint_rejects_truncated_and_overlong() {
        assert_eq!(decode_varint64(&[]), None);
        assert_eq!(decode_varint64(&[0x80]), None);
        assert_eq!(decode_varint64(&[0xff; 11]), None);
        // Ten bytes whose last one overflows 64 bits.
        let mut overflow = vec![0xff; 9];
        overflow.push(0x02);
        assert_eq!(decode_varint64(&overflow), None);
        // A u32 varint that does not fit in 32 bits.
        let mut big = Vec::new();
        put_varint64(&mut big, u64::from(u32::MAX) + 1);
        assert_eq!(decode_varint32(&big), None);
    }

    #[test]
    fn reader_never_reads_past_end() {
        let mut buf = Vec::new();
        put_length_prefixed(&mut buf, b"abc");
        put_fixed32(&mut buf, 7);
        let mut r = SliceReader::new(&buf);
        assert_eq!(r.length_prefixed(), Some(&b"abc"[..]));
        assert_eq!(r.fixed32(), Some(7));
        assert!(r.is_empty());
        assert_eq!(r.fixed64(), None);
        assert_eq!(r.u8(), None);
        // A length prefix claiming more than is there leaves the cursor put.
        let mut r = SliceReader::new(&[5, b'x']);
        assert_eq!(r.length_prefixed(), None);
        assert_eq!(r.position(), 0);
    }

    proptest! {
        #[test]
        fn varint_round_trip(v: u64, w: u32) {
            let mut buf = Vec::new();
            put_varint64(&mut buf, v);
            put_varint32(&mut buf, w);
            let mut r = SliceReader::new(&buf);
            prop_assert_eq!(r.varint64(), Some(v));
            prop_assert_eq!(r.varint32(), Some(w));
            prop_assert!(r.is_empty());
        }

        #[test]
        fn decoders_never_panic(bytes: Vec<u8>) {
            let _ = decode_varint64(&bytes);
            let _ = decode_varint32(&bytes);
            let mut r = SliceReader::new(&bytes);
            while r.length_prefixed().is_some() {}
        }
    }
}
