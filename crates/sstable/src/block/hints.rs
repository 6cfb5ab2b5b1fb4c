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
//! The hints of a big index (one per data block: 16 k for a 64 MiB table) do
//! not stay in the CPU cache between random lookups, and a plain binary search
//! over them takes a cache miss at nearly every step. So the search runs in
//! two levels: over `firsts`, the first hint of every run of
//! [`HINTS_PER_LINE`] (an eighth of the size, so it stays cached), then inside
//! the one 64-byte run it names.
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
    /// `hints[i * HINTS_PER_LINE]` for every `i`: the first level of a search.
    firsts: Vec<u64>,
}

/// Hints per 64-byte cache line: the width of the second search level.
const HINTS_PER_LINE: usize = 8;

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
        let hints: Vec<u64> = restart_keys
            .map(|k| hint_of(&user(k)[common.len().min(user(k).len())..]))
            .collect();
        let firsts = hints.iter().copied().step_by(HINTS_PER_LINE).collect();
        Self {
            common,
            hints,
            firsts,
        }
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
                let lo = self.partition_point(|x| x < h);
                let hi = self.partition_point(|x| x <= h);
                let left = lo.saturating_sub(1);
                left..=hi.saturating_sub(1).max(left)
            }
        }
    }

    /// `self.hints.partition_point(pred)` for a `pred` that holds on a
    /// prefix of the hints, searched in two levels (see the module docs).
    fn partition_point(&self, pred: impl Fn(u64) -> bool) -> usize {
        // Runs whose first hint satisfies `pred`; the answer lies in the
        // last of them, past its first hint.
        let runs = self.firsts.partition_point(|&x| pred(x));
        let Some(run) = runs.checked_sub(1) else {
            return 0;
        };
        let start = run * HINTS_PER_LINE;
        let end = (start + HINTS_PER_LINE).min(self.hints.len());
        let within = self
            .hints
            .get(start..end)
            .map_or(0, |line| line.partition_point(|&x| pred(x)));
        start + within
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The two-level search answers what a binary search over all the
        /// hints answers, on runs of equal hints and at every run boundary.
        #[test]
        fn two_level_search_agrees_with_a_flat_one(
            mut hints in proptest::collection::vec(0u64..40, 0..100),
            probes in proptest::collection::vec(0u64..42, 1..20),
        ) {
            hints.sort_unstable();
            let firsts = hints.iter().copied().step_by(HINTS_PER_LINE).collect();
            let summary = RestartHints { common: Vec::new(), hints: hints.clone(), firsts };
            for h in probes {
                prop_assert_eq!(summary.partition_point(|x| x < h), hints.partition_point(|&x| x < h));
                prop_assert_eq!(summary.partition_point(|x| x <= h), hints.partition_point(|&x| x <= h));
            }
        }
    }
}
