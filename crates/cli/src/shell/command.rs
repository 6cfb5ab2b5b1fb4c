//! Shell commands: from words to a [`ShellCommand`], with a usage message
//! for every mistake.

use std::time::Duration;

use crate::ttl::parse_ttl;

/// Keys `scan` shows when no `--limit` is given.
pub(crate) const DEFAULT_SCAN_LIMIT: usize = 100;

/// One line's worth of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ShellCommand {
    Get(Vec<u8>),
    Set {
        key: Vec<u8>,
        value: Vec<u8>,
        ttl: Option<Duration>,
    },
    Del(Vec<u8>),
    Scan {
        prefix: Vec<u8>,
        limit: usize,
    },
    Incr {
        key: Vec<u8>,
        by: i64,
    },
    Flush,
    Compact,
    Stats,
    Help,
    Exit,
}

/// The commands, their arguments, and what they do: the `help` text.
pub(crate) const HELP: &str = "\
commands:
  get KEY                    print the value of KEY
  set KEY VALUE [TTL]        set KEY (TTL: 30s, 5m, 1h, 2d, 250ms or milliseconds)
  del KEY                    delete KEY
  scan [PREFIX] [--limit N]  list keys (and values) starting with PREFIX, 100 at most by default
  incr KEY [BY]              add BY (default 1) to the counter at KEY and print it
  flush                      write the memtables to tables
  compact                    compact every table into the last level
  stats                      levels, memtables, amplification, cache, stalls
  help                       this list
  exit, quit                 leave (so does Ctrl-D)
quoting: \"a key with spaces\", \"binary \\x00\\xff\" (escapes \\xHH \\n \\t \\r \\0 \\\\ \\\"), 'literal \\ text'";

/// The usage line of `name`.
fn usage(name: &str) -> String {
    let line = HELP
        .lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(name) && l.as_bytes().get(name.len()).is_none_or(|&b| b == b' '))
        .map(|l| l.split("  ").next().unwrap_or(l).trim_end())
        .unwrap_or(name);
    format!("usage: {line}")
}

/// The command of `words` (the words of one line); `Ok(None)` for an empty
/// line.
///
/// # Errors
/// A one-line message: unknown command, wrong number of arguments, a bad
/// TTL, count or limit.
pub(crate) fn parse_command(words: Vec<Vec<u8>>) -> Result<Option<ShellCommand>, String> {
    let mut words = words.into_iter();
    let Some(name) = words.next() else {
        return Ok(None);
    };
    let name = String::from_utf8_lossy(&name).to_lowercase();
    let args: Vec<Vec<u8>> = words.collect();
    let command = match (name.as_str(), args.as_slice()) {
        ("get", [key]) => ShellCommand::Get(key.clone()),
        ("set" | "put", [key, value]) => ShellCommand::Set {
            key: key.clone(),
            value: value.clone(),
            ttl: None,
        },
        ("set" | "put", [key, value, ttl]) => ShellCommand::Set {
            key: key.clone(),
            value: value.clone(),
            ttl: Some(parse_ttl(&String::from_utf8_lossy(ttl))?),
        },
        ("del" | "delete", [key]) => ShellCommand::Del(key.clone()),
        ("scan", args) => parse_scan(args)?,
        ("incr", [key]) => ShellCommand::Incr {
            key: key.clone(),
            by: 1,
        },
        ("incr", [key, by]) => ShellCommand::Incr {
            key: key.clone(),
            by: String::from_utf8_lossy(by).parse().map_err(|_| {
                format!(
                    "`{}` is not a whole number (incr KEY [BY])",
                    String::from_utf8_lossy(by)
                )
            })?,
        },
        ("flush", []) => ShellCommand::Flush,
        ("compact", []) => ShellCommand::Compact,
        ("stats", []) => ShellCommand::Stats,
        ("help" | "?", _) => ShellCommand::Help,
        ("exit" | "quit", []) => ShellCommand::Exit,
        ("get" | "set" | "put" | "del" | "delete" | "incr", _) => {
            let canonical = match name.as_str() {
                "put" => "set",
                "delete" => "del",
                other => other,
            };
            return Err(usage(canonical));
        }
        ("flush" | "compact" | "stats" | "exit" | "quit", _) => {
            return Err(format!("{name} takes no arguments"));
        }
        _ => {
            return Err(format!(
                "unknown command `{name}` (type `help` for the list)"
            ));
        }
    };
    Ok(Some(command))
}

fn parse_scan(args: &[Vec<u8>]) -> Result<ShellCommand, String> {
    let mut prefix = None;
    let mut limit = DEFAULT_SCAN_LIMIT;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg.as_slice() == b"--limit" {
            let n = args.next().ok_or_else(|| usage("scan"))?;
            limit = String::from_utf8_lossy(n)
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| {
                    format!(
                        "--limit needs a positive number, not `{}`",
                        String::from_utf8_lossy(n)
                    )
                })?;
        } else if prefix.is_none() {
            prefix = Some(arg.clone());
        } else {
            return Err(usage("scan"));
        }
    }
    Ok(ShellCommand::Scan {
        prefix: prefix.unwrap_or_default(),
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::parse::split;

    fn cmd(line: &str) -> Result<Option<ShellCommand>, String> {
        parse_command(split(line.as_bytes()).unwrap())
    }

    #[test]
    fn commands_parse() {
        assert_eq!(cmd(""), Ok(None));
        assert_eq!(cmd("GET k"), Ok(Some(ShellCommand::Get(b"k".to_vec()))));
        assert_eq!(
            cmd("set k \"v w\" 5m"),
            Ok(Some(ShellCommand::Set {
                key: b"k".to_vec(),
                value: b"v w".to_vec(),
                ttl: Some(Duration::from_secs(300)),
            }))
        );
        assert_eq!(
            cmd("scan --limit 5 user:"),
            Ok(Some(ShellCommand::Scan {
                prefix: b"user:".to_vec(),
                limit: 5
            }))
        );
        assert_eq!(
            cmd("scan"),
            Ok(Some(ShellCommand::Scan {
                prefix: Vec::new(),
                limit: DEFAULT_SCAN_LIMIT
            }))
        );
        assert_eq!(
            cmd("incr n -3"),
            Ok(Some(ShellCommand::Incr {
                key: b"n".to_vec(),
                by: -3
            }))
        );
        assert_eq!(cmd("quit"), Ok(Some(ShellCommand::Exit)));
        assert_eq!(cmd("help me"), Ok(Some(ShellCommand::Help)));
    }

    #[test]
    fn mistakes_get_one_line_messages() {
        assert_eq!(cmd("get"), Err("usage: get KEY".into()));
        assert_eq!(cmd("get a b"), Err("usage: get KEY".into()));
        assert_eq!(cmd("put k"), Err("usage: set KEY VALUE [TTL]".into()));
        assert_eq!(cmd("delete"), Err("usage: del KEY".into()));
        assert_eq!(cmd("incr"), Err("usage: incr KEY [BY]".into()));
        assert_eq!(
            cmd("scan a b"),
            Err("usage: scan [PREFIX] [--limit N]".into())
        );
        assert!(cmd("scan --limit").unwrap_err().starts_with("usage: scan"));
        assert!(
            cmd("scan --limit 0")
                .unwrap_err()
                .contains("positive number")
        );
        assert!(cmd("incr k x").unwrap_err().contains("not a whole number"));
        assert!(cmd("set k v 10x").unwrap_err().contains("bad TTL"));
        assert_eq!(cmd("flush now"), Err("flush takes no arguments".into()));
        assert!(
            cmd("frobnicate")
                .unwrap_err()
                .contains("unknown command `frobnicate`")
        );
        for line in ["get", "set", "del", "incr", "scan 1 2", "bogus"] {
            assert!(!cmd(line).unwrap_err().contains('\n'), "{line}");
        }
    }
}
