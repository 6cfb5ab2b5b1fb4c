//! What a strategy sees of the tree: [`FileView`] per table, [`LevelsView`]
//! for all levels.
//!
//! A view is a plain, read-only snapshot of manifest metadata built by the
//! engine for each planning round; nothing in it refers to open files, so
//! strategies can be tested on views written by hand.
//!
//! Invariants the engine guarantees (checked by [`LevelsView::validate`]):
//! `levels[i][j].level == i`; `smallest <= largest` for every file; `levels[0]`
//! is newest data first (descending `max_seqno`) and may overlap; every deeper
//! level is sorted by `smallest` and its files are disjoint in user keys.

use bytes::Bytes;
use strata_core::{Error, Result};

/// Number of levels, L0 through L6.
///
/// Must equal the engine's `strata::manifest::MAX_LEVELS`: strategies never
/// name a level at or beyond it.
pub const MAX_LEVELS: usize = 7;

/// What a strategy sees of one table, built by the engine from the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileView {
    /// The file number (`NNNNNN.sst`); unique across levels.
    pub number: u64,
    /// The level the file lives in.
    pub level: usize,
    /// File size in bytes.
    pub size: u64,
    /// Smallest user key in the file (inclusive).
    pub smallest: Bytes,
    /// Largest user key in the file (inclusive).
    pub largest: Bytes,
    /// Smallest sequence number in the file.
    pub min_seqno: u64,
    /// Largest sequence number in the file.
    pub max_seqno: u64,
    /// Start of the write-time range of the data, unix milliseconds.
    pub min_time_ms: u64,
    /// End of the write-time range of the data, unix milliseconds.
    pub max_time_ms: u64,
    /// Entries of all kinds.
    pub num_entries: u64,
    /// Entries that are tombstones.
    pub num_tombstones: u64,
    /// Entries written with a TTL.
    pub num_expiring: u64,
    /// The latest expiry time of those entries, unix milliseconds (0 if none).
    pub max_expiry_ms: u64,
    /// Entries that are older versions below a newer version of the same
    /// user key in the file (kept for a snapshot, or not droppable when the
    /// file was written); `None` if unknown (files recorded before the count
    /// existed), which a strategy must treat as "may have some".
    pub num_shadowed: Option<u64>,
    /// A running compaction owns the file: a strategy must never pick it.
    pub being_compacted: bool,
    /// Reads have had to look past this file to deeper data more often than
    /// its size allows (LevelDB's "allowed seeks": one per 16 KiB, at least
    /// 100): merging it into the next level would save more in reads than it costs.
    /// Runtime state, not manifest metadata; the engine sets it only with
    /// `Options::seek_compaction` on. [`Leveled`](crate::Leveled) acts on it.
    pub seeks_exhausted: bool,
}

impl FileView {
    /// Whether the file's user-key range meets `[smallest, largest]` (both inclusive).
    pub fn overlaps(&self, smallest: &[u8], largest: &[u8]) -> bool {
        self.smallest.as_ref() <= largest && smallest <= self.largest.as_ref()
    }

    /// Whether the two files' user-key ranges meet.
    pub fn overlaps_file(&self, other: &FileView) -> bool {
        self.overlaps(&other.smallest, &other.largest)
    }

    /// Tombstones per entry, in `0.0..=1.0` (0 for an empty file).
    pub fn tombstone_ratio(&self) -> f64 {
        if self.num_entries == 0 {
            0.0
        } else {
            self.num_tombstones as f64 / self.num_entries as f64
        }
    }

    /// Whether rewriting the file alone, with nothing older below it and no
    /// snapshot alive, could not make it smaller: no tombstones, no TTL
    /// entries (the view cannot tell whether any has expired; only the
    /// latest expiry is recorded) and no shadowed versions (known to be
    /// none, not unknown).
    pub fn is_settled(&self) -> bool {
        self.num_tombstones == 0 && self.num_expiring == 0 && self.num_shadowed == Some(0)
    }

    /// Whether every entry is a TTL entry that has expired at `now_ms`
    /// (expiry at `t` means dead from `t` on, as in the engine), and there
    /// are no tombstones. Such a file holds nothing a reader can see.
    pub fn is_fully_expired(&self, now_ms: u64) -> bool {
        self.num_entries > 0
            && self.num_tombstones == 0
            && self.num_expiring == self.num_entries
            && self.max_expiry_ms <= now_ms
    }
}

/// The smallest key range and seqno range covering every file of `files`;
/// `None` for no files.
pub(crate) fn hull<'a>(files: impl IntoIterator<Item = &'a FileView>) -> Option<Hull<'a>> {
    files
        .into_iter()
        .map(Hull::of)
        .reduce(|acc, h| acc.widen(&h))
}

/// Key and seqno hull of a set of files (see [`hull`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hull<'a> {
    pub(crate) smallest: &'a [u8],
    pub(crate) largest: &'a [u8],
    pub(crate) min_seqno: u64,
    pub(crate) max_seqno: u64,
}

impl<'a> Hull<'a> {
    /// The ranges of one file.
    pub(crate) fn of(f: &'a FileView) -> Self {
        Self {
            smallest: &f.smallest,
            largest: &f.largest,
            min_seqno: f.min_seqno,
            max_seqno: f.max_seqno,
        }
    }

    /// The hull of both.
    pub(crate) fn widen(&self, other: &Self) -> Self {
        Self {
            smallest: self.smallest.min(other.smallest),
            largest: self.largest.max(other.largest),
            min_seqno: self.min_seqno.min(other.min_seqno),
            max_seqno: self.max_seqno.max(other.max_seqno),
        }
    }

    /// Whether `f`'s key range meets the hull's.
    pub(crate) fn meets(&self, f: &FileView) -> bool {
        f.overlaps(self.smallest, self.largest)
    }

    /// Whether the two key ranges meet.
    pub(crate) fn meets_range(&self, other: &Hull<'_>) -> bool {
        self.smallest <= other.largest && other.smallest <= self.largest
    }

    /// Whether the seqno range `min..=max` lies entirely above or below the hull's.
    pub(crate) fn seqno_disjoint(&self, min_seqno: u64, max_seqno: u64) -> bool {
        max_seqno < self.min_seqno || min_seqno > self.max_seqno
    }
}

/// The levels, read-only, as a strategy sees them.
///
/// `levels[0]` is newest data first (its files may overlap); deeper levels
/// are sorted by `smallest` and disjoint. A missing level (`levels` shorter
/// than [`MAX_LEVELS`]) is an empty one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LevelsView {
    /// Files per level, `levels[0]` is L0.
    pub levels: Vec<Vec<FileView>>,
    /// The engine's clock, unix milliseconds (for TTL and time windows).
    pub now_ms: u64,
}

impl LevelsView {
    /// A view of `levels` at `now_ms`.
    pub fn new(levels: Vec<Vec<FileView>>, now_ms: u64) -> Self {
        Self { levels, now_ms }
    }

    /// The files of `level` (empty if the view has no such level).
    pub fn level(&self, level: usize) -> &[FileView] {
        self.levels.get(level).map_or(&[], Vec::as_slice)
    }

    /// Total bytes of `level`.
    pub fn level_size(&self, level: usize) -> u64 {
        self.level(level).iter().map(|f| f.size).sum()
    }

    /// Total bytes of the files of `level` no compaction owns.
    pub fn level_size_idle(&self, level: usize) -> u64 {
        self.level(level)
            .iter()
            .filter(|f| !f.being_compacted)
            .map(|f| f.size)
            .sum()
    }

    /// Every file, level by level.
    pub fn files(&self) -> impl Iterator<Item = &FileView> {
        self.levels.iter().flatten()
    }

    /// The file `number` of `level`, if it is there.
    pub fn file(&self, level: usize, number: u64) -> Option<&FileView> {
        self.level(level).iter().find(|f| f.number == number)
    }

    /// The files of `level` whose user-key range meets `[smallest, largest]`,
    /// in level order.
    pub fn overlapping<'a>(
        &'a self,
        level: usize,
        smallest: &'a [u8],
        largest: &'a [u8],
    ) -> impl Iterator<Item = &'a FileView> + 'a {
        let files = self.level(level);
        // Deeper levels are sorted and disjoint: skip the files wholly
        // before the range without looking at them.
        let start = if level == 0 {
            0
        } else {
            files.partition_point(|f| f.largest.as_ref() < smallest)
        };
        files
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .filter(move |f| f.overlaps(smallest, largest))
    }

    /// The deepest level holding a file (0 for an empty tree).
    pub fn deepest_nonempty_level(&self) -> usize {
        self.levels.iter().rposition(|l| !l.is_empty()).unwrap_or(0)
    }

    /// Checks the invariants listed in the module doc.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the first violation.
    pub fn validate(&self) -> Result<()> {
        if self.levels.len() > MAX_LEVELS {
            return Err(Error::invalid_argument(format!(
                "view has {} levels, more than {MAX_LEVELS}",
                self.levels.len()
            )));
        }
        let mut numbers = std::collections::HashSet::new();
        for (i, level) in self.levels.iter().enumerate() {
            for f in level {
                if f.level != i {
                    return Err(Error::invalid_argument(format!(
                        "file {} sits in L{i} but says L{}",
                        f.number, f.level
                    )));
                }
                if f.smallest > f.largest || f.min_seqno > f.max_seqno {
                    return Err(Error::invalid_argument(format!(
                        "file {}: inverted key or seqno range",
                        f.number
                    )));
                }
                if !numbers.insert(f.number) {
                    return Err(Error::invalid_argument(format!(
                        "file {} appears twice",
                        f.number
                    )));
                }
            }
            for pair in level.windows(2) {
                if let [a, b] = pair {
                    let ordered = if i == 0 {
                        a.max_seqno >= b.max_seqno
                    } else {
                        a.largest < b.smallest
                    };
                    if !ordered {
                        return Err(Error::invalid_argument(format!(
                            "L{i}: files {} and {} out of order or overlapping",
                            a.number, b.number
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}
