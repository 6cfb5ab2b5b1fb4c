//! # strata-compaction
//!
//! Compaction for strata's LSM tree: which tables to merge (a
//! [`CompactionStrategy`] looking at a read-only view of the levels) and the
//! merge itself (the executor). Strategies know nothing of I/O; the executor
//! knows nothing of levels.
//!
//! ## Strategies
//!
//! The engine builds a [`LevelsView`] (one [`FileView`] of metadata per
//! table) and asks its strategy to [`pick`](CompactionStrategy::pick) the
//! next [`CompactionPick`]: a [`CompactionTask`] merging input files into a
//! level, a trivial move of files to a deeper level, or a drop of fully
//! expired files. Three strategies ship (see `docs/compaction.md`):
//!
//! - [`Leveled`]: one sorted run per level, levels growing by a ratio; least
//!   space and read amplification (the default).
//! - [`SizeTiered`]: runs of similar size merged together; least write
//!   amplification.
//! - [`TimeWindow`]: runs grouped by write-time window, whole expired files
//!   dropped; for time-series and TTL'd data.
//!
//! Invariants every pick keeps, checked by [`LevelsView::check_pick`] (the
//! engine runs it on every pick; the shipped strategies only return picks
//! that pass it): named files exist and are idle (`being_compacted` false);
//! levels ≥ 1 stay sorted and disjoint; for every key a shallower level, and
//! in L0 a file with newer seqnos, still holds the newer version; nothing is
//! written where a running compaction will write.
//!
//! ## Executor
//!
//! [`run_compaction`] merges a [`CompactionJob`]'s input tables into new
//! tables split at a target size, keeping per key the newest version and
//! the newest one each live snapshot sees, and dropping tombstones and
//! expired values where no older data may exist outside the job. On error
//! it deletes every output it created.
//!
//! Concurrency: views and picks are plain data. Strategies are `Send +
//! Sync`; `pick` may be called from several threads at once (the only
//! interior state, leveled's round-robin cursors, is behind a mutex).
#![forbid(unsafe_code)]

mod executor;
mod leveled;
mod manual;
mod size_tiered;
mod strategy;
mod task;
mod time_window;
mod validate;
mod view;

#[cfg(test)]
mod testutil;

pub use executor::{
    CompactionJob, CompactionOutput, OutputFile, run_compaction, visible_to_a_snapshot,
};
pub use leveled::{FilePicker, Leveled};
pub use size_tiered::SizeTiered;
pub use strategy::{CompactionStrategy, DEFAULT_TARGET_FILE_SIZE};
pub use task::{CompactionPick, CompactionTask, PickReason};
pub use time_window::TimeWindow;
pub use view::{FileView, LevelsView, MAX_LEVELS};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
