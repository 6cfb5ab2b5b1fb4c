//! `strata shell` driven by piped stdin: a script of commands gives the
//! expected output, bad lines get one-line messages on stderr and the shell
//! goes on, and it exits 0 at the end of input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{strata_in, strata_with_stdin};

const SCRIPT: &str = r#"# a comment, then a blank line

set user:1 ada
set "user:2" "grace hopper"
set bin "\x00\xff"
set session token 1h
get user:2
get bin
get nobody
incr visits
incr visits 41
scan user:
scan --limit 1
frobnicate
get
set "unterminated
incr user:1
scan a b c
del user:1
get user:1
flush
compact
exit
get user:2
"#;

const EXPECTED_OUT: &str = "OK\nOK\nOK\nOK\ngrace hopper\n\"\\x00\\xff\"\n(not found)\n1\n42\n\
user:1\tada\nuser:2\tgrace hopper\n(2 keys)\n\
bin\t\"\\x00\\xff\"\n(1 key shown; more with --limit N)\n\
OK\n(not found)\nOK\nOK\n";

#[test]
fn a_piped_script_runs_and_bad_lines_only_get_messages() {
    let dir = tempfile::tempdir().unwrap();
    let data = format!("--data-dir={}", dir.path().display());
    let run = strata_with_stdin(&["shell", &data], SCRIPT).ok();
    assert_eq!(run.stdout, EXPECTED_OUT, "stderr:\n{}", run.stderr);
    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(errors.len(), 5, "{}", run.stderr);
    assert!(errors[0].contains("unknown command `frobnicate`"));
    assert_eq!(errors[1], "error: usage: get KEY");
    assert!(errors[2].contains("unterminated \" quote"));
    assert!(errors[3].contains("not a decimal integer"));
    assert_eq!(errors[4], "error: usage: scan [PREFIX] [--limit N]");
    // What the shell wrote is in the database.
    assert_eq!(
        strata_in(dir.path(), &["get", "user:2"]).ok().stdout,
        "grace hopper\n"
    );
    assert_eq!(
        strata_in(dir.path(), &["get", "visits"]).ok().stdout,
        "42\n"
    );
}

#[test]
fn end_of_input_ends_the_shell_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = format!("--data-dir={}", dir.path().display());
    let run = strata_with_stdin(&["shell", &data], "set k v").ok();
    assert_eq!(run.stdout, "OK\n");
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let run = strata_with_stdin(&["shell", &data], "").ok();
    assert!(run.stdout.is_empty());
    assert_eq!(strata_in(dir.path(), &["get", "k"]).ok().stdout, "v\n");
}

#[test]
fn help_lists_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let data = format!("--data-dir={}", dir.path().display());
    let run = strata_with_stdin(&["shell", &data], "help\n").ok();
    for command in [
        "get", "set", "del", "scan", "incr", "flush", "compact", "stats", "help", "exit",
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(command)),
            "{command} missing from\n{}",
            run.stdout
        );
    }
}
