//! Switching to a new manifest is crash-safe: whichever file-system call of
//! the switch fails, and whether the process then dies or the power goes,
//! recovery finds the old or the new manifest in force, never neither; once
//! `ManifestWriter::create` returned `Ok`, always the new one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use strata::manifest::{ManifestState, ManifestWriter, VersionEdit, recover};
use strata_core::{FaultFs, FileSystem, FsOp};

const OPS: [FsOp; 10] = [
    FsOp::Create,
    FsOp::Open,
    FsOp::Append,
    FsOp::Sync,
    FsOp::ReadAt,
    FsOp::Rename,
    FsOp::Remove,
    FsOp::List,
    FsOp::SyncDir,
    FsOp::Exists,
];

struct Setup {
    fs: FaultFs,
    dir: PathBuf,
    old: ManifestState,
    new: ManifestState,
    new_number: u64,
}

/// Manifest 1 holding some history (the old state), and the next state to
/// switch to with a new manifest number.
fn setup() -> Setup {
    let (fs, dir) = common::fresh_fs();
    let history = common::edit_history(8);
    common::write_manifest(&fs, &dir, &history[..7]);
    let old = history[6].1.clone();
    let mut new = history[7].1.clone();
    let new_number = new.next_file_number();
    let mut bump = VersionEdit::new();
    bump.next_file_number = Some(new_number + 1);
    new.apply(&bump).unwrap();
    Setup {
        fs,
        dir,
        old,
        new,
        new_number,
    }
}

fn switch(s: &Setup) -> strata_core::Result<ManifestWriter> {
    ManifestWriter::create(&s.fs, &s.dir, s.new_number, &s.new)
}

/// Which manifest recovery finds in force: `true` for the new one.
fn recovered_is_new(s: &Setup, context: &str) -> bool {
    let r = recover(&s.fs, &s.dir).unwrap_or_else(|e| panic!("{context}: neither manifest: {e}"));
    if r.manifest_number == s.new_number {
        assert_eq!(r.state, s.new, "{context}");
        true
    } else {
        assert_eq!(r.manifest_number, 1, "{context}");
        assert_eq!(r.state, s.old, "{context}");
        false
    }
}

/// Calls of each op a clean switch makes.
fn op_counts() -> Vec<(FsOp, u64)> {
    let s = setup();
    let before: Vec<u64> = OPS.iter().map(|&op| s.fs.op_count(op)).collect();
    switch(&s).unwrap();
    OPS.iter()
        .zip(before)
        .map(|(&op, b)| (op, s.fs.op_count(op) - b))
        .collect()
}

#[test]
fn a_completed_switch_survives_power_loss() {
    let s = setup();
    let mut w = switch(&s).unwrap();
    assert_eq!(w.number(), s.new_number);
    // The old manifest may go as soon as the switch returned.
    s.fs.remove(&s.dir.join("MANIFEST-000001")).unwrap();
    let mut more = VersionEdit::new();
    more.last_seqno = Some(s.new.last_seqno() + 10);
    w.append(&more).unwrap();
    s.fs.power_loss();
    let r = recover(&s.fs, &s.dir).unwrap();
    assert_eq!(r.manifest_number, s.new_number);
    let mut expected = s.new.clone();
    expected.apply(&more).unwrap();
    assert_eq!(r.state, expected);
    assert_eq!(r.edits, 2);
}

#[test]
fn a_failure_at_any_call_of_the_switch_leaves_old_or_new_in_force() {
    let counts = op_counts();
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    assert!(total >= 9, "the switch makes at least 9 calls: {counts:?}");
    let mut outcomes = (0, 0);
    for (op, n) in counts {
        for nth in 0..n {
            for power_loss in [false, true] {
                let s = setup();
                s.fs.fail_nth(op, nth);
                let result = switch(&s);
                let context = format!("{op:?} #{nth} fails, power loss {power_loss}");
                if power_loss {
                    s.fs.power_loss();
                } else {
                    s.fs.crash();
                }
                let is_new = recovered_is_new(&s, &context);
                if result.is_ok() {
                    assert!(
                        is_new,
                        "{context}: switch returned Ok but the old manifest is in force"
                    );
                }
                if is_new {
                    outcomes.1 += 1;
                } else {
                    outcomes.0 += 1;
                }
                // Recovery still works after the leftovers of a failed switch,
                // and a later switch to yet another manifest succeeds.
                let mut later = recover(&s.fs, &s.dir).unwrap().state;
                let number = later.next_file_number();
                let mut bump = VersionEdit::new();
                bump.next_file_number = Some(number + 1);
                later.apply(&bump).unwrap();
                ManifestWriter::create(&s.fs, &s.dir, number, &later).unwrap();
                s.fs.power_loss();
                assert_eq!(recover(&s.fs, &s.dir).unwrap().state, later, "{context}");
            }
        }
    }
    assert!(outcomes.0 > 0 && outcomes.1 > 0, "{outcomes:?}");
}

#[test]
fn a_failed_final_dir_sync_is_undecided_until_recovery() {
    // Rename done but not durable: a crash keeps it, a power loss undoes it.
    for (power_loss, expect_new) in [(false, true), (true, false)] {
        let s = setup();
        s.fs.fail_nth(FsOp::SyncDir, 1);
        assert!(switch(&s).is_err());
        if power_loss {
            s.fs.power_loss();
        } else {
            s.fs.crash();
        }
        assert_eq!(recovered_is_new(&s, "final sync_dir"), expect_new);
    }
}

#[test]
fn the_live_manifest_number_and_unallocated_numbers_are_refused() {
    let s = setup();
    let err = ManifestWriter::create(&s.fs, &s.dir, 1, &s.new).unwrap_err();
    assert!(
        matches!(err, strata_core::Error::InvalidArgument(_)),
        "{err}"
    );
    let too_high = s.new.next_file_number();
    let err = ManifestWriter::create(&s.fs, &s.dir, too_high, &s.new).unwrap_err();
    assert!(
        matches!(err, strata_core::Error::InvalidArgument(_)),
        "{err}"
    );
    // Nothing changed: the old manifest is still in force and intact.
    assert!(!recovered_is_new(&s, "refused create"));
}
