//! [`Retention`]: which versions of a user key a compaction keeps.
//!
//! Versions arrive newest first. The rules, for one user key:
//!
//! 1. The newest version is kept.
//! 2. An older version is kept only if some live snapshot `s` sees it and not
//!    the next newer kept version: `seqno <= s < newer_kept_seqno` (the rule
//!    the engine's flush applies). A second copy of the kept version (the
//!    same write in two inputs, same seqno) fails this test and is dropped.
//! 3. Among the kept versions, the oldest ones that read as absent — a
//!    tombstone, or a `PutWithExpiry` expired at `now_ms` — are dropped as
//!    well, as long as no older version of the key can exist outside the
//!    compaction (`older_data_may_exist` is false): every reader that saw one
//!    of them then finds nothing at all, which also reads as absent. If all
//!    kept versions read as absent (the usual case: a newest tombstone with no
//!    snapshot older than it), the key vanishes from the output.
//!
//! Rule 3 is why a tombstone is never dropped while an older put stays for a
//! snapshot: the put is kept, so the tombstone above it is not among the
//! oldest. It needs one key of look-ahead, so kept versions that read as
//! absent are held back until a live version follows them (then they are
//! written) or the key ends (then they are dropped).

use strata_core::{ExpiringValue, Result, SeqNo, ValueKind};

use super::merge::Entry;

/// Where kept entries go, in order.
pub(crate) trait EntrySink {
    /// Writes one entry (encoded internal key and stored value).
    ///
    /// # Errors
    /// Whatever writing fails with.
    fn emit(&mut self, encoded_key: &[u8], value: &[u8]) -> Result<()>;
}

/// Counts of what [`Retention`] dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DropCounts {
    /// Tombstones read but not written.
    pub(crate) tombstones: u64,
    /// `PutWithExpiry` entries expired at `now_ms`, read but not written.
    pub(crate) expired: u64,
}

/// A kept version that reads as absent, held back (see the module docs).
struct Pending {
    key: Vec<u8>,
    value: Vec<u8>,
    kind: ValueKind,
}

/// The per-key retention state machine. See the module docs.
pub(crate) struct Retention<'a> {
    snapshots: &'a [SeqNo],
    now_ms: u64,
    older_data_may_exist: &'a (dyn Fn(&[u8]) -> bool + Sync),
    /// The user key of the versions being decided; meaningful once `started`.
    user_key: Vec<u8>,
    started: bool,
    /// Seqno of the previous kept version of `user_key` (`None`: none yet).
    newer_kept: Option<SeqNo>,
    /// `older_data_may_exist(user_key)`, asked once a kept version needs it.
    older_may_exist: Option<bool>,
    pending: Vec<Pending>,
    /// Spare allocations for `pending`.
    spare: Vec<Pending>,
    dropped: DropCounts,
}

impl<'a> Retention<'a> {
    /// `snapshots` must be ascending.
    pub(crate) fn new(
        snapshots: &'a [SeqNo],
        now_ms: u64,
        older_data_may_exist: &'a (dyn Fn(&[u8]) -> bool + Sync),
    ) -> Self {
        debug_assert!(snapshots.is_sorted());
        Self {
            snapshots,
            now_ms,
            older_data_may_exist,
            user_key: Vec::new(),
            started: false,
            newer_kept: None,
            older_may_exist: None,
            pending: Vec::new(),
            spare: Vec::new(),
            dropped: DropCounts::default(),
        }
    }

    /// Decides `entry`, the next version in merge order, writing what is
    /// kept to `sink`.
    ///
    /// # Errors
    /// Whatever `sink` fails with.
    pub(crate) fn add(&mut self, entry: &Entry<'_>, sink: &mut dyn EntrySink) -> Result<()> {
        if !self.started || entry.user_key != self.user_key.as_slice() {
            self.end_key();
            self.started = true;
            self.user_key.clear();
            self.user_key.extend_from_slice(entry.user_key);
        }
        let keep = match self.newer_kept {
            None => true,
            Some(newer) => visible_to_a_snapshot(self.snapshots, entry.seqno, newer),
        };
        if !keep {
            self.count_dropped(entry.kind, entry.expires_at_ms);
            return Ok(());
        }
        self.newer_kept = Some(entry.seqno);
        if !self.reads_as_absent(entry.kind, entry.expires_at_ms) {
            self.write_pending(sink)?;
            return sink.emit(entry.encoded_key, entry.value);
        }
        if self.older_may_exist() {
            // Something older may be below: the absence must stay recorded.
            return sink.emit(entry.encoded_key, entry.value);
        }
        let mut held = self.spare.pop().unwrap_or_else(|| Pending {
            key: Vec::new(),
            value: Vec::new(),
            kind: entry.kind,
        });
        held.key.clear();
        held.key.extend_from_slice(entry.encoded_key);
        held.value.clear();
        held.value.extend_from_slice(entry.value);
        held.kind = entry.kind;
        self.pending.push(held);
        Ok(())
    }

    /// Ends the input: drops what is still held back. Returns the counts.
    pub(crate) fn finish(mut self) -> DropCounts {
        self.end_key();
        self.dropped
    }

    /// Closes the current user key: held-back versions are the oldest kept
    /// ones and all read as absent, so they are dropped.
    fn end_key(&mut self) {
        while let Some(p) = self.pending.pop() {
            // Only kept versions reading as absent are held: a `PutWithExpiry`
            // here is expired.
            match p.kind {
                ValueKind::Delete => self.dropped.tombstones += 1,
                ValueKind::PutWithExpiry => self.dropped.expired += 1,
                ValueKind::Put => {}
            }
            self.spare.push(p);
        }
        self.newer_kept = None;
        self.older_may_exist = None;
    }

    fn write_pending(&mut self, sink: &mut dyn EntrySink) -> Result<()> {
        for p in &self.pending {
            sink.emit(&p.key, &p.value)?;
        }
        self.spare.append(&mut self.pending);
        Ok(())
    }

    fn older_may_exist(&mut self) -> bool {
        *self
            .older_may_exist
            .get_or_insert_with(|| (self.older_data_may_exist)(&self.user_key))
    }

    fn reads_as_absent(&self, kind: ValueKind, expires_at_ms: Option<u64>) -> bool {
        match kind {
            ValueKind::Delete => true,
            ValueKind::PutWithExpiry => {
                expires_at_ms.is_some_and(|at| ExpiringValue::is_expired(at, self.now_ms))
            }
            ValueKind::Put => false,
        }
    }

    fn count_dropped(&mut self, kind: ValueKind, expires_at_ms: Option<u64>) {
        match kind {
            ValueKind::Delete => self.dropped.tombstones += 1,
            ValueKind::PutWithExpiry if self.reads_as_absent(kind, expires_at_ms) => {
                self.dropped.expired += 1;
            }
            ValueKind::PutWithExpiry | ValueKind::Put => {}
        }
    }
}

/// True if `seqno` (a version of a key whose next newer kept version is
/// `newer`) must be kept because some snapshot (`snapshots` ascending) sees
/// it and not the newer one. The rule every writer of tables (flushes and
/// compactions) keeps versions by.
pub fn visible_to_a_snapshot(snapshots: &[SeqNo], seqno: SeqNo, newer: SeqNo) -> bool {
    // A snapshot s sees this version as the newest iff seqno <= s < newer.
    let i = snapshots.partition_point(|&s| s < seqno);
    snapshots.get(i).is_some_and(|&s| s < newer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::InternalKey;

    /// Collects emitted entries as `(user key, seqno, kind)`.
    #[derive(Default)]
    struct Collect(Vec<(Vec<u8>, SeqNo, ValueKind)>);

    impl EntrySink for Collect {
        fn emit(&mut self, encoded_key: &[u8], _value: &[u8]) -> Result<()> {
            let k = InternalKey::decode_from(encoded_key).unwrap();
            self.0.push((k.user_key.to_vec(), k.seqno, k.kind));
            Ok(())
        }
    }

    /// Runs retention over versions of one key `k` (newest first):
    /// `(seqno, kind, expires_at_ms)`; returns the kept seqnos and the counts.
    fn run(
        versions: &[(SeqNo, ValueKind, Option<u64>)],
        snapshots: &[SeqNo],
        now_ms: u64,
        older: bool,
    ) -> (Vec<SeqNo>, DropCounts) {
        let pred = move |_: &[u8]| older;
        let mut r = Retention::new(snapshots, now_ms, &pred);
        let mut sink = Collect::default();
        for &(seqno, kind, expiry) in versions {
            let key = InternalKey::new(&b"k"[..], seqno, kind).encode();
            let value = match expiry {
                Some(at) => ExpiringValue::encode(at, b"v"),
                None => b"v".to_vec(),
            };
            let entry = Entry {
                encoded_key: &key,
                user_key: b"k",
                seqno,
                kind,
                value: &value,
                expires_at_ms: expiry,
            };
            r.add(&entry, &mut sink).unwrap();
        }
        let counts = r.finish();
        (sink.0.iter().map(|e| e.1).collect(), counts)
    }

    use ValueKind::{Delete, Put, PutWithExpiry};

    #[test]
    fn older_versions_are_kept_only_for_a_snapshot_that_sees_them() {
        let v = [
            (9, Put, None),
            (7, Put, None),
            (5, Put, None),
            (2, Put, None),
        ];
        assert_eq!(run(&v, &[], 0, false).0, [9]);
        assert_eq!(run(&v, &[6], 0, false).0, [9, 5]);
        assert_eq!(run(&v, &[1, 8, 9], 0, false).0, [9, 7]);
        assert_eq!(run(&v, &[2, 5, 7], 0, false).0, [9, 7, 5, 2]);
    }

    #[test]
    fn a_newest_tombstone_goes_only_when_nothing_older_is_kept_or_below() {
        let v = [(9, Delete, None), (5, Put, None)];
        let (kept, counts) = run(&v, &[], 0, false);
        assert!(kept.is_empty());
        assert_eq!(counts.tombstones, 1);
        // A snapshot between them keeps the put, so the tombstone stays.
        assert_eq!(run(&v, &[6], 0, false).0, [9, 5]);
        // Something older may live below: the tombstone must keep hiding it.
        assert_eq!(run(&v, &[], 0, true).0, [9]);
        // A snapshot older than every version sees nothing either way.
        assert!(run(&v, &[3], 0, false).0.is_empty());
    }

    #[test]
    fn the_oldest_kept_absences_are_dropped_but_not_those_above_a_value() {
        // Snapshot 6 sees the tombstone at 5, snapshot 4 the put at 3.
        let v = [(9, Put, None), (5, Delete, None), (3, Put, None)];
        assert_eq!(run(&v, &[4, 6], 0, false).0, [9, 5, 3]);
        // Without snapshot 4 the put goes, and then the tombstone is the oldest kept.
        assert_eq!(run(&v, &[6], 0, false).0, [9]);
        assert_eq!(run(&v, &[6], 0, true).0, [9, 5]);
    }

    #[test]
    fn expired_values_read_as_absent_only_once_expired() {
        let v = [(9, PutWithExpiry, Some(100)), (5, Put, None)];
        assert_eq!(run(&v, &[], 99, false).0, [9]);
        let (kept, counts) = run(&v, &[], 100, false);
        assert!(kept.is_empty());
        assert_eq!(counts.expired, 1);
        assert_eq!(run(&v, &[], 100, true).0, [9]);
        assert_eq!(run(&v, &[7], 100, false).0, [9, 5]);
    }

    #[test]
    fn a_second_copy_of_one_write_is_dropped() {
        let v = [(9, Put, None), (9, Delete, None), (4, Put, None)];
        let (kept, counts) = run(&v, &[5], 0, false);
        assert_eq!(kept, [9, 4]);
        assert_eq!(counts.tombstones, 1);
    }

    #[test]
    fn an_older_version_is_kept_only_for_a_snapshot_between_it_and_the_newer_one() {
        assert!(!visible_to_a_snapshot(&[], 5, 9));
        assert!(visible_to_a_snapshot(&[5], 5, 9));
        assert!(visible_to_a_snapshot(&[8], 5, 9));
        assert!(!visible_to_a_snapshot(&[9], 5, 9));
        assert!(!visible_to_a_snapshot(&[4], 5, 9));
        assert!(visible_to_a_snapshot(&[1, 4, 7, 20], 5, 9));
    }
}
