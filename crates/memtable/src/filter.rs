//! A bloom filter over the memtable's user keys, so that a point read of a
//! key the memtable does not hold usually skips the skiplist search (a
//! dozen or more cache misses) for one word load.
//!
//! Register-blocked: each key sets [`PROBES`] bits in a single 64-bit word,
//! so an insert is one `fetch_or` and a lookup one load. The words are
//! sized up front from the memtable's expected size; a memtable that
//! outgrows it only sees more false positives, never a false negative.
//!
//! Invariant: every user key inserted has all its bits set before its
//! skiplist node is linked, so a read that can see the node sees the bits.

use std::sync::atomic::{AtomicU64, Ordering};

use xxhash_rust::xxh3::xxh3_64;

/// Bits each key sets in its word.
const PROBES: u32 = 6;

/// Filter bits per expected arena byte: one per 8 bytes, so an entry of
/// about 150 bytes (a 16-byte key and 100-byte value) gets about 19 bits.
const BYTES_PER_BIT: usize = 8;

/// Most words a filter has (8 MiB), whatever the memtable size.
const MAX_WORDS: usize = 1 << 20;

/// The memtable's key filter.
pub(crate) struct KeyFilter {
    words: Box<[AtomicU64]>,
    /// `words.len() - 1`; the length is a power of two.
    mask: u64,
}

/// The word a hash picks and the bits it sets there.
#[inline]
fn locate(hash: u64, mask: u64) -> (usize, u64) {
    let mut bits = 0u64;
    let mut h = hash;
    for _ in 0..PROBES {
        bits |= 1 << (h & 63);
        h >>= 6;
    }
    // The low 36 bits chose the bits; the word comes from the high ones.
    (((hash >> 36) & mask) as usize, bits)
}

impl KeyFilter {
    /// A filter sized for a memtable of about `expected_bytes` of arena.
    pub(crate) fn new(expected_bytes: usize) -> Self {
        let words = (expected_bytes / BYTES_PER_BIT / 64)
            .clamp(1, MAX_WORDS)
            .next_power_of_two();
        Self {
            words: bytemuck::zeroed_slice_box(words),
            mask: words as u64 - 1,
        }
    }

    /// The hash both sides use.
    #[inline]
    pub(crate) fn hash(user_key: &[u8]) -> u64 {
        xxh3_64(user_key)
    }

    /// Records `hash`'s key.
    #[inline]
    pub(crate) fn insert(&self, hash: u64) {
        let (at, bits) = locate(hash, self.mask);
        if let Some(word) = self.words.get(at) {
            // Skip the read-modify-write when a hot key's bits are all set.
            if word.load(Ordering::Relaxed) & bits != bits {
                word.fetch_or(bits, Ordering::Release);
            }
        }
    }

    /// False only if no key with this hash was inserted.
    #[inline]
    pub(crate) fn may_contain(&self, hash: u64) -> bool {
        let (at, bits) = locate(hash, self.mask);
        self.words
            .get(at)
            .is_none_or(|w| w.load(Ordering::Acquire) & bits == bits)
    }

    /// Bytes the filter holds.
    pub(crate) fn size_bytes(&self) -> usize {
        self.words.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_and_few_false_positives_at_the_design_load() {
        // A 64 MiB memtable of 150-byte entries.
        let filter = KeyFilter::new(64 << 20);
        let n = (64 << 20) / 150;
        for i in 0..n {
            filter.insert(KeyFilter::hash(format!("key{i:012}").as_bytes()));
        }
        for i in 0..n {
            assert!(filter.may_contain(KeyFilter::hash(format!("key{i:012}").as_bytes())));
        }
        let probes = 200_000;
        let false_positives = (0..probes)
            .filter(|i| filter.may_contain(KeyFilter::hash(format!("absent{i:012}").as_bytes())))
            .count();
        // About 0.3 % at 19 bits per key; the bound leaves room.
        assert!(
            false_positives < probes / 100,
            "{false_positives} false positives in {probes}"
        );
    }

    #[test]
    fn an_overfull_filter_still_answers_yes_for_every_key() {
        let filter = KeyFilter::new(0);
        assert_eq!(filter.size_bytes(), 8);
        for i in 0..1000u32 {
            filter.insert(KeyFilter::hash(&i.to_le_bytes()));
        }
        assert!((0..1000u32).all(|i| filter.may_contain(KeyFilter::hash(&i.to_le_bytes()))));
    }
}
