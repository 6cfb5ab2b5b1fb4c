//! A power loss at every file-system call of a small workload, one run per
//! call, under each sync policy.
//!
//! The workload (open, writes, three flushes, a full compaction, more
//! writes, close) makes flushes, a compaction, manifest appends and manifest
//! rewrites (`manifest_rewrite_bytes` is tiny). A clean run counts its calls;
//! then, for every call index `i`, a fresh run freezes the disk at call `i`
//! (`FaultFs::halt_at`: that call and all later ones fail), the power goes
//! (`power_loss`: unsynced bytes and directory changes are lost), and the
//! database is reopened and read back:
//!
//! * under `SyncPolicy::Always` every acknowledged write is there (the write
//!   that failed at the freeze may or may not be);
//! * under `Never` and `Interval` the state is exactly the model after some
//!   prefix of the writes (batches whole, no holes, no reordering), no
//!   shorter than the writes a successful `flush`, `compact` or `close`
//!   made durable;
//! * under every policy the reopened database takes writes, and `verify`
//!   finds no problem in the directory after it closes.
//!
//! Each run names the phase call `i` fell in (from the run's own trace of
//! calls), so a failure reads e.g. "Always: power loss in the middle of
//! flush #3: manifest rewrite at call 104 (Rename /db/000010.dbtmp)".
//!
//! The same sweep with a process crash instead of a power loss (the OS
//! keeps every byte written) must keep every acknowledged write under every
//! policy. A third sweep cuts the power at every call of the recovery
//! itself (replaying the WAL into a table, switching the manifest, deleting
//! leftovers) after a crash, and reopens again.
//!
//! Under `Interval` the calls of a run depend on timing (which appends find
//! the interval elapsed), so its sweep tries 20 indices more than a clean
//! run makes, and names each phase from that run's own trace.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata::{Db, Leveled, Options, SyncPolicy};
use strata_core::fs::TracedOp;
use strata_core::{FaultFs, FileSystem, FsOp};

use common::faults::{
    Model, Write, contents, describe_mismatch, dir, matching_prefixes, model_after, power_cut,
};

/// One step of the workload.
#[derive(Debug, Clone)]
enum Step {
    Write(Write),
    Flush,
    Compact,
    Close,
}

fn key(i: usize) -> Vec<u8> {
    format!("key-{i:02}").into_bytes()
}

fn value(i: usize, version: usize) -> Vec<u8> {
    format!("v{version}-{i}-{}", "x".repeat(60 + i * 7 % 40)).into_bytes()
}

/// Writes in groups separated by flushes, then a compaction, then writes
/// left in the WAL, then a close.
fn workload() -> Vec<Step> {
    let mut steps = Vec::new();
    let w = |w: Write| Step::Write(w);
    for round in 0..3 {
        let base = round * 4;
        steps.push(w(Write::put(key(base), value(base, round))));
        steps.push(w(Write::Batch(vec![
            (key(base + 1), Some(value(base + 1, round))),
            (key(base + 2), Some(value(base + 2, round))),
            (key(base + 20), None),
        ])));
        steps.push(w(Write::put(key(base + 3), value(base + 3, round))));
        // Overwrite and delete keys that earlier flushes put in tables.
        steps.push(w(Write::put(key(round), value(round, 10 + round))));
        steps.push(w(Write::delete(key(base + 2 + round % 2))));
        steps.push(w(Write::put(key(20 + round), value(20 + round, round))));
        steps.push(Step::Flush);
    }
    steps.push(Step::Compact);
    steps.push(w(Write::put(key(1), value(1, 30))));
    steps.push(w(Write::Batch(vec![
        (key(2), Some(value(2, 30))),
        (key(4), None),
    ])));
    steps.push(w(Write::delete(key(21))));
    steps.push(Step::Close);
    steps
}

fn all_keys() -> BTreeSet<Vec<u8>> {
    (0..24).map(key).collect()
}

fn options(fs: &FaultFs, policy: SyncPolicy) -> Options {
    Options::default()
        .file_system(Arc::new(fs.clone()))
        .sync_policy(policy)
        // Only explicit flushes rotate the memtable: the calls of a run
        // follow the steps, in order.
        .memtable_size(1 << 20)
        .block_size(256)
        .block_cache_bytes(0)
        // Small enough that the third flush rewrites the manifest.
        .manifest_rewrite_bytes(150)
        .auto_compaction(false)
        // Several outputs: a large compaction edit, which rewrites the
        // manifest again.
        .compaction(Leveled::default().target_file_size(512))
}

fn policies() -> [(&'static str, SyncPolicy); 3] {
    [
        ("Always", SyncPolicy::Always),
        ("Never", SyncPolicy::Never),
        // Short enough that some writes of a run sync and others do not.
        ("Interval", SyncPolicy::Interval(Duration::from_micros(10))),
    ]
}

// ---------------------------------------------------------------- phases

/// Names the phase of each traced call: the step it belongs to and what in
/// that step the call was doing.
struct Phases {
    /// `(first call index, step label)`, in order.
    steps: Vec<(u64, String)>,
    trace: Vec<TracedOp>,
}

impl Phases {
    /// The phase of the traced call numbered `index` (`TracedOp::index`).
    fn name_of(&self, index: u64) -> Option<String> {
        // Inside a manifest switch: `Some(true)` once CURRENT was renamed.
        let mut rewrite: Option<bool> = None;
        let mut last = "start-up";
        for t in &self.trace {
            let step = self
                .steps
                .iter()
                .rev()
                .find(|(start, _)| *start <= t.index)
                .map_or("?", |(_, label)| label.as_str());
            let name = t
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let in_compaction = step.starts_with("compaction");
            let in_open = step.starts_with("open") || step.starts_with("recovery");
            let sub = if rewrite.is_some() || (t.op == FsOp::Exists && name.starts_with("MANIFEST"))
            {
                // The switch ends with the directory sync after the rename.
                let renamed = rewrite.unwrap_or(false) || t.op == FsOp::Rename;
                rewrite = (!(renamed && t.op == FsOp::SyncDir)).then_some(renamed);
                "manifest rewrite"
            } else if name.ends_with(".log") {
                match t.op {
                    FsOp::Create if in_open => "creating the new WAL",
                    FsOp::Create => "memtable rotation",
                    FsOp::Sync if step.starts_with("flush") => "memtable rotation",
                    FsOp::Append => "WAL append",
                    FsOp::Sync => "WAL sync",
                    FsOp::Remove if in_open => "deleting leftovers",
                    FsOp::Remove => "WAL deletion after the flush",
                    _ => "WAL replay",
                }
            } else if name.ends_with(".sst") {
                match t.op {
                    FsOp::Open | FsOp::ReadAt => "reading the input tables",
                    FsOp::Remove if in_compaction => "deleting the input tables",
                    FsOp::Remove if in_open => "deleting leftovers",
                    // A removed table goes when the last version holding
                    // it does, which a background thread may drop later.
                    FsOp::Remove => "deleting obsolete tables",
                    _ if in_compaction => "writing the output tables",
                    _ if in_open => "writing the replayed table",
                    _ => "writing the table",
                }
            } else if name.starts_with("MANIFEST") {
                match t.op {
                    FsOp::Append | FsOp::Sync => "manifest write",
                    FsOp::Remove if in_open => "deleting leftovers",
                    FsOp::Remove => "manifest rewrite: deleting the old manifest",
                    _ => "manifest replay",
                }
            } else if name == "CURRENT" {
                "reading CURRENT"
            } else if t.op == FsOp::SyncDir {
                last
            } else {
                "start-up"
            };
            last = sub;
            if t.index == index {
                return Some(format!("{step}: {sub}"));
            }
        }
        None
    }
}

// ---------------------------------------------------------------- one run

/// How the run ends once the disk froze.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// Unsynced bytes and directory changes are lost.
    PowerLoss,
    /// The process dies; the OS keeps everything written.
    Crash,
}

impl Cut {
    fn label(self) -> &'static str {
        match self {
            Cut::PowerLoss => "power loss",
            Cut::Crash => "crash",
        }
    }
}

/// What one run did before the power went.
struct Run {
    /// Every write attempted, and whether it was acknowledged. Writing stops
    /// at the first failure, so only the last can be unacknowledged.
    writes: Vec<(Write, bool)>,
    /// Writes that a successful flush, compaction or close made durable
    /// under every policy.
    durable: usize,
    phases: Phases,
    /// The call the disk froze at, if the run got that far.
    halted_at: Option<TracedOp>,
}

/// Runs the workload on a fresh disk, freezing it at call `halt` (if the
/// run gets there), then cuts the power or kills the process.
fn run(fs: &FaultFs, policy: SyncPolicy, halt: Option<u64>, cut: Cut) -> Run {
    fs.trace_ops(true);
    let start = fs.op_total();
    if let Some(i) = halt {
        fs.halt_at(i);
    }
    let mut steps = vec![(start, "open (creating the database)".to_string())];
    let mut writes = Vec::new();
    let mut durable = 0;
    let db = Db::open(dir(), options(fs, policy)).ok();
    let (mut flushes, mut n_writes) = (0, 0);
    if let Some(db) = &db {
        for step in workload() {
            let label = match &step {
                Step::Write(_) => {
                    n_writes += 1;
                    format!("write #{n_writes}")
                }
                Step::Flush => {
                    flushes += 1;
                    format!("flush #{flushes}")
                }
                Step::Compact => "compaction".to_string(),
                Step::Close => "close".to_string(),
            };
            steps.push((fs.op_total(), label));
            let ok = match step {
                Step::Write(w) => {
                    let ok = w.run(db).is_ok();
                    writes.push((w, ok));
                    ok
                }
                Step::Flush => {
                    let ok = db.flush().is_ok();
                    if ok {
                        durable = writes.len();
                        wait_for_wal_deletion(fs, steps.last().unwrap().0);
                    }
                    ok
                }
                Step::Compact => db.compact().is_ok(),
                Step::Close => db.close().is_ok(),
            };
            if !ok {
                break;
            }
            if matches!(steps.last(), Some((_, l)) if l == "compaction" || l == "close") {
                durable = writes.len();
            }
        }
    }
    match cut {
        Cut::PowerLoss => power_cut(fs, db),
        Cut::Crash => {
            fs.halt();
            fs.crash();
            drop(db);
            fs.restart();
        }
    }
    let trace = fs.trace();
    let halted_at = trace.iter().find(|t| t.failed).cloned();
    Run {
        writes,
        durable,
        phases: Phases { steps, trace },
        halted_at,
    }
}

/// A flush returns once the new version is in; the background thread then
/// deletes the flushed WAL. Waits for that call, so that it does not race
/// with the next step's calls and every run makes its calls in one order.
fn wait_for_wal_deletion(fs: &FaultFs, since: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let trace = fs.trace();
        let deleted = trace.iter().any(|t| {
            t.index >= since
                && t.op == FsOp::Remove
                && t.path.extension().is_some_and(|e| e == "log")
        });
        if deleted || fs.is_halted() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the flushed WAL was never deleted"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Reopens after the cut and checks the state against the policy's promise.
fn check(fs: &FaultFs, policy: SyncPolicy, run: &Run, cut: Cut, what: &str) -> Model {
    // What the cut left is something a crash may leave: `verify` may warn
    // (a torn WAL tail, files no manifest names) but finds no problem.
    if let Ok(report) = strata::verify_with_fs(fs, &dir()) {
        assert!(report.is_ok(), "{what}: verify after the cut: {report}");
    }
    let db = Db::open(dir(), options(fs, policy))
        .unwrap_or_else(|e| panic!("{what}: reopen failed: {e}"));
    let got = contents(&db, &all_keys()).unwrap_or_else(|e| panic!("{what}: read: {e}"));
    let attempted: Vec<Write> = run.writes.iter().map(|(w, _)| w.clone()).collect();
    let acked = run.writes.iter().filter(|(_, ok)| *ok).count();
    let prefixes = matching_prefixes(&got, &attempted);
    match policy {
        // A killed process loses nothing it wrote, whatever the policy.
        _ if cut == Cut::Crash => assert!(
            prefixes.iter().any(|&n| n >= acked),
            "{what}: an acknowledged write is lost in a crash ({acked} acknowledged of {} \
             attempted); vs the acknowledged model: {}",
            attempted.len(),
            describe_mismatch(&got, &model_after(&attempted[..acked]))
        ),
        SyncPolicy::Always => assert!(
            prefixes.iter().any(|&n| n >= acked),
            "{what}: an acknowledged write is lost ({acked} acknowledged of {} attempted); \
             vs the acknowledged model: {}",
            attempted.len(),
            describe_mismatch(&got, &model_after(&attempted[..acked]))
        ),
        _ => assert!(
            prefixes.iter().any(|&n| n >= run.durable),
            "{what}: the state is no prefix of the writes at least {} long ({acked} \
             acknowledged, matching prefixes {prefixes:?}); vs the acknowledged model: {}",
            run.durable,
            describe_mismatch(&got, &model_after(&attempted[..acked]))
        ),
    }
    // The recovered database takes writes and keeps them.
    db.put("after", "recovery")
        .unwrap_or_else(|e| panic!("{what}: a write after recovery: {e}"));
    assert_eq!(
        db.get("after").unwrap().as_deref(),
        Some(&b"recovery"[..]),
        "{what}"
    );
    db.close().unwrap_or_else(|e| panic!("{what}: close: {e}"));
    drop(db);
    let report = strata::verify_with_fs(fs, &dir()).unwrap();
    assert!(report.is_ok(), "{what}: verify after recovery: {report}");
    got
}

fn fresh_fs() -> FaultFs {
    let fs = FaultFs::new();
    fs.create_dir_all(&dir()).unwrap();
    fs
}

/// Required phases of the clean run: the sweep must pass through each.
const REQUIRED: [&str; 8] = [
    "flush #1: writing the table",
    "flush #1: manifest write",
    "flush #1: memtable rotation",
    "compaction: reading the input tables",
    "compaction: writing the output tables",
    "compaction: manifest write",
    "compaction: deleting the input tables",
    "manifest rewrite",
];

/// Runs the workload once per call index, cut at that call.
fn sweep(name: &str, policy: SyncPolicy, cut: Cut) {
    let fs = fresh_fs();
    let clean = run(&fs, policy, None, cut);
    let total = clean.phases.trace.len() as u64;
    let phases: Vec<String> = (0..total)
        .filter_map(|i| clean.phases.name_of(clean.phases.trace[i as usize].index))
        .collect();
    for required in REQUIRED {
        assert!(
            phases.iter().any(|p| p.contains(required)),
            "{name}: the workload never reaches \"{required}\"; phases: {:?}",
            phases.iter().collect::<BTreeSet<_>>()
        );
    }
    assert!(
        phases
            .iter()
            .any(|p| p.starts_with("flush") && p.contains("manifest rewrite"))
            && phases
                .iter()
                .any(|p| p.starts_with("compaction") && p.contains("manifest rewrite")),
        "{name}: a flush and the compaction must both rewrite the manifest"
    );
    let want = check(
        &fs,
        policy,
        &clean,
        cut,
        &format!("{name}, no {}", cut.label()),
    );
    assert_eq!(
        want,
        model_after(clean.writes.iter().map(|(w, _)| w)),
        "{name}: a clean run keeps every write"
    );

    // Interval syncs depend on timing: a run may make more calls.
    let points = if matches!(policy, SyncPolicy::Interval(_)) {
        total + 20
    } else {
        total
    };
    let mut by_phase: BTreeMap<String, u64> = BTreeMap::new();
    let mut halted = 0;
    for i in 0..points {
        let fs = fresh_fs();
        let run = run(&fs, policy, Some(i), cut);
        let phase = match &run.halted_at {
            Some(t) => {
                halted += 1;
                let phase = run.phases.name_of(t.index).unwrap();
                *by_phase.entry(phase.clone()).or_default() += 1;
                format!(
                    "{} in the middle of {phase} at call {i} ({:?} {})",
                    cut.label(),
                    t.op,
                    t.path.display()
                )
            }
            None => format!("{} after the workload (call {i} never came)", cut.label()),
        };
        check(&fs, policy, &run, cut, &format!("{name}: {phase}"));
    }
    eprintln!(
        "{name}, {}: {total} calls in a clean run; {points} points tried, \
         {halted} inside the workload",
        cut.label()
    );
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for (phase, n) in &by_phase {
        let kind = phase.split(": ").nth(1).unwrap_or(phase);
        *by_kind.entry(kind).or_default() += n;
    }
    for (kind, n) in &by_kind {
        eprintln!("  {n:4}  {kind}");
    }
}

#[test]
fn a_power_loss_at_every_call_of_a_workload_keeps_what_the_policy_promises() {
    for (name, policy) in policies() {
        sweep(name, policy, Cut::PowerLoss);
    }
}

#[test]
fn a_crash_at_every_call_of_a_workload_keeps_every_acknowledged_write() {
    for (name, policy) in policies() {
        sweep(name, policy, Cut::Crash);
    }
}

/// A crash (process kill) leaves the WAL holding writes not yet in a table;
/// the power then goes at every call of the recovery that replays it, and
/// the next open must still keep what the policy promises.
#[test]
fn a_power_loss_at_every_call_of_recovery_keeps_what_the_policy_promises() {
    for (name, policy) in policies() {
        // The workload without its close, then a process crash: the WAL
        // keeps its last writes in the OS.
        let prepare = || {
            let fs = fresh_fs();
            let db = Db::open(dir(), options(&fs, policy)).unwrap();
            let mut writes = Vec::new();
            let mut durable = 0;
            for step in workload() {
                match &step {
                    Step::Write(w) => {
                        w.run(&db).unwrap();
                        writes.push((w.clone(), true));
                    }
                    Step::Flush => db.flush().unwrap(),
                    Step::Compact => db.compact().unwrap(),
                    Step::Close => {}
                }
                if matches!(step, Step::Flush | Step::Compact) {
                    durable = writes.len();
                }
            }
            fs.halt();
            fs.crash();
            drop(db);
            fs.restart();
            (fs, writes, durable)
        };
        let (fs, _, _) = prepare();
        let before = fs.op_total();
        let db = Db::open(dir(), options(&fs, policy)).unwrap();
        let total = fs.op_total() - before;
        drop(db);
        let mut by_phase: BTreeMap<String, u64> = BTreeMap::new();
        for i in 0..total {
            let (fs, writes, durable) = prepare();
            fs.trace_ops(true);
            let start = fs.op_total();
            fs.halt_at(i);
            let db = Db::open(dir(), options(&fs, policy)).ok();
            power_cut(&fs, db);
            let trace = fs.trace();
            let phases = Phases {
                steps: vec![(start, "recovery".to_string())],
                trace,
            };
            let what = match phases.trace.iter().find(|t| t.failed) {
                Some(t) => {
                    let phase = phases.name_of(t.index).unwrap();
                    *by_phase.entry(phase.clone()).or_default() += 1;
                    format!(
                        "{name}: power loss in the middle of {phase} at call {i} ({:?} {})",
                        t.op,
                        t.path.display()
                    )
                }
                // The number of leftovers to delete varies a little.
                None => format!("{name}: power loss after the recovery (call {i} never came)"),
            };
            // Under Never and Interval the power loss may cost the unsynced
            // tail of the WAL: only the writes before the compaction are sure.
            let run = Run {
                durable,
                writes,
                phases,
                halted_at: None,
            };
            check(&fs, policy, &run, Cut::PowerLoss, &what);
        }
        let halted: u64 = by_phase.values().sum();
        eprintln!("{name}: {total} power-loss points in the recovery, {halted} inside it");
        for (phase, n) in &by_phase {
            eprintln!("  {n:4}  {phase}");
        }
    }
}

/// Not a check: prints every call of a clean run with its phase, for
/// tuning the workload (`cargo test -p strata --test power_loss_sweep
/// print_clean_trace -- --ignored --nocapture`).
#[test]
#[ignore]
fn print_clean_trace() {
    for (name, policy) in policies() {
        let fs = fresh_fs();
        let clean = run(&fs, policy, None, Cut::PowerLoss);
        for t in &clean.phases.trace {
            eprintln!(
                "{name} {:4} {:?} {} -- {}",
                t.index,
                t.op,
                t.path.display(),
                clean.phases.name_of(t.index).unwrap()
            );
        }
    }
}
