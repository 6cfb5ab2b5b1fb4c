//! The smoke version of the peer comparison: `compare` on strata alone with
//! a tiny key space runs every workload, prints the tables and writes a
//! JSON report that `charts` turns into SVGs. Keeps the binaries from
//! rotting; the real runs are in docs/benchmarks.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use strata_benches::compare::{Engine, Report};
use strata_benches::db_bench::Workload;

#[test]
fn compare_runs_every_workload_and_charts_draw_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_compare"))
        .args(["--num", "400", "--synced-num", "32", "--threads", "2"])
        .args([
            "--engines",
            "strata",
            "--cache-mib",
            "8",
            "--compression",
            "lz4",
        ])
        .arg("--dir")
        .arg(dir.path())
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for w in Workload::ALL {
        let row = stdout
            .lines()
            .any(|l| l.starts_with(&format!("{} ", w.name())));
        assert!(row, "{} in\n{stdout}", w.name());
        assert!(
            stderr.contains(w.name()),
            "{} as it finishes: {stderr}",
            w.name()
        );
    }
    assert!(stdout.contains("compression lz4"), "{stdout}");
    assert!(stdout.contains("peak RSS MiB"), "{stdout}");

    let report: Report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report.settings.cache_bytes, 8 << 20);
    let strata = report.engine(Engine::Strata).unwrap();
    assert_eq!(strata.workloads.len(), Workload::ALL.len());
    for w in &strata.workloads {
        let r = &w.result;
        assert!(r.ops > 0 && r.ops_per_sec > 0.0, "{r}");
        let l = r.latency_us;
        assert!(l.p50 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max, "{r}");
    }
    // The databases are gone; only the report is left.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "{left:?}");

    let img = dir.path().join("img");
    let charts = Command::new(env!("CARGO_BIN_EXE_charts"))
        .arg(&json)
        .arg("--out")
        .arg(&img)
        .arg("--markdown")
        .output()
        .unwrap();
    assert!(
        charts.status.success(),
        "{}",
        String::from_utf8_lossy(&charts.stderr)
    );
    let printed = String::from_utf8_lossy(&charts.stdout);
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("| ycsb-e | strata | 2 | 400 |")),
        "{printed}"
    );
    for name in ["compare-ops.svg", "compare-p99.svg"] {
        let svg = std::fs::read_to_string(img.join(name)).unwrap();
        assert!(svg.contains("ycsb-e") && svg.contains("strata"), "{name}");
    }
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        &["--num", "many"][..],
        &["--compression", "zstd"],
        &["--workloads", "fillseq,nope"],
        &["--frobnicate"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_compare"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
    if !Engine::Rocksdb.compiled_in() {
        let out = Command::new(env!("CARGO_BIN_EXE_compare"))
            .args(["--engines", "strata,rocksdb"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("peer-rocksdb"), "{stderr}");
    }
}
