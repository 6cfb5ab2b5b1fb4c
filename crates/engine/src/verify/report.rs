//! [`VerifyReport`]: what [`verify`](super::verify) found, file by file.

use std::fmt;
use std::path::{Path, PathBuf};

/// What a file of a data directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// `CURRENT`: names the live manifest.
    Current,
    /// `MANIFEST-NNNNNN`: the log of version edits.
    Manifest,
    /// `NNNNNN.sst`: a sorted string table.
    Table,
    /// `NNNNNN.log`: a write-ahead log.
    Wal,
    /// `NNNNNN.dbtmp`: the temporary file of a `CURRENT` switch.
    Temp,
    /// A file strata did not write (strata ignores it).
    Other,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Current => "current",
            Self::Manifest => "manifest",
            Self::Table => "table",
            Self::Wal => "wal",
            Self::Temp => "temp",
            Self::Other => "other",
        })
    }
}

/// The verdict on one file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileStatus {
    /// Every check passed.
    Ok,
    /// Worth knowing, but not damage: a leftover file, a torn WAL tail that
    /// the next open drops, a file strata ignores. `offset` is where it
    /// starts in the file, if it is about a place in the file.
    Warning {
        /// Byte offset in the file, if any.
        offset: Option<u64>,
        /// What was found, for humans.
        reason: String,
    },
    /// Damage: the file fails a check. `offset` is the byte where the bad
    /// structure starts (as in [`Error::Corruption`](crate::Error)); `None`
    /// when the problem is not at a place in the file (missing file, read
    /// error).
    Problem {
        /// Byte offset in the file, if any.
        offset: Option<u64>,
        /// What was wrong, for humans.
        reason: String,
    },
}

/// The outcome for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// What it is.
    pub kind: FileKind,
    /// The verdict.
    pub status: FileStatus,
    /// Bytes on disk; `None` if it is missing or its size unreadable.
    pub size: Option<u64>,
    /// For a live table: its level.
    pub level: Option<u8>,
    /// Entries of a verified table, write batches of a WAL (markers and
    /// other empty batches not counted), edits of a manifest.
    pub entries: Option<u64>,
    /// Blocks of a verified table (data and meta blocks).
    pub blocks: Option<u64>,
}

impl FileReport {
    pub(crate) fn new(path: PathBuf, kind: FileKind, status: FileStatus) -> Self {
        Self {
            path,
            kind,
            status,
            size: None,
            level: None,
            entries: None,
            blocks: None,
        }
    }

    /// True if the file has a [`FileStatus::Problem`].
    pub fn is_problem(&self) -> bool {
        matches!(self.status, FileStatus::Problem { .. })
    }

    /// True if the file has a [`FileStatus::Warning`].
    pub fn is_warning(&self) -> bool {
        matches!(self.status, FileStatus::Warning { .. })
    }
}

impl fmt::Display for FileReport {
    /// One line: verdict, file name, kind, facts, and the reason if any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let verdict = match self.status {
            FileStatus::Ok => "ok",
            FileStatus::Warning { .. } => "WARNING",
            FileStatus::Problem { .. } => "PROBLEM",
        };
        write!(f, "{verdict:<8} {name} ({}", self.kind)?;
        if let Some(level) = self.level {
            write!(f, ", L{level}")?;
        }
        if let Some(size) = self.size {
            write!(f, ", {size} bytes")?;
        }
        if let Some(blocks) = self.blocks {
            write!(f, ", {blocks} blocks")?;
        }
        if let Some(entries) = self.entries {
            let what = match self.kind {
                FileKind::Wal => "write batches",
                FileKind::Manifest => "edits",
                _ => "entries",
            };
            write!(f, ", {entries} {what}")?;
        }
        f.write_str(")")?;
        match &self.status {
            FileStatus::Ok => Ok(()),
            FileStatus::Warning { offset, reason } | FileStatus::Problem { offset, reason } => {
                match offset {
                    Some(at) => write!(f, ": at offset {at}: {reason}"),
                    None => write!(f, ": {reason}"),
                }
            }
        }
    }
}

/// What [`verify`](super::verify) found in a data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The data directory.
    pub dir: PathBuf,
    /// One report per file: `CURRENT`, the manifest, the live tables (by
    /// level, then number), the WALs, then leftovers and other files.
    pub files: Vec<FileReport>,
}

impl VerifyReport {
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            files: Vec::new(),
        }
    }

    /// True if no file has a problem (warnings allowed).
    pub fn is_ok(&self) -> bool {
        !self.files.iter().any(FileReport::is_problem)
    }

    /// The files with a problem.
    pub fn problems(&self) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter(|f| f.is_problem())
    }

    /// The files with a warning.
    pub fn warnings(&self) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter(|f| f.is_warning())
    }

    /// The report for `path`, if the report mentions it.
    pub fn file(&self, path: &Path) -> Option<&FileReport> {
        self.files.iter().find(|f| f.path == path)
    }

    pub(crate) fn push(&mut self, report: FileReport) {
        self.files.push(report);
    }
}

impl fmt::Display for VerifyReport {
    /// One line per file, then a summary line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            writeln!(f, "{file}")?;
        }
        let problems = self.problems().count();
        let warnings = self.warnings().count();
        write!(
            f,
            "{}: {} files checked, {problems} with problems, {warnings} with warnings: {}",
            self.dir.display(),
            self.files.len(),
            if problems == 0 { "OK" } else { "CORRUPT" }
        )
    }
}
