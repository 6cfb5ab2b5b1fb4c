//! # strata-compaction
//!
//! Compaction for strata's LSM tree: which tables to merge (a
//! `CompactionStrategy` looking at a read-only view of the levels) and the
//! merge itself (the executor). Strategies know nothing of I/O; the executor
//! knows nothing of levels.

mod executor;

pub use executor::{CompactionJob, CompactionOutput, OutputFile, run_compaction};
