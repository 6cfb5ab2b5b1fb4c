//! What a crash-test database looks like: the compaction strategies and
//! sync policies under test, and the tiny sizes that make flushes,
//! compactions and manifest rewrites happen constantly.

use std::fmt;
use std::time::Duration;

use strata::{CompressionType, Leveled, Options, SizeTiered, SyncPolicy, TimeWindow};

/// The compaction strategy of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Strategy {
    /// [`Leveled`]: L0 trigger 2, L1 128 KiB, ratio 4, 32 KiB files.
    Leveled,
    /// [`SizeTiered`]: merges 2 to 4 similar runs, every file under 1 KiB
    /// in one bucket.
    Tiered,
    /// [`TimeWindow`]: 500 ms windows, tiny size-tiered inside them.
    Window,
}

impl Strategy {
    /// Every strategy.
    pub const ALL: [Self; 3] = [Self::Leveled, Self::Tiered, Self::Window];
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Leveled => "leveled",
            Self::Tiered => "tiered",
            Self::Window => "window",
        })
    }
}

/// The WAL sync policy of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Sync {
    /// [`SyncPolicy::Always`].
    Always,
    /// [`SyncPolicy::Never`].
    Never,
    /// [`SyncPolicy::Interval`] of [`SYNC_INTERVAL`].
    Interval,
}

impl Sync {
    /// Every policy.
    pub const ALL: [Self; 3] = [Self::Always, Self::Never, Self::Interval];

    fn policy(self) -> SyncPolicy {
        match self {
            Self::Always => SyncPolicy::Always,
            Self::Never => SyncPolicy::Never,
            Self::Interval => SyncPolicy::Interval(SYNC_INTERVAL),
        }
    }
}

impl fmt::Display for Sync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Interval => "interval",
        })
    }
}

/// The interval of [`Sync::Interval`].
pub const SYNC_INTERVAL: Duration = Duration::from_millis(20);

/// Memtable size of a crash-test database: a flush every few hundred writes.
pub(crate) const MEMTABLE_SIZE: usize = 64 << 10;

/// The options the child writes with. `seed` picks the compression, so
/// tables of both kinds mix in one directory.
pub(crate) fn child_options(strategy: Strategy, sync: Sync, seed: u64) -> Options {
    let compression = if seed.is_multiple_of(2) {
        CompressionType::None
    } else {
        CompressionType::Lz4
    };
    base_options(strategy)
        .sync_policy(sync.policy())
        .compression(compression)
        .compaction_threads(2)
        .compaction_interval(Duration::from_millis(200))
}

/// The options the checker opens a crashed copy with: the same strategy,
/// no background compaction (it would only make the check slower).
pub(crate) fn checker_options(strategy: Strategy) -> Options {
    base_options(strategy).auto_compaction(false)
}

fn base_options(strategy: Strategy) -> Options {
    let opts = Options::default()
        .create_if_missing(true)
        .memtable_size(MEMTABLE_SIZE)
        .max_immutable_memtables(2)
        .block_size(1024)
        .block_cache_bytes(256 << 10)
        .max_open_tables(8)
        .manifest_rewrite_bytes(16 << 10);
    match strategy {
        Strategy::Leveled => opts.compaction(
            Leveled::default()
                .l0_trigger(2)
                .base_level_size(128 << 10)
                .level_size_ratio(4)
                .target_file_size(32 << 10),
        ),
        Strategy::Tiered => opts.compaction(tiny_size_tiered()),
        Strategy::Window => opts.compaction(
            TimeWindow::default()
                .window_ms(500)
                .size_tiered(tiny_size_tiered()),
        ),
    }
}

fn tiny_size_tiered() -> SizeTiered {
    SizeTiered::default()
        .min_threshold(2)
        .max_threshold(4)
        .min_sstable_size(1 << 10)
}
