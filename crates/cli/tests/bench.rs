//! `strata bench`: every workload runs and `--json` gives one result per
//! workload; a non-empty `--data-dir` is refused rather than wiped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::strata;

const ALL: [&str; 9] = [
    "fillseq",
    "fillrandom",
    "overwrite",
    "readrandom",
    "readmissing",
    "readseq",
    "seekrandom",
    "readwhilewriting",
    "deleterandom",
];

#[test]
fn json_has_one_result_per_workload() {
    let run = strata(&["bench", "--num", "2000", "--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["workload"].as_str().unwrap())
        .collect();
    assert_eq!(names, ALL);
    for r in results {
        assert!(r["ops"].as_u64().unwrap() >= 2000, "{r}");
        assert!(r["ops_per_sec"].as_f64().unwrap() > 0.0, "{r}");
        for p in ["p50", "p99", "p999"] {
            assert!(r["latency_us"][p].is_f64(), "{r}");
        }
    }
    assert_eq!(results[3]["found"].as_u64(), Some(2000), "readrandom");
    assert_eq!(v["config"]["num"].as_u64(), Some(2000));
    assert!(
        run.stderr.is_empty(),
        "no progress bar without a terminal: {}",
        run.stderr
    );
}

#[test]
fn a_table_for_chosen_workloads_in_a_kept_directory() {
    let dir = tempfile::tempdir().unwrap();
    let db_dir = dir.path().join("bench");
    let data = format!("--data-dir={}", db_dir.display());
    let run = strata(&[
        "bench",
        "--num",
        "500",
        "--threads",
        "2",
        "--workloads",
        "fillseq,readrandom",
        &data,
    ])
    .ok();
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert!(
        rows.iter().any(|l| l.starts_with("workload ")),
        "{}",
        run.stdout
    );
    assert!(
        rows.iter().any(|l| l.starts_with("fillseq ")),
        "{}",
        run.stdout
    );
    assert!(
        rows.iter()
            .any(|l| l.starts_with("readrandom ") && l.contains("500 of 500 found"))
    );
    // The last database stays, so a second run into it is refused.
    let again = strata(&["bench", "--num", "10", &data]).expect_code(1);
    assert!(again.stderr.contains("is not empty"), "{}", again.stderr);
    assert!(db_dir.join("CURRENT").exists());
}

#[test]
fn unknown_workloads_are_usage_errors() {
    let run = strata(&["bench", "--workloads", "fillseq,nope"]).expect_code(2);
    assert!(
        run.stderr.contains("unknown workload `nope`"),
        "{}",
        run.stderr
    );
}

#[test]
fn ycsb_and_synced_fills_run_when_asked_for() {
    let run = strata(&[
        "bench",
        "--num",
        "500",
        "--synced-num",
        "16",
        "--workloads",
        "fillrandom,ycsb-a,ycsb-e,fillsync-8",
        "--json",
    ])
    .ok();
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["workload"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fillrandom", "ycsb-a", "ycsb-e", "fillsync-8"]);
    assert_eq!(results[1]["ops"].as_u64(), Some(500));
    assert_eq!(results[3]["ops"].as_u64(), Some(16));
    assert_eq!(results[3]["threads"].as_u64(), Some(8));
    assert_eq!(v["config"]["synced_num"].as_u64(), Some(16));
}
