//! `strata`, the command-line tool of the strata key-value store.
//!
//! * `strata serve`: the HTTP server (`strata-server`) on a data directory;
//! * `strata shell`: a REPL on a database opened in this process (history
//!   and line editing on a terminal; plain lines from a pipe);
//! * `strata get | put | del | scan`: one operation each;
//! * `strata stats`: levels, memtables, amplification, cache, stalls;
//! * `strata sst dump FILE`: one table's footer, properties, filter, index
//!   and (`--entries`) entries, then a check of every block
//!   (`strata_sstable::inspect`);
//! * `strata verify`: checks every file of a closed data directory
//!   (`strata::verify`); exit code 1 on any problem, naming file and offset;
//! * `strata bench`: db_bench-style workloads (`strata_benches::db_bench`).
//!
//! Every command but `serve`, `bench` and `sst dump` opens the database (or,
//! for `verify`, takes its lock) itself, so it fails with a clear message
//! while a server holds the directory's lock; `sst dump` only reads a file.
//! Keys and values are bytes: the shell and `--escapes` read `\xHH`
//! escapes, and output shows text as is and other bytes escaped
//! ([`escape`]). Exit codes: 0 ok, 1 not found, failed or corrupt, 2 usage
//! error.
//! `crates/cli/README.md` shows every command with an example.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod escape;
mod format;
mod open;
mod range;
mod shell;
mod ttl;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc, as in the benchmark binaries: with glibc's malloc writers
/// contend with the thread freeing a flushed memtable (docs/benchmarks.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => code,
        // `strata scan | head`: the reader left, nothing went wrong.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("strata: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
