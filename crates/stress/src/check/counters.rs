//! The shared counters: each must equal its value before the round plus
//! every acknowledged increment, plus any subset of the increments in
//! flight (at most one per thread).

use std::collections::BTreeMap;

use super::RoundReport;
use crate::keyspace::{COUNTERS, counter_key};
use crate::log::ThreadLog;
use crate::op::{KeyMap, Op};
use crate::violation::{Violation, ViolationKind};

/// Checks every counter in `found`; returns the counters as found.
pub(super) fn check_counters(
    before: &BTreeMap<String, i64>,
    logs: &[ThreadLog],
    found: &KeyMap,
    report: &mut RoundReport,
) -> Result<BTreeMap<String, i64>, Violation> {
    let mut after = BTreeMap::new();
    for c in 0..COUNTERS {
        let key = counter_key(c);
        let mut acked: Option<i64> = before.get(&key).copied();
        for (_, op) in logs.iter().flat_map(|l| l.acked.iter()) {
            if let Op::Increment { key: k, delta } = op
                && *k == key
            {
                acked = Some(acked.unwrap_or(0).saturating_add(*delta));
            }
        }
        let in_flight: Vec<i64> = logs
            .iter()
            .filter_map(|l| match l.in_flight.as_ref() {
                Some((_, Op::Increment { key: k, delta })) if *k == key => Some(*delta),
                _ => None,
            })
            .collect();
        let shown = |v: Option<i64>| v.map_or_else(|| "absent".to_owned(), |v| v.to_string());
        let got = match found.get(key.as_bytes()) {
            None => None,
            Some(bytes) => Some(
                std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or_else(|| {
                        Violation::new(
                            ViolationKind::Counter,
                            format!(
                                "counter {key} holds {:?}, not a decimal integer",
                                String::from_utf8_lossy(bytes)
                            ),
                        )
                    })?,
            ),
        };
        let matched = if got == acked {
            Some(0)
        } else {
            // Applied in-flight increments add a subset of their deltas.
            got.and_then(|g| {
                let extra = g.checked_sub(acked.unwrap_or(0))?;
                subset_sum_sizes(&in_flight).get(&extra).copied()
            })
        };
        let Some(applied) = matched else {
            return Err(Violation::new(
                ViolationKind::Counter,
                format!(
                    "counter {key} is {}, but its acknowledged increments make {} (increments in flight: {in_flight:?})",
                    shown(got),
                    shown(acked)
                ),
            ));
        };
        report.in_flight_applied += applied;
        if let Some(v) = got {
            after.insert(key, v);
        }
    }
    Ok(after)
}

/// Every sum of a non-empty subset of `deltas`, with the size of one subset
/// making it (deltas are positive, so sums are few).
fn subset_sum_sizes(deltas: &[i64]) -> BTreeMap<i64, u64> {
    let mut sums: BTreeMap<i64, u64> = BTreeMap::new();
    for &d in deltas {
        let before: Vec<(i64, u64)> = sums.iter().map(|(s, n)| (*s, *n)).collect();
        sums.entry(d).or_insert(1);
        for (s, n) in before {
            sums.entry(s.saturating_add(d)).or_insert(n + 1);
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn subset_sums_cover_every_combination() {
        let sums = subset_sum_sizes(&[1, 10, 100]);
        let keys: BTreeSet<i64> = sums.keys().copied().collect();
        assert_eq!(keys, BTreeSet::from([1, 10, 100, 11, 101, 110, 111]));
        assert_eq!(sums.get(&111), Some(&3));
        assert!(subset_sum_sizes(&[]).is_empty());
    }
}
