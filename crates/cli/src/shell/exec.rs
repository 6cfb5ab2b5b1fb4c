//! Running a [`ShellCommand`] on an open database.

use std::io::Write;

use strata::Db;

use super::command::{HELP, ShellCommand};
use super::parse::render_word;
use crate::commands::stats;
use crate::escape::display;
use crate::range::ScanRange;

/// Whether the shell goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Exit,
}

/// Runs `command`, printing its output to `out`.
///
/// # Errors
/// The engine's error (the shell prints it and goes on), or a failed write
/// to `out` (an [`std::io::Error`]: the shell stops).
pub(crate) fn execute(db: &Db, command: ShellCommand, out: &mut dyn Write) -> anyhow::Result<Flow> {
    match command {
        ShellCommand::Get(key) => match db.get(&key)? {
            Some(value) => writeln!(out, "{}", display(&value))?,
            None => writeln!(out, "(not found)")?,
        },
        ShellCommand::Set { key, value, ttl } => {
            match ttl {
                Some(ttl) => db.put_with_ttl(&key, &value, ttl)?,
                None => db.put(&key, &value)?,
            }
            writeln!(out, "OK")?;
        }
        ShellCommand::Del(key) => {
            db.delete(&key)?;
            writeln!(out, "OK")?;
        }
        ShellCommand::Scan { prefix, limit } => scan(db, prefix, limit, out)?,
        ShellCommand::Incr { key, by } => writeln!(out, "{}", db.increment(&key, by)?)?,
        ShellCommand::Flush => {
            db.flush()?;
            writeln!(out, "OK")?;
        }
        ShellCommand::Compact => {
            db.compact()?;
            writeln!(out, "OK")?;
        }
        ShellCommand::Stats => out.write_all(stats::render(&db.stats()).as_bytes())?,
        ShellCommand::Help => writeln!(out, "{HELP}")?,
        ShellCommand::Exit => return Ok(Flow::Exit),
    }
    Ok(Flow::Continue)
}

/// Prints up to `limit` entries with `prefix` as `KEY<TAB>VALUE`, then a
/// count that says whether more were left out. Keys are written as shell
/// words (quoted when needed, ready to paste into `get` or `del`), values
/// as `get` prints them.
fn scan(db: &Db, prefix: Vec<u8>, limit: usize, out: &mut dyn Write) -> anyhow::Result<()> {
    let range = ScanRange::prefix(prefix);
    let mut shown = 0usize;
    let mut more = false;
    for entry in range.iter(db) {
        let (key, value) = entry?;
        if range.hides(&key) {
            continue;
        }
        if shown == limit {
            more = true;
            break;
        }
        writeln!(out, "{}\t{}", render_word(&key), display(&value))?;
        shown += 1;
    }
    let noun = if shown == 1 { "key" } else { "keys" };
    if more {
        writeln!(out, "({shown} {noun} shown; more with --limit N)")?;
    } else {
        writeln!(out, "({shown} {noun})")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::command::parse_command;
    use crate::shell::parse::split;

    fn run(db: &Db, line: &str) -> String {
        let command = parse_command(split(line.as_bytes()).unwrap())
            .unwrap()
            .unwrap();
        let mut out = Vec::new();
        execute(db, command, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn commands_print_what_they_did() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), strata::Options::default()).unwrap();
        assert_eq!(run(&db, "set a 1"), "OK\n");
        assert_eq!(run(&db, r#"set "b key" "\x00\xff""#), "OK\n");
        assert_eq!(run(&db, "get a"), "1\n");
        assert_eq!(run(&db, r#"get "b key""#), "\"\\x00\\xff\"\n");
        assert_eq!(run(&db, "get zz"), "(not found)\n");
        assert_eq!(run(&db, "incr n 5"), "5\n");
        assert_eq!(run(&db, "incr n"), "6\n");
        assert_eq!(
            run(&db, "scan"),
            "a\t1\n\"b key\"\t\"\\x00\\xff\"\nn\t6\n(3 keys)\n"
        );
        assert_eq!(
            run(&db, "scan --limit 2"),
            "a\t1\n\"b key\"\t\"\\x00\\xff\"\n(2 keys shown; more with --limit N)\n"
        );
        assert_eq!(run(&db, "scan b"), "\"b key\"\t\"\\x00\\xff\"\n(1 key)\n");
        assert_eq!(run(&db, "del a"), "OK\n");
        assert_eq!(run(&db, "get a"), "(not found)\n");
        assert_eq!(run(&db, "flush"), "OK\n");
        assert_eq!(run(&db, "compact"), "OK\n");
        assert!(run(&db, "stats").starts_with("level"));
        assert!(run(&db, "help").contains("scan [PREFIX]"));
    }

    #[test]
    fn engine_errors_come_back_as_errors() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), strata::Options::default()).unwrap();
        db.put("word", "hello").unwrap();
        let command = parse_command(split(b"incr word").unwrap())
            .unwrap()
            .unwrap();
        let err = execute(&db, command, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("not a decimal integer"), "{err}");
    }

    #[test]
    fn server_keys_are_hidden_from_scan() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), strata::Options::default()).unwrap();
        db.put("k", "v").unwrap();
        db.put(
            [strata_server::RESERVED_PREFIX, b"ct/k"].concat(),
            "text/plain",
        )
        .unwrap();
        assert_eq!(run(&db, "scan"), "k\tv\n(1 key)\n");
    }
}
