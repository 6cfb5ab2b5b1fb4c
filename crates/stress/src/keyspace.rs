//! The key space of the workload and the values written to it.
//!
//! Invariants that make verification exact:
//! * every key but the counters belongs to exactly one worker thread
//!   (`tNN/...`), and only that thread writes it, so a thread's keys after
//!   a crash must equal the model after a prefix of that thread's ops;
//! * the keys of a batch group (`tNN/gGG/0..GROUP_KEYS`) are only ever
//!   written together, by one batch that puts or deletes all of them, so in
//!   any state either all of a group's keys are present and carry the same
//!   op id, or none is;
//! * a value names its key and the op that wrote it (`key=round.op;` then
//!   padding derived from both), so a value can be traced to exactly one
//!   write, and a value no write produced is recognised;
//! * counters (`ctr/C`) are shared by all threads and only incremented, by
//!   positive deltas.

use std::fmt;

/// Plain keys per thread (puts, TTL puts, deletes).
pub(crate) const PLAIN_KEYS: u32 = 256;
/// Batch groups per thread.
pub(crate) const GROUPS: u32 = 16;
/// Keys per batch group.
pub(crate) const GROUP_KEYS: u32 = 4;
/// Shared counters.
pub(crate) const COUNTERS: u32 = 8;
/// Most worker threads a run may use (thread ids are two digits).
pub const MAX_THREADS: usize = 100;
/// The prefix of every counter key.
pub(crate) const COUNTER_PREFIX: &str = "ctr/";

/// Identifies one write: the round (child process) and the op number within
/// the thread's log of that round (from 1). Ordered by round, then op, which
/// is the order in which one thread issued them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct OpId {
    pub(crate) round: u32,
    pub(crate) op: u64,
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.round, self.op)
    }
}

/// `tNN/`: everything thread `t` owns.
pub(crate) fn thread_prefix(thread: usize) -> String {
    format!("t{thread:02}/")
}

/// A plain key of `thread`.
pub(crate) fn plain_key(thread: usize, index: u32) -> String {
    format!("t{thread:02}/k{index:04}")
}

/// `tNN/gGG/`: the prefix of one batch group.
pub(crate) fn group_prefix(thread: usize, group: u32) -> String {
    format!("t{thread:02}/g{group:02}/")
}

/// The keys of the group with prefix `prefix`.
pub(crate) fn group_keys(prefix: &str) -> impl Iterator<Item = String> + '_ {
    (0..GROUP_KEYS).map(move |j| format!("{prefix}{j}"))
}

/// The shared counter `index`.
pub(crate) fn counter_key(index: u32) -> String {
    format!("{COUNTER_PREFIX}{index}")
}

/// The group prefix of `key` if it is a group key (`tNN/gGG/J`).
pub(crate) fn group_of(key: &[u8]) -> Option<&[u8]> {
    let is_group = key.len() == 9
        && key.first() == Some(&b't')
        && key.get(3..5) == Some(b"/g")
        && key.get(7) == Some(&b'/');
    if is_group { key.get(..8) } else { None }
}

/// The value `id` writes to `key`. Mostly 8 to 255 bytes of padding; one
/// write in a hundred carries 4 to 40 KiB, larger than a table block and
/// than a WAL block, so values span blocks and WAL fragments too.
pub(crate) fn value(key: &str, id: OpId) -> Vec<u8> {
    let h = mix((u64::from(id.round) << 40) ^ id.op ^ hash_str(key));
    let pad = if h.is_multiple_of(100) {
        4096 + (h >> 8) % (36 << 10)
    } else {
        8 + (h >> 8) % 248
    };
    let fill = b'a' + u8::try_from((h >> 32) % 26).unwrap_or(0);
    let mut v = format!("{key}={}.{};", id.round, id.op).into_bytes();
    v.resize(v.len() + usize::try_from(pad).unwrap_or(8), fill);
    v
}

/// The op that wrote `bytes` to `key`, or `None` if no write of this
/// workload produces these bytes at this key.
pub(crate) fn decode_value(key: &[u8], bytes: &[u8]) -> Option<OpId> {
    let key = std::str::from_utf8(key).ok()?;
    let head_len = bytes.iter().position(|&b| b == b';')?;
    let head = std::str::from_utf8(bytes.get(..head_len)?).ok()?;
    let (named_key, id) = head.split_once('=')?;
    if named_key != key {
        return None;
    }
    let (round, op) = id.split_once('.')?;
    let id = OpId {
        round: round.parse().ok()?,
        op: op.parse().ok()?,
    };
    (value(key, id) == bytes).then_some(id)
}

/// A short printable description of a value for reports.
pub(crate) fn describe(key: &[u8], value: Option<&[u8]>) -> String {
    match value {
        None => "absent".into(),
        Some(v) => match decode_value(key, v) {
            Some(id) => format!("the value of op {id}"),
            None => {
                let shown: String = String::from_utf8_lossy(v).chars().take(40).collect();
                format!("a value no write produced ({} bytes: {shown:?})", v.len())
            }
        },
    }
}

/// splitmix64's finaliser: a fixed, well-mixed hash (padding must be the
/// same in the child that writes and the parent that checks).
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_decode_to_their_op_and_only_at_their_key() {
        for op in 1..2000 {
            let id = OpId { round: 7, op };
            let key = plain_key(3, u32::try_from(op % 256).unwrap());
            let v = value(&key, id);
            assert_eq!(decode_value(key.as_bytes(), &v), Some(id));
            assert_eq!(decode_value(b"t03/k9999", &v), None);
            let mut damaged = v.clone();
            *damaged.last_mut().unwrap() ^= 1;
            assert_eq!(decode_value(key.as_bytes(), &damaged), None);
            assert_eq!(decode_value(key.as_bytes(), &v[..v.len() - 1]), None);
        }
    }

    #[test]
    fn some_values_are_larger_than_a_wal_block() {
        let big = (1..1000)
            .filter(|&op| value("t00/k0001", OpId { round: 1, op }).len() > 32 << 10)
            .count();
        assert!(big > 0);
    }

    #[test]
    fn group_of_recognises_only_group_keys() {
        assert_eq!(group_of(b"t01/g02/3"), Some(&b"t01/g02/"[..]));
        assert_eq!(group_of(b"t01/k0002"), None);
        assert_eq!(group_of(b"ctr/1"), None);
        assert_eq!(group_prefix(1, 2), "t01/g02/");
        assert_eq!(group_keys("t01/g02/").count(), GROUP_KEYS as usize);
    }
}
