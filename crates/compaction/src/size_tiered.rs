//! [`SizeTiered`]: Cassandra-style size-tiered compaction (STCS).
//!
//! Every file is a sorted run in L0. Runs of similar size are grouped into
//! buckets; once a bucket holds `min_threshold` runs, up to `max_threshold`
//! of them are merged into one bigger run, which later joins a bucket of
//! bigger runs. Each byte is rewritten about once per tier, so writes are
//! cheap; reads and space pay for the overlapping runs.
//!
//! L0 is ordered newest data first and a lookup stops at the first file
//! holding the key, so a merge may only combine runs that are adjacent in
//! age among the runs they overlap (a merged run must not straddle one it
//! overlaps). Buckets are therefore split into such age-contiguous runs
//! before one is chosen; files deeper than L0 (left by another strategy)
//! are not touched.
//!
//! Age order can defeat the buckets: a run of an odd size (a small flush
//! after a restart, a partial merge) between two runs it overlaps shares a
//! bucket with neither, and the runs on either side of it can never meet.
//! Each such run splits L0 for good, so with flushes of varied sizes the
//! run count grows without bound. Hence the run-count rule: with more than
//! `max_threshold` idle runs and no bucket ready, the adjacent runs cheapest
//! to merge (fewest bytes per run removed) are merged whatever their sizes.
//! After that, L0 holds at most `max_threshold` idle runs whenever
//! compaction has caught up.
//!
//! Concurrency: stateless; any number of concurrent `pick` calls.

use std::cmp::Reverse;

use crate::strategy::CompactionStrategy;
use crate::task::{CompactionPick, CompactionTask, PickReason};
use crate::view::{FileView, LevelsView};

/// Size-tiered compaction: low write amplification for more space and
/// read amplification.
///
/// See the module doc and `docs/compaction.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct SizeTiered {
    min_threshold: usize,
    max_threshold: usize,
    bucket_low: f64,
    bucket_high: f64,
    min_sstable_size: u64,
}

impl Default for SizeTiered {
    fn default() -> Self {
        Self {
            min_threshold: 4,
            max_threshold: 32,
            bucket_low: 0.5,
            bucket_high: 1.5,
            min_sstable_size: 8 << 20,
        }
    }
}

impl SizeTiered {
    /// Defaults: merge 4 to 32 runs of sizes within 0.5–1.5× their bucket's
    /// average; runs under 8 MiB share one bucket.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fewest runs a bucket needs before it is merged (default 4, as in
    /// Cassandra; at least 2). Higher: less write amplification, more runs
    /// per read.
    pub fn min_threshold(mut self, runs: usize) -> Self {
        self.min_threshold = runs.max(2);
        self.max_threshold = self.max_threshold.max(self.min_threshold);
        self
    }

    /// Most runs merged at once (default 32; at least `min_threshold`). Also
    /// the most idle L0 runs tolerated: beyond it, adjacent runs are merged
    /// whatever their sizes (see the module doc).
    pub fn max_threshold(mut self, runs: usize) -> Self {
        self.max_threshold = runs.max(self.min_threshold);
        self
    }

    /// A run joins a bucket if its size is within `[low × avg, high × avg]`
    /// of the bucket's average size (defaults 0.5 and 1.5, as in Cassandra).
    /// `low` is clamped to `0.0..=1.0` and `high` to at least 1.0.
    pub fn bucket_bounds(mut self, low: f64, high: f64) -> Self {
        self.bucket_low = low.clamp(0.0, 1.0);
        self.bucket_high = high.max(1.0);
        self
    }

    /// Runs smaller than this share one bucket whatever their sizes, so a
    /// stream of small flushes gets merged (default 8 MiB: Cassandra's 50 MiB
    /// scaled to strata's smaller memtables).
    pub fn min_sstable_size(mut self, bytes: u64) -> Self {
        self.min_sstable_size = bytes;
        self
    }

    /// The `min..=max` runs to merge in one pick.
    pub(crate) fn thresholds(&self) -> (usize, usize) {
        (self.min_threshold, self.max_threshold)
    }

    /// `files` grouped into buckets of similar size, Cassandra's way: by
    /// ascending size, each file joins the first bucket whose average it is
    /// close to (or the small-files bucket), else opens a new one.
    pub(crate) fn buckets<'a>(&self, files: &[&'a FileView]) -> Vec<Vec<&'a FileView>> {
        let mut sorted = files.to_vec();
        sorted.sort_by_key(|f| (f.size, f.number));
        let small = self.min_sstable_size as f64;
        let mut buckets: Vec<(f64, Vec<&FileView>)> = Vec::new();
        for f in sorted {
            let size = f.size as f64;
            let fits = |avg: f64| {
                (size >= avg * self.bucket_low && size <= avg * self.bucket_high)
                    || (size < small && avg < small)
            };
            match buckets.iter_mut().find(|(avg, _)| fits(*avg)) {
                Some((avg, members)) => {
                    *avg = (*avg * members.len() as f64 + size) / (members.len() + 1) as f64;
                    members.push(f);
                }
                None => buckets.push((size, vec![f])),
            }
        }
        buckets.into_iter().map(|(_, members)| members).collect()
    }

    /// The most worthwhile L0 merge among `files` (idle L0 files): from each
    /// bucket, its age-contiguous runs of at least `min_threshold` files,
    /// each cut to its oldest `max_threshold`; of those, the one with the
    /// most files, ties to the smaller average size, then the older.
    ///
    /// Most files: each merge then removes the most runs a read must visit
    /// for the bytes it rewrites. Smaller average on a tie: cheaper, and
    /// small runs are the most numerous.
    pub(crate) fn pick_among<'a>(
        &self,
        view: &LevelsView,
        files: &[&'a FileView],
    ) -> Option<Vec<&'a FileView>> {
        self.buckets(files)
            .into_iter()
            .filter(|b| b.len() >= self.min_threshold)
            .flat_map(|b| age_contiguous_runs(view, b))
            .map(|mut run| {
                // Newest first: keep the oldest, they have waited longest.
                let excess = run.len().saturating_sub(self.max_threshold);
                run.drain(..excess);
                run
            })
            .filter(|run| {
                run.len() >= self.min_threshold
                    && l0_merge(view, run, PickReason::SizeTieredBucket).is_some()
            })
            .max_by_key(|run| {
                let avg = run.iter().map(|f| f.size).sum::<u64>() / run.len() as u64;
                let newest = run.iter().map(|f| f.max_seqno).max();
                (run.len(), Reverse(avg), Reverse(newest))
            })
    }

    /// The merge that brings `files` (idle L0 files) back towards
    /// `max_threshold` runs when no bucket is ready: `None` unless there are
    /// more. Of every window of age-adjacent runs that can merge, `k` wide
    /// (`k` = the excess plus one, at least `min_threshold`, at most
    /// `max_threshold`; narrower only where fewer runs are adjacent), the
    /// one that rewrites the fewest bytes per run it removes, ties to the
    /// newer.
    ///
    /// Fewest bytes per run removed: the small, odd-sized runs that block
    /// the buckets go first, and cheaply; the merged run then usually finds
    /// a bucket.
    pub(crate) fn pick_run_count(
        &self,
        view: &LevelsView,
        files: &[&FileView],
    ) -> Option<CompactionPick> {
        let excess = files.len().checked_sub(self.max_threshold)?;
        if excess == 0 {
            return None;
        }
        let k = (excess + 1).clamp(self.min_threshold, self.max_threshold);
        let mut best: Option<((u64, Reverse<u64>), CompactionPick)> = None;
        for run in age_contiguous_runs(view, files.to_vec()) {
            let width = k.min(run.len());
            for window in run.windows(width) {
                let bytes: u64 = window.iter().map(|f| f.size).sum();
                let newest = window.iter().map(|f| f.max_seqno).max().unwrap_or(0);
                let key = (bytes / (width as u64 - 1), Reverse(newest));
                if best.as_ref().is_some_and(|(b, _)| *b <= key) {
                    continue;
                }
                if let Some(pick) = l0_merge(view, window, PickReason::RunCount) {
                    best = Some((key, pick));
                }
            }
        }
        best.map(|(_, pick)| pick)
    }

    /// The L0 score of `files` (idle L0 files): the biggest bucket /
    /// `min_threshold`, or, beyond `max_threshold` runs, runs /
    /// `max_threshold` if that is more.
    pub(crate) fn l0_score(&self, files: &[&FileView]) -> f64 {
        let biggest = self.buckets(files).iter().map(Vec::len).max().unwrap_or(0);
        let buckets = biggest as f64 / self.min_threshold as f64;
        let runs = if files.len() > self.max_threshold {
            files.len() as f64 / self.max_threshold as f64
        } else {
            0.0
        };
        buckets.max(runs)
    }

    /// The bucket merge of [`pick_among`](Self::pick_among), else the
    /// run-count merge of [`pick_run_count`](Self::pick_run_count).
    pub(crate) fn pick_l0(&self, view: &LevelsView, files: &[&FileView]) -> Option<CompactionPick> {
        match self.pick_among(view, files) {
            Some(run) => l0_merge(view, &run, PickReason::SizeTieredBucket),
            None => self.pick_run_count(view, files),
        }
    }
}

/// `files` (any order) split, newest first, into maximal runs that can be
/// merged in L0 without straddling a file they overlap
/// ([`LevelsView::check_pick`]).
pub(crate) fn age_contiguous_runs<'a>(
    view: &LevelsView,
    mut files: Vec<&'a FileView>,
) -> Vec<Vec<&'a FileView>> {
    files.sort_by_key(|f| Reverse((f.max_seqno, f.number)));
    let mut runs = Vec::new();
    let mut run: Vec<&FileView> = Vec::new();
    for f in files {
        run.push(f);
        if run.len() > 1 && l0_merge(view, &run, PickReason::SizeTieredBucket).is_none() {
            run.pop();
            runs.push(std::mem::replace(&mut run, vec![f]));
        }
    }
    runs.push(run);
    runs.retain(|r| r.len() > 1);
    runs
}

/// The merge of `files` (L0, newest first) into one L0 run, if valid.
pub(crate) fn l0_merge(
    view: &LevelsView,
    files: &[&FileView],
    reason: PickReason,
) -> Option<CompactionPick> {
    let pick = CompactionPick::Merge(CompactionTask {
        inputs: vec![(0, files.iter().map(|f| f.number).collect())],
        output_level: 0,
        target_file_size: u64::MAX,
        reason,
    });
    view.check_pick(&pick).is_ok().then_some(pick)
}

/// The level manual compaction writes to under an L0-only strategy: L0,
/// unless another strategy left files deeper.
pub(crate) fn l0_bottom_level(view: &LevelsView) -> usize {
    view.deepest_nonempty_level()
}

impl CompactionStrategy for SizeTiered {
    fn name(&self) -> &'static str {
        "size_tiered"
    }

    fn pick(&self, view: &LevelsView) -> Option<CompactionPick> {
        let idle: Vec<&FileView> = view
            .level(0)
            .iter()
            .filter(|f| !f.being_compacted)
            .collect();
        self.pick_l0(view, &idle)
    }

    /// L0: files in the biggest bucket / `min_threshold`, or, beyond
    /// `max_threshold` idle runs, runs / `max_threshold` if that is more;
    /// deeper levels 0.
    fn scores(&self, view: &LevelsView) -> Vec<f64> {
        let idle: Vec<&FileView> = view
            .level(0)
            .iter()
            .filter(|f| !f.being_compacted)
            .collect();
        let mut scores = vec![0.0; view.levels.len()];
        if let Some(s) = scores.first_mut() {
            *s = self.l0_score(&idle);
        }
        scores
    }

    /// L0 (or the deepest level holding files another strategy left there).
    fn bottom_level(&self, view: &LevelsView) -> usize {
        l0_bottom_level(view)
    }

    /// One run: `u64::MAX`.
    fn manual_target_file_size(&self) -> u64 {
        u64::MAX
    }
}

#[cfg(test)]
mod tests;
