use proptest::prelude::*;

use super::*;
use crate::testutil::{arb_view, assert_sound, busy, file};
use crate::view::MAX_LEVELS;

const HOUR: u64 = 3_600_000;

/// An L0 file over `lo..=hi` whose newest write is in hour `hour` (seqnos
/// follow the hour, so later hours are newer data).
fn at(number: u64, hour: u64, lo: &str, hi: &str) -> FileView {
    let mut f = file(number, 0, lo, hi, hour * 100 + number);
    f.min_time_ms = hour * HOUR;
    f.max_time_ms = hour * HOUR + HOUR / 2;
    f
}

/// `f` with every entry expiring at hour `hour`.
fn ttl(mut f: FileView, hour: u64) -> FileView {
    f.num_expiring = f.num_entries;
    f.max_expiry_ms = hour * HOUR;
    f
}

fn tw_view(l0: Vec<FileView>, now_hour: u64) -> LevelsView {
    let mut v = crate::testutil::view(vec![l0]);
    v.now_ms = now_hour * HOUR;
    v
}

fn merge(pick: Option<CompactionPick>) -> (Vec<u64>, PickReason) {
    match pick {
        Some(CompactionPick::Merge(t)) => {
            assert_eq!((t.output_level, t.target_file_size), (0, u64::MAX));
            (t.inputs[0].1.clone(), t.reason)
        }
        other => panic!("expected a merge, got {other:?}"),
    }
}

#[test]
fn picks_nothing_when_each_closed_window_is_one_file() {
    let s = TimeWindow::default();
    assert_eq!(s.pick(&tw_view(vec![], 5)), None);
    let v = tw_view(
        vec![at(1, 1, "a", "z"), at(2, 2, "a", "z"), at(3, 5, "a", "z")],
        5,
    );
    assert_eq!(s.pick(&v), None);
    assert_eq!(s.scores(&v)[0], 0.25);
}

#[test]
fn a_closed_window_merges_into_one_file_newest_window_first() {
    let s = TimeWindow::default();
    let v = tw_view(
        vec![
            at(1, 1, "a", "z"),
            at(2, 1, "a", "z"),
            at(3, 2, "a", "z"),
            at(4, 2, "b", "c"),
            at(5, 2, "a", "y"),
            at(6, 5, "a", "z"),
        ],
        5,
    );
    assert_eq!(merge(s.pick(&v)), (vec![5, 4, 3], PickReason::WindowClosed));
    assert_eq!(s.scores(&v)[0], 1.0);
    let v = tw_view(
        vec![at(1, 1, "a", "z"), at(2, 1, "a", "z"), at(3, 2, "a", "z")],
        5,
    );
    assert_eq!(merge(s.pick(&v)), (vec![2, 1], PickReason::WindowClosed));
}

#[test]
fn the_current_window_is_size_tiered() {
    let s = TimeWindow::default();
    let three: Vec<FileView> = (1..=3).map(|n| at(n, 5, "a", "z")).collect();
    assert_eq!(s.pick(&tw_view(three.clone(), 5)), None);
    let mut four = three;
    four.push(at(4, 5, "a", "z"));
    assert_eq!(
        merge(s.pick(&tw_view(four.clone(), 5))),
        (vec![4, 3, 2, 1], PickReason::SizeTieredBucket)
    );
    // An hour later that window has closed: same files, merged as a window.
    assert_eq!(
        merge(s.pick(&tw_view(four.clone(), 6))).1,
        PickReason::WindowClosed
    );
    let small = TimeWindow::default().size_tiered(SizeTiered::default().min_threshold(2));
    assert_eq!(
        merge(small.pick(&tw_view(four[..2].to_vec(), 5))).0,
        vec![2, 1]
    );
    // Window length decides which window is current.
    let daily = TimeWindow::default().window_ms(24 * HOUR);
    assert_eq!(
        daily.pick(&tw_view(vec![at(1, 1, "a", "z"), at(2, 2, "a", "z")], 5)),
        None
    );
}

/// The current window, size-tiered, follows the run-count rule too: runs of
/// odd sizes that no bucket can merge do not pile up there.
#[test]
fn the_current_window_bounds_its_run_count() {
    let s =
        TimeWindow::default().size_tiered(SizeTiered::default().min_threshold(2).max_threshold(3));
    // Newest first, all in hour 5: 10, 1, 10, 1 MiB.
    let mut files: Vec<FileView> = (1..=4).map(|n| at(n, 5, "a", "z")).collect();
    for (f, mib) in files.iter_mut().zip([1, 10, 1, 10]) {
        f.size = mib << 20;
    }
    let (inputs, reason) = merge(s.pick(&tw_view(files.clone(), 5)));
    assert_eq!(reason, PickReason::RunCount);
    assert_eq!(inputs.len(), 2);
    assert!(s.scores(&tw_view(files.clone(), 5))[0] >= 1.0);
    // Three runs: within max_threshold, nothing to do.
    assert_eq!(s.pick(&tw_view(files[1..].to_vec(), 5)), None);
    // Closed, the window merges as before: its oldest max_threshold files.
    assert_eq!(
        merge(s.pick(&tw_view(files, 6))),
        (vec![3, 2, 1], PickReason::WindowClosed)
    );
}

#[test]
fn expired_files_are_dropped_first() {
    let s = TimeWindow::default();
    let v = tw_view(
        vec![
            ttl(at(1, 1, "a", "z"), 3),
            ttl(at(2, 2, "a", "z"), 4),
            at(3, 3, "a", "z"),
            at(4, 3, "a", "z"),
        ],
        4,
    );
    // Both expired files go at once (the newer is dropped with the older
    // it would otherwise reveal), before the closed window 3 merges.
    assert_eq!(
        s.pick(&v),
        Some(CompactionPick::Drop {
            files: vec![(0, 1), (0, 2)]
        })
    );
    assert_eq!(s.scores(&v)[0], 1.0);
    // One hour earlier file 2 has not expired yet.
    let mut earlier = v.clone();
    earlier.now_ms = 3 * HOUR;
    assert_eq!(
        s.pick(&earlier),
        Some(CompactionPick::Drop {
            files: vec![(0, 1)]
        })
    );
}

#[test]
fn an_expired_file_is_kept_while_it_hides_older_data() {
    let s = TimeWindow::default();
    // Older file 1 (no TTL) overlaps expired file 2: dropping 2 would
    // bring back 1's versions of 2's keys.
    let v = tw_view(vec![at(1, 1, "a", "m"), ttl(at(2, 2, "k", "z"), 3)], 4);
    assert_eq!(s.pick(&v), None);
    // Apart in keys: dropped.
    let v = tw_view(vec![at(1, 1, "a", "j"), ttl(at(2, 2, "k", "z"), 3)], 4);
    assert_eq!(
        s.pick(&v),
        Some(CompactionPick::Drop {
            files: vec![(0, 2)]
        })
    );
    // Tombstones or a live entry: kept.
    let mut half = ttl(at(2, 2, "k", "z"), 3);
    half.num_expiring -= 1;
    assert_eq!(s.pick(&tw_view(vec![half], 4)), None);
    let mut tomb = ttl(at(2, 2, "k", "z"), 3);
    tomb.num_tombstones = 1;
    assert_eq!(s.pick(&tw_view(vec![tomb], 4)), None);
}

#[test]
fn busy_files_are_never_picked() {
    let s = TimeWindow::default();
    let v = tw_view(vec![busy(ttl(at(1, 1, "a", "z"), 2))], 4);
    assert_eq!(s.pick(&v), None);
    let v = tw_view(vec![busy(at(1, 1, "a", "z")), at(2, 1, "a", "z")], 4);
    assert_eq!(s.pick(&v), None);
    let v = tw_view(
        vec![
            busy(at(1, 1, "a", "z")),
            at(2, 1, "a", "z"),
            at(3, 1, "a", "z"),
        ],
        4,
    );
    assert_eq!(merge(s.pick(&v)).0, vec![3, 2]);
}

#[test]
fn bottom_level_is_l0() {
    let s = TimeWindow::default();
    assert_eq!(s.bottom_level(&tw_view(vec![at(1, 1, "a", "z")], 4)), 0);
    assert_eq!(s.manual_target_file_size(), u64::MAX);
    assert_eq!(s.scores(&tw_view(vec![], 0)).len(), MAX_LEVELS);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every pick is sound; drops are of fully expired files; merges are
    /// L0 → L0 within one window.
    #[test]
    fn picks_are_sound_on_random_views(v in arb_view(), hours in 1u64..4, max in 2usize..12) {
        // max_threshold below 10 (arb_view's most L0 files) lets the
        // run-count rule act.
        let tiered = SizeTiered::default().min_threshold(2).max_threshold(max);
        let s = TimeWindow::default().window_ms(hours * HOUR).size_tiered(tiered);
        // Without TTL too, so merges get their turn.
        let mut no_ttl = v.clone();
        no_ttl.levels.iter_mut().flatten().for_each(|f| f.num_expiring = 0);
        for v in [v, no_ttl] {
            let Some(pick) = s.pick(&v) else { continue };
            assert_sound(&v, &pick);
            match &pick {
                CompactionPick::Drop { files } => {
                    for (level, number) in files {
                        prop_assert!(v.file(*level, *number).unwrap().is_fully_expired(v.now_ms));
                    }
                }
                CompactionPick::Merge(t) => {
                    prop_assert_eq!(t.output_level, 0);
                    let windows: std::collections::BTreeSet<u64> = t
                        .input_files()
                        .map(|(l, n)| v.file(l, n).unwrap().max_time_ms / (hours * HOUR))
                        .collect();
                    prop_assert_eq!(windows.len(), 1);
                }
                CompactionPick::Move { .. } => prop_assert!(false, "time-window never moves"),
            }
        }
    }
}
