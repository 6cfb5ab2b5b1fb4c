//! # strata-stress
//!
//! The crash test of strata, after RocksDB's `db_crashtest.py` and
//! LevelDB's fault tests: a child process runs a mixed workload on a
//! database with tiny memtables and compaction targets (so flushes,
//! compactions and manifest rewrites run all the time) and logs every write
//! it issues and every acknowledgement it gets; the parent SIGKILLs it at a
//! random moment, verifies the directory against the log, and starts the
//! next child on the same directory, so recovery runs again and again,
//! including after kills in the middle of a flush, a compaction, a manifest
//! rewrite or a recovery.
//!
//! ```
//! use std::time::Duration;
//! use strata_stress::{Checker, ChildConfig, Strategy, Sync, run_child};
//!
//! let work = tempfile::tempdir()?;
//! // A child run in-process for a fixed number of steps (the binary's
//! // `child` command runs until killed).
//! let child = ChildConfig {
//!     work: work.path().to_path_buf(),
//!     seed: 7,
//!     round: 0,
//!     strategy: Strategy::Leveled,
//!     sync: Sync::Never,
//!     threads: 2,
//!     steps_per_thread: Some(300),
//!     max_duration: Duration::from_secs(60),
//! };
//! let done = run_child(&child)?;
//! assert!(done.writes > 0);
//!
//! let mut checker = Checker::new(work.path(), 2, Strategy::Leveled);
//! let report = checker.check_round(0)?; // Err(Violation) if anything is off
//! assert_eq!(report.acked_ops, done.writes);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## What is verified
//! The key space (module `keyspace`) makes the check exact: each worker
//! thread owns its keys, values name the key and the op that wrote them,
//! batches write whole groups of keys, and counters are shared and only
//! incremented. The expected-state log (module `log`) records an intent
//! before each engine call and an acknowledgement after it returns, so after
//! a kill every thread has a list of acknowledged ops and at most one op in
//! flight. [`Checker`] then requires, on a copy of the crashed directory:
//! `strata::verify` finds no problem; forward scan, reverse scan and gets
//! agree; every batch group is whole; each thread's keys equal the model
//! after exactly its acknowledged ops, or after those plus its op in flight
//! (so no acknowledged write is lost, nothing unacknowledged appears except
//! that one op, and no batch is half applied); each counter equals its
//! acknowledged increments plus a subset of those in flight; no key outside
//! the key space exists; and after recovery `strata::verify` is clean
//! again. The child checks its own reads against its model as it runs.
//!
//! Under every sync policy a SIGKILL is a process crash: the kernel keeps
//! every byte the process wrote, and strata acknowledges a write only after
//! its WAL record was written to the OS. So the check is the same for
//! `always`, `interval` and `never`: nothing acknowledged may be lost. What
//! the policies differ in (power loss) is not what this test simulates;
//! `docs/reliability.md` says more.
//!
//! ## The server soak
//! [`soak()`] loads a running `strata serve` (a child process) with
//! many concurrent clients for a bounded time, checks every answer and the
//! server's memory, then sends it malformed and slow requests; see
//! `docs/reliability.md`.
//!
//! ## Concurrency
//! The child's worker threads share one `Db`; each writes only its own keys
//! and its own log. The parent runs one child at a time and checks only
//! after the child is dead; [`Checker`] works on a copy of the directory.
#![forbid(unsafe_code)]

mod check;
mod child;
mod config;
mod keyspace;
mod log;
mod op;
mod parent;
mod soak;
mod violation;

pub use check::{Checker, RoundReport};
pub use child::{ChildConfig, ChildSummary, db_dir, run_child};
pub use config::{SYNC_INTERVAL, Strategy, Sync};
pub use keyspace::MAX_THREADS;
pub use parent::{ComboSummary, Failure, RunConfig, Stop, Summary, combo_dir, run};
pub use soak::{SoakConfig, SoakReport, soak};
pub use violation::{Violation, ViolationKind};

/// Compiles and runs the README's example as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
