//! Directory-level corruption sweep. A small closed database (tables in L0
//! and L1, a manifest of six edits, a WAL of unflushed writes, one of them
//! spanning two log blocks) is damaged one way at a time: one flipped bit
//! at every byte of every file, and a truncation to every length (in the
//! 40 KiB WAL: every byte near a record or block boundary and every 61st
//! byte). Each damaged copy is checked:
//!
//! * `strata::verify` on the real directory (what `strata verify` runs)
//!   names the damaged file and the offset of the damaged table block,
//!   footer or log record, with no other problem; a torn WAL tail is a
//!   warning at the torn record; a manifest cut at a record boundary is
//!   caught through the files the shorter history needs. The only damage it
//!   cannot see is a WAL cut exactly at a record boundary (a shorter log is
//!   a valid log).
//! * `Db::open` in the default mode refuses with `Error::Corruption` naming
//!   the damaged (or a missing) file, or opens; then what it dropped is in
//!   its recovery report, every key reads its right value or
//!   `Error::Corruption` at the damaged structure (never a wrong value),
//!   keys whose lookup does not touch it read right, keys whose newest
//!   version it holds fail, and a full scan either way returns right
//!   entries up to such an error. Every 17th damaged table also gets a full
//!   compaction, which must fail with `Corruption` and change nothing.
//! * `RecoveryMode::Strict` refuses every detectable damage of `CURRENT`,
//!   the manifest or the WAL.
//!
//! The tallies go to stderr (`cargo test -p strata --test corruption_sweep
//! -- --nocapture`) for `docs/reliability.md`. Files: `sweep/mod.rs` builds
//! the database and maps it, `sweep/check.rs` damages and checks a copy,
//! `sweep/tally.rs` counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod sweep;

use std::collections::BTreeMap;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Instant;

use strata::{Db, Error, FileKind, RecoveryMode, verify};
use sweep::tally::Tally;
use sweep::{Pristine, options};

#[test]
fn every_damaged_file_is_detected_and_never_read_as_wrong_data() {
    let started = Instant::now();
    let pristine = Pristine::build();
    eprintln!("{}", pristine.describe());
    let mut tally: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for damage in pristine.damages() {
        let outcome = match catch_unwind(AssertUnwindSafe(|| pristine.check(&damage))) {
            Ok(o) => o,
            Err(panic) => {
                eprintln!("failed on {damage:?}");
                resume_unwind(panic);
            }
        };
        let kind = pristine.kind_of(damage.file());
        tally.entry(kind).or_default().add(&damage, &outcome);
    }
    let mut total = Tally::default();
    eprintln!("{}", Tally::header());
    for (kind, t) in &tally {
        eprintln!("{}", t.row(kind));
        total.merge(t);
    }
    eprintln!("{}", total.row("total"));
    eprintln!("{}", Tally::reads_header());
    for (kind, t) in &tally {
        eprintln!("{}", t.reads_row(kind));
    }
    eprintln!("{}", total.reads_row("total"));
    eprintln!(
        "{} damaged copies checked in {:.1} s",
        total.variants,
        started.elapsed().as_secs_f64()
    );
    for kind in ["CURRENT", "MANIFEST", "WAL", "table L0", "table L1"] {
        let t = tally
            .get(kind)
            .unwrap_or_else(|| panic!("no {kind} damaged"));
        assert!(t.flips > 0 && t.cuts > 0, "{kind}: {t:?}");
    }
    // What verify passes: WAL cuts exactly at a record boundary (writes
    // lost, undetectable) and flips in a WAL block's padding (harmless).
    assert_eq!(
        total.verify_ok,
        total.wal_boundary_cuts + total.padding_flips,
        "{total:?}"
    );
    assert_eq!(total.padding_flips, sweep::PADDING, "{total:?}");
    eprintln!(
        "verify passed {} copies: {} WAL cuts at a record boundary, {} flips in WAL block padding",
        total.verify_ok, total.wal_boundary_cuts, total.padding_flips
    );
}

/// Every file the pristine copy holds is still there (no open deleted a
/// table or WAL as a leftover).
fn nothing_deleted(p: &Pristine) {
    for name in p.files.keys() {
        assert!(p.dir().join(name).exists(), "{name} was deleted");
    }
}

/// Regression: a bit flip in the manifest's last edit (a flush) passed for
/// a torn write. Open dropped the edit, served the values that flush had
/// overwritten (from an older table), and deleted the flush's table as a
/// leftover. Now the WAL the older history needs is missing, which proves
/// the edit was synced: open refuses, naming the manifest and the record.
#[test]
fn a_damaged_last_manifest_edit_is_refused_not_replayed_stale() {
    let p = Pristine::build();
    let (start, end) = *p.records[&p.manifest].last().unwrap();
    let path = p.dir().join(&p.manifest);
    let mut bytes = p.files[&p.manifest].clone();
    bytes[usize::try_from((start + end) / 2).unwrap()] ^= 0x10;
    fs::write(&path, &bytes).unwrap();
    for mode in [RecoveryMode::TolerateTornTail, RecoveryMode::Strict] {
        match Db::open(p.dir(), options().recovery_mode(mode)) {
            Err(Error::Corruption { file, offset, .. }) => {
                assert_eq!((file, offset), (path.clone(), start), "{mode:?}");
            }
            Err(e) => panic!("{mode:?}: {e}"),
            Ok(db) => panic!("{mode:?}: opened: {:?}", db.recovery_report()),
        }
    }
    nothing_deleted(&p);
}

/// Regression: a manifest cut exactly after one of its records replays
/// cleanly to an older state. Verify passed it (listing the newer tables as
/// leftovers) and open replayed it, deleting those tables. Now both name
/// the WAL that state needs, which a later flush deleted.
#[test]
fn a_manifest_cut_at_a_record_boundary_is_caught_by_the_wal_it_needs() {
    let p = Pristine::build();
    let path = p.dir().join(&p.manifest);
    let (_, snapshot_end) = p.records[&p.manifest][0];
    let cut = &p.files[&p.manifest][..usize::try_from(snapshot_end).unwrap()];
    fs::write(&path, cut).unwrap();

    let report = verify(p.dir()).unwrap();
    let problems: Vec<_> = report.problems().collect();
    assert_eq!(problems.len(), 1, "{report}");
    let missing = problems[0].path.clone();
    assert_eq!(problems[0].kind, FileKind::Wal, "{report}");
    assert!(!missing.exists(), "{report}");

    match Db::open(p.dir(), options()) {
        Err(Error::Corruption { file, .. }) => assert_eq!(file, missing),
        Err(e) => panic!("{e}"),
        Ok(db) => panic!("opened: {:?}", db.recovery_report()),
    }
    nothing_deleted(&p);
}

/// A torn last manifest edit that loses nothing (a crash during an append
/// leaves one): the default mode drops and reports it and keeps every
/// write; `RecoveryMode::Strict` refuses it (it used to drop it silently,
/// as the default mode does).
#[test]
fn strict_open_refuses_a_torn_manifest_edit_the_default_mode_drops() {
    let p = Pristine::build();
    let path = p.dir().join(&p.manifest);
    let intact = p.files[&p.manifest].len() as u64;
    let (start, _) = *p.records[&p.manifest].last().unwrap();
    // The start of a copy of the last record: a header claiming more bytes
    // than follow.
    let mut torn = p.files[&p.manifest].clone();
    torn.extend_from_slice(&p.files[&p.manifest][usize::try_from(start).unwrap()..][..12]);
    fs::write(&path, &torn).unwrap();

    let strict = Db::open(p.dir(), options().recovery_mode(RecoveryMode::Strict));
    match strict {
        Err(Error::Corruption { file, offset, .. }) => assert_eq!((file, offset), (path, intact)),
        Err(e) => panic!("{e}"),
        Ok(db) => panic!("strict open accepted it: {:?}", db.recovery_report()),
    }
    nothing_deleted(&p);

    let db = Db::open(p.dir(), options()).unwrap();
    let dropped = db.recovery_report().manifest_torn_tail.clone().unwrap();
    assert_eq!((dropped.offset, dropped.bytes), (intact, 12));
    let all: sweep::Model = db
        .scan::<&[u8], _>(..)
        .map(|kv| {
            let (k, v) = kv.unwrap();
            (k.to_vec(), v.to_vec())
        })
        .collect();
    assert_eq!(all, p.model_after(p.wal_records.len()));
}
