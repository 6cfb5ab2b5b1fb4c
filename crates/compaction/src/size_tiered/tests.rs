use proptest::prelude::*;

use super::*;
use crate::testutil::{MIB, arb_view, assert_sound, busy, file, sized, view};

/// L0 files of the given sizes in MiB, all over keys a..z, newest first
/// (numbers and seqnos count down).
fn runs(sizes_mib: &[u64]) -> Vec<FileView> {
    let n = sizes_mib.len() as u64;
    sizes_mib
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let number = n - i as u64;
            sized(file(number, 0, "a", "z", number * 10), s * MIB)
        })
        .collect()
}

fn inputs(pick: Option<CompactionPick>) -> Vec<u64> {
    match pick {
        Some(CompactionPick::Merge(t)) => {
            assert_eq!((t.output_level, t.target_file_size), (0, u64::MAX));
            assert_eq!(t.reason, PickReason::SizeTieredBucket);
            assert_eq!(t.inputs.len(), 1);
            t.inputs[0].1.clone()
        }
        other => panic!("expected a merge, got {other:?}"),
    }
}

#[test]
fn picks_nothing_below_min_threshold() {
    let s = SizeTiered::default();
    assert_eq!(s.pick(&view(vec![])), None);
    assert_eq!(s.pick(&view(vec![runs(&[10, 12, 9])])), None);
    // Four runs, but of four different tiers.
    assert_eq!(s.pick(&view(vec![runs(&[10, 40, 160, 640])])), None);
}

#[test]
fn similar_runs_form_a_bucket_and_merge() {
    // Newest first: 10, 12, 9, 14 MiB and an old 100 MiB run.
    let v = view(vec![runs(&[100, 10, 12, 9, 14])]);
    assert_eq!(inputs(SizeTiered::default().pick(&v)), vec![4, 3, 2, 1]);
}

#[test]
fn bucket_bounds_decide_membership() {
    // 16 MiB is 1.6× the 10 MiB average: outside the default 1.5×.
    let v = view(vec![runs(&[16, 10, 10, 10])]);
    assert_eq!(SizeTiered::default().pick(&v), None);
    let wide = SizeTiered::default().bucket_bounds(0.5, 2.0);
    assert_eq!(inputs(wide.pick(&v)), vec![4, 3, 2, 1]);
}

#[test]
fn small_runs_share_one_bucket() {
    // 1, 3, 7 MiB and 512 KiB are far apart but all under 8 MiB.
    let mut files = runs(&[1, 3, 7, 1]);
    files[3].size = 512 << 10;
    let v = view(vec![files]);
    assert_eq!(inputs(SizeTiered::default().pick(&v)), vec![4, 3, 2, 1]);
    assert_eq!(SizeTiered::default().min_sstable_size(0).pick(&v), None);
}

#[test]
fn the_bucket_with_most_runs_wins_and_ties_go_to_smaller_runs() {
    // Newest first: five 100 MiB runs, then four 20 MiB runs.
    let v = view(vec![runs(&[100, 100, 100, 100, 100, 20, 20, 20, 20])]);
    assert_eq!(inputs(SizeTiered::default().pick(&v)), vec![9, 8, 7, 6, 5]);
    let v = view(vec![runs(&[100, 100, 100, 100, 20, 20, 20, 20])]);
    assert_eq!(inputs(SizeTiered::default().pick(&v)), vec![4, 3, 2, 1]);
}

#[test]
fn thresholds_bound_the_merge_width() {
    let v = view(vec![runs(&[10; 40])]);
    let picked = inputs(SizeTiered::default().pick(&v));
    // The 32 oldest of 40.
    assert_eq!(picked, (1..=32).rev().collect::<Vec<u64>>());
    let s = SizeTiered::default().min_threshold(2).max_threshold(3);
    assert_eq!(inputs(s.pick(&view(vec![runs(&[10, 10])]))), vec![2, 1]);
    assert_eq!(inputs(s.pick(&v)).len(), 3);
    assert_eq!(
        SizeTiered::default()
            .min_threshold(6)
            .pick(&view(vec![runs(&[10; 5])])),
        None
    );
}

#[test]
fn a_merge_never_straddles_a_run_it_overlaps() {
    // Newest first: two small runs, a big one, three small ones; all over
    // a..z. Merging the five small runs would put the big run's data
    // between parts of the merged run.
    let v = view(vec![runs(&[1, 1, 100, 1, 1, 1])]);
    assert_eq!(SizeTiered::default().pick(&v), None);
    assert_eq!(
        inputs(SizeTiered::default().min_threshold(3).pick(&v)),
        vec![3, 2, 1]
    );
    // A big run over other keys does not get in the way.
    let mut files = runs(&[1, 1, 100, 1, 1, 1]);
    files[2].smallest = "zz".into();
    files[2].largest = "zz".into();
    let v = view(vec![files]);
    assert_eq!(inputs(SizeTiered::default().pick(&v)), vec![6, 5, 3, 2, 1]);
}

#[test]
fn busy_runs_are_never_picked_nor_straddled() {
    let s = SizeTiered::default();
    let mut files = runs(&[10, 10, 10, 10]);
    files[0] = busy(files[0].clone());
    assert_eq!(s.pick(&view(vec![files])), None);
    // The oldest run is busy: the four newer ones merge.
    let mut files = runs(&[10, 10, 10, 10, 10]);
    files[4] = busy(files[4].clone());
    assert_eq!(inputs(s.pick(&view(vec![files]))), vec![5, 4, 3, 2]);
    // A busy run in the middle: neither side has four.
    let mut files = runs(&[10, 10, 10, 10, 10, 10, 10]);
    files[3] = busy(files[3].clone());
    assert_eq!(s.pick(&view(vec![files])), None);
}

#[test]
fn scores_and_bottom_level() {
    let s = SizeTiered::default();
    let v = view(vec![runs(&[10, 10, 100])]);
    assert_eq!(s.scores(&v), vec![0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(s.bottom_level(&v), 0);
    assert_eq!(s.manual_target_file_size(), u64::MAX);
    // Files another strategy left deeper: manual compaction goes there.
    let v = view(vec![runs(&[10]), vec![], vec![file(9, 2, "a", "b", 1)]]);
    assert_eq!(s.bottom_level(&v), 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every pick is a sound L0 → L0 merge within the thresholds.
    #[test]
    fn picks_are_sound_on_random_views(v in arb_view(), min in 2usize..5) {
        let s = SizeTiered::default().min_threshold(min).max_threshold(6);
        if let Some(pick) = s.pick(&v) {
            assert_sound(&v, &pick);
            let CompactionPick::Merge(t) = &pick else { panic!("{pick:?}") };
            prop_assert_eq!(t.output_level, 0);
            prop_assert_eq!(t.inputs.len(), 1);
            prop_assert_eq!(t.inputs[0].0, 0);
            prop_assert!((min..=6).contains(&t.inputs[0].1.len()));
        }
    }
}
