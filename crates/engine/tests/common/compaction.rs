//! What the compaction tests share: the strategies they run under, with the
//! small sizes that make compactions happen constantly.

use strata::{SizeTiered, TimeWindow};

/// A compaction strategy a test runs under.
#[derive(Debug, Clone, Copy)]
pub enum Strat {
    Leveled,
    SizeTiered,
    TimeWindow,
}

/// Every strategy, for tests that run under each.
pub const ALL: [Strat; 3] = [Strat::Leveled, Strat::SizeTiered, Strat::TimeWindow];

/// Size-tiered merging 2 to 4 files, every file under 1 KiB one bucket.
pub fn tiny_size_tiered() -> SizeTiered {
    SizeTiered::default()
        .min_threshold(2)
        .max_threshold(4)
        .min_sstable_size(1 << 10)
}

/// Time-window with windows of `window_ms`, tiny size-tiered inside them.
pub fn tiny_time_window(window_ms: u64) -> TimeWindow {
    TimeWindow::default()
        .window_ms(window_ms)
        .size_tiered(tiny_size_tiered())
}
