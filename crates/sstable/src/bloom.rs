//! The bloom filter over a table's user keys: a *blocked* (cache-local)
//! bloom filter, so a probe touches one 64-byte block of bits.
//!
//! Format of the filter block (before its trailer):
//!
//! ```text
//! [bit array: 64·B bytes (B ≥ 1 blocks of 512 bits)][k: u8]
//! ```
//!
//! A key is hashed once with xxh3-64 to `h`. Its block is
//! `fastrange(h, B)` where `fastrange(x, n) = (x · n) >> 64` (128-bit
//! product). Inside the block, probe `i` (0-based, `i < k`) tests bit
//! `(a + i·b) >> 23` of the 512 (wrapping 32-bit arithmetic: double
//! hashing), with `a = h as u32` and `b = ((h · 0x9e3779b97f4a7c15) >> 32) as
//! u32 | 1`. Bit `j` of a block is bit `j % 8` (least significant first) of
//! the block's byte `j / 8`.
//!
//! `k = round(bits_per_key · ln 2)` clamped to `1..=30`;
//! `B = max(1, ceil(keys · bits_per_key / 512))`. Consecutive duplicate keys
//! are added once.

use std::path::Path;

use bytes::Bytes;
use strata_core::{Error, Result};
use xxhash_rust::xxh3::xxh3_64;

/// Largest number of probes a filter may ask for.
const MAX_PROBES: u8 = 30;

/// Hash of a user key as used by the filter.
#[inline]
pub(crate) fn bloom_hash(user_key: &[u8]) -> u64 {
    xxh3_64(user_key)
}

/// Bytes per filter block: one cache line.
const BLOCK_BYTES: usize = 64;

/// Maps a 64-bit value uniformly onto `0..n` without a division.
#[inline]
fn fastrange(x: u64, n: u64) -> u64 {
    ((u128::from(x) * u128::from(n)) >> 64) as u64
}

/// Probes per key for a bits-per-key setting.
pub(crate) fn probes_for(bits_per_key: u32) -> u8 {
    let k = (f64::from(bits_per_key) * std::f64::consts::LN_2).round();
    k.clamp(1.0, f64::from(MAX_PROBES)) as u8
}

/// Collects key hashes while a table is built, then lays out the filter.
#[derive(Debug)]
pub(crate) struct BloomBuilder {
    bits_per_key: u32,
    hashes: Vec<u64>,
}

impl BloomBuilder {
    /// A builder for `bits_per_key` (> 0) bits per distinct key.
    pub(crate) fn new(bits_per_key: u32) -> Self {
        Self {
            bits_per_key,
            hashes: Vec::new(),
        }
    }

    /// Adds a user key. Equal consecutive keys are counted once.
    #[inline]
    pub(crate) fn add(&mut self, user_key: &[u8]) {
        let h = bloom_hash(user_key);
        if self.hashes.last() != Some(&h) {
            self.hashes.push(h);
        }
    }

    /// True if no key was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The filter block contents.
    pub(crate) fn finish(&self) -> Vec<u8> {
        let bits = (self.hashes.len() as u64).saturating_mul(u64::from(self.bits_per_key));
        let blocks = bits.div_ceil(BLOCK_BYTES as u64 * 8).max(1);
        let k = probes_for(self.bits_per_key);
        let mut out = vec![0u8; blocks as usize * BLOCK_BYTES + 1];
        for &h in &self.hashes {
            let start = fastrange(h, blocks) as usize * BLOCK_BYTES;
            if let Some(block) = out.get_mut(start..start + BLOCK_BYTES) {
                let (mut x, delta) = in_block_hashes(h);
                for _ in 0..k {
                    // `bit < 512`: the top 9 bits of a u32, inside the 64-byte block.
                    let bit = (x >> 23) as usize;
                    block[bit >> 3] |= 1 << (bit & 7);
                    x = x.wrapping_add(delta);
                }
            }
        }
        if let Some(last) = out.last_mut() {
            *last = k;
        }
        out
    }
}

/// The two 32-bit hashes that place a key's probes inside its block.
#[inline]
fn in_block_hashes(h: u64) -> (u32, u32) {
    let b = (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as u32 | 1;
    (h as u32, b)
}

/// A decoded filter, probed without allocation.
#[derive(Debug, Clone)]
pub(crate) struct BloomFilter {
    data: Bytes,
    blocks: u64,
    k: u8,
}

impl BloomFilter {
    /// Validates a filter block read from `offset` of `file`.
    ///
    /// # Errors
    /// [`Error::Corruption`] if the block is too short or its probe count is
    /// not in `1..=30`.
    pub(crate) fn decode_from(data: Bytes, file: &Path, offset: u64) -> Result<Self> {
        let bad = |reason: String| Error::corruption(file, offset, reason);
        let Some((&k, bits)) = data.split_last() else {
            return Err(bad("empty filter block".into()));
        };
        if bits.is_empty() || bits.len() % BLOCK_BYTES != 0 {
            return Err(bad(format!(
                "filter bit array of {} bytes is not a positive multiple of {BLOCK_BYTES}",
                bits.len()
            )));
        }
        if !(1..=MAX_PROBES).contains(&k) {
            return Err(bad(format!(
                "filter probe count {k} not in 1..={MAX_PROBES}"
            )));
        }
        let blocks = (bits.len() / BLOCK_BYTES) as u64;
        Ok(Self { data, blocks, k })
    }

    /// False only if `user_key` is certainly absent.
    #[inline]
    pub(crate) fn may_contain(&self, user_key: &[u8]) -> bool {
        self.may_contain_hash(bloom_hash(user_key))
    }

    /// [`BloomFilter::may_contain`] for a precomputed [`bloom_hash`].
    #[inline]
    pub(crate) fn may_contain_hash(&self, h: u64) -> bool {
        let start = fastrange(h, self.blocks) as usize * BLOCK_BYTES;
        let Some(block) = self.data.get(start..start + BLOCK_BYTES) else {
            return false;
        };
        let (mut x, delta) = in_block_hashes(h);
        for _ in 0..self.k {
            // `bit < 512`: the top 9 bits of a u32, inside the 64-byte block.
            let bit = (x >> 23) as usize;
            if block[bit >> 3] & (1 << (bit & 7)) == 0 {
                return false;
            }
            x = x.wrapping_add(delta);
        }
        true
    }

    /// Bytes held, for accounting.
    pub(crate) fn size(&self) -> usize {
        self.data.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(keys: impl Iterator<Item = Vec<u8>>, bits: u32) -> BloomFilter {
        let mut b = BloomBuilder::new(bits);
        for k in keys {
            b.add(&k);
        }
        BloomFilter::decode_from(Bytes::from(b.finish()), Path::new("f"), 0).unwrap()
    }

    #[test]
    fn no_false_negatives() {
        let f = build((0..5000u32).map(|i| i.to_be_bytes().to_vec()), 10);
        assert!((0..5000u32).all(|i| f.may_contain(&i.to_be_bytes())));
        let tiny = build(std::iter::once(b"only".to_vec()), 1);
        assert!(tiny.may_contain(b"only"));
    }

    #[test]
    fn false_positive_rate_at_10_bits_per_key_is_under_1_5_percent() {
        let n = 20_000u64;
        let f = build((0..n).map(|i| format!("key{i:08}").into_bytes()), 10);
        let probes = 200_000u64;
        let fp = (0..probes)
            .filter(|i| f.may_contain(format!("absent{i:08}").as_bytes()))
            .count();
        let rate = fp as f64 / probes as f64;
        println!(
            "bloom false-positive rate at 10 bits/key: {:.3} %",
            rate * 100.0
        );
        assert!(rate < 0.015, "false-positive rate {rate}");
        // Sanity: the filter is not trivially saying "no".
        assert!(rate > 0.0001, "rate {rate} suspiciously low");
    }

    #[test]
    fn probes_follow_ln2_rule() {
        assert_eq!(probes_for(10), 7);
        assert_eq!(probes_for(1), 1);
        assert_eq!(probes_for(64), 30);
    }

    #[test]
    fn bad_blocks_are_corruption() {
        let mut zero_k = vec![0xff; 64];
        zero_k.push(0);
        let mut big_k = vec![0xff; 64];
        big_k.push(31);
        for data in [&[][..], &[7][..], &[0xff, 5][..], &zero_k[..], &big_k[..]] {
            let err = BloomFilter::decode_from(Bytes::copy_from_slice(data), Path::new("f"), 42)
                .unwrap_err();
            assert!(matches!(err, Error::Corruption { offset: 42, .. }));
        }
    }
}
