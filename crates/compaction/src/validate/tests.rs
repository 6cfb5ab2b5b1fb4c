use super::*;
use crate::task::{CompactionTask, PickReason};
use crate::testutil::{busy, file, view};

fn merge(inputs: Vec<(usize, Vec<u64>)>, output_level: usize) -> CompactionPick {
    CompactionPick::Merge(CompactionTask {
        inputs,
        output_level,
        target_file_size: 1,
        reason: PickReason::Custom("test"),
    })
}

fn ok(v: &LevelsView, pick: CompactionPick) {
    if let Err(e) = v.check_pick(&pick) {
        panic!("{pick:?} rejected: {e}");
    }
}

fn rejected(v: &LevelsView, pick: CompactionPick, why: &str) {
    match v.check_pick(&pick) {
        Err(Error::InvalidArgument(msg)) => assert!(msg.contains(why), "{msg}"),
        other => panic!("{pick:?} gave {other:?}, expected a rejection for {why}"),
    }
}

#[test]
fn names_must_be_existing_idle_files_once() {
    let v = view(vec![vec![
        file(1, 0, "a", "b", 5),
        busy(file(2, 0, "x", "y", 4)),
    ]]);
    ok(&v, merge(vec![(0, vec![1])], 0));
    rejected(&v, merge(vec![(0, vec![3])], 0), "no file 3");
    rejected(&v, merge(vec![(1, vec![1])], 1), "no file 1 in L1");
    rejected(&v, merge(vec![(0, vec![1, 1])], 0), "twice");
    rejected(&v, merge(vec![(0, vec![2])], 0), "being compacted");
    rejected(&v, merge(vec![(0, vec![])], 0), "empty");
    rejected(&v, CompactionPick::Drop { files: vec![] }, "no file");
    rejected(&v, merge(vec![(0, vec![1])], MAX_LEVELS), "output");
}

#[test]
fn merges_keep_deeper_levels_disjoint() {
    let v = view(vec![
        vec![],
        vec![
            file(1, 1, "a", "c", 20),
            file(2, 1, "d", "f", 21),
            file(3, 1, "g", "i", 22),
        ],
        vec![file(4, 2, "b", "e", 10), file(5, 2, "h", "h", 11)],
    ]);
    ok(&v, merge(vec![(1, vec![1, 2]), (2, vec![4])], 2));
    rejected(&v, merge(vec![(1, vec![1])], 2), "file 4 overlaps");
    // L1 inputs must be contiguous: 2 sits between 1 and 3.
    rejected(
        &v,
        merge(vec![(1, vec![1, 3]), (2, vec![4, 5])], 2),
        "file 2 overlaps",
    );
    rejected(&v, merge(vec![(2, vec![4])], 1), "above an input");
}

#[test]
fn data_leaving_l0_passes_only_newer_l0_files() {
    // 1 is the newest; 2 and 3 both overlap it.
    let v = view(vec![vec![
        file(1, 0, "a", "m", 30),
        file(2, 0, "c", "d", 20),
        file(3, 0, "k", "z", 10),
    ]]);
    ok(&v, merge(vec![(0, vec![2, 3])], 1));
    rejected(&v, merge(vec![(0, vec![1, 2])], 1), "L0 file 3");
    ok(
        &v,
        CompactionPick::Move {
            files: vec![(0, 3)],
            to_level: 1,
        },
    );
    ok(
        &v,
        CompactionPick::Move {
            files: vec![(0, 2)],
            to_level: 1,
        },
    );
    rejected(
        &v,
        CompactionPick::Move {
            files: vec![(0, 1)],
            to_level: 1,
        },
        "older L0 file",
    );
}

#[test]
fn l0_merges_may_not_straddle_an_overlapping_file() {
    let v = view(vec![vec![
        file(1, 0, "a", "m", 30),
        file(2, 0, "c", "d", 20),
        file(3, 0, "k", "z", 10),
        file(4, 0, "x", "z", 5),
    ]]);
    // 1 and 3 straddle 2, which overlaps them; 2 and 4 straddle 3.
    rejected(&v, merge(vec![(0, vec![1, 3])], 0), "L0 file 2");
    rejected(&v, merge(vec![(0, vec![2, 4])], 0), "L0 file 3");
    ok(&v, merge(vec![(0, vec![1, 2])], 0));
    // 1 and 4 straddle 2 and 3: the merged run would cover a..z.
    rejected(&v, merge(vec![(0, vec![1, 4])], 0), "L0 file 2");
    // Busy files count as one future run: 2 and 4 busy straddle 3.
    let v = view(vec![vec![
        file(1, 0, "a", "m", 30),
        busy(file(2, 0, "c", "d", 20)),
        file(3, 0, "c", "z", 10),
        busy(file(4, 0, "x", "z", 5)),
    ]]);
    rejected(&v, merge(vec![(0, vec![3])], 0), "interleave");
    ok(&v, merge(vec![(0, vec![1])], 0));
}

#[test]
fn moves_need_a_clear_path() {
    let v = view(vec![
        vec![file(1, 0, "a", "b", 30), file(2, 0, "c", "d", 31)],
        vec![file(3, 1, "x", "y", 20)],
        vec![file(4, 2, "a", "a", 10)],
    ]);
    ok(
        &v,
        CompactionPick::Move {
            files: vec![(0, 1), (0, 2)],
            to_level: 1,
        },
    );
    rejected(
        &v,
        CompactionPick::Move {
            files: vec![(0, 1)],
            to_level: 2,
        },
        "overlaps file 4",
    );
    rejected(
        &v,
        CompactionPick::Move {
            files: vec![(1, 3)],
            to_level: 1,
        },
        "cannot move",
    );
    let overlapping = view(vec![vec![
        file(1, 0, "a", "c", 30),
        file(2, 0, "b", "d", 31),
    ]]);
    let both = CompactionPick::Move {
        files: vec![(0, 1), (0, 2)],
        to_level: 1,
    };
    rejected(&overlapping, both, "overlap");
}

#[test]
fn drops_need_expired_files_that_hide_nothing_older() {
    let expired = |mut f: FileView| {
        f.num_expiring = f.num_entries;
        f.max_expiry_ms = 10;
        f
    };
    let mut v = view(vec![vec![
        expired(file(1, 0, "a", "c", 30)),
        file(2, 0, "b", "d", 20),
        expired(file(3, 0, "x", "z", 10)),
    ]]);
    v.now_ms = 10;
    ok(
        &v,
        CompactionPick::Drop {
            files: vec![(0, 3)],
        },
    );
    rejected(
        &v,
        CompactionPick::Drop {
            files: vec![(0, 1)],
        },
        "older data of file 2",
    );
    v.now_ms = 9;
    rejected(
        &v,
        CompactionPick::Drop {
            files: vec![(0, 3)],
        },
        "live entries",
    );
}

#[test]
fn outputs_stay_clear_of_running_compactions() {
    // An L0 -> L1 compaction of 1 and 2 is running; its output may
    // span a..z in L1, so 3 cannot go to L1 even though it overlaps
    // neither busy file.
    let v = view(vec![
        vec![
            file(3, 0, "m", "n", 40),
            busy(file(1, 0, "a", "c", 30)),
            busy(file(2, 0, "x", "z", 20)),
        ],
        vec![],
        vec![file(4, 2, "m", "n", 10)],
    ]);
    rejected(&v, merge(vec![(0, vec![3])], 1), "running in L0");
    rejected(
        &v,
        CompactionPick::Move {
            files: vec![(0, 3)],
            to_level: 1,
        },
        "running in L0",
    );
    // Deeper work elsewhere is fine.
    ok(
        &v,
        CompactionPick::Move {
            files: vec![(2, 4)],
            to_level: 3,
        },
    );
    // An L1 -> L2 compaction at a..c leaves e..f free.
    let v = view(vec![
        vec![],
        vec![busy(file(1, 1, "a", "c", 20)), file(2, 1, "e", "f", 21)],
        vec![busy(file(3, 2, "b", "d", 10)), file(4, 2, "f", "g", 11)],
    ]);
    ok(&v, merge(vec![(1, vec![2]), (2, vec![4])], 2));
    let v = view(vec![
        vec![],
        vec![busy(file(1, 1, "a", "c", 20)), file(2, 1, "d", "f", 21)],
        vec![busy(file(3, 2, "b", "e", 10))],
    ]);
    rejected(
        &v,
        merge(vec![(1, vec![2]), (2, vec![3])], 2),
        "being compacted",
    );
    rejected(
        &v,
        CompactionPick::Move {
            files: vec![(1, 2)],
            to_level: 2,
        },
        "overlaps file 3",
    );
}
