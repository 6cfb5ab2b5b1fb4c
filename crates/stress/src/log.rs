//! The expected-state log: one append-only text file per worker thread and
//! round, `WORK/expected/round-RRRRRR/thread-TT.log`.
//!
//! For every write the thread appends `I <op-number> <op>` (intent) before
//! calling the engine and `A <op-number> [<result>]` (acknowledged) after
//! the call returned. Each record is one `write` syscall (no user-space
//! buffer), so once the next call starts the record is in the OS and
//! survives a SIGKILL of the child. Op numbers start at 1 and rise by one.
//!
//! Reading: a last line without its newline was cut by the kill and is
//! ignored. So the log is `I1 A1 I2 A2 ... In [An]`: ops with an `A` record
//! were acknowledged; an `I` without one is the op in flight when the child
//! died, which may or may not have been applied. Anything else is a
//! malformed log ([`ViolationKind::ExpectedLog`]).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::op::Op;
use crate::violation::{Violation, ViolationKind};

/// The directory of one round's logs under the work directory.
pub(crate) fn round_dir(work: &Path, round: u32) -> PathBuf {
    work.join("expected").join(format!("round-{round:06}"))
}

/// The log of `thread` in `round`.
pub(crate) fn thread_log_path(work: &Path, round: u32, thread: usize) -> PathBuf {
    round_dir(work, round).join(format!("thread-{thread:02}.log"))
}

/// Appends records for one thread (the child side).
#[derive(Debug)]
pub(crate) struct LogWriter {
    file: File,
    path: PathBuf,
}

impl LogWriter {
    /// Creates the log; it must not exist yet (a round is never rerun).
    pub(crate) fn create(path: &Path, header: &str) -> anyhow::Result<Self> {
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(path)
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", path.display()))?;
        let mut log = Self {
            file,
            path: path.to_path_buf(),
        };
        log.append(&format!("# {header}\n"))?;
        Ok(log)
    }

    /// Records that op `n` is about to be issued.
    pub(crate) fn intent(&mut self, n: u64, op: &Op) -> anyhow::Result<()> {
        self.append(&format!("I {n} {}\n", op.encode()))
    }

    /// Records that op `n` returned successfully, with its result (the new
    /// value of an increment).
    pub(crate) fn ack(&mut self, n: u64, result: Option<i64>) -> anyhow::Result<()> {
        match result {
            Some(r) => self.append(&format!("A {n} {r}\n")),
            None => self.append(&format!("A {n}\n")),
        }
    }

    /// One `write_all` of a short line: one syscall in practice.
    fn append(&mut self, line: &str) -> anyhow::Result<()> {
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| anyhow::anyhow!("appending to {}: {e}", self.path.display()))
    }
}

/// What one thread's log of one round says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ThreadLog {
    /// Acknowledged ops in issue order, with their op numbers.
    pub(crate) acked: Vec<(u64, Op)>,
    /// The op issued but not acknowledged when the child died, if any.
    pub(crate) in_flight: Option<(u64, Op)>,
}

impl ThreadLog {
    /// Reads `path`; a missing file is an empty log (the thread never
    /// started).
    pub(crate) fn read(path: &Path) -> Result<Self, Violation> {
        let text = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(Violation::new(
                    ViolationKind::ExpectedLog,
                    format!("cannot read {}: {e}", path.display()),
                ));
            }
        };
        Self::parse(&text).map_err(|(line, reason)| {
            Violation::new(
                ViolationKind::ExpectedLog,
                format!("{} line {line}: {reason}", path.display()),
            )
        })
    }

    /// Parses a log's bytes; on error the 1-based line and the reason.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, (usize, String)> {
        // Only whole lines count: the last one may have been cut by the kill.
        let complete = bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(&[][..], |end| bytes.get(..end).unwrap_or_default());
        let text = std::str::from_utf8(complete).map_err(|e| (0, format!("not UTF-8: {e}")))?;
        let mut log = Self::default();
        let mut next = 1u64;
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let (tag, rest) = line
                .split_once(' ')
                .ok_or((line_no, "no record tag".into()))?;
            let (n, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            let n: u64 = n
                .parse()
                .map_err(|_| (line_no, format!("bad op number {n:?}")))?;
            match tag {
                "I" => {
                    if log.in_flight.is_some() {
                        return Err((line_no, format!("intent {n} before the last one's ack")));
                    }
                    if n != next {
                        return Err((line_no, format!("intent {n}, expected op {next}")));
                    }
                    let op = Op::parse(rest).ok_or((line_no, format!("bad op {rest:?}")))?;
                    log.in_flight = Some((n, op));
                    next += 1;
                }
                "A" => match log.in_flight.take() {
                    Some((m, op)) if m == n => log.acked.push((n, op)),
                    _ => return Err((line_no, format!("ack of op {n}, which is not in flight"))),
                },
                _ => return Err((line_no, format!("unknown record tag {tag:?}"))),
            }
        }
        Ok(log)
    }

    /// The op number of the last op issued (acknowledged or in flight), 0
    /// if none.
    pub(crate) fn last_issued(&self) -> u64 {
        self.in_flight
            .as_ref()
            .map(|(n, _)| *n)
            .or_else(|| self.acked.last().map(|(n, _)| *n))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_last_line_and_an_unacknowledged_intent_are_understood() {
        let log = ThreadLog::parse(
            b"# h\nI 1 put t00/k0001\nA 1\nI 2 del t00/k0002\nA 2\nI 3 put t00/k0003\nA",
        )
        .unwrap();
        assert_eq!(log.acked.len(), 2);
        assert_eq!(log.in_flight.as_ref().map(|(n, _)| *n), Some(3));
        assert_eq!(log.last_issued(), 3);

        let cut_intent = ThreadLog::parse(b"I 1 put t00/k0001\nA 1\nI 2 del t00/k00").unwrap();
        assert_eq!(cut_intent.acked.len(), 1);
        assert_eq!(cut_intent.in_flight, None);
    }

    #[test]
    fn malformed_logs_are_rejected() {
        assert!(ThreadLog::parse(b"I 2 put t00/k0001\n").is_err());
        assert!(ThreadLog::parse(b"A 1\n").is_err());
        assert!(ThreadLog::parse(b"I 1 put t00/k0001\nI 2 put t00/k0001\n").is_err());
        assert!(ThreadLog::parse(b"I 1 frob t00/k0001\n").is_err());
    }

    #[test]
    fn the_writer_writes_what_the_reader_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.log");
        let mut w = LogWriter::create(&path, "test").unwrap();
        let op = Op::Increment {
            key: "ctr/1".into(),
            delta: 3,
        };
        w.intent(1, &op).unwrap();
        w.ack(1, Some(3)).unwrap();
        w.intent(2, &op).unwrap();
        let log = ThreadLog::read(&path).unwrap();
        assert_eq!(log.acked, vec![(1, op.clone())]);
        assert_eq!(log.in_flight, Some((2, op)));
        assert!(LogWriter::create(&path, "again").is_err());
    }
}
