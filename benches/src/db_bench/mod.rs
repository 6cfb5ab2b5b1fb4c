//! db_bench- and YCSB-style workloads against any key-value store.
//!
//! A store under test implements [`Store`] (put, get, delete, a forward
//! cursor from a key, flush); [`strata::Db`] does so here, and the peer
//! comparison ([`crate::compare`]) implements it for other engines and runs
//! the very same workload code. [`run_all`] runs a list of [`Workload`]s in
//! order, opening a fresh store through a [`StoreFactory`] for those that
//! start from an empty one (`fillseq`, `fillrandom`, and the synced fills,
//! which get a store that syncs every write), and returns one
//! [`WorkloadResult`] per workload: throughput, mean latency, p50/p99/p99.9
//! latency (from an HDR histogram of every operation, one per thread,
//! merged), MB/s. [`run_all_observed`] also lets an [`Observer`] look at the
//! store before and after each workload.
//!
//! Keys are 16 bytes ([`crate::sorted_key`]: 16 ASCII digits, so key order
//! is index order); values are `value_size` bytes of incompressible data,
//! a deterministic function of the key index, so every read checks the
//! value it gets and a wrong one fails the run. All randomness is derived
//! from [`BenchConfig::seed`]: two runs do the same operations in the same
//! order on each thread.
//!
//! ```
//! use strata_benches::db_bench::{BenchConfig, NoProgress, StrataFactory, Workload, run_all};
//!
//! let dir = tempfile::tempdir()?;
//! let mut factory = StrataFactory::new(dir.path().join("db"), strata::Options::default());
//! let config = BenchConfig { num: 1_000, ..BenchConfig::default() };
//! let results = run_all(&mut factory, &[Workload::FillRandom, Workload::ReadRandom], &config, &NoProgress)?;
//! assert_eq!(results[1].found, Some(1_000));
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```
//!
//! Concurrency: a workload with `threads > 1` runs that many scoped threads
//! on one `&Store` (so stores must be `Sync`); `readwhilewriting` adds one
//! writer thread to its `threads` readers; the synced fills use 1, 8 and 64
//! threads whatever `threads` says.

mod config;
mod data;
mod progress;
mod recorder;
mod result;
mod run;
mod store;
mod workload;
mod ycsb;
mod zipf;

pub use config::BenchConfig;
pub use data::{ValueSource, missing_key};
pub use progress::{NoProgress, Progress};
pub use result::{Latency, WorkloadResult};
pub use run::{Observer, run_all, run_all_observed, run_workload};
pub use store::{
    Store, StoreError, StoreFactory, StoreResult, StrataFactory, remove_dir_if_present,
};
pub use workload::{UnknownWorkload, Workload};
pub use zipf::{Zipfian, unit};

#[cfg(test)]
mod tests;
