//! One module per command; [`run`] dispatches.

mod bench;
mod oneshot;
mod serve;
mod shell;
mod sst_dump;
pub(crate) mod stats;
mod verify;

use std::process::ExitCode;

use crate::cli::{Command, SstCommand};

/// Runs `command`; `Ok` carries the exit code (1 for "not found").
///
/// # Errors
/// Whatever stopped the command, for `main` to print.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => serve::run(args),
        Command::Shell(args) => shell::run(&args.data_dir),
        Command::Get(args) => oneshot::get(args),
        Command::Put(args) => oneshot::put(args),
        Command::Del(args) => oneshot::del(args),
        Command::Scan(args) => oneshot::scan(args),
        Command::Stats(args) => stats::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Sst(args) => match args.command {
            SstCommand::Dump(args) => sst_dump::run(args),
        },
        Command::Verify(args) => verify::run(args),
    }
}
