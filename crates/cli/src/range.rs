//! Key ranges of `scan`: a prefix intersected with `[start, end)`, and the
//! server's reserved keys hidden.

use std::ops::Bound;

use strata::{Db, DbIterator};
use strata_server::RESERVED_PREFIX;

/// What to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ScanRange {
    /// Only keys starting with this.
    pub(crate) prefix: Vec<u8>,
    /// Only keys `>= start`.
    pub(crate) start: Option<Vec<u8>>,
    /// Only keys `< end`.
    pub(crate) end: Option<Vec<u8>>,
}

impl ScanRange {
    /// Keys with `prefix`.
    pub(crate) fn prefix(prefix: Vec<u8>) -> Self {
        Self {
            prefix,
            ..Self::default()
        }
    }

    /// The lower and upper bounds of the keys in range.
    fn bounds(&self) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
        let lower = match &self.start {
            Some(s) if s > &self.prefix => s.clone(),
            _ => self.prefix.clone(),
        };
        let upper = match (&self.end, successor(&self.prefix)) {
            (Some(e), Some(p)) => Bound::Excluded(e.min(&p).clone()),
            (Some(e), None) => Bound::Excluded(e.clone()),
            (None, Some(p)) => Bound::Excluded(p),
            (None, None) => Bound::Unbounded,
        };
        (Bound::Included(lower), upper)
    }

    /// The live entries in range, in key order (reverse it with `.rev()`).
    pub(crate) fn iter(&self, db: &Db) -> DbIterator {
        db.scan(self.bounds())
    }

    /// True if `key` is one the listing hides: a server-internal key, unless
    /// the caller asked for those by prefix.
    pub(crate) fn hides(&self, key: &[u8]) -> bool {
        key.starts_with(RESERVED_PREFIX) && !self.prefix.starts_with(RESERVED_PREFIX)
    }
}

/// The smallest key greater than every key starting with `prefix`; `None`
/// when there is none (empty or all-`0xff` prefix).
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|&b| b != 0xff)?;
    let mut next = prefix.get(..=last)?.to_vec();
    if let Some(b) = next.last_mut() {
        *b += 1;
    }
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_is_the_first_key_past_the_prefix() {
        assert_eq!(successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(successor(b"a\xff\xff"), Some(b"b".to_vec()));
        assert_eq!(successor(b"\xff"), None);
        assert_eq!(successor(b""), None);
    }

    #[test]
    fn ranges_intersect_prefix_and_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), strata::Options::default()).unwrap();
        for k in ["a", "b1", "b2", "b3", "c", "\u{ff}"] {
            db.put(k, "v").unwrap();
        }
        db.put([RESERVED_PREFIX, b"ct/b1"].concat(), "text/plain")
            .unwrap();
        let keys = |r: ScanRange| -> Vec<Vec<u8>> {
            r.iter(&db)
                .map(|kv| kv.unwrap().0.to_vec())
                .filter(|k| !r.hides(k))
                .collect()
        };
        assert_eq!(keys(ScanRange::prefix(b"b".to_vec())).len(), 3);
        let r = ScanRange {
            prefix: b"b".to_vec(),
            start: Some(b"b2".to_vec()),
            end: Some(b"z".to_vec()),
        };
        assert_eq!(keys(r), [b"b2".to_vec(), b"b3".to_vec()]);
        let r = ScanRange {
            start: Some(b"a".to_vec()),
            end: Some(b"b2".to_vec()),
            ..ScanRange::default()
        };
        assert_eq!(keys(r), [b"a".to_vec(), b"b1".to_vec()]);
        // Everything but the reserved key, which asking for it by prefix shows.
        assert_eq!(keys(ScanRange::default()).len(), 6);
        assert_eq!(keys(ScanRange::prefix(RESERVED_PREFIX.to_vec())).len(), 1);
    }
}
