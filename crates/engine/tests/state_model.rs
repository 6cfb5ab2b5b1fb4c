//! `ManifestState::apply` against a `BTreeMap` model: random sequences of
//! valid and invalid edits. Valid edits change the state exactly as the model
//! says; invalid ones are refused and leave the state unchanged; invariants
//! and the snapshot edit hold after every step.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use strata::manifest::{FileMetadata, MAX_LEVELS, ManifestState, VersionEdit};
use strata_core::Error;

#[derive(Debug, Clone)]
enum Op {
    /// Add a new file at `level` covering `lo..=lo+span` (falls back to L0 if
    /// it would overlap in that level).
    Add { level: u8, lo: u32, span: u32 },
    /// Remove a live file.
    Remove(prop::sample::Index),
    /// Move a live file to another level in one edit (remove + add).
    Move(prop::sample::Index, u8),
    /// Invalid: remove a file that is not live (or from the wrong level).
    BadRemove(prop::sample::Index),
    /// Invalid: add a file number that is already live.
    BadDuplicate(prop::sample::Index),
    /// Invalid: lower the last seqno.
    BadLowerSeqno,
    /// Invalid: add a file numbered at or above the next file number.
    BadNumberTooHigh,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..MAX_LEVELS as u8, 0u32..200, 0u32..20).prop_map(|(level, lo, span)| Op::Add { level, lo, span }),
        2 => any::<prop::sample::Index>().prop_map(Op::Remove),
        1 => (any::<prop::sample::Index>(), 0..MAX_LEVELS as u8).prop_map(|(i, l)| Op::Move(i, l)),
        1 => any::<prop::sample::Index>().prop_map(Op::BadRemove),
        1 => any::<prop::sample::Index>().prop_map(Op::BadDuplicate),
        1 => Just(Op::BadLowerSeqno),
        1 => Just(Op::BadNumberTooHigh),
    ]
}

#[derive(Debug, Default)]
struct Model {
    files: BTreeMap<u64, (u8, FileMetadata)>,
    next: u64,
    last_seqno: u64,
    log: u64,
}

impl Model {
    fn fits(&self, level: u8, m: &FileMetadata, ignoring: u64) -> bool {
        level == 0
            || self.files.values().all(|(l, f)| {
                *l != level
                    || f.number == ignoring
                    || f.largest.user_key < m.smallest.user_key
                    || m.largest.user_key < f.smallest.user_key
            })
    }

    fn pick(&self, i: &prop::sample::Index) -> Option<(u64, u8)> {
        if self.files.is_empty() {
            return None;
        }
        let (n, (l, _)) = self.files.iter().nth(i.index(self.files.len()))?;
        Some((*n, *l))
    }
}

fn assert_matches(state: &ManifestState, model: &Model) {
    for level in 0..MAX_LEVELS {
        let got: Vec<_> = state.level(level).unwrap().iter().cloned().collect();
        let want: Vec<_> = model
            .files
            .values()
            .filter(|(l, _)| usize::from(*l) == level)
            .map(|(_, f)| f.clone())
            .collect();
        assert_eq!(got, want, "level {level}");
    }
    for (n, (l, _)) in &model.files {
        assert_eq!(state.level_of(*n), Some(*l));
    }
    assert_eq!(state.file_count(), model.files.len());
    assert_eq!(state.next_file_number(), model.next);
    assert_eq!(state.last_seqno(), model.last_seqno);
    assert_eq!(state.log_number(), model.log);
    state.check_invariants().unwrap();
    let mut rebuilt = ManifestState::new();
    rebuilt.apply(&state.snapshot_edit()).unwrap();
    assert_eq!(&rebuilt, state);
}

fn expect_refused(state: &mut ManifestState, edit: &VersionEdit) {
    let before = state.clone();
    let err = state.apply(edit).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert_eq!(*state, before, "a refused edit must change nothing");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn apply_matches_model(ops in proptest::collection::vec(op(), 1..60)) {
        let mut state = ManifestState::new();
        let mut model = Model { next: 1, ..Model::default() };
        for (step, op) in ops.iter().enumerate() {
            let mut edit = VersionEdit::new();
            match op {
                Op::Add { level, lo, span } => {
                    let number = model.next;
                    let m = common::meta(number, *lo, lo + span);
                    let level = if model.fits(*level, &m, u64::MAX) { *level } else { 0 };
                    edit.add_file(level, m.clone());
                    edit.next_file_number = Some(number + 1);
                    edit.last_seqno = Some(model.last_seqno + 1000);
                    edit.log_number = Some(number);
                    model.files.insert(number, (level, m));
                    model.next = number + 1;
                    model.last_seqno += 1000;
                    model.log = number;
                }
                Op::Remove(i) => {
                    let Some((n, l)) = model.pick(i) else { continue };
                    edit.remove_file(l, n);
                    model.files.remove(&n);
                }
                Op::Move(i, to) => {
                    let Some((n, l)) = model.pick(i) else { continue };
                    let m = model.files[&n].1.clone();
                    if !model.fits(*to, &m, n) { continue }
                    edit.remove_file(l, n);
                    edit.add_file(*to, m.clone());
                    model.files.insert(n, (*to, m));
                }
                Op::BadRemove(i) => {
                    match model.pick(i) {
                        // Right number, wrong level.
                        Some((n, l)) => edit.remove_file((l + 1) % MAX_LEVELS as u8, n),
                        None => edit.remove_file(0, 1),
                    }
                    expect_refused(&mut state, &edit);
                    continue;
                }
                Op::BadDuplicate(i) => {
                    let Some((n, _)) = model.pick(i) else { continue };
                    edit.add_file(0, common::meta(n, 0, 1));
                    expect_refused(&mut state, &edit);
                    continue;
                }
                Op::BadLowerSeqno => {
                    if model.last_seqno == 0 { continue }
                    edit.last_seqno = Some(model.last_seqno - 1);
                    expect_refused(&mut state, &edit);
                    continue;
                }
                Op::BadNumberTooHigh => {
                    edit.add_file(0, common::meta(model.next, 0, 1));
                    expect_refused(&mut state, &edit);
                    continue;
                }
            }
            state.apply(&edit).unwrap_or_else(|e| panic!("step {step} {op:?}: {e}"));
            assert_matches(&state, &model);
        }
    }
}

#[test]
fn trivial_move_in_one_edit_and_double_removal_refused() {
    let mut state = ManifestState::new();
    let mut e = VersionEdit::new();
    e.next_file_number = Some(10);
    e.add_file(0, common::meta(5, 0, 9));
    state.apply(&e).unwrap();

    let mut mv = VersionEdit::new();
    mv.remove_file(0, 5);
    mv.add_file(3, common::meta(5, 0, 9));
    state.apply(&mv).unwrap();
    assert_eq!(state.level_of(5), Some(3));

    let mut twice = VersionEdit::new();
    twice.remove_file(3, 5);
    twice.remove_file(3, 5);
    expect_refused(&mut state, &twice);

    let mut added_twice = VersionEdit::new();
    added_twice.add_file(0, common::meta(6, 0, 9));
    added_twice.add_file(1, common::meta(6, 0, 9));
    expect_refused(&mut state, &added_twice);

    let mut log_too_high = VersionEdit::new();
    log_too_high.log_number = Some(10);
    expect_refused(&mut state, &log_too_high);

    let mut beyond = VersionEdit::new();
    beyond.add_file(MAX_LEVELS as u8, common::meta(7, 0, 9));
    expect_refused(&mut state, &beyond);
}

#[test]
fn overlap_is_allowed_in_l0_and_refused_in_l1() {
    let mut state = ManifestState::new();
    let mut e = VersionEdit::new();
    e.next_file_number = Some(10);
    e.add_file(0, common::meta(1, 0, 10));
    e.add_file(0, common::meta(2, 5, 15));
    state.apply(&e).unwrap();
    state.check_invariants().unwrap();

    let mut e = VersionEdit::new();
    e.add_file(1, common::meta(3, 0, 10));
    // Shares user key 10 with file 3: overlap, though the internal keys differ.
    e.add_file(1, common::meta(4, 10, 20));
    let err = state.apply(&e).unwrap_err();
    assert!(err.to_string().contains("L1"), "{err}");
    state.check_invariants().unwrap();
    // Against files already in the level too, not only within one edit.
    let mut e = VersionEdit::new();
    e.add_file(1, common::meta(3, 0, 10));
    state.apply(&e).unwrap();
    let mut e = VersionEdit::new();
    e.add_file(1, common::meta(4, 10, 20));
    assert!(state.apply(&e).is_err());
    // Moving the old file out in the same edit makes room.
    e.removed_files.push((1, 3));
    state.apply(&e).unwrap();
    state.check_invariants().unwrap();
}
