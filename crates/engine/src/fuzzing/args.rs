//! The arguments of `engine_ops` operations: keys, values, bounds, read
//! modes and batch entries, each decoded from (and encoded to) a fixed
//! number of input bytes, and the byte `Reader`.
//!
//! Keys, values, TTLs and clock moves are drawn from small tables so that
//! operations collide on the same keys and values stay small: a run costs
//! milliseconds, not seconds.

/// The largest key the database accepts in these runs; `key` can make a
/// longer one, which every write must refuse.
pub(crate) const MAX_KEY: usize = 64;

/// The largest value accepted; [`Val::Long`] can exceed it.
pub(crate) const MAX_VALUE: usize = 500;

/// A key, by its number: see `key`.
pub type KeyId = u8;

/// Keys numbered 234.. (after the 234 short keys over `abc`): edge cases of
/// ordering and of the size limit.
const SPECIAL_KEYS: &[&[u8]] = &[b"", b"\0", b"a\0", b"\xff", b"\xff\xff", b"a\xff", b"b\0\0"];

/// The key numbered `id`: mostly 1 to 3 letters over `a`, `b`, `c` (39
/// keys, each reachable six ways), then `SPECIAL_KEYS`, a key of exactly
/// `MAX_KEY` bytes and one longer (refused).
pub fn key(id: KeyId) -> Vec<u8> {
    const SHORT: u8 = 39;
    if id < SHORT * 6 {
        let n = id % SHORT;
        let (len, mut rest) = match n {
            0..3 => (1, n),
            3..12 => (2, n - 3),
            _ => (3, n - 12),
        };
        let mut k = vec![b'a'; len];
        for b in k.iter_mut().rev() {
            *b += rest % 3;
            rest /= 3;
        }
        return k;
    }
    let special = usize::from(id - SHORT * 6);
    match SPECIAL_KEYS.get(special) {
        Some(k) => k.to_vec(),
        None if special % 2 == 0 => vec![b'k'; MAX_KEY],
        None => vec![b'k'; MAX_KEY + 1],
    }
}

/// How a value is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val {
    /// `v<n>`: a few bytes.
    Short(u8),
    /// `2 * n` bytes (up to 510: above `MAX_VALUE` for the largest).
    Long(u8),
    /// Counter-like text: a small decimal, `i64::MAX`, `i64::MIN`, or text
    /// that only looks like a number (`" 5"`, `"+5"`, `"-0"`, `"1e3"`).
    Number(u8),
}

impl Val {
    /// The value's bytes.
    pub fn bytes(self) -> Vec<u8> {
        match self {
            Val::Short(n) => format!("v{n}").into_bytes(),
            Val::Long(n) => (0..usize::from(n) * 2)
                .map(|i| b'a' + ((i + usize::from(n)) % 26) as u8)
                .collect(),
            Val::Number(n) => match n {
                0 => i64::MAX.to_string(),
                1 => i64::MIN.to_string(),
                2 => " 5".into(),
                3 => "+5".into(),
                4 => "-0".into(),
                5 => "1e3".into(),
                _ => (n as i8).to_string(),
            }
            .into_bytes(),
        }
    }

    pub(super) fn decode(r: &mut Reader<'_>) -> Self {
        let (tag, n) = (r.byte(), r.byte());
        match tag % 4 {
            0 | 1 => Val::Short(n),
            2 => Val::Long(n),
            _ => Val::Number(n),
        }
    }

    pub(super) fn encode(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&match self {
            Val::Short(n) => [0, n],
            Val::Long(n) => [2, n],
            Val::Number(n) => [3, n],
        });
    }
}

/// A scan bound over a key of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// No bound.
    Unbounded,
    /// `>=` / `<=` the key.
    Included(KeyId),
    /// `>` / `<` the key.
    Excluded(KeyId),
}

impl Bound {
    /// As a `std` bound over key bytes.
    pub fn to_std(self) -> std::ops::Bound<Vec<u8>> {
        match self {
            Bound::Unbounded => std::ops::Bound::Unbounded,
            Bound::Included(k) => std::ops::Bound::Included(key(k)),
            Bound::Excluded(k) => std::ops::Bound::Excluded(key(k)),
        }
    }

    pub(super) fn decode(r: &mut Reader<'_>) -> Self {
        let (tag, k) = (r.byte(), r.byte());
        match tag % 3 {
            0 => Bound::Unbounded,
            1 => Bound::Included(k),
            _ => Bound::Excluded(k),
        }
    }

    pub(super) fn encode(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&match self {
            Bound::Unbounded => [0, 0],
            Bound::Included(k) => [1, k],
            Bound::Excluded(k) => [2, k],
        });
    }
}

/// How an iterator is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanMode {
    /// `next` until the end (or the limit).
    Forward,
    /// `next_back` until the end (or the limit).
    Reverse,
    /// `steps` (0..=8) calls, `next` where bit `i` of `fronts` is set and
    /// `next_back` where not, then `next` to the end.
    Mixed {
        /// Calls before the drain.
        steps: u8,
        /// Which end each call takes.
        fronts: u8,
    },
    /// Forward, after moving the clock by `advance_ms` of the byte once
    /// the iterator exists: expiry is judged when it is created.
    ThenAdvance(u8),
}

impl ScanMode {
    pub(super) fn decode(r: &mut Reader<'_>) -> Self {
        let (tag, arg) = (r.byte(), r.byte());
        match tag % 4 {
            0 => ScanMode::Forward,
            1 => ScanMode::Reverse,
            2 => ScanMode::Mixed {
                steps: (tag >> 2) % 9,
                fronts: arg,
            },
            _ => ScanMode::ThenAdvance(arg),
        }
    }

    pub(super) fn encode(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&match self {
            ScanMode::Forward => [0, 0],
            ScanMode::Reverse => [1, 0],
            ScanMode::Mixed { steps, fronts } => [2 + 4 * (steps % 9), fronts],
            ScanMode::ThenAdvance(a) => [3, a],
        });
    }
}

/// Items a forward or reverse read takes at most: byte `128 + n` is a limit
/// of `n` (0..=127), anything below 128 none.
pub(super) fn decode_limit(b: u8) -> Option<u8> {
    b.checked_sub(128)
}

pub(super) fn encode_limit(limit: Option<u8>) -> u8 {
    limit.map_or(0, |n| 128 + (n % 128))
}

/// One operation of an atomic batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOp {
    /// `put`.
    Put(KeyId, Val),
    /// `put_with_expiry` at now + `ttl_ms` of the byte.
    PutTtl(KeyId, Val, u8),
    /// `delete`.
    Delete(KeyId),
}

impl BatchOp {
    pub(super) fn decode(r: &mut Reader<'_>) -> Self {
        let (tag, k) = (r.byte(), r.byte());
        match tag % 4 {
            0 | 1 => BatchOp::Put(k, Val::decode(r)),
            2 => BatchOp::PutTtl(k, Val::decode(r), r.byte()),
            _ => BatchOp::Delete(k),
        }
    }

    pub(super) fn encode(self, out: &mut Vec<u8>) {
        match self {
            BatchOp::Put(k, v) => {
                out.extend_from_slice(&[0, k]);
                v.encode(out);
            }
            BatchOp::PutTtl(k, v, t) => {
                out.extend_from_slice(&[2, k]);
                v.encode(out);
                out.push(t);
            }
            BatchOp::Delete(k) => out.extend_from_slice(&[3, k]),
        }
    }
}

/// Milliseconds of a TTL byte: `10 * t` (0 expires at once).
pub fn ttl_ms(t: u8) -> u64 {
    u64::from(t) * 10
}

/// Milliseconds of a clock-move byte: `20 * a` (0 to 5.1 s).
pub fn advance_ms(a: u8) -> u64 {
    u64::from(a) * 20
}

/// The increment of a delta byte: the byte as an `i8`, except `0x7f` is
/// `i64::MAX` and `0x80` is `i64::MIN` (overflows).
pub fn delta(d: u8) -> i64 {
    match d {
        0x7f => i64::MAX,
        0x80 => i64::MIN,
        _ => i64::from(d as i8),
    }
}

/// Reads bytes, yielding 0 past the end.
pub(super) struct Reader<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
}

impl Reader<'_> {
    pub(super) fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cover_the_table() {
        let short: std::collections::BTreeSet<_> = (0..234).map(key).collect();
        assert_eq!(short.len(), 39);
        assert_eq!(key(0), b"a");
        assert_eq!(key(3), b"aa");
        assert_eq!(key(38), b"ccc");
        assert_eq!(key(234), b"");
        assert_eq!(key(254).len(), MAX_KEY);
        assert_eq!(key(255).len(), MAX_KEY + 1);
    }
}
