//! The reference the database is checked against: a `BTreeMap` of live
//! values with their expiry.

use std::collections::BTreeMap;
use std::ops::Bound;

/// A stored value and its expiry (unix ms; readable strictly before it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    value: Vec<u8>,
    expires: Option<u64>,
}

/// What the database should hold.
#[derive(Debug, Clone, Default)]
pub(crate) struct Model {
    map: BTreeMap<Vec<u8>, Entry>,
}

/// `(key, value)` pairs in key order.
pub(crate) type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

impl Model {
    /// The value of `key` at time `now`.
    pub(crate) fn get(&self, key: &[u8], now: u64) -> Option<Vec<u8>> {
        let e = self.map.get(key)?;
        match e.expires {
            Some(at) if now >= at => None,
            _ => Some(e.value.clone()),
        }
    }

    /// Live pairs within the bounds; inverted bounds hold nothing (where
    /// `BTreeMap::range` would panic).
    pub(crate) fn range(&self, lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>, now: u64) -> Pairs {
        self.map
            .keys()
            .filter(|k| in_bounds(k, lo, hi))
            .filter_map(|k| Some((k.clone(), self.get(k, now)?)))
            .collect()
    }

    /// Live pairs whose key starts with `p`.
    pub(crate) fn prefix(&self, p: &[u8], now: u64) -> Pairs {
        let mut all = self.range(&Bound::Unbounded, &Bound::Unbounded, now);
        all.retain(|(k, _)| k.starts_with(p));
        all
    }

    /// Live keys at `now`.
    pub(crate) fn live(&self, now: u64) -> usize {
        self.map
            .keys()
            .filter(|k| self.get(k, now).is_some())
            .count()
    }

    /// Every key ever written and not deleted (live or expired).
    pub(crate) fn keys(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.map.keys()
    }

    pub(crate) fn put(&mut self, key: &[u8], value: Vec<u8>, expires: Option<u64>) {
        self.map.insert(key.to_vec(), Entry { value, expires });
    }

    pub(crate) fn delete(&mut self, key: &[u8]) {
        self.map.remove(key);
    }
}

fn in_bounds(k: &[u8], lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    let above = match lo {
        Bound::Included(l) => k >= l.as_slice(),
        Bound::Excluded(l) => k > l.as_slice(),
        Bound::Unbounded => true,
    };
    let below = match hi {
        Bound::Included(h) => k <= h.as_slice(),
        Bound::Excluded(h) => k < h.as_slice(),
        Bound::Unbounded => true,
    };
    above && below
}

/// The decimal `i64` a counter holds, as `Db::increment` reads it.
pub(crate) fn parse_counter(v: &[u8]) -> Option<i64> {
    std::str::from_utf8(v).ok()?.parse::<i64>().ok()
}
