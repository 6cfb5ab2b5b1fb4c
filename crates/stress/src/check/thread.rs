//! One thread's keys against its log: the state found must be the model
//! after all its acknowledged ops, or after those and its op in flight.

use std::collections::BTreeSet;

use crate::keyspace::{OpId, decode_value, describe};
use crate::log::ThreadLog;
use crate::op::{KeyMap, Op};
use crate::violation::{Violation, ViolationKind};

/// Differences shown in a report.
const SHOWN: usize = 6;

/// A thread whose keys passed.
pub(super) struct ThreadOutcome {
    /// The thread's keys as found (= as expected).
    pub(super) state: KeyMap,
    /// The op in flight was found applied (and is distinguishable).
    pub(super) in_flight_applied: bool,
}

/// Checks thread `thread`'s keys `found` against `base` (its state before
/// the round) plus its `log` of round `round`.
pub(super) fn check_thread(
    thread: usize,
    round: u32,
    base: &KeyMap,
    log: &ThreadLog,
    found: &KeyMap,
) -> Result<ThreadOutcome, Violation> {
    let mut acked = base.clone();
    for (n, op) in &log.acked {
        op.apply(OpId { round, op: *n }, &mut acked);
    }
    if *found == acked {
        return Ok(ThreadOutcome {
            state: acked,
            in_flight_applied: false,
        });
    }
    let with_in_flight = log.in_flight.as_ref().map(|(n, op)| {
        let mut s = acked.clone();
        op.apply(OpId { round, op: *n }, &mut s);
        (s, *n, op)
    });
    if let Some((s, _, _)) = &with_in_flight
        && found == s
    {
        return Ok(ThreadOutcome {
            state: s.clone(),
            in_flight_applied: true,
        });
    }
    Err(explain(
        thread,
        round,
        &acked,
        with_in_flight.as_ref(),
        log,
        found,
    ))
}

/// Keys whose values differ between two states.
fn diff(a: &KeyMap, b: &KeyMap) -> BTreeSet<Vec<u8>> {
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// Names the violation: a batch in flight applied in part, a value no
/// write produced (or from a write never issued), or a lost write.
fn explain(
    thread: usize,
    round: u32,
    acked: &KeyMap,
    with_in_flight: Option<&(KeyMap, u64, &Op)>,
    log: &ThreadLog,
    found: &KeyMap,
) -> Violation {
    let diffs = diff(acked, found);
    let header = format!(
        "thread {thread}, round {round}: {} acknowledged op(s){}",
        log.acked.len(),
        with_in_flight.map_or_else(String::new, |(_, n, op)| format!(
            ", op {n} `{}` in flight",
            op.encode()
        ))
    );
    if let Some((s, n, op)) = with_in_flight {
        let in_flight_keys: BTreeSet<Vec<u8>> =
            op.keys().into_iter().map(String::into_bytes).collect();
        let diffs_after = diff(s, found);
        if op.is_batch()
            && diffs.is_subset(&in_flight_keys)
            && diffs_after.is_subset(&in_flight_keys)
        {
            let show = |keys: &BTreeSet<Vec<u8>>| {
                keys.iter()
                    .map(|k| String::from_utf8_lossy(k).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let applied: BTreeSet<Vec<u8>> = in_flight_keys.difference(&diffs).cloned().collect();
            return Violation::new(
                ViolationKind::HalfAppliedBatch,
                format!(
                    "{header}: the batch in flight (op {n}) is applied in part: keys [{}] show it, keys [{}] do not",
                    show(&applied),
                    show(&diffs)
                ),
            );
        }
    }
    let last_issued = OpId {
        round,
        op: log.last_issued(),
    };
    let wrote = |id: OpId, key: &[u8]| -> bool {
        if id.round != round {
            return true; // earlier rounds' ops are not kept; assume it did
        }
        log.acked
            .iter()
            .chain(log.in_flight.iter())
            .find(|(n, _)| *n == id.op)
            .is_some_and(|(_, op)| op.keys().iter().any(|k| k.as_bytes() == key))
    };
    let mut kind = ViolationKind::LostWrite;
    let mut lines = Vec::new();
    for (i, key) in diffs.iter().enumerate() {
        let expected = acked.get(key).map(Vec::as_slice);
        let got = found.get(key).map(Vec::as_slice);
        let never = got.is_some_and(|v| {
            decode_value(key, v).is_none_or(|id| id > last_issued || !wrote(id, key))
        });
        if never {
            kind = ViolationKind::NeverWritten;
        }
        if i < SHOWN {
            lines.push(format!(
                "{}: expected {} (after the acknowledged ops), found {}{}",
                String::from_utf8_lossy(key),
                describe(key, expected),
                describe(key, got),
                if never {
                    " — never written there"
                } else {
                    ""
                }
            ));
        }
    }
    if diffs.len() > SHOWN {
        lines.push(format!("... and {} more key(s)", diffs.len() - SHOWN));
    }
    Violation::new(kind, format!("{header}:\n  {}", lines.join("\n  ")))
}
