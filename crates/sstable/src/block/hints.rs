//! [`RestartHints`]: a compact, cache-friendly summary of a block's restart
//! keys, so that a seek in a large block (the index of a big table) spends
//! its binary search in one small array instead of decoding entries spread
//! over the whole block.
//!
//! For each restart point it keeps 8 bytes of the restart key's user key,
//! taken right after the prefix that every restart key shares, read
//! big-endian and zero-padded. Because the keys are sorted, the hints are
//! non-decreasing, and a hint strictly below (above) a target's hint proves
//! the restart key is below (above) the target. Equal hints decide nothing,
//! so the seek finishes with full-key comparisons among the equal run.
//!
//! REQUIRES: the block's restart keys are internal keys in increasing order
//! (`TableReader::open` checks the index's order before building hints).

use std::cmp::Ordering;
use std::ops::RangeInclusive;

use strata_core::key::split_encoded;

/// Hints over the restart keys of one block. See the module docs.
#[derive(Debug, Clone, Default)]
pub(crate) struct RestartHints {
    /// The user-key prefix shared by every restart key.
    common: Vec<u8>,
    /// One hint per restart point, non-decreasing.
    hints: Vec<u64>,
}

/// Where a user key falls relative to the shared prefix.
enum Hint {
    /// Sorts before every restart key.
    Before,
    /// Sorts after every restart key.
    After,
    /// Shares the prefix; compare hints.
    Within(u64),
}

impl RestartHints {
    /// Builds hints from the restart keys (encoded internal keys), in order.
    pub(crate) fn new<'a>(restart_keys: impl ExactSizeIterator<Item = &'a [u8]> + Clone) -> Self {
        let user = |k: &'a [u8]| split_encoded(k).0;
        let mut keys = restart_keys.clone().map(user);
        let common = match (keys.next(), keys.last()) {
            (Some(first), Some(last)) => {
                let n = first.iter().zip(last).take_while(|(a, b)| a == b).count();
                first[..n].to_vec()
            }
            (Some(only), None) => only.to_vec(),
            _ => Vec::new(),
        };
        let hints = restart_keys
            .map(|k| hint_of(&user(k)[common.len().min(user(k).len())..]))
            .collect();
        Self { common, hints }
    }

    /// Number of restart points covered.
    pub(crate) fn len(&self) -> usize {
        self.hints.len()
    }

    /// The restart points between which the last restart key below the
    /// internal key `target` must lie (both ends included).
    pub(crate) fn candidates(&self, target: &[u8]) -> RangeInclusive<usize> {
        let last = self.hints.len().saturating_sub(1);
        match self.classify(split_encoded(target).0) {
            Hint::Before => 0..=0,
            Hint::After => last..=last,
            Hint::Within(h) => {
                // Restarts before `lo` are below the target; those from `hi`
                // on are above it.
                let lo = self.hints.partition_point(|&x| x < h);
                let hi = self.hints.partition_point(|&x| x <= h);
                let left = lo.saturating_sub(1);
                left..=hi.saturating_sub(1).max(left)
            }
        }
    }

    fn classify(&self, user_key: &[u8]) -> Hint {
        let n = self.common.len().min(user_key.len());
        match user_key[..n].cmp(&self.common[..n]) {
            Ordering::Less => Hint::Before,
            Ordering::Greater => Hint::After,
            // A proper prefix of the shared prefix sorts before every key.
            Ordering::Equal if user_key.len() < self.common.len() => Hint::Before,
            Ordering::Equal => Hint::Within(hint_of(&user_key[n..])),
        }
    }
}

/// The first 8 bytes of `rest`, big-endian, zero-padded.
fn hint_of(rest: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = rest.len().min(8);
    b[..n].copy_from_slice(&rest[..n]);
    u64::from_be_bytes(b)
}
