//! [`TimeWindow`]: Cassandra-style time-window compaction (TWCS) for
//! time-series and TTL'd data.
//!
//! Every file lives in L0 and belongs to the time window (default one hour)
//! of its newest write (`max_time_ms`). The current window, still being
//! written, is compacted size-tiered; a window that has closed is merged
//! into a single file and then left alone, so old data is rewritten about
//! once more after it stops changing. A file whose every entry has expired
//! is deleted whole without being read, which is what makes TTL cheap: data
//! written together expires together, file by file.
//!
//! Choose it for append-mostly data keyed or written by time, read mostly
//! by recent time ranges, often with a TTL: metrics, events, logs. It is a
//! poor fit for updates or deletes of old keys (they land in new windows and
//! keep old windows' data alive) and for data without a TTL (windows pile
//! up). A file is only dropped if no other file it overlaps holds older
//! data, which would otherwise come back: mixing TTL and non-TTL writes in
//! one key range keeps expired files around until a merge removes them.
//!
//! Concurrency: stateless; any number of concurrent `pick` calls.

use std::collections::BTreeMap;

use crate::size_tiered::{SizeTiered, age_contiguous_runs, l0_bottom_level, l0_merge};
use crate::strategy::CompactionStrategy;
use crate::task::{CompactionPick, PickReason};
use crate::view::{FileView, LevelsView};

/// Time-window compaction. See the module doc and `docs/compaction.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeWindow {
    window_ms: u64,
    size_tiered: SizeTiered,
}

impl Default for TimeWindow {
    fn default() -> Self {
        Self {
            window_ms: 60 * 60 * 1000,
            size_tiered: SizeTiered::default(),
        }
    }
}

impl TimeWindow {
    /// Defaults: one-hour windows, [`SizeTiered::default`] inside the current one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Window length in milliseconds (default one hour; at least 1). Aim for
    /// a few dozen windows over the data's lifetime (TTL): shorter windows
    /// mean more files per read, longer ones coarser expiry.
    pub fn window_ms(mut self, ms: u64) -> Self {
        self.window_ms = ms.max(1);
        self
    }

    /// The size-tiered settings for the current window; its `max_threshold`
    /// also caps how many files a closed window's merge takes at once.
    pub fn size_tiered(mut self, size_tiered: SizeTiered) -> Self {
        self.size_tiered = size_tiered;
        self
    }

    /// The window `f` belongs to.
    fn window_of(&self, f: &FileView) -> u64 {
        f.max_time_ms / self.window_ms
    }

    /// Fully expired idle files that can go without bringing back older
    /// data, oldest first: each overlaps no file, other than the ones
    /// already chosen, that may hold older data.
    fn droppable<'a>(&self, view: &'a LevelsView) -> Vec<&'a FileView> {
        let mut candidates: Vec<&FileView> = view
            .files()
            .filter(|f| !f.being_compacted && f.is_fully_expired(view.now_ms))
            .collect();
        candidates.sort_by_key(|f| (f.max_seqno, f.number));
        let mut chosen: Vec<&FileView> = Vec::new();
        for f in candidates {
            let shadows_older = view.files().any(|g| {
                g.number != f.number
                    && g.min_seqno <= f.max_seqno
                    && g.overlaps_file(f)
                    && !chosen.iter().any(|c| c.number == g.number)
            });
            if !shadows_older {
                chosen.push(f);
            }
        }
        chosen
    }

    /// Idle L0 files by window.
    fn windows<'a>(&self, view: &'a LevelsView) -> BTreeMap<u64, Vec<&'a FileView>> {
        let mut windows: BTreeMap<u64, Vec<&FileView>> = BTreeMap::new();
        for f in view.level(0).iter().filter(|f| !f.being_compacted) {
            windows.entry(self.window_of(f)).or_default().push(f);
        }
        windows
    }

    /// The merge of a closed window: its longest age-contiguous run, cut to
    /// the oldest `max_threshold` files.
    fn pick_closed(&self, view: &LevelsView, files: &[&FileView]) -> Option<CompactionPick> {
        let (_, max) = self.size_tiered.thresholds();
        let mut run = age_contiguous_runs(view, files.to_vec())
            .into_iter()
            .max_by_key(Vec::len)?;
        run.drain(..run.len().saturating_sub(max));
        l0_merge(view, &run, PickReason::WindowClosed)
    }
}

impl CompactionStrategy for TimeWindow {
    fn name(&self) -> &'static str {
        "time_window"
    }

    /// First drops of fully expired files; then, newest window first, a
    /// size-tiered merge in the current window or the merge of a closed
    /// window holding more than one file.
    fn pick(&self, view: &LevelsView) -> Option<CompactionPick> {
        let drop: Vec<(usize, u64)> = self
            .droppable(view)
            .iter()
            .map(|f| (f.level, f.number))
            .collect();
        if !drop.is_empty() {
            let pick = CompactionPick::Drop { files: drop };
            if view.check_pick(&pick).is_ok() {
                return Some(pick);
            }
        }
        let current = view.now_ms / self.window_ms;
        self.windows(view)
            .into_iter()
            .rev()
            .find_map(|(window, files)| {
                if window >= current {
                    self.size_tiered.pick_l0(view, &files)
                } else if files.len() > 1 {
                    self.pick_closed(view, &files)
                } else {
                    None
                }
            })
    }

    /// L0: 1.0 if a file can be dropped or a closed window holds more than
    /// one file, else the current window's size-tiered score (buckets and
    /// run count); deeper 0.
    fn scores(&self, view: &LevelsView) -> Vec<f64> {
        let current = view.now_ms / self.window_ms;
        let windows = self.windows(view);
        let closed_work = windows.range(..current).any(|(_, files)| files.len() > 1);
        let l0 = if closed_work || !self.droppable(view).is_empty() {
            1.0
        } else {
            windows
                .range(current..)
                .map(|(_, files)| self.size_tiered.l0_score(files))
                .fold(0.0, f64::max)
        };
        let mut scores = vec![0.0; view.levels.len()];
        if let Some(s) = scores.first_mut() {
            *s = l0;
        }
        scores
    }

    /// L0 (or the deepest level holding files another strategy left there).
    fn bottom_level(&self, view: &LevelsView) -> usize {
        l0_bottom_level(view)
    }

    /// One file: `u64::MAX`.
    fn manual_target_file_size(&self) -> u64 {
        u64::MAX
    }
}

#[cfg(test)]
mod tests;
