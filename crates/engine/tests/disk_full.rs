//! A full disk (`FaultFs::set_capacity`) during a load with background
//! flushes and compactions, under each sync policy:
//!
//! * the write that meets it fails with `ENOSPC` (an `Error::Io` of kind
//!   `StorageFull`, or `Error::Background` naming "No space left on device"
//!   when a background flush or compaction met it first), never with a
//!   `Corruption`; every later write is refused with that `Background`
//!   error, also once space is freed, until a reopen;
//! * gets and scans keep returning exactly the acknowledged writes;
//! * a reopen while the disk is still full either works or fails with
//!   `ENOSPC`, and leaves the directory recoverable;
//! * once the capacity is raised, a reopen finds every acknowledged write
//!   (the failed one whole or not at all), takes new writes, flushes and
//!   compacts, and `verify` finds no problem; after a power loss instead,
//!   `Always` keeps every acknowledged write and the other policies a
//!   prefix of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use strata::{Db, Error, Leveled, Options, SyncPolicy};
use strata_core::{FaultFs, FileSystem};

use common::faults::{
    Write, contents, describe_mismatch, dir, matching_prefixes, model_after, power_cut,
};

const NO_SPACE: &str = "No space left on device";

/// What fills the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Load {
    /// Small memtables: background flushes and compactions write tables.
    Tables,
    /// One large memtable: only the WAL grows, and a put's own append
    /// meets the full disk (writing what fits: a torn record).
    Wal,
}

fn options(fs: &FaultFs, policy: SyncPolicy, load: Load) -> Options {
    let memtable = match load {
        Load::Tables => 8 << 10,
        Load::Wal => 4 << 20,
    };
    Options::default()
        .file_system(Arc::new(fs.clone()))
        .sync_policy(policy)
        .memtable_size(memtable)
        .block_size(512)
        .block_cache_bytes(0)
        .manifest_rewrite_bytes(4 << 10)
        .compaction(
            Leveled::default()
                .l0_trigger(2)
                .base_level_size(16 << 10)
                .target_file_size(8 << 10),
        )
        .compaction_interval(Duration::from_millis(5))
}

fn policies() -> [(&'static str, SyncPolicy); 3] {
    [
        ("Always", SyncPolicy::Always),
        ("Never", SyncPolicy::Never),
        ("Interval", SyncPolicy::Interval(Duration::from_millis(1))),
    ]
}

fn key(i: usize) -> Vec<u8> {
    format!("key-{:04}", i % 500).into_bytes()
}

fn value(i: usize) -> Vec<u8> {
    format!("{i}-{}", "z".repeat(120 + i % 60)).into_bytes()
}

fn all_keys() -> BTreeSet<Vec<u8>> {
    (0..500).map(key).collect()
}

/// True for an error that says the disk is full.
fn is_enospc(e: &Error) -> bool {
    match e {
        Error::Io(io) => io.kind() == io::ErrorKind::StorageFull,
        Error::Background(msg) => msg.contains(NO_SPACE),
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Reopen,
    PowerLoss,
}

fn disk_full_case(name: &str, policy: SyncPolicy, load: Load, ending: Ending) {
    let what = format!("{name}, {load:?} fill the disk, {ending:?}");
    let fs = FaultFs::new();
    fs.create_dir_all(&dir()).unwrap();
    let db = Db::open(dir(), options(&fs, policy, load)).unwrap();
    let capacity = fs.used_bytes() + (96 << 10);
    fs.set_capacity(Some(capacity));

    // Write until the disk is full.
    let mut writes: Vec<(Write, bool)> = Vec::new();
    let mut failure = None;
    for i in 0..20_000 {
        let w = if i % 10 == 9 {
            Write::Batch(vec![
                (key(i), Some(value(i))),
                (key(i + 1), None),
                (key(i + 2), Some(value(i + 2))),
            ])
        } else {
            Write::put(key(i), value(i))
        };
        let result = w.run(&db);
        writes.push((w, result.is_ok()));
        if let Err(e) = result {
            failure = Some(e);
            break;
        }
    }
    let e = failure.unwrap_or_else(|| panic!("{what}: the disk never filled"));
    assert!(is_enospc(&e), "{what}: the failing write said: {e}");
    if load == Load::Wal {
        assert!(matches!(e, Error::Io(_)), "{what}: {e}");
    }
    let acked = writes.len() - 1;
    let stats = db.stats();
    eprintln!(
        "{what}: capacity {capacity} B, {acked} writes acknowledged, {} flushes, \
         {} compactions, then: {e}",
        stats.flushes,
        stats.compactions.values().sum::<u64>()
    );

    // Refused from now on, with the cause; reads are right.
    let want = model_after(writes[..acked].iter().map(|(w, _)| w));
    let refused = |db: &Db, when: &str| {
        for result in [db.put("after", "full"), db.flush()] {
            match result {
                Err(e @ Error::Background(_)) => {
                    assert!(is_enospc(&e), "{what}, {when}: refused with {e}")
                }
                Err(e) => panic!("{what}, {when}: refused with {e}, not Background"),
                Ok(()) => panic!("{what}, {when}: a write was accepted"),
            }
        }
    };
    refused(&db, "disk full");
    let got = contents(&db, &all_keys()).unwrap();
    assert!(
        got == want,
        "{what}: reads: {}",
        describe_mismatch(&got, &want)
    );
    fs.set_capacity(None);
    refused(&db, "space freed");
    let got = contents(&db, &all_keys()).unwrap();
    assert!(got == want, "{what}: reads after freeing space");

    let attempted: Vec<Write> = writes.iter().map(|(w, _)| w.clone()).collect();
    let min = match ending {
        Ending::Reopen => {
            let _ = db.close();
            drop(db);
            // Still full: the reopen may fail, only with ENOSPC.
            fs.set_capacity(Some(capacity));
            match Db::open(dir(), options(&fs, policy, load)) {
                Ok(db) => drop(db),
                Err(e) => {
                    assert!(is_enospc(&e), "{what}: a reopen on a full disk: {e}");
                    eprintln!("  reopen while full: {e}");
                }
            }
            fs.set_capacity(None);
            acked
        }
        Ending::PowerLoss => {
            fs.set_capacity(Some(capacity));
            power_cut(&fs, Some(db));
            fs.set_capacity(None);
            if policy == SyncPolicy::Always {
                acked
            } else {
                0
            }
        }
    };
    let db = Db::open(dir(), options(&fs, policy, load))
        .unwrap_or_else(|e| panic!("{what}: reopen with space: {e}"));
    let got = contents(&db, &all_keys()).unwrap();
    let prefixes = matching_prefixes(&got, &attempted);
    assert!(
        prefixes.iter().any(|&n| n >= min),
        "{what}: reopened state is no prefix at least {min} long of the {} writes \
         (matching {prefixes:?}); vs the acknowledged: {}",
        attempted.len(),
        describe_mismatch(&got, &want)
    );
    // Writable again, in full.
    for i in 0..200 {
        db.put(key(i), "again").unwrap();
    }
    db.flush().unwrap();
    db.compact().unwrap();
    assert_eq!(db.get(key(7)).unwrap().as_deref(), Some(&b"again"[..]));
    db.close().unwrap();
    drop(db);
    let report = strata::verify_with_fs(&fs, &dir()).unwrap();
    assert!(report.is_ok(), "{what}: {report}");
}

#[test]
fn a_full_disk_fails_writes_clearly_and_loses_nothing_acknowledged() {
    for (name, policy) in policies() {
        for load in [Load::Tables, Load::Wal] {
            for ending in [Ending::Reopen, Ending::PowerLoss] {
                disk_full_case(name, policy, load, ending);
            }
        }
    }
}
