//! The shell's loop: lines from a terminal (rustyline: line editing and a
//! history file) or, when stdin is not a terminal, plain lines from stdin
//! with no prompt, so scripts can pipe commands in. Output goes to stdout,
//! error messages to stderr; a bad line never ends the loop.
//!
//! History lives in `$STRATA_HISTORY` if set (empty: no history), else in
//! `$HOME/.strata_history`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use rustyline::error::ReadlineError;
use strata::Db;

use super::command::parse_command;
use super::exec::{Flow, execute};
use super::parse::split;

/// Reads and runs commands until `exit` or the end of input.
///
/// # Errors
/// The terminal or stdout failed (engine errors are printed, not returned).
pub(crate) fn run(db: &Db, dir: &Path) -> anyhow::Result<()> {
    if std::io::stdin().is_terminal() {
        interactive(db, dir)
    } else {
        script(
            db,
            std::io::stdin().lock(),
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        )
    }
}

/// Runs one line; problems with it go to `err` as one line each.
///
/// # Errors
/// Only a failed write to `out` or `err`.
pub(crate) fn run_line(
    db: &Db,
    line: &[u8],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Flow> {
    let command = match split(line) {
        Err(e) => Err(e.to_string()),
        Ok(words) => parse_command(words),
    };
    let command = match command {
        Ok(Some(command)) => command,
        Ok(None) => return Ok(Flow::Continue),
        Err(message) => {
            writeln!(err, "error: {message}")?;
            return Ok(Flow::Continue);
        }
    };
    match execute(db, command, out) {
        Ok(flow) => Ok(flow),
        Err(e) if e.downcast_ref::<std::io::Error>().is_some() => Err(e),
        Err(e) => {
            writeln!(err, "error: {e:#}")?;
            Ok(Flow::Continue)
        }
    }
}

/// Runs every line of `input` (no prompts), until `exit` or its end.
///
/// # Errors
/// Reading `input` or writing `out`/`err` failed.
pub(crate) fn script(
    db: &Db,
    mut input: impl BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if run_line(db, &line, out, err)? == Flow::Exit {
            return Ok(());
        }
        out.flush()?;
    }
}

/// Where the history is kept, if anywhere.
fn history_path() -> Option<PathBuf> {
    match std::env::var_os("STRATA_HISTORY") {
        Some(path) if path.is_empty() => None,
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("HOME").map(|home| Path::new(&home).join(".strata_history")),
    }
}

fn interactive(db: &Db, dir: &Path) -> anyhow::Result<()> {
    let mut editor = rustyline::DefaultEditor::new()?;
    let history = history_path();
    if let Some(path) = &history {
        // A first run has no history yet.
        let _ = editor.load_history(path);
    }
    println!(
        "strata shell on {}: `help` lists the commands, `exit` or Ctrl-D leaves",
        dir.display()
    );
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    loop {
        match editor.readline("strata> ") {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                if run_line(db, line.as_bytes(), &mut out, &mut err)? == Flow::Exit {
                    break;
                }
            }
            // Ctrl-C abandons the line being typed, as in a shell.
            Err(ReadlineError::Interrupted) => {}
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(path) = &history
        && let Err(e) = editor.save_history(path)
    {
        eprintln!(
            "strata: could not save the history to {}: {e}",
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_runs_to_its_end_past_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), strata::Options::default()).unwrap();
        let input = "set a 1\r\nbogus\nget \"unterminated\n\n# comment\nget a\nget\nexit\nget a\n";
        let (mut out, mut err) = (Vec::new(), Vec::new());
        script(&db, input.as_bytes(), &mut out, &mut err).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "OK\n1\n");
        let err = String::from_utf8(err).unwrap();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 3, "{err}");
        assert!(lines[0].contains("unknown command `bogus`"));
        assert!(lines[1].contains("unterminated"));
        assert_eq!(lines[2], "error: usage: get KEY");
    }
}
