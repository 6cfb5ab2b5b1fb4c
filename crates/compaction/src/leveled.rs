//! [`Leveled`]: LevelDB/RocksDB-style leveled compaction.
//!
//! L0 holds flushed files (overlapping); each deeper level is one sorted run
//! about `ratio` times the size of the one above. When L0 has `l0_trigger`
//! files, all of them merge into L1; when a level outgrows its target, one
//! of its files merges into the next level with everything it overlaps
//! there. The file is the one with the least to rewrite below per byte of
//! its own ([`FilePicker::MinOverlappingRatio`], as RocksDB), or the next in
//! a round robin over the key space ([`FilePicker::RoundRobin`], as
//! LevelDB); a file that overlaps nothing below moves down without being
//! rewritten. Tombstone-heavy files go first
//! and are compacted even when no level is over its target, so deletes free
//! space early. With no level over its target and no tombstone-heavy file,
//! a file that reads have looked past too often
//! ([`FileView::seeks_exhausted`]) merges into the next level, as in LevelDB's seek compaction: a read-mostly phase after
//! heavy writes stops paying for the L0 files the writes left behind.
//!
//! Concurrency: the round-robin cursors sit behind a mutex; everything else
//! is read-only, so one `Leveled` may serve concurrent `pick` calls.

use bytes::Bytes;
use parking_lot::Mutex;

use crate::strategy::{CompactionStrategy, DEFAULT_TARGET_FILE_SIZE};
use crate::task::{CompactionPick, CompactionTask, PickReason};
use crate::view::{FileView, LevelsView, MAX_LEVELS, hull};

/// The last level: data there is never picked by size.
const LAST: usize = MAX_LEVELS - 1;

/// How [`Leveled`] chooses the file of an over-target level to merge into
/// the next level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FilePicker {
    /// The file whose overlap in the next level is smallest for its own
    /// size (RocksDB's `kMinOverlappingRatio`): the least rewriting per
    /// byte moved down. Ties go to the first file in key order.
    #[default]
    MinOverlappingRatio,
    /// A round robin over the key space, as LevelDB does: every key range
    /// gets its turn.
    RoundRobin,
}

/// Leveled compaction: low space and read amplification for more writes.
///
/// See the module doc and `docs/compaction.md`.
#[derive(Debug)]
pub struct Leveled {
    l0_trigger: usize,
    file_picker: FilePicker,
    base_level_size: u64,
    level_size_ratio: u64,
    target_file_size: u64,
    tombstone_ratio: f64,
    tombstone_min_entries: u64,
    /// Per level, the largest key of the file last picked there.
    cursors: Mutex<[Option<Bytes>; MAX_LEVELS]>,
}

impl Default for Leveled {
    fn default() -> Self {
        Self {
            l0_trigger: 8,
            file_picker: FilePicker::default(),
            base_level_size: 256 << 20,
            level_size_ratio: 10,
            target_file_size: DEFAULT_TARGET_FILE_SIZE,
            tombstone_ratio: 0.5,
            tombstone_min_entries: 1000,
            cursors: Mutex::new(Default::default()),
        }
    }
}

impl Clone for Leveled {
    fn clone(&self) -> Self {
        Self {
            cursors: Mutex::new(self.cursors.lock().clone()),
            ..*self
        }
    }
}

impl Leveled {
    /// Defaults: L0 trigger 8, L1 target 256 MiB, ratio 10, 64 MiB files,
    /// tombstone priority at 50 % tombstones and 1000 entries.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of L0 files that triggers an L0 → L1 compaction (default 8;
    /// at least 1). Lower: fewer files per read, more write amplification.
    ///
    /// RocksDB's default is 4, but a strata flush writes about half the
    /// memtable's charge (the charge counts each entry's skiplist node),
    /// so 8 strata files hold about what 4 RocksDB files of the same
    /// memtable size do, and each L0 → L1 merge rewrites L1 for that much
    /// new data.
    pub fn l0_trigger(mut self, files: usize) -> Self {
        self.l0_trigger = files.max(1);
        self
    }

    /// How the file of an over-target level is chosen (default
    /// [`FilePicker::MinOverlappingRatio`]). Tombstone-heavy files go
    /// first either way.
    pub fn file_picker(mut self, picker: FilePicker) -> Self {
        self.file_picker = picker;
        self
    }

    /// Size target of L1 in bytes (default 256 MiB, as RocksDB's
    /// `max_bytes_for_level_base`; at least 1).
    pub fn base_level_size(mut self, bytes: u64) -> Self {
        self.base_level_size = bytes.max(1);
        self
    }

    /// Growth factor between consecutive levels' targets (default 10; at
    /// least 2). Larger: fewer levels and less space amplification, more
    /// write amplification per level.
    pub fn level_size_ratio(mut self, ratio: u64) -> Self {
        self.level_size_ratio = ratio.max(2);
        self
    }

    /// Output files are split at this size (default 64 MiB; at least 1).
    /// Smaller files: finer-grained compactions, more files.
    pub fn target_file_size(mut self, bytes: u64) -> Self {
        self.target_file_size = bytes.max(1);
        self
    }

    /// A file of L1 and deeper whose tombstones / entries reach `ratio` and
    /// which has at least `min_entries` entries is compacted first, and even
    /// when no level is over its target (defaults 0.5 and 1000). A ratio
    /// above 1.0 turns this off.
    pub fn tombstone_priority(mut self, ratio: f64, min_entries: u64) -> Self {
        self.tombstone_ratio = ratio;
        self.tombstone_min_entries = min_entries;
        self
    }

    /// Size target of `level` in bytes: `base_level_size × ratio^(level−1)`
    /// for L1 and deeper (L0 is governed by the file count instead; this
    /// returns the L1 target for it).
    pub fn level_target(&self, level: usize) -> u64 {
        (1..level).fold(self.base_level_size, |t, _| {
            t.saturating_mul(self.level_size_ratio)
        })
    }

    fn score(&self, view: &LevelsView, level: usize) -> f64 {
        if level == 0 {
            let idle = view.level(0).iter().filter(|f| !f.being_compacted).count();
            idle as f64 / self.l0_trigger as f64
        } else {
            view.level_size_idle(level) as f64 / self.level_target(level) as f64
        }
    }

    fn tombstone_heavy(&self, f: &FileView) -> bool {
        !f.being_compacted
            && f.num_entries >= self.tombstone_min_entries
            && f.tombstone_ratio() >= self.tombstone_ratio
    }

    fn merge(
        &self,
        inputs: Vec<(usize, Vec<u64>)>,
        output_level: usize,
        reason: PickReason,
    ) -> CompactionPick {
        CompactionPick::Merge(CompactionTask {
            inputs: inputs.into_iter().filter(|(_, n)| !n.is_empty()).collect(),
            output_level,
            target_file_size: self.target_file_size,
            reason,
        })
    }

    /// All idle L0 files into L1, with the L1 files they overlap; a move if
    /// they overlap neither each other nor L1.
    fn pick_level0(&self, view: &LevelsView, reason: PickReason) -> Option<CompactionPick> {
        let l0: Vec<&FileView> = view
            .level(0)
            .iter()
            .filter(|f| !f.being_compacted)
            .collect();
        let range = hull(l0.iter().copied())?;
        let disjoint = l0
            .iter()
            .enumerate()
            .all(|(i, a)| l0.iter().skip(i + 1).all(|b| !a.overlaps_file(b)));
        if disjoint {
            let mv = CompactionPick::Move {
                files: l0.iter().map(|f| (0, f.number)).collect(),
                to_level: 1,
            };
            if view.check_pick(&mv).is_ok() {
                return Some(mv);
            }
        }
        let l1 = view
            .overlapping(1, range.smallest, range.largest)
            .map(|f| f.number)
            .collect();
        let inputs = vec![(0, l0.iter().map(|f| f.number).collect()), (1, l1)];
        valid(view, self.merge(inputs, 1, reason))
    }

    /// With no level over its target and no tombstone work: the shallowest
    /// idle file whose allowed seeks ran out, merged into the next level
    /// (all of L0 if it is in L0; moved if nothing there overlaps it), so
    /// reads stop paying for looking past it.
    fn pick_seeks(&self, view: &LevelsView) -> Option<CompactionPick> {
        (0..LAST).find_map(|level| {
            let mut exhausted = view
                .level(level)
                .iter()
                .filter(|f| f.seeks_exhausted && !f.being_compacted);
            if level == 0 {
                exhausted.next()?;
                self.pick_level0(view, PickReason::Seeks)
            } else {
                exhausted.find_map(|f| self.pick_file(view, f, PickReason::Seeks))
            }
        })
    }

    /// One file of `level` (1..LAST) into the next level: tombstone-heavy
    /// files first, then the file picker's choice.
    fn pick_from_level(&self, view: &LevelsView, level: usize) -> Option<CompactionPick> {
        let files = view.level(level);
        if let Some(pick) = self
            .heaviest_first(files.iter())
            .into_iter()
            .find_map(|f| self.pick_file(view, f, PickReason::Tombstones))
        {
            return Some(pick);
        }
        match self.file_picker {
            FilePicker::MinOverlappingRatio => self.pick_min_overlap(view, level),
            FilePicker::RoundRobin => self.pick_round_robin(view, level),
        }
    }

    /// The idle file of `level` with the fewest next-level bytes to rewrite
    /// per byte of its own that has a valid pick.
    fn pick_min_overlap(&self, view: &LevelsView, level: usize) -> Option<CompactionPick> {
        let below = view.level(level + 1);
        let mut candidates: Vec<(f64, &FileView)> = view
            .level(level)
            .iter()
            .filter(|f| !f.being_compacted)
            .map(|f| {
                // The next level is sorted and disjoint: its overlap with
                // `f` is one contiguous run.
                let start = below.partition_point(|g| g.largest < f.smallest);
                let overlap: u64 = below
                    .get(start..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|g| g.smallest <= f.largest)
                    .fold(0u64, |sum, g| sum.saturating_add(g.size));
                (overlap as f64 / f.size.max(1) as f64, f)
            })
            .collect();
        // Stable: equal ratios keep key order.
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
        candidates
            .into_iter()
            .find_map(|(_, f)| self.pick_file(view, f, PickReason::LevelSize))
    }

    /// The first idle file after the level's cursor (wrapping) that has a
    /// valid pick; moves the cursor past it.
    fn pick_round_robin(&self, view: &LevelsView, level: usize) -> Option<CompactionPick> {
        let files = view.level(level);
        let mut cursors = self.cursors.lock();
        let start = match cursors.get(level).and_then(Option::as_ref) {
            Some(after) => files.partition_point(|f| f.smallest <= after),
            None => 0,
        };
        let (before, from) = files.split_at(start.min(files.len()));
        let (file, pick) = from
            .iter()
            .chain(before)
            .filter(|f| !f.being_compacted)
            .find_map(|f| Some((f, self.pick_file(view, f, PickReason::LevelSize)?)))?;
        if let Some(cursor) = cursors.get_mut(level) {
            *cursor = Some(file.largest.clone());
        }
        Some(pick)
    }

    /// `f` with every file it overlaps in the next level, or a move when it
    /// overlaps none.
    fn pick_file(
        &self,
        view: &LevelsView,
        f: &FileView,
        reason: PickReason,
    ) -> Option<CompactionPick> {
        let next = f.level + 1;
        let below: Vec<u64> = view
            .overlapping(next, &f.smallest, &f.largest)
            .map(|g| g.number)
            .collect();
        let pick = if below.is_empty() {
            CompactionPick::Move {
                files: vec![(f.level, f.number)],
                to_level: next,
            }
        } else {
            self.merge(vec![(f.level, vec![f.number]), (next, below)], next, reason)
        };
        valid(view, pick)
    }

    /// With no level over its target: the most tombstone-heavy file of
    /// L1..LAST−1 into the next level, rewritten alone if nothing deeper
    /// overlaps it (its tombstones then go), moved if only deeper levels do.
    fn pick_tombstones(&self, view: &LevelsView) -> Option<CompactionPick> {
        let files = (1..LAST).flat_map(|l| view.level(l));
        self.heaviest_first(files).into_iter().find_map(|f| {
            let next = f.level + 1;
            let below_next = (next + 1..MAX_LEVELS).any(|l| {
                view.overlapping(l, &f.smallest, &f.largest)
                    .next()
                    .is_some()
            });
            if view
                .overlapping(next, &f.smallest, &f.largest)
                .next()
                .is_some()
                || below_next
            {
                return self.pick_file(view, f, PickReason::Tombstones);
            }
            valid(
                view,
                self.merge(
                    vec![(f.level, vec![f.number])],
                    next,
                    PickReason::Tombstones,
                ),
            )
        })
    }

    /// The tombstone-heavy idle files among `files`, heaviest first (ties:
    /// shallower level, then lower file number).
    fn heaviest_first<'a>(&self, files: impl Iterator<Item = &'a FileView>) -> Vec<&'a FileView> {
        let mut heavy: Vec<&FileView> = files.filter(|f| self.tombstone_heavy(f)).collect();
        heavy.sort_by(|a, b| {
            b.tombstone_ratio()
                .total_cmp(&a.tombstone_ratio())
                .then(a.level.cmp(&b.level))
                .then(a.number.cmp(&b.number))
        });
        heavy
    }
}

/// `pick` if the view allows it.
fn valid(view: &LevelsView, pick: CompactionPick) -> Option<CompactionPick> {
    view.check_pick(&pick).is_ok().then_some(pick)
}

impl CompactionStrategy for Leveled {
    fn name(&self) -> &'static str {
        "leveled"
    }

    /// The level with the highest score ≥ 1 that has a valid pick (ties: the
    /// shallower level); else the most tombstone-heavy file; else the
    /// shallowest file whose seeks ran out; else `None`.
    fn pick(&self, view: &LevelsView) -> Option<CompactionPick> {
        let mut due: Vec<(usize, f64)> = (0..LAST)
            .map(|l| (l, self.score(view, l)))
            .filter(|&(_, s)| s >= 1.0)
            .collect();
        due.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        due.into_iter()
            .find_map(|(level, _)| {
                if level == 0 {
                    self.pick_level0(view, PickReason::Level0FileCount)
                } else {
                    self.pick_from_level(view, level)
                }
            })
            .or_else(|| self.pick_tombstones(view))
            .or_else(|| self.pick_seeks(view))
    }

    /// L0: idle files / trigger; Ln: idle bytes / target (reported for the
    /// last level too, though it is never picked by size).
    fn scores(&self, view: &LevelsView) -> Vec<f64> {
        (0..view.levels.len())
            .map(|l| self.score(view, l))
            .collect()
    }

    /// The shallowest level, at least L1 and the deepest non-empty one, whose
    /// target holds all the data (LAST if none does).
    fn bottom_level(&self, view: &LevelsView) -> usize {
        let total: u64 = view.files().map(|f| f.size).sum();
        let from = view.deepest_nonempty_level().max(1);
        (from..LAST)
            .find(|&l| self.level_target(l) >= total)
            .unwrap_or(LAST)
    }

    fn manual_target_file_size(&self) -> u64 {
        self.target_file_size
    }
}

#[cfg(test)]
mod tests;
