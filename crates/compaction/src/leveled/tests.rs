use proptest::prelude::*;

use super::*;
use crate::testutil::{MIB, arb_view, assert_sound, busy, file, sized, view};

/// The sizes in these tests are scaled to a 64 MiB L1 target, the file
/// counts to an L0 trigger of 4.
fn leveled() -> Leveled {
    Leveled::default().base_level_size(64 * MIB).l0_trigger(4)
}

#[test]
fn defaults_are_an_l0_trigger_of_8_and_targets_from_256_mib_by_ten() {
    let s = Leveled::default();
    let flushes = |n: u64| view(vec![(1..=n).map(|i| file(i, 0, "a", "z", i)).collect()]);
    assert_eq!(s.pick(&flushes(7)), None);
    let t = merge(s.pick(&flushes(8)));
    assert_eq!(t.inputs, vec![(0, vec![8, 7, 6, 5, 4, 3, 2, 1])]);
    assert_eq!(s.level_target(1), 256 * MIB);
    assert_eq!(s.level_target(2), 2560 * MIB);
    assert_eq!(s.level_target(0), 256 * MIB);
}

fn merge(pick: Option<CompactionPick>) -> CompactionTask {
    match pick {
        Some(CompactionPick::Merge(task)) => task,
        other => panic!("expected a merge, got {other:?}"),
    }
}

/// Four overlapping flushes, newest first by seqno.
fn four_flushes() -> Vec<FileView> {
    vec![
        file(10, 0, "a", "m", 40),
        file(11, 0, "b", "k", 41),
        file(12, 0, "c", "j", 42),
        file(13, 0, "d", "l", 43),
    ]
}

fn heavy(mut f: FileView) -> FileView {
    f.num_entries = 2000;
    f.num_tombstones = 1500;
    f
}

#[test]
fn picks_nothing_below_every_trigger() {
    let s = leveled();
    assert_eq!(s.pick(&view(vec![])), None);
    let mut flushes = four_flushes();
    flushes.pop();
    let v = view(vec![flushes, vec![file(1, 1, "a", "z", 1)]]);
    assert_eq!(s.pick(&v), None);
}

#[test]
fn l0_trigger_takes_all_l0_and_the_l1_files_they_overlap() {
    let v = view(vec![
        four_flushes(),
        vec![
            file(1, 1, "0", "1", 1),
            file(2, 1, "a", "c", 2),
            file(3, 1, "d", "f", 3),
            file(4, 1, "x", "z", 4),
        ],
    ]);
    let t = merge(leveled().pick(&v));
    assert_eq!(t.inputs, vec![(0, vec![13, 12, 11, 10]), (1, vec![2, 3])]);
    assert_eq!((t.output_level, t.reason), (1, PickReason::Level0FileCount));
    assert_eq!(t.target_file_size, DEFAULT_TARGET_FILE_SIZE);
}

#[test]
fn disjoint_l0_files_move_to_l1_but_overlapping_ones_merge() {
    let disjoint = vec![
        file(10, 0, "a", "b", 40),
        file(11, 0, "c", "d", 41),
        file(12, 0, "e", "f", 42),
        file(13, 0, "g", "h", 43),
    ];
    let v = view(vec![disjoint, vec![file(1, 1, "bb", "bc", 1)]]);
    assert_eq!(
        leveled().pick(&v),
        Some(CompactionPick::Move {
            files: vec![(0, 13), (0, 12), (0, 11), (0, 10)],
            to_level: 1
        })
    );
    let v = view(vec![four_flushes(), vec![file(1, 1, "x", "z", 1)]]);
    let t = merge(leveled().pick(&v));
    assert_eq!(t.inputs, vec![(0, vec![13, 12, 11, 10])]);
}

/// L1 at `l1` MiB and L2 at `l2` MiB against targets 10 and 100 MiB.
fn two_levels(l1: u64, l2: u64) -> LevelsView {
    view(vec![
        vec![],
        vec![sized(file(1, 1, "a", "c", 20), l1 * MIB)],
        vec![
            sized(file(2, 2, "b", "d", 10), l2 * MIB / 2),
            sized(file(3, 2, "e", "f", 11), l2 * MIB / 2),
        ],
        vec![file(4, 3, "a", "z", 1)],
    ])
}

#[test]
fn highest_score_wins() {
    let s = leveled().base_level_size(10 * MIB);
    let v = two_levels(30, 500);
    assert_eq!(s.scores(&v)[..3], [0.0, 3.0, 5.0]);
    // L2 (score 5) beats L1 (score 3): its first file goes to L3.
    let t = merge(s.pick(&v));
    assert_eq!(
        (t.inputs, t.output_level),
        (vec![(2, vec![2]), (3, vec![4])], 3)
    );
    assert_eq!(t.reason, PickReason::LevelSize);
    let t = merge(s.pick(&two_levels(60, 500)));
    assert_eq!(
        (t.inputs, t.output_level),
        (vec![(1, vec![1]), (2, vec![2])], 2)
    );
}

#[test]
fn round_robin_walks_the_key_space_and_wraps() {
    let l1 = ["a", "e", "i"]
        .iter()
        .enumerate()
        .map(|(i, k)| sized(file(i as u64 + 1, 1, k, &format!("{k}z"), 20), 100 * MIB))
        .collect();
    let v = view(vec![vec![], l1, vec![file(9, 2, "0", "zz", 1)]]);
    let s = leveled().file_picker(FilePicker::RoundRobin);
    let first_input = || merge(s.pick(&v)).inputs[0].1[0];
    assert_eq!(
        [first_input(), first_input(), first_input(), first_input()],
        [1, 2, 3, 1]
    );
}

#[test]
fn min_overlap_takes_the_file_with_least_to_rewrite_per_byte() {
    // L1 over target; "a" overlaps 30 MiB below for 20 MiB, "h" 10 MiB for
    // 25 MiB (the least per byte), "q" 60 MiB for 25 MiB.
    let l1 = vec![
        sized(file(1, 1, "a", "c", 20), 20 * MIB),
        sized(file(2, 1, "h", "k", 21), 25 * MIB),
        sized(file(3, 1, "q", "s", 22), 25 * MIB),
    ];
    let l2 = vec![
        sized(file(4, 2, "a", "b", 1), 30 * MIB),
        sized(file(5, 2, "j", "j", 2), 10 * MIB),
        sized(file(6, 2, "p", "r", 3), 20 * MIB),
        sized(file(7, 2, "s", "t", 4), 40 * MIB),
    ];
    let s = leveled();
    let t = merge(s.pick(&view(vec![vec![], l1.clone(), l2.clone()])));
    assert_eq!(
        (t.inputs, t.reason),
        (vec![(1, vec![2]), (2, vec![5])], PickReason::LevelSize)
    );
    // Unchanged view, same pick: no cursor moves it on.
    let t = merge(s.pick(&view(vec![vec![], l1.clone(), l2.clone()])));
    assert_eq!(t.inputs[0], (1, vec![2]));
    // Its overlap busy: the next best ratio ("a", 1.5) goes.
    let mut l2_busy = l2;
    l2_busy[1] = busy(l2_busy[1].clone());
    let t = merge(s.pick(&view(vec![vec![], l1, l2_busy])));
    assert_eq!(t.inputs, vec![(1, vec![1]), (2, vec![4])]);
}

#[test]
fn level_file_takes_exactly_the_files_it_overlaps_below() {
    let v = view(vec![
        vec![],
        vec![sized(file(1, 1, "c", "k", 20), 100 * MIB)],
        vec![
            file(2, 2, "a", "b", 1),
            file(3, 2, "ba", "d", 2),
            file(4, 2, "e", "f", 3),
            file(5, 2, "j", "m", 4),
            file(6, 2, "n", "p", 5),
        ],
    ]);
    let t = merge(leveled().pick(&v));
    assert_eq!(t.inputs, vec![(1, vec![1]), (2, vec![3, 4, 5])]);
}

#[test]
fn level_file_overlapping_nothing_below_moves() {
    let v = view(vec![
        vec![],
        vec![sized(file(1, 1, "c", "k", 20), 100 * MIB)],
        vec![file(2, 2, "a", "b", 1), file(3, 2, "l", "m", 2)],
    ]);
    assert_eq!(
        leveled().pick(&v),
        Some(CompactionPick::Move {
            files: vec![(1, 1)],
            to_level: 2
        })
    );
}

#[test]
fn last_level_is_never_picked_by_size() {
    let mut levels = vec![Vec::new(); MAX_LEVELS];
    levels[LAST] = vec![sized(file(1, LAST, "a", "z", 1), u64::MAX / 4)];
    let v = view(levels.clone());
    let s = leveled();
    assert!(s.scores(&v)[LAST] > 1.0);
    assert_eq!(s.pick(&v), None);
    levels[LAST - 1] = vec![sized(file(2, LAST - 1, "b", "c", 9), u64::MAX / 4)];
    let t = merge(s.pick(&view(levels)));
    assert_eq!(
        (t.inputs, t.output_level),
        (vec![(5, vec![2]), (6, vec![1])], LAST)
    );
}

#[test]
fn tombstone_heavy_file_goes_first_in_its_level() {
    let l1 = vec![
        sized(file(1, 1, "a", "b", 20), 100 * MIB),
        sized(heavy(file(2, 1, "m", "n", 21)), MIB),
        sized(heavy(file(3, 1, "x", "y", 22)), MIB),
    ];
    let mut lighter = l1.clone();
    lighter[2].num_tombstones = 1200;
    let v = view(vec![vec![], lighter, vec![file(9, 2, "a", "z", 1)]]);
    let t = merge(leveled().pick(&v));
    assert_eq!(
        (t.inputs, t.reason),
        (vec![(1, vec![2]), (2, vec![9])], PickReason::Tombstones)
    );
}

#[test]
fn tombstone_heavy_file_is_compacted_below_every_trigger() {
    let s = leveled();
    let deep = file(9, 4, "a", "z", 1);
    // Overlap in the next level: merged with it.
    let v = view(vec![
        vec![],
        vec![],
        vec![heavy(file(1, 2, "c", "d", 20))],
        vec![file(2, 3, "a", "c", 5)],
        vec![deep.clone()],
    ]);
    let t = merge(s.pick(&v));
    assert_eq!(
        (t.inputs, t.output_level),
        (vec![(2, vec![1]), (3, vec![2])], 3)
    );
    assert_eq!(t.reason, PickReason::Tombstones);
    // Only deeper levels overlap: moved one level down, unrewritten.
    let v = view(vec![
        vec![],
        vec![],
        vec![heavy(file(1, 2, "c", "d", 20))],
        vec![],
        vec![deep],
    ]);
    assert_eq!(
        s.pick(&v),
        Some(CompactionPick::Move {
            files: vec![(2, 1)],
            to_level: 3
        })
    );
    // Nothing below at all: rewritten alone into the next level, where the
    // executor can drop every tombstone.
    let v = view(vec![vec![], vec![], vec![heavy(file(1, 2, "c", "d", 20))]]);
    let t = merge(s.pick(&v));
    assert_eq!((t.inputs, t.output_level), (vec![(2, vec![1])], 3));
    // Too few entries, too low a ratio, or turned off: nothing.
    let mut small = heavy(file(1, 2, "c", "d", 20));
    small.num_entries = 10;
    small.num_tombstones = 10;
    assert_eq!(s.pick(&view(vec![vec![], vec![], vec![small]])), None);
    let mut light = heavy(file(1, 2, "c", "d", 20));
    light.num_tombstones = 900;
    assert_eq!(s.pick(&view(vec![vec![], vec![], vec![light]])), None);
    let off = leveled().tombstone_priority(1.1, 0);
    assert_eq!(
        off.pick(&view(vec![
            vec![],
            vec![],
            vec![heavy(file(1, 2, "c", "d", 20))]
        ])),
        None
    );
}

fn exhausted(mut f: FileView) -> FileView {
    f.seeks_exhausted = true;
    f
}

#[test]
fn an_l0_file_out_of_seeks_merges_all_of_l0_below_the_trigger() {
    let s = leveled();
    let l1 = vec![file(1, 1, "a", "c", 1), file(2, 1, "x", "z", 2)];
    let l0 = vec![file(10, 0, "b", "d", 40), file(11, 0, "a", "b", 41)];
    assert_eq!(s.pick(&view(vec![l0.clone(), l1.clone()])), None);
    let mut hot = l0.clone();
    hot[0] = exhausted(hot[0].clone());
    let t = merge(s.pick(&view(vec![hot.clone(), l1.clone()])));
    assert_eq!(
        (t.inputs, t.output_level, t.reason),
        (vec![(0, vec![11, 10]), (1, vec![1])], 1, PickReason::Seeks)
    );
    // The exhausted file busy: its siblings wait with it.
    hot[0] = busy(hot[0].clone());
    assert_eq!(s.pick(&view(vec![hot, l1])), None);
}

#[test]
fn a_deeper_file_out_of_seeks_merges_into_the_next_level_but_never_from_the_last() {
    let s = leveled();
    let l2 = vec![file(5, 2, "a", "f", 5), file(6, 2, "g", "p", 6)];
    let l1 = vec![
        file(1, 1, "a", "c", 10),
        exhausted(file(2, 1, "h", "k", 11)),
    ];
    let t = merge(s.pick(&view(vec![vec![], l1, l2])));
    assert_eq!(
        (t.inputs, t.output_level, t.reason),
        (vec![(1, vec![2]), (2, vec![6])], 2, PickReason::Seeks)
    );
    let mut levels = vec![Vec::new(); MAX_LEVELS];
    levels[LAST] = vec![exhausted(file(1, LAST, "a", "z", 1))];
    assert_eq!(s.pick(&view(levels)), None);
}

#[test]
fn a_level_over_its_target_goes_before_a_file_out_of_seeks() {
    let v = view(vec![
        vec![exhausted(file(10, 0, "a", "b", 40))],
        vec![sized(file(1, 1, "c", "d", 9), 65 * MIB)],
        vec![file(2, 2, "c", "z", 1)],
    ]);
    let t = merge(leveled().pick(&v));
    assert_eq!(
        (t.inputs, t.reason),
        (vec![(1, vec![1]), (2, vec![2])], PickReason::LevelSize)
    );
}

#[test]
fn busy_l0_files_are_left_out_and_block_what_overlaps_them() {
    let s = leveled();
    // An older busy L0 file apart from four idle ones: the idle ones go.
    let mut l0 = four_flushes();
    l0.push(busy(file(5, 0, "x", "y", 30)));
    let t = merge(s.pick(&view(vec![l0, vec![file(1, 1, "x", "y", 1)]])));
    assert_eq!(t.inputs, vec![(0, vec![13, 12, 11, 10])]);
    // Overlapping the busy one: their output would land among its output.
    let mut l0 = four_flushes();
    l0.push(busy(file(5, 0, "k", "y", 30)));
    assert_eq!(s.pick(&view(vec![l0, vec![]])), None);
}

#[test]
fn busy_files_below_are_never_merged_into() {
    let s = leveled();
    // L0 range meets a busy L1 file: no L0 compaction.
    let v = view(vec![four_flushes(), vec![busy(file(1, 1, "k", "p", 1))]]);
    assert_eq!(s.pick(&v), None);
    // The round robin skips the L1 file whose L2 overlap is busy.
    let v = view(vec![
        vec![],
        vec![
            sized(file(1, 1, "a", "c", 20), 100 * MIB),
            sized(file(2, 1, "d", "f", 21), 100 * MIB),
        ],
        vec![busy(file(3, 2, "b", "b", 1)), file(4, 2, "e", "e", 2)],
    ]);
    let t = merge(s.pick(&v));
    assert_eq!(t.inputs, vec![(1, vec![2]), (2, vec![4])]);
    assert_eq!(s.pick(&v).map(|p| p.files()), Some(vec![(1, 2), (2, 4)]));
    // A busy level file is not picked, even if it is the only one over target.
    let v = view(vec![
        vec![],
        vec![busy(sized(file(1, 1, "a", "c", 20), 100 * MIB))],
    ]);
    assert_eq!(s.pick(&v), None);
}

#[test]
fn scores_and_bottom_level() {
    let s = leveled();
    let v = view(vec![
        four_flushes(),
        vec![sized(file(1, 1, "a", "z", 1), 32 * MIB)],
    ]);
    assert_eq!(s.scores(&v), vec![1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(s.bottom_level(&v), 1);
    let big = view(vec![
        vec![],
        vec![],
        vec![sized(file(1, 2, "a", "z", 1), 1 << 39)],
    ]);
    assert_eq!(s.bottom_level(&big), 5);
    assert_eq!(s.level_target(3), 6400 * MIB);
    assert_eq!(s.manual_target_file_size(), DEFAULT_TARGET_FILE_SIZE);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every pick names idle files and passes `check_pick`; a merge from
    /// level n takes exactly the files of n+1 overlapping its level-n
    /// inputs; a move goes one level down.
    #[test]
    fn picks_are_sound_on_random_views(v in arb_view(), trigger in 1usize..6, base_log in 0u32..32) {
        let s = leveled().l0_trigger(trigger).base_level_size(1 << base_log);
        for _ in 0..3 {
            let Some(pick) = s.pick(&v) else { break };
            assert_sound(&v, &pick);
            match &pick {
                CompactionPick::Merge(t) => {
                    let (top, top_files) = &t.inputs[0];
                    prop_assert_eq!(t.output_level, top + 1);
                    let range = hull(top_files.iter().filter_map(|n| v.file(*top, *n))).unwrap();
                    let expected: Vec<u64> = v
                        .overlapping(top + 1, range.smallest, range.largest)
                        .map(|f| f.number)
                        .collect();
                    let got = t.inputs.get(1).map(|(_, n)| n.clone()).unwrap_or_default();
                    prop_assert_eq!(got, expected);
                    prop_assert!(t.inputs.len() <= 2);
                }
                CompactionPick::Move { files, to_level } => {
                    prop_assert!(files.iter().all(|(l, _)| l + 1 == *to_level));
                }
                CompactionPick::Drop { .. } => prop_assert!(false, "leveled never drops"),
            }
        }
    }
}
