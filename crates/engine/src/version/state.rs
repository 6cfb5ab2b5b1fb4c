//! [`ManifestState`]: the live files and counters that replaying a manifest's
//! edits produces.
//!
//! Invariants after every successful [`ManifestState::apply`]:
//! * a file number is live in at most one level;
//! * every live file number, and `log_number`, is below `next_file_number`;
//! * `log_number`, `next_file_number` and `last_seqno` never decrease.
//!
//! Key-range invariants ([`ManifestState::check_invariants`]) are the
//! writer's duty (flush and compaction pick non-overlapping outputs); recovery
//! checks them once after replay.

use std::collections::BTreeMap;

use strata_core::{Error, Result, SeqNo};

use super::{FileMetadata, MAX_LEVELS, VersionEdit};

/// The live files of one level, by file number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LevelFiles {
    files: BTreeMap<u64, FileMetadata>,
}

impl LevelFiles {
    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True if the level has no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The file numbered `number`, if it is in this level.
    pub fn get(&self, number: u64) -> Option<&FileMetadata> {
        self.files.get(&number)
    }

    /// The files in ascending file-number order.
    pub fn iter(&self) -> impl Iterator<Item = &FileMetadata> {
        self.files.values()
    }

    /// Sum of the file sizes.
    pub fn total_size(&self) -> u64 {
        self.files.values().map(|f| f.size).sum()
    }

    /// The files ordered by smallest key (ties by file number).
    pub fn sorted_by_smallest(&self) -> Vec<&FileMetadata> {
        let mut v: Vec<_> = self.files.values().collect();
        v.sort_by(|a, b| a.smallest.cmp(&b.smallest).then(a.number.cmp(&b.number)));
        v
    }
}

/// Live files per level plus the counters, as recorded by a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestState {
    levels: Vec<LevelFiles>,
    /// File number -> level, for the one-level-per-file check.
    level_of: BTreeMap<u64, u8>,
    log_number: u64,
    next_file_number: u64,
    last_seqno: SeqNo,
}

impl Default for ManifestState {
    fn default() -> Self {
        Self::new()
    }
}

impl ManifestState {
    /// The state of an empty database: no files, `log_number` 0,
    /// `next_file_number` 1, `last_seqno` 0.
    pub fn new() -> Self {
        Self {
            levels: vec![LevelFiles::default(); MAX_LEVELS],
            level_of: BTreeMap::new(),
            log_number: 0,
            next_file_number: 1,
            last_seqno: 0,
        }
    }

    /// The levels, `0..MAX_LEVELS`.
    pub fn levels(&self) -> &[LevelFiles] {
        &self.levels
    }

    /// One level; `None` if `level >= MAX_LEVELS`.
    pub fn level(&self, level: usize) -> Option<&LevelFiles> {
        self.levels.get(level)
    }

    /// The level file `number` is live in, if it is live.
    pub fn level_of(&self, number: u64) -> Option<u8> {
        self.level_of.get(&number).copied()
    }

    /// Numbers of all live files, ascending (to find leftovers on disk).
    pub fn live_file_numbers(&self) -> impl Iterator<Item = u64> + '_ {
        self.level_of.keys().copied()
    }

    /// Number of live files over all levels.
    pub fn file_count(&self) -> usize {
        self.level_of.len()
    }

    /// The oldest live WAL number (see [`VersionEdit::log_number`]).
    pub fn log_number(&self) -> u64 {
        self.log_number
    }

    /// The next unused file number.
    pub fn next_file_number(&self) -> u64 {
        self.next_file_number
    }

    /// The last sequence number recorded.
    pub fn last_seqno(&self) -> SeqNo {
        self.last_seqno
    }

    /// Applies `edit`: its removals, then its additions, then its counters.
    /// On error the state is unchanged.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the edit does not fit the state: it
    /// removes a file that is not live in that level, adds a file number that
    /// is live (after the removals) or added twice, uses a level `>=
    /// MAX_LEVELS`, lowers a counter, leaves a file number or the log number
    /// not below `next_file_number`, adds metadata breaking
    /// [`FileMetadata::validate`], or would make files of a level `>= 1`
    /// overlap in user keys. Manifest recovery reports the same problems as
    /// [`Error::Corruption`].
    pub fn apply(&mut self, edit: &VersionEdit) -> Result<()> {
        self.try_apply(edit).map_err(Error::InvalidArgument)
    }

    /// [`ManifestState::apply`] with the reason as a plain string.
    pub(crate) fn try_apply(&mut self, edit: &VersionEdit) -> std::result::Result<(), String> {
        self.validate_edit(edit)?;
        for &(level, number) in &edit.removed_files {
            self.level_of.remove(&number);
            if let Some(l) = self.levels.get_mut(usize::from(level)) {
                l.files.remove(&number);
            }
        }
        for (level, meta) in &edit.added_files {
            self.level_of.insert(meta.number, *level);
            if let Some(l) = self.levels.get_mut(usize::from(*level)) {
                l.files.insert(meta.number, meta.clone());
            }
        }
        self.log_number = edit.log_number.unwrap_or(self.log_number);
        self.next_file_number = edit.next_file_number.unwrap_or(self.next_file_number);
        self.last_seqno = edit.last_seqno.unwrap_or(self.last_seqno);
        Ok(())
    }

    /// Checks `edit` against the state without changing it.
    fn validate_edit(&self, edit: &VersionEdit) -> std::result::Result<(), String> {
        let mut removed = BTreeMap::new();
        for &(level, number) in &edit.removed_files {
            if self.level_of(number) != Some(level) {
                return Err(format!(
                    "removes file {number} which is not live in L{level}"
                ));
            }
            if removed.insert(number, level).is_some() {
                return Err(format!("removes file {number} twice"));
            }
        }
        let next = edit.next_file_number.unwrap_or(self.next_file_number);
        let mut added = BTreeMap::new();
        for (level, meta) in &edit.added_files {
            let n = meta.number;
            if usize::from(*level) >= MAX_LEVELS {
                return Err(format!(
                    "adds file {n} to L{level}, beyond L{}",
                    MAX_LEVELS - 1
                ));
            }
            if self.level_of.contains_key(&n) && !removed.contains_key(&n) {
                return Err(format!("adds file {n} which is already live"));
            }
            if added.insert(n, *level).is_some() {
                return Err(format!("adds file {n} twice"));
            }
            if n >= next {
                return Err(format!("adds file {n} but the next file number is {next}"));
            }
            meta.validate()?;
        }
        let counters = [
            ("log number", edit.log_number, self.log_number),
            (
                "next file number",
                edit.next_file_number,
                self.next_file_number,
            ),
            ("last seqno", edit.last_seqno, self.last_seqno),
        ];
        for (name, new, old) in counters {
            if let Some(new) = new
                && new < old
            {
                return Err(format!("lowers the {name} from {old} to {new}"));
            }
        }
        let log = edit.log_number.unwrap_or(self.log_number);
        if log >= next {
            return Err(format!(
                "log number {log} is not below the next file number {next}"
            ));
        }
        self.validate_overlap(edit, &removed)
    }

    /// Refuses an edit that would make files of a level >= 1 overlap, so a
    /// caller learns it before appending the edit: once appended, such an
    /// edit would make every later open fail.
    fn validate_overlap(
        &self,
        edit: &VersionEdit,
        removed: &BTreeMap<u64, u8>,
    ) -> std::result::Result<(), String> {
        let touched: std::collections::BTreeSet<u8> = edit
            .added_files
            .iter()
            .map(|(level, _)| *level)
            .filter(|&level| level >= 1)
            .collect();
        for level in touched {
            let kept = self
                .levels
                .get(usize::from(level))
                .into_iter()
                .flat_map(|l| l.files.values())
                .filter(|f| !removed.contains_key(&f.number));
            let new = edit
                .added_files
                .iter()
                .filter(|(l, _)| *l == level)
                .map(|(_, meta)| meta);
            let mut files: Vec<&FileMetadata> = kept.chain(new).collect();
            files.sort_by(|a, b| a.smallest.user_key.cmp(&b.smallest.user_key));
            for pair in files.windows(2) {
                if let [a, b] = pair
                    && a.largest.user_key >= b.smallest.user_key
                {
                    return Err(format!(
                        "L{level}: files {} and {} would overlap in user keys",
                        a.number, b.number
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks the key-range invariants: in every level but L0, files sorted
    /// by smallest key do not overlap, even in user keys (the largest user key
    /// of a file is below the smallest user key of the next), so a point
    /// lookup reads at most one file per level. L0 files may overlap.
    ///
    /// # Errors
    /// A description of the first violation.
    pub fn check_invariants(&self) -> std::result::Result<(), String> {
        for (i, level) in self.levels.iter().enumerate().skip(1) {
            let sorted = level.sorted_by_smallest();
            for pair in sorted.windows(2) {
                if let [a, b] = pair
                    && a.largest.user_key >= b.smallest.user_key
                {
                    return Err(format!(
                        "L{i}: files {} and {} overlap in user keys",
                        a.number, b.number
                    ));
                }
            }
        }
        Ok(())
    }

    /// One edit that recreates this state when applied to
    /// [`ManifestState::new`]: every counter set, every live file added (by
    /// level, then file number), nothing removed. A new manifest starts with it.
    pub fn snapshot_edit(&self) -> VersionEdit {
        let mut edit = VersionEdit {
            log_number: Some(self.log_number),
            next_file_number: Some(self.next_file_number),
            last_seqno: Some(self.last_seqno),
            ..VersionEdit::default()
        };
        for (level, files) in (0u8..).zip(&self.levels) {
            for meta in files.iter() {
                edit.add_file(level, meta.clone());
            }
        }
        edit
    }
}
