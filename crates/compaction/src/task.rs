//! What a strategy asks for: [`CompactionPick`] (merge, move or drop) and
//! the [`PickReason`] stats count it under.
//!
//! A pick names files by `(level, file number)` only; the engine resolves
//! them against the version the view was built from, marks them busy and
//! hands merges to the executor.

use std::fmt;

/// One unit of compaction work a strategy asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompactionPick {
    /// Merge `inputs` (per level, file numbers) into new files in
    /// `output_level`, split at `target_file_size`.
    Merge(CompactionTask),
    /// Move files to a deeper level without rewriting them (leveled trivial
    /// move). Valid only when nothing in the levels passed over or in
    /// `to_level` overlaps a moved file, and moved files do not overlap each
    /// other unless `to_level` is 0.
    Move {
        /// `(level, file number)` of each file to move.
        files: Vec<(usize, u64)>,
        /// The level they go to; deeper than each file's level.
        to_level: usize,
    },
    /// Delete whole files whose every entry has expired (time-window TTL),
    /// without reading them. Valid only when no other file may hold an older
    /// version of one of their keys (dropping would bring it back).
    Drop {
        /// `(level, file number)` of each file to delete.
        files: Vec<(usize, u64)>,
    },
}

impl CompactionPick {
    /// What stats count this pick under: the task's reason for a merge,
    /// [`PickReason::TrivialMove`] for a move, [`PickReason::Expired`] for a drop.
    pub fn reason(&self) -> PickReason {
        match self {
            Self::Merge(task) => task.reason,
            Self::Move { .. } => PickReason::TrivialMove,
            Self::Drop { .. } => PickReason::Expired,
        }
    }

    /// Every `(level, file number)` the pick consumes: the files to mark
    /// busy while it runs.
    pub fn files(&self) -> Vec<(usize, u64)> {
        match self {
            Self::Merge(task) => task.input_files().collect(),
            Self::Move { files, .. } | Self::Drop { files } => files.clone(),
        }
    }
}

/// A merge of input files into new files of one level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactionTask {
    /// Input file numbers per level: levels ascending, each at most once,
    /// no empty lists. L0 numbers are listed newest data first.
    pub inputs: Vec<(usize, Vec<u64>)>,
    /// The level the output files go to; at least every input level.
    pub output_level: usize,
    /// Start a new output file once one reaches this many bytes; `u64::MAX`
    /// writes one file (a single sorted run).
    pub target_file_size: u64,
    /// Why the strategy picked this (for stats).
    pub reason: PickReason,
}

impl CompactionTask {
    /// Every input as `(level, file number)`.
    pub fn input_files(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.inputs
            .iter()
            .flat_map(|(level, numbers)| numbers.iter().map(move |n| (*level, *n)))
    }

    /// Number of input files.
    pub fn num_input_files(&self) -> usize {
        self.inputs.iter().map(|(_, numbers)| numbers.len()).sum()
    }
}

/// Why a strategy picked some work: the strategy step stats count
/// compactions under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PickReason {
    /// Leveled: L0 reached its file-count trigger.
    Level0FileCount,
    /// Leveled: a level outgrew its size target.
    LevelSize,
    /// A tombstone-heavy file, compacted to drop deleted data early.
    Tombstones,
    /// Leveled: reads looked past a file too often
    /// ([`FileView::seeks_exhausted`](crate::FileView::seeks_exhausted)).
    Seeks,
    /// Size-tiered (also inside time-window's current window): a bucket of
    /// similar-size files.
    SizeTieredBucket,
    /// Size-tiered (also inside time-window's current window): more idle
    /// L0 runs than `max_threshold` and no bucket ready, so the adjacent
    /// runs cheapest to merge, whatever their sizes.
    RunCount,
    /// Time-window: a closed window merged into one file.
    WindowClosed,
    /// A file moved to a deeper level without rewriting ([`CompactionPick::Move`]).
    TrivialMove,
    /// Fully expired files dropped whole ([`CompactionPick::Drop`]).
    Expired,
    /// A compaction the user asked for (`Db::compact`, `Db::compact_range`).
    Manual,
    /// A user-defined strategy's own step.
    Custom(&'static str),
}

impl PickReason {
    /// A short snake_case name, stable for stats keys and metrics labels.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Level0FileCount => "level0_file_count",
            Self::LevelSize => "level_size",
            Self::Tombstones => "tombstones",
            Self::Seeks => "seeks",
            Self::SizeTieredBucket => "size_tiered_bucket",
            Self::RunCount => "run_count",
            Self::WindowClosed => "window_closed",
            Self::TrivialMove => "trivial_move",
            Self::Expired => "expired",
            Self::Manual => "manual",
            Self::Custom(name) => name,
        }
    }
}

impl fmt::Display for PickReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_lists_every_input_of_every_kind() {
        let merge = CompactionPick::Merge(CompactionTask {
            inputs: vec![(0, vec![9, 7]), (1, vec![3])],
            output_level: 1,
            target_file_size: 10,
            reason: PickReason::Level0FileCount,
        });
        assert_eq!(merge.files(), vec![(0, 9), (0, 7), (1, 3)]);
        assert_eq!(merge.reason(), PickReason::Level0FileCount);
        let mv = CompactionPick::Move {
            files: vec![(2, 4)],
            to_level: 3,
        };
        assert_eq!(
            (mv.files(), mv.reason()),
            (vec![(2, 4)], PickReason::TrivialMove)
        );
        let drop = CompactionPick::Drop {
            files: vec![(0, 1)],
        };
        assert_eq!(drop.reason(), PickReason::Expired);
        assert_eq!(PickReason::Custom("mine").to_string(), "mine");
    }
}
