//! [`Zipfian`]: YCSB's skewed key chooser.
//!
//! The generator of Gray et al., "Quickly Generating Billion-Record
//! Synthetic Databases" (SIGMOD 1994), as YCSB's `ZipfianGenerator` uses
//! it: after an O(items) sum at construction, each draw is O(1) from one
//! uniform number. Rank 0 is the most popular item, with probability
//! `1 / zeta(items)`, rank `r` with `1 / ((r + 1)^theta * zeta(items))`.
//! [`Zipfian::scrambled`] then hashes the rank (FNV-1a over its 8 bytes, as
//! YCSB's `ScrambledZipfianGenerator` does) so the popular items are spread
//! over the key space instead of clustered at its start, where they would
//! share data blocks and flatter every cache.

/// Zipfian ranks over `0..items`.
#[derive(Debug, Clone, PartialEq)]
pub struct Zipfian {
    items: u64,
    theta: f64,
    alpha: f64,
    zetan: f64,
    eta: f64,
}

impl Zipfian {
    /// YCSB's default skew (`zipfianconstant`).
    pub const YCSB_CONSTANT: f64 = 0.99;

    /// Ranks over `0..items` (at least one item) with skew `theta`, which
    /// must lie in `0..1` (YCSB uses [`Self::YCSB_CONSTANT`]); other values
    /// are clamped into that range.
    pub fn new(items: u64, theta: f64) -> Self {
        let items = items.max(1);
        let theta = if theta.is_finite() {
            theta.clamp(0.0, 0.999_999)
        } else {
            Self::YCSB_CONSTANT
        };
        let zetan = zeta(items, theta);
        let zeta2 = zeta(2, theta);
        let eta = (1.0 - (2.0 / items as f64).powf(1.0 - theta)) / (1.0 - zeta2 / zetan);
        Self {
            items,
            theta,
            alpha: 1.0 / (1.0 - theta),
            zetan,
            eta,
        }
    }

    /// Items ranked.
    pub fn items(&self) -> u64 {
        self.items
    }

    /// The rank (0 = most popular) for a uniform draw `u` in `[0, 1)`.
    pub fn rank(&self, u: f64) -> u64 {
        let uz = u * self.zetan;
        if uz < 1.0 {
            return 0;
        }
        if uz < 1.0 + 0.5f64.powf(self.theta) {
            return 1.min(self.items - 1);
        }
        let r = self.items as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha);
        // `as` saturates (NaN to 0); the clamp keeps the rank in range when
        // rounding lands on `items`.
        (r as u64).min(self.items - 1)
    }

    /// An item in `0..items` for a uniform draw `u` in `[0, 1)`: the rank,
    /// hashed, so popularity does not follow item order.
    pub fn scrambled(&self, u: f64) -> u64 {
        fnv1a64(self.rank(u)) % self.items
    }
}

/// `sum_{i=1..=n} 1 / i^theta`.
fn zeta(n: u64, theta: f64) -> f64 {
    (1..=n).map(|i| 1.0 / (i as f64).powf(theta)).sum()
}

/// FNV-1a over the 8 little-endian bytes of `x`.
fn fnv1a64(x: u64) -> u64 {
    const OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01B3;
    x.to_le_bytes()
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

/// A uniform number in `[0, 1)` from the top 53 bits of `x`.
pub fn unit(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mix;

    fn counts(z: &Zipfian, draws: u64, f: impl Fn(&Zipfian, f64) -> u64) -> Vec<u64> {
        let mut counts = vec![0u64; z.items() as usize];
        for j in 0..draws {
            counts[f(z, unit(mix(j))) as usize] += 1;
        }
        counts
    }

    #[test]
    fn ranks_follow_the_zipf_law() {
        let z = Zipfian::new(1_000, Zipfian::YCSB_CONSTANT);
        let draws = 200_000;
        let c = counts(&z, draws, Zipfian::rank);
        let zetan = zeta(1_000, 0.99);
        // Ranks 0 and 1 are exact; beyond them the generator follows a
        // continuous approximation of the law (as YCSB's does), which
        // over-weights the next few ranks by up to about a fifth.
        for (r, tolerance) in [(0usize, 0.05), (1, 0.05), (2, 0.25), (9, 0.25), (99, 0.25)] {
            let expected = draws as f64 / ((r + 1) as f64).powf(0.99) / zetan;
            let got = c[r] as f64;
            assert!(
                (got - expected).abs() < expected * tolerance,
                "rank {r}: {got} draws, expected about {expected}"
            );
        }
        let head: u64 = c[..10].iter().sum();
        let expected_head: f64 = (1..=10).map(|i| 1.0 / (i as f64).powf(0.99)).sum::<f64>() / zetan;
        let share = head as f64 / draws as f64;
        assert!(
            (share - expected_head).abs() < 0.05,
            "top 10: {share} vs {expected_head}"
        );
        assert!(c[0] > c[1] && c[1] > c[10] && c[10] > c[500]);
        // The tail is reached, not only the head.
        assert!(c[900..].iter().sum::<u64>() > 0);
    }

    #[test]
    fn scrambling_keeps_the_skew_but_moves_the_hot_items() {
        let z = Zipfian::new(1_000, Zipfian::YCSB_CONSTANT);
        let c = counts(&z, 100_000, Zipfian::scrambled);
        let hottest = (0..c.len()).max_by_key(|&i| c[i]).unwrap();
        assert_eq!(hottest as u64, fnv1a64(0) % 1_000);
        assert_ne!(hottest, 0);
        let mut sorted = c.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        // About 13 % of draws go to the hottest item of 1000.
        assert!(sorted[0] > 10_000 && sorted[0] < 16_000, "{}", sorted[0]);
    }

    #[test]
    fn draws_stay_in_range_at_the_edges() {
        for items in [1, 2, 3, 10] {
            let z = Zipfian::new(items, 0.99);
            for u in [0.0, 0.5, 0.999_999_999, 1.0 - f64::EPSILON] {
                assert!(z.rank(u) < items, "{items} items, u {u}");
                assert!(z.scrambled(u) < items);
            }
        }
        let z = Zipfian::new(0, f64::NAN);
        assert_eq!((z.items(), z.rank(0.7)), (1, 0));
        assert!(unit(u64::MAX) < 1.0 && unit(0) == 0.0);
    }
}
