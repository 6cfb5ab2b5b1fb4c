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
    inputs_for(PickReason::SizeTieredBucket, pick)
}

/// The L0 inputs of a one-run L0 merge picked for `reason`.
fn inputs_for(reason: PickReason, pick: Option<CompactionPick>) -> Vec<u64> {
    match pick {
        Some(CompactionPick::Merge(t)) => {
            assert_eq!((t.output_level, t.target_file_size), (0, u64::MAX));
            assert_eq!(t.reason, reason);
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

/// Regression (the crash test's restart-heavy runs reached 190–280 L0
/// tables): runs of alternating sizes, each overlapping the others, share a
/// bucket only with runs they may not merge with, so no bucket is ever
/// ready. Beyond `max_threshold` runs, the run-count rule merges adjacent
/// runs anyway: the window cheapest per run removed.
#[test]
fn too_many_runs_merge_whatever_their_sizes() {
    let s = SizeTiered::default().min_threshold(2).max_threshold(4);
    // Newest first: 10, 1, 10, 1, 10 MiB: buckets {10, 10, 10} and {1, 1}.
    let v = view(vec![runs(&[10, 1, 10, 1, 10])]);
    assert_eq!(
        s.pick_among(&v, &v.level(0).iter().collect::<Vec<_>>()),
        None
    );
    // Five runs, one too many: the excess plus one (2) adjacent runs, the
    // cheapest being a 1 MiB run and a neighbour; ties to the newer.
    assert_eq!(inputs_for(PickReason::RunCount, s.pick(&v)), vec![5, 4]);
    // At max_threshold runs nothing is forced.
    let v = view(vec![runs(&[10, 1, 10, 1])]);
    assert_eq!(s.pick(&v), None);
    // Five runs of five tiers: the run count alone puts the score at 5/4.
    let v = view(vec![runs(&[10, 40, 160, 640, 2560])]);
    assert_eq!(s.scores(&v)[0], 5.0 / 4.0);
    assert_eq!(inputs_for(PickReason::RunCount, s.pick(&v)), vec![5, 4]);

    // Default thresholds (4, 32): 40 alternating runs, 8 too many: windows
    // of 9, the cheapest starting and ending with a small run.
    let sizes: Vec<u64> = (0..40).map(|i| if i % 2 == 0 { 1 } else { 10 }).collect();
    let v = view(vec![runs(&sizes)]);
    let picked = inputs_for(PickReason::RunCount, SizeTiered::default().pick(&v));
    assert_eq!(picked, (32..=40).rev().collect::<Vec<u64>>());
}

#[test]
fn the_run_count_rule_neither_straddles_nor_takes_busy_runs() {
    let s = SizeTiered::default().min_threshold(2).max_threshold(2);
    // Newest first: 1, busy 10, 1, 10 MiB. The only mergeable adjacent
    // pair is the two oldest.
    let mut files = runs(&[1, 10, 1, 10]);
    files[1] = busy(files[1].clone());
    let v = view(vec![files]);
    assert_eq!(inputs_for(PickReason::RunCount, s.pick(&v)), vec![2, 1]);
    // Only three idle runs: one too many.
    let mut files = runs(&[1, 10, 10, 1]);
    files[1] = busy(files[1].clone());
    files[2] = busy(files[2].clone());
    let v = view(vec![files]);
    assert_eq!(s.pick(&v), None, "the idle runs are split by busy ones");
}

/// Flushes of varied sizes onto L0 (every run overlapping every other),
/// each followed by compactions until the strategy has nothing to do: the
/// idle run count never stays above `max_threshold`, and every merge keeps
/// L0 in age order.
#[test]
fn varied_flush_sizes_keep_the_run_count_bounded() {
    for (min, max) in [(2, 4), (4, 8), (4, 32)] {
        let s = SizeTiered::default().min_threshold(min).max_threshold(max);
        let mut l0: Vec<FileView> = Vec::new();
        let mut number = 0u64;
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut merges = 0;
        for _ in 0..400 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            number += 1;
            // 1 KiB to 64 MiB, log-uniform: restarts, flushes, big writes.
            let size = 1024 << (rng % 17);
            let mut f = sized(file(number, 0, "a", "z", number * 10), size);
            f.max_seqno = number * 10 + 9;
            l0.insert(0, f);
            loop {
                let v = view(vec![l0.clone()]);
                let Some(pick) = s.pick(&v) else { break };
                assert_sound(&v, &pick);
                let CompactionPick::Merge(t) = pick else {
                    panic!("{pick:?}")
                };
                let picked = &t.inputs[0].1;
                let inputs: Vec<&FileView> =
                    l0.iter().filter(|f| picked.contains(&f.number)).collect();
                number += 1;
                let mut out = sized(
                    file(number, 0, "a", "z", 0),
                    inputs.iter().map(|f| f.size).sum(),
                );
                out.min_seqno = inputs.iter().map(|f| f.min_seqno).min().unwrap();
                out.max_seqno = inputs.iter().map(|f| f.max_seqno).max().unwrap();
                l0.retain(|f| !picked.contains(&f.number));
                l0.push(out);
                merges += 1;
            }
            assert!(l0.len() <= max, "({min}, {max}): {} runs", l0.len());
        }
        assert!(merges > 50, "({min}, {max}): {merges} merges");
    }
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

    /// Every pick is a sound L0 → L0 merge within the thresholds; a
    /// run-count merge only with more than `max_threshold` idle runs.
    #[test]
    fn picks_are_sound_on_random_views(v in arb_view(), min in 2usize..5, max in 5usize..7) {
        let s = SizeTiered::default().min_threshold(min).max_threshold(max);
        if let Some(pick) = s.pick(&v) {
            assert_sound(&v, &pick);
            let CompactionPick::Merge(t) = &pick else { panic!("{pick:?}") };
            prop_assert_eq!(t.output_level, 0);
            prop_assert_eq!(t.inputs.len(), 1);
            prop_assert_eq!(t.inputs[0].0, 0);
            let width = t.inputs[0].1.len();
            if t.reason == PickReason::RunCount {
                let idle = v.level(0).iter().filter(|f| !f.being_compacted).count();
                prop_assert!(idle > max);
                prop_assert!((2..=max).contains(&width));
            } else {
                prop_assert!((min..=max).contains(&width));
            }
        }
    }
}
