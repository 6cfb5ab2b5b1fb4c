//! Every subcommand answers `--help` with its usage and the help of its
//! flags; usage mistakes exit with 2.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::strata;

const COMMANDS: [&str; 10] = [
    "serve", "shell", "get", "put", "del", "scan", "stats", "bench", "sst", "verify",
];

#[test]
fn every_subcommand_has_help() {
    let top = strata(&["--help"]).ok();
    for command in COMMANDS {
        assert!(
            top.stdout.contains(&format!("  {command} ")),
            "{command}: {}",
            top.stdout
        );
        let run = strata(&[command, "--help"]).ok();
        assert!(
            run.stdout.contains(&format!("Usage: strata {command}")),
            "{command}: {}",
            run.stdout
        );
    }
    let serve = strata(&["serve", "--help"]).ok();
    for flag in [
        "--data-dir",
        "--addr",
        "--token-file",
        "--tls-cert",
        "--tls-key",
        "--max-body-bytes",
        "--header-timeout",
        "--stall-timeout",
        "--max-connections",
        "--engine-threads",
        "--memtable-bytes",
        "--block-cache-bytes",
        "STRATA_TOKEN",
    ] {
        assert!(serve.stdout.contains(flag), "{flag}: {}", serve.stdout);
    }
    let bench = strata(&["bench", "--help"]).ok();
    for flag in [
        "--num",
        "--value-size",
        "--threads",
        "--sync",
        "--workloads",
        "--json",
        "readwhilewriting",
    ] {
        assert!(bench.stdout.contains(flag), "{flag}: {}", bench.stdout);
    }
    let sst = strata(&["sst", "--help"]).ok();
    assert!(sst.stdout.contains("  dump "), "{}", sst.stdout);
    let dump = strata(&["sst", "dump", "--help"]).ok();
    assert!(
        dump.stdout
            .contains("Usage: strata sst dump [OPTIONS] <FILE>"),
        "{}",
        dump.stdout
    );
    for flag in ["--entries", "--limit", "--json"] {
        assert!(dump.stdout.contains(flag), "{flag}: {}", dump.stdout);
    }
    let verify = strata(&["verify", "--help"]).ok();
    for flag in ["--data-dir", "--json", "exit code 1"] {
        assert!(verify.stdout.contains(flag), "{flag}: {}", verify.stdout);
    }
}

#[test]
fn usage_errors_exit_with_2() {
    strata(&[]).expect_code(2);
    strata(&["frobnicate"]).expect_code(2);
    strata(&["get"]).expect_code(2);
    strata(&["put", "only-a-key"]).expect_code(2);
    strata(&["bench", "--threads", "0"]).expect_code(2);
    strata(&["serve", "--addr", "not-an-address"]).expect_code(2);
    strata(&["sst"]).expect_code(2);
    strata(&["sst", "dump"]).expect_code(2);
    strata(&["sst", "dump", "f.sst", "--limit", "many"]).expect_code(2);
}
