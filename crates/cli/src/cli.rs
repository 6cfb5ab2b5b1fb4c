//! The command line: every command and flag, with its help text.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use strata_benches::db_bench::Workload;

/// The data directory every command but `bench` defaults to.
pub(crate) const DEFAULT_DATA_DIR: &str = "strata-data";

/// strata: an embeddable LSM-tree key-value store. Serve it over HTTP, use
/// it from a shell, inspect it, benchmark it.
#[derive(Debug, Parser)]
#[command(name = "strata", version, propagate_version = true)]
#[command(after_help = "Exit codes: 0 ok, 1 not found, failed or corrupt, 2 usage error.")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the HTTP server (key-value API and web page) until SIGINT/SIGTERM.
    Serve(ServeArgs),
    /// Open the database and type commands (get, set, del, scan, incr, flush,
    /// compact, stats); reads commands line by line when stdin is not a terminal.
    Shell(DataDirArg),
    /// Print the value of KEY; exit code 1 if it is absent.
    Get(GetArgs),
    /// Set KEY to VALUE, optionally for a limited time.
    Put(PutArgs),
    /// Delete KEY (absent keys are fine).
    Del(DelArgs),
    /// List keys and values in key order, one `KEY<TAB>VALUE` per line.
    Scan(ScanArgs),
    /// Show levels, memtables, amplification, block cache and write stalls.
    Stats(StatsArgs),
    /// Run db_bench-style workloads and report throughput and latency.
    Bench(BenchArgs),
    /// Inspect table (.sst) files.
    Sst(SstArgs),
    /// Check every file of a closed data directory (block and record
    /// checksums, the manifest, tables against the manifest); exit code 1
    /// on corruption.
    Verify(VerifyArgs),
}

/// `--data-dir`, for commands that open an existing directory.
#[derive(Debug, Args)]
pub(crate) struct DataDirArg {
    /// The database directory.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
    pub(crate) data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) data: DataDirArg,
    /// Address to listen on; the default accepts local connections only.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8080")]
    pub(crate) addr: SocketAddr,
    /// File holding the bearer token every request but /health must carry
    /// (a trailing newline is ignored). Without it, the STRATA_TOKEN
    /// environment variable is used if set; with neither, no token is needed.
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    /// PEM certificate chain: serve HTTPS (needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Largest request body accepted (larger ones get 413) [default: 16 MiB].
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_body_bytes: Option<usize>,
    /// Time a client has to send a request's headers (and to finish a TLS
    /// handshake), from the connection's start or the previous answer; so
    /// also how long idle connections stay open. Past it the connection is
    /// closed. E.g. 30s, 500ms [default: 30s].
    #[arg(long, value_name = "TIME", value_parser = crate::ttl::parse_timeout)]
    pub(crate) header_timeout: Option<Duration>,
    /// Longest pause allowed in the middle of a request body (408) or while
    /// a client does not read its answer (connection closed) [default: 30s].
    #[arg(long, value_name = "TIME", value_parser = crate::ttl::parse_timeout)]
    pub(crate) stall_timeout: Option<Duration>,
    /// Connections served at once; more wait until one closes [default: 512].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_connections: Option<u32>,
    /// Threads running engine calls; requests beyond wait for one
    /// [default: 16].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) engine_threads: Option<u32>,
    /// Bytes a memtable holds before it is flushed (up to 3 exist at once:
    /// one being written, two waiting for their flush) [default: 64 MiB].
    #[arg(long, value_name = "BYTES")]
    pub(crate) memtable_bytes: Option<usize>,
    /// Size of the block cache [default: 64 MiB].
    #[arg(long, value_name = "BYTES")]
    pub(crate) block_cache_bytes: Option<u64>,
}

/// Flags of the commands that take keys on the command line.
#[derive(Debug, Args)]
pub(crate) struct KeyFlags {
    #[command(flatten)]
    pub(crate) data: DataDirArg,
    /// Decode escapes in keys and values: \xHH (any byte), \n, \t, \r, \0,
    /// \\ and \" — for binary keys and values.
    #[arg(short, long)]
    pub(crate) escapes: bool,
}

#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    #[command(flatten)]
    pub(crate) flags: KeyFlags,
    /// Write the value's exact bytes, with no newline (for binary values and
    /// pipes); otherwise text is printed as is and other bytes escaped.
    #[arg(long)]
    pub(crate) raw: bool,
    /// The key.
    pub(crate) key: OsString,
}

#[derive(Debug, Args)]
pub(crate) struct PutArgs {
    #[command(flatten)]
    pub(crate) flags: KeyFlags,
    /// Expire the key after this long: 30s, 5m, 1h, 2d, 250ms, or a number
    /// of milliseconds.
    #[arg(long, value_name = "TTL", value_parser = crate::ttl::parse_ttl)]
    pub(crate) ttl: Option<Duration>,
    /// The key.
    pub(crate) key: OsString,
    /// The value.
    pub(crate) value: OsString,
}

#[derive(Debug, Args)]
pub(crate) struct DelArgs {
    #[command(flatten)]
    pub(crate) flags: KeyFlags,
    /// The key.
    pub(crate) key: OsString,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    #[command(flatten)]
    pub(crate) flags: KeyFlags,
    /// Only keys starting with this. Keys the HTTP server keeps for itself
    /// are hidden unless this asks for them.
    #[arg(long, value_name = "PREFIX")]
    pub(crate) prefix: Option<OsString>,
    /// Only keys at or after this one.
    #[arg(long, value_name = "KEY")]
    pub(crate) start: Option<OsString>,
    /// Only keys before this one.
    #[arg(long, value_name = "KEY")]
    pub(crate) end: Option<OsString>,
    /// Stop after this many keys.
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
    /// Descending key order.
    #[arg(long)]
    pub(crate) reverse: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    #[command(flatten)]
    pub(crate) data: DataDirArg,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SstArgs {
    #[command(subcommand)]
    pub(crate) command: SstCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SstCommand {
    /// Print a table's footer, properties, filter and index (one line per
    /// data block), optionally its entries, then check every block; exit
    /// code 1 if the file is damaged.
    Dump(SstDumpArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SstDumpArgs {
    /// The table file (NNNNNN.sst in a data directory). It is only read, so
    /// a database in use can be inspected.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Also print every entry in key order: key, seqno, kind, expiry, value
    /// (text as is, other bytes escaped, long values cut).
    #[arg(long)]
    pub(crate) entries: bool,
    /// Print at most N entries (implies --entries).
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub(crate) data: DataDirArg,
    /// Print JSON instead of one line per file.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Workloads (in the default order): fillseq, fillrandom, overwrite, \
readrandom, readmissing, readseq, seekrandom, readwhilewriting, deleterandom. fillseq and \
fillrandom start from an empty database; the others use what the previous one left. \
Also available with --workloads: ycsb-a, ycsb-b, ycsb-e (YCSB A, B and E, zipfian keys; run \
them after a fill) and fillsync-1, fillsync-8, fillsync-64 (--synced-num synced puts from 1, \
8 and 64 threads, each into an empty database that syncs every write)."
)]
pub(crate) struct BenchArgs {
    /// Directory for the database; it must be empty or absent, and keeps the
    /// last workload's database afterwards [default: a temporary directory,
    /// removed at the end].
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Keys in the key space, and operations per workload.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub(crate) num: u64,
    /// Bytes per value (keys are 16 bytes).
    #[arg(long, value_name = "BYTES", default_value_t = 100)]
    pub(crate) value_size: usize,
    /// Threads per workload (readers, for readwhilewriting).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: u16,
    /// Puts of each synced fill (fillsync-1, fillsync-8, fillsync-64).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub(crate) synced_num: u64,
    /// fsync the write-ahead log on every write (SyncPolicy::Always).
    #[arg(long)]
    pub(crate) sync: bool,
    /// Flush the memtables after each workload that writes (not timed), so
    /// reads find the data in tables.
    #[arg(long)]
    pub(crate) flush: bool,
    /// Read tables through memory maps (Options::mmap_reads) instead of pread.
    #[arg(long)]
    pub(crate) mmap_reads: bool,
    /// Comma-separated workloads to run, in order [default: all].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub(crate) workloads: Option<Vec<Workload>>,
    /// Seed of the random key orders and values.
    #[arg(long, value_name = "N", default_value_t = 301)]
    pub(crate) seed: u64,
    /// Print JSON (no progress bar) instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_and_flag_has_help() {
        fn check(command: &clap::Command) {
            for sub in command.get_subcommands() {
                assert!(sub.get_about().is_some(), "{} has no help", sub.get_name());
                for arg in sub.get_arguments() {
                    let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                    assert!(
                        builtin || arg.get_help().is_some(),
                        "{} {} has no help",
                        sub.get_name(),
                        arg.get_id()
                    );
                }
                check(sub);
            }
        }
        check(&Cli::command());
    }
}
