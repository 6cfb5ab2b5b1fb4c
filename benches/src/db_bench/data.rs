//! Keys and values of the workloads: deterministic functions of a key index.

use crate::{KEY_LEN, mix};

/// A 16-byte key that is never written: the first 15 digits of the index
/// then `.`, so it sorts among the written keys (just before
/// `sorted_key(10 * (i % 10^15))`) and tables' key ranges do not rule it
/// out for free.
pub fn missing_key(i: u64) -> [u8; KEY_LEN] {
    let mut k = [b'.'; KEY_LEN];
    let digits = format!("{:015}", i % 1_000_000_000_000_000);
    for (dst, src) in k.iter_mut().zip(digits.bytes()) {
        *dst = src;
    }
    k
}

/// Values of a fixed size: windows of one buffer of pseudo-random
/// (incompressible) bytes, at an offset fixed by the key index. The same
/// index always gives the same value, so readers can check what they read
/// without keeping a copy of what was written.
#[derive(Debug, Clone)]
pub struct ValueSource {
    buf: Vec<u8>,
    size: usize,
}

/// Bytes of the buffer beyond one value: enough distinct windows that
/// values do not repeat in any block.
const SPREAD: usize = 1 << 20;

impl ValueSource {
    /// Values of `size` bytes, from a buffer derived from `seed`.
    pub fn new(size: usize, seed: u64) -> Self {
        let len = size + SPREAD;
        let mut buf = Vec::with_capacity(len + 8);
        let mut n = 0u64;
        while buf.len() < len {
            buf.extend_from_slice(&mix(seed ^ n).to_le_bytes());
            n += 1;
        }
        buf.truncate(len);
        Self { buf, size }
    }

    /// Bytes of every value.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The value of key index `i`.
    pub fn value(&self, i: u64) -> &[u8] {
        // `SPREAD` > 0 windows start in 0..SPREAD, so the window always
        // fits; `get` keeps this panic-free all the same.
        let start = (mix(i) % SPREAD as u64) as usize;
        self.buf.get(start..start + self.size).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sorted_key;

    #[test]
    fn missing_keys_are_16_bytes_and_never_written_keys() {
        for i in [0, 1, 9, 10, 12_345, 999_999_999] {
            let k = missing_key(i);
            assert_eq!(k.len(), KEY_LEN);
            assert_eq!(k[KEY_LEN - 1], b'.');
            for j in [i, i * 10, i * 10 + 1] {
                assert_ne!(k, sorted_key(j));
            }
        }
        // Interleaved with the written keys, not after all of them.
        assert!(missing_key(5) > sorted_key(49));
        assert!(missing_key(5) < sorted_key(50));
    }

    #[test]
    fn values_have_the_size_and_are_deterministic() {
        let a = ValueSource::new(100, 7);
        let b = ValueSource::new(100, 7);
        for i in 0..100 {
            assert_eq!(a.value(i).len(), 100);
            assert_eq!(a.value(i), b.value(i));
        }
        assert_ne!(a.value(1), a.value(2));
        assert_ne!(a.value(1), ValueSource::new(100, 8).value(1));
        assert!(ValueSource::new(0, 1).value(3).is_empty());
    }
}
