//! The bounded crash test: 21 kills in all, 7 per compaction strategy, over
//! the three sync policies; children run 50 to 300 ms before SIGKILL. Every
//! kill must verify (see `strata_stress::Checker`). The long runs are
//! `strata-stress run --kills N` / `--duration 2h` (docs/reliability.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use strata_stress::{RunConfig, Stop, Strategy, Sync, ViolationKind, run};

fn crash_test(strategy: Strategy, seed: u64) {
    let work = tempfile::tempdir().unwrap();
    let cfg = RunConfig {
        work: work.path().join("run"),
        combos: Sync::ALL.iter().map(|&sync| (strategy, sync)).collect(),
        stop: Stop::Kills(7),
        seed,
        threads: 4,
        child_ms: 50..=300,
        child_exe: PathBuf::from(env!("CARGO_BIN_EXE_strata-stress")),
    };
    let mut out = Vec::new();
    let summary = match run(&cfg, &mut out) {
        Ok(s) => s,
        Err(failure) => panic!("{failure}\nprogress:\n{}", String::from_utf8_lossy(&out)),
    };
    assert_eq!(summary.kills, 7);
    for combo in &summary.combos {
        assert!(combo.kills >= 2, "{combo:?}");
    }
    // The children did work worth checking.
    assert!(summary.acked_ops() > 100, "{summary}");
}

#[test]
fn leveled_survives_kills_under_every_sync_policy() {
    crash_test(Strategy::Leveled, 11);
}

#[test]
fn size_tiered_survives_kills_under_every_sync_policy() {
    crash_test(Strategy::Tiered, 12);
}

#[test]
fn time_window_survives_kills_under_every_sync_policy() {
    crash_test(Strategy::Window, 13);
}

#[test]
fn a_child_that_exits_before_the_kill_fails_the_run() {
    let work = tempfile::tempdir().unwrap();
    let cfg = RunConfig {
        work: work.path().join("run"),
        combos: vec![(Strategy::Leveled, Sync::Never)],
        stop: Stop::Kills(1),
        seed: 1,
        threads: 1,
        child_ms: 300..=300,
        // Exits at once, whatever its arguments.
        child_exe: PathBuf::from("false"),
    };
    let failure = run(&cfg, &mut std::io::sink()).unwrap_err();
    assert_eq!(failure.violation.kind, ViolationKind::Child, "{failure}");
    assert!(
        failure.to_string().starts_with("VIOLATION: child failed"),
        "{failure}"
    );
}
