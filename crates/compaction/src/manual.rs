//! Manual compaction (`Db::compact`, `Db::compact_range`): everything a key
//! range reaches, merged into one level.

use std::ops::Bound;

use crate::task::{CompactionPick, CompactionTask, PickReason};
use crate::view::{FileView, LevelsView, MAX_LEVELS, hull};

/// The merge of every file meeting `range` (and of everything their merged
/// key range reaches down to `bottom`) into `bottom`; see
/// [`CompactionStrategy::pick_manual`](crate::CompactionStrategy::pick_manual).
pub(crate) fn pick_manual(
    view: &LevelsView,
    bottom: usize,
    target_file_size: u64,
    range: (Bound<&[u8]>, Bound<&[u8]>),
) -> Option<CompactionPick> {
    let bottom = bottom.min(MAX_LEVELS - 1);
    let levels = 0..=bottom;
    let mut inputs: Vec<&FileView> = levels
        .clone()
        .flat_map(|l| view.level(l))
        .filter(|f| meets(f, range))
        .collect();
    // Grow to a fixpoint: a merged range that reaches a file leaves it
    // either above older data of the output (L0) or overlapping it (L1+).
    loop {
        let h = hull(inputs.iter().copied())?;
        let more: Vec<&FileView> = levels
            .clone()
            .flat_map(|l| view.overlapping(l, h.smallest, h.largest))
            .filter(|f| !inputs.iter().any(|i| i.number == f.number))
            .collect();
        if more.is_empty() {
            break;
        }
        inputs.extend(more);
    }
    if inputs.iter().any(|f| f.being_compacted) {
        return None;
    }
    // In L0 (size-tiered, time-window) several files may hold versions of
    // the same key: only a single file there is settled. Deeper, files are
    // disjoint: each must be settled on its own.
    let settled = (bottom > 0 || inputs.len() == 1)
        && inputs.iter().all(|f| f.level == bottom && f.is_settled());
    if settled {
        return None;
    }
    let task = CompactionTask {
        inputs: levels
            .filter_map(|l| {
                // Keep the view's order: L0 newest first, deeper by key.
                let numbers: Vec<u64> = view
                    .level(l)
                    .iter()
                    .filter(|f| inputs.iter().any(|i| i.number == f.number))
                    .map(|f| f.number)
                    .collect();
                (!numbers.is_empty()).then_some((l, numbers))
            })
            .collect(),
        output_level: bottom,
        target_file_size,
        reason: PickReason::Manual,
    };
    let pick = CompactionPick::Merge(task);
    view.check_pick(&pick).is_ok().then_some(pick)
}

/// Whether `f`'s key range meets `range`.
fn meets(f: &FileView, (start, end): (Bound<&[u8]>, Bound<&[u8]>)) -> bool {
    let after_start = match start {
        Bound::Included(s) => f.largest.as_ref() >= s,
        Bound::Excluded(s) => f.largest.as_ref() > s,
        Bound::Unbounded => true,
    };
    let before_end = match end {
        Bound::Included(e) => f.smallest.as_ref() <= e,
        Bound::Excluded(e) => f.smallest.as_ref() < e,
        Bound::Unbounded => true,
    };
    after_start && before_end
}

#[cfg(test)]
mod tests {
    use std::ops::Bound::{Excluded, Included, Unbounded};

    use super::*;
    use crate::testutil::{file, view};

    #[test]
    fn full_compaction_takes_everything_into_the_bottom() {
        let v = view(vec![
            vec![file(9, 0, "a", "z", 90)],
            vec![file(5, 1, "a", "f", 50), file(6, 1, "g", "m", 51)],
            vec![],
            vec![file(1, 3, "b", "y", 10)],
        ]);
        let Some(CompactionPick::Merge(t)) = pick_manual(&v, 3, 100, (Unbounded, Unbounded)) else {
            panic!("expected a merge")
        };
        assert_eq!(t.inputs, vec![(0, vec![9]), (1, vec![5, 6]), (3, vec![1])]);
        assert_eq!((t.output_level, t.target_file_size), (3, 100));
        assert_eq!(t.reason, PickReason::Manual);
    }

    #[test]
    fn range_compaction_grows_to_what_the_range_reaches() {
        let v = view(vec![
            vec![],
            vec![file(5, 1, "a", "f", 50), file(6, 1, "g", "m", 51)],
            vec![file(1, 2, "e", "h", 10), file(2, 2, "x", "y", 11)],
        ]);
        // "b".."c" meets file 5 only; its range reaches file 1 in L2, whose
        // range reaches file 6 in L1.
        let Some(CompactionPick::Merge(t)) =
            pick_manual(&v, 2, 100, (Included(b"b"), Excluded(b"c")))
        else {
            panic!("expected a merge")
        };
        assert_eq!(t.inputs, vec![(1, vec![5, 6]), (2, vec![1])]);
        assert!(pick_manual(&v, 2, 100, (Excluded(b"y"), Unbounded)).is_none());
    }

    #[test]
    fn waits_for_busy_files_and_skips_settled_ranges() {
        let mut busy = file(1, 2, "a", "c", 1);
        busy.being_compacted = true;
        let v = view(vec![vec![file(2, 0, "b", "b", 5)], vec![], vec![busy]]);
        assert!(pick_manual(&v, 2, 100, (Unbounded, Unbounded)).is_none());

        let settled = view(vec![vec![], vec![], vec![file(1, 2, "a", "c", 1)]]);
        assert!(pick_manual(&settled, 2, 100, (Unbounded, Unbounded)).is_none());
        let mut with_tombstone = file(1, 2, "a", "c", 1);
        with_tombstone.num_tombstones = 1;
        let v = view(vec![vec![], vec![], vec![with_tombstone]]);
        assert!(pick_manual(&v, 2, 100, (Unbounded, Unbounded)).is_some());
    }

    /// Regression (`Db::compact` kept the versions a released snapshot had
    /// pinned): a bottom file holding older versions of its keys, or one
    /// whose count is unknown, is rewritten; so is a TTL file.
    #[test]
    fn bottom_files_with_shadowed_unknown_or_ttl_entries_are_not_settled() {
        // `f` next to a settled file in the bottom level (L2): whether a
        // full compaction leaves the level alone.
        let settled = |change: fn(&mut FileView)| {
            let mut f = file(1, 2, "a", "c", 1);
            change(&mut f);
            let v = view(vec![vec![], vec![], vec![f, file(2, 2, "d", "f", 2)]]);
            match pick_manual(&v, 2, 100, (Unbounded, Unbounded)) {
                None => true,
                Some(CompactionPick::Merge(t)) => {
                    assert_eq!(t.inputs, vec![(2, vec![1, 2])]);
                    false
                }
                Some(other) => panic!("{other:?}"),
            }
        };
        assert!(settled(|_| {}));
        assert!(!settled(|f| f.num_shadowed = Some(3)));
        assert!(!settled(|f| f.num_shadowed = None));
        assert!(!settled(|f| {
            f.num_expiring = 1;
            f.max_expiry_ms = u64::MAX;
        }));

        // In L0 a lone settled file is left alone; two never are.
        let v = view(vec![vec![file(1, 0, "a", "c", 1)]]);
        assert!(pick_manual(&v, 0, 100, (Unbounded, Unbounded)).is_none());
        let v = view(vec![vec![file(1, 0, "a", "c", 1), file(2, 0, "x", "y", 2)]]);
        assert!(pick_manual(&v, 0, 100, (Unbounded, Unbounded)).is_some());
    }
}
