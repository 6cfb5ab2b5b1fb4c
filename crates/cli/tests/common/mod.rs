//! Running the built `strata` binary.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Held while a child is spawned and while a test closes a database it
/// opened in-process. The directory lock is an flock on an open file, so a
/// child forked by another test thread holds a copy of the lock until it
/// execs (`spawn` returns only after the exec): closing under this mutex
/// means no such copy outlives the close and a `strata` run right after it
/// finds the directory free.
static SPAWNING: Mutex<()> = Mutex::new(());

fn spawning() -> MutexGuard<'static, ()> {
    SPAWNING.lock().unwrap_or_else(PoisonError::into_inner)
}

fn spawn(cmd: &mut Command) -> Child {
    let _one_at_a_time = spawning();
    cmd.spawn().unwrap()
}

/// Closes a database the test opened, so that `strata` can open it next.
pub fn close(db: strata::Db) {
    let _no_spawn_in_flight = spawning();
    db.close().unwrap();
    drop(db);
}

/// What one run of `strata` did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub raw_stdout: Vec<u8>,
}

impl Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().expect("strata was killed by a signal"),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            raw_stdout: output.stdout,
        }
    }

    /// Panics with the output unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn ok(self) -> Self {
        self.expect_code(0)
    }
}

/// A `strata` command with `args`, a clean environment for the settings
/// it reads, and no terminal.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_strata"));
    cmd.args(args)
        .env_remove("STRATA_TOKEN")
        .env("STRATA_HISTORY", "")
        .stdin(Stdio::null());
    cmd
}

/// Runs `strata ARGS`.
pub fn strata(args: &[&str]) -> Run {
    let mut cmd = command(args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    Run::from(spawn(&mut cmd).wait_with_output().unwrap())
}

/// Runs `strata ARGS --data-dir DIR`.
pub fn strata_in(dir: &Path, args: &[&str]) -> Run {
    let dir = format!("--data-dir={}", dir.display());
    strata(&[args, &[dir.as_str()]].concat())
}

/// Runs `strata ARGS` with `input` piped to its stdin.
pub fn strata_with_stdin(args: &[&str], input: &str) -> Run {
    let mut cmd = command(args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(&mut cmd);
    let written = child.stdin.take().unwrap().write_all(input.as_bytes());
    // A shell that failed to start stops reading: its exit tells why.
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    Run::from(child.wait_with_output().unwrap())
}

/// Entries [`compacted_database`] writes: `key00000` .. `key02999` with
/// `value-N`, one binary key and one key with a TTL.
pub const FIXTURE_ENTRIES: usize = 3002;

/// The user keys [`compacted_database`] writes, in key order.
pub fn fixture_keys() -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = (0..3000)
        .map(|i| format!("key{i:05}").into_bytes())
        .collect();
    keys.push(b"bin\x00\xff".to_vec());
    keys.push(b"session".to_vec());
    keys.sort();
    keys
}

/// A closed database of [`FIXTURE_ENTRIES`] distinct keys, flushed and
/// compacted by an in-process `Db`: its tables are in the last level.
pub fn compacted_database() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let db = strata::Db::open(dir.path(), strata::Options::default()).unwrap();
    for i in 0..3000 {
        db.put(format!("key{i:05}"), format!("value-{i}")).unwrap();
    }
    db.put(b"bin\x00\xff", b"\x01\x02").unwrap();
    db.put_with_ttl("session", "token", std::time::Duration::from_secs(3600))
        .unwrap();
    db.flush().unwrap();
    db.compact().unwrap();
    close(db);
    dir
}

/// The `.sst` files in `dir`, by name.
pub fn tables(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut tables: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sst"))
        .collect();
    tables.sort();
    tables
}

/// Inverts every bit of the byte at `offset` of `path`.
pub fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = usize::try_from(offset).unwrap();
    bytes[at] ^= 0xff;
    std::fs::write(path, bytes).unwrap();
}
