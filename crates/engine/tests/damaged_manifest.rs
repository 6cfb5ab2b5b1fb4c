//! A damaged manifest never recovers to a wrong state: every truncation gives
//! the state after a prefix of the edits (or, with no complete edit,
//! Corruption), and every single-byte flip gives Corruption or a prefix state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use strata::manifest::{ManifestState, ManifestWriter, VersionEdit, recover};
use strata_core::{Error, FaultFs, FileSystem};

/// Byte offset where each record of the manifest ends, from a clean write.
fn record_ends(fs: &FaultFs, dir: &Path, history: &[(VersionEdit, ManifestState)]) -> Vec<u64> {
    let mut w = ManifestWriter::create(fs, dir, 1, &history[0].1).unwrap();
    let mut ends = vec![w.size()];
    for (e, _) in &history[1..] {
        w.append(e).unwrap();
        ends.push(w.size());
    }
    ends
}

#[test]
fn recovery_of_an_intact_manifest_gives_the_last_state() {
    let (fs, dir) = common::fresh_fs();
    let history = common::edit_history(40);
    let path = common::write_manifest(&fs, &dir, &history);
    let r = recover(&fs, &dir).unwrap();
    assert_eq!(&r.state, &history.last().unwrap().1);
    assert_eq!(r.manifest_number, 1);
    assert_eq!(r.edits, 40);
    assert_eq!(Some(r.manifest_size), fs.file_len(&path));
    assert!(r.torn_tail.is_none());
}

#[test]
fn every_truncation_recovers_a_prefix_state() {
    let (fs, dir) = common::fresh_fs();
    let history = common::edit_history(30);
    let ends = record_ends(&fs, &dir, &history);
    let path = dir.join("MANIFEST-000001");
    let full = fs.read_all(&path).unwrap();
    assert_eq!(full.len() as u64, *ends.last().unwrap());
    for cut in 0..=full.len() {
        common::overwrite(&fs, &path, &full[..cut]);
        // Records wholly inside the cut survive; the first cut one is dropped.
        let complete = ends.iter().filter(|&&e| e <= cut as u64).count();
        match recover(&fs, &dir) {
            Ok(r) => {
                assert!(complete > 0, "cut {cut}: recovered with no complete edit");
                assert_eq!(r.edits as usize, complete, "cut {cut}");
                assert_eq!(r.state, history[complete - 1].1, "cut {cut}");
                let torn = complete < history.len() && cut as u64 > ends[complete - 1];
                assert_eq!(r.torn_tail.is_some(), torn, "cut {cut}");
            }
            Err(e) => {
                assert_eq!(complete, 0, "cut {cut}: {e}");
                assert!(e.is_corruption(), "cut {cut}: {e}");
            }
        }
    }
}

#[test]
fn a_multi_block_manifest_truncated_anywhere_recovers_a_prefix() {
    // Big edits (many files) so records span the 32 KiB blocks.
    let (fs, dir) = common::fresh_fs();
    let mut history = Vec::new();
    let mut state = ManifestState::new();
    let mut number = 1;
    for i in 0..12u32 {
        let mut e = VersionEdit::new();
        for _ in 0..150 {
            number += 1;
            e.add_file(0, common::meta(number, i, i + 3));
        }
        e.next_file_number = Some(number + 1);
        e.last_seqno = Some(number * 10 + 9);
        e.log_number = Some(number);
        state.apply(&e).unwrap();
        history.push((e, state.clone()));
    }
    let ends = record_ends(&fs, &dir, &history);
    let path = dir.join("MANIFEST-000001");
    let full = fs.read_all(&path).unwrap();
    assert!(full.len() > 2 * 32 * 1024, "{}", full.len());
    for cut in (0..=full.len()).step_by(997).chain([full.len() - 1]) {
        common::overwrite(&fs, &path, &full[..cut]);
        let complete = ends.iter().filter(|&&e| e <= cut as u64).count();
        match recover(&fs, &dir) {
            Ok(r) => assert_eq!(r.state, history[complete - 1].1, "cut {cut}"),
            Err(e) => assert!(complete == 0 && e.is_corruption(), "cut {cut}: {e}"),
        }
    }
}

#[test]
fn every_byte_flip_gives_corruption_or_a_prefix_state() {
    let (fs, dir) = common::fresh_fs();
    let history = common::edit_history(12);
    let path = common::write_manifest(&fs, &dir, &history);
    let full = fs.read_all(&path).unwrap();
    let (mut corrupt, mut prefix) = (0, 0);
    for i in 0..full.len() {
        for xor in [0x01, 0x80] {
            let mut bytes = full.clone();
            bytes[i] ^= xor;
            common::overwrite(&fs, &path, &bytes);
            match recover(&fs, &dir) {
                Ok(r) => {
                    let n = r.edits as usize;
                    assert!(n >= 1 && n <= history.len(), "byte {i}");
                    assert_eq!(r.state, history[n - 1].1, "byte {i} ^ {xor:#x}");
                    prefix += 1;
                }
                Err(Error::Corruption { file, .. }) => {
                    assert_eq!(file, path, "byte {i}");
                    corrupt += 1;
                }
                Err(e) => panic!("byte {i}: unexpected error {e}"),
            }
        }
    }
    // Flips in the last record are a torn tail; earlier ones are corruption.
    assert!(corrupt > 0 && prefix > 0, "{corrupt} {prefix}");
}

#[test]
fn a_torn_last_append_is_dropped_and_reported() {
    let (fs, dir) = common::fresh_fs();
    let history = common::edit_history(5);
    let mut w = ManifestWriter::create(&fs, &dir, 1, &history[0].1).unwrap();
    for (e, _) in &history[1..4] {
        w.append(e).unwrap();
    }
    fs.tear_nth_append(0, 10);
    assert!(w.append(&history[4].0).is_err());
    // The writer refuses to go on after a failure.
    assert!(w.append(&history[4].0).is_err());
    fs.power_loss();
    let r = recover(&fs, &dir).unwrap();
    assert_eq!(r.state, history[3].1);
    // The torn bytes were never synced, so power loss removed them...
    assert!(r.torn_tail.is_none());

    // ...while a process crash keeps them, and recovery reports the drop.
    let (fs, dir) = common::fresh_fs();
    let mut w = ManifestWriter::create(&fs, &dir, 1, &history[0].1).unwrap();
    fs.tear_nth_append(0, 10);
    assert!(w.append(&history[1].0).is_err());
    fs.crash();
    let r = recover(&fs, &dir).unwrap();
    assert_eq!(r.state, history[0].1);
    let torn = r.torn_tail.expect("the torn edit is reported");
    assert!(torn.is_torn_tail());
    assert_eq!(torn.bytes, 10);
}

#[test]
fn an_edit_that_does_not_apply_is_corruption_at_its_offset() {
    let (fs, dir) = common::fresh_fs();
    let history = common::edit_history(3);
    let mut w = ManifestWriter::create(&fs, &dir, 1, &history[0].1).unwrap();
    let before = w.size();
    // Removes a file that is not live: appending does not check, replay does.
    let mut bad = VersionEdit::new();
    bad.remove_file(2, 999);
    w.append(&bad).unwrap();
    match recover(&fs, &dir).unwrap_err() {
        Error::Corruption { offset, reason, .. } => {
            assert_eq!(offset, before, "{reason}");
            assert!(reason.contains("999"), "{reason}");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn an_edit_making_l1_overlap_is_refused_by_apply_and_corrupt_on_replay() {
    let (fs, dir) = common::fresh_fs();
    let mut state = ManifestState::new();
    let mut e = VersionEdit::new();
    e.next_file_number = Some(10);
    state.apply(&e).unwrap();
    let mut w = ManifestWriter::create(&fs, &dir, 1, &state).unwrap();
    let mut overlap = VersionEdit::new();
    overlap.add_file(1, common::meta(2, 0, 10));
    overlap.add_file(1, common::meta(3, 5, 15));
    // The caller applies before appending, and learns here...
    let before = state.clone();
    let err = state.apply(&overlap).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert_eq!(state, before, "a refused edit changes nothing");
    // ...and a manifest that holds such an edit anyway does not recover.
    w.append(&overlap).unwrap();
    let err = recover(&fs, &dir).unwrap_err();
    assert!(err.is_corruption(), "{err}");
}

/// Writes manifest `number` holding exactly `edits` (no snapshot is added)
/// and points `CURRENT` at it.
fn forge_manifest(fs: &FaultFs, dir: &Path, number: u64, edits: &[VersionEdit]) {
    let mut log = strata_wal::LogWriter::new(
        fs.create(&dir.join(format!("MANIFEST-{number:06}")))
            .unwrap(),
    );
    for e in edits {
        log.add_record(&e.encode()).unwrap();
    }
    log.sync().unwrap();
    common::overwrite(
        fs,
        &dir.join("CURRENT"),
        format!("MANIFEST-{number:06}\n").as_bytes(),
    );
}

fn counters(log: u64, next: u64, last: u64) -> VersionEdit {
    let mut e = VersionEdit::new();
    e.log_number = Some(log);
    e.next_file_number = Some(next);
    e.last_seqno = Some(last);
    e
}

#[test]
fn implausible_counters_are_corruption() {
    let (fs, dir) = common::fresh_fs();
    let corrupt = |edits: &[VersionEdit], number: u64| {
        forge_manifest(&fs, &dir, number, edits);
        let e = recover(&fs, &dir).unwrap_err();
        assert!(e.is_corruption(), "{e}");
        e.to_string()
    };
    // The sane baseline recovers.
    forge_manifest(&fs, &dir, 1, &[counters(2, 3, 0)]);
    recover(&fs, &dir).unwrap();

    // A first edit that is not a snapshot.
    let mut partial = VersionEdit::new();
    partial.next_file_number = Some(3);
    assert!(corrupt(&[partial], 1).contains("snapshot"));
    // The manifest's own number is not below the next file number.
    assert!(corrupt(&[counters(2, 5, 0)], 5).contains("next file number"));
    // File numbers near the end of the u64 range.
    assert!(corrupt(&[counters(2, u64::MAX - 1, 0)], 1).contains("implausibly"));
    // A table newer than the last seqno the manifest claims.
    let mut snapshot = counters(2, 10, 5);
    snapshot.add_file(0, common::meta(4, 1, 2)); // max seqno 49
    assert!(corrupt(&[snapshot], 1).contains("above the last seqno"));
}
