//! The files of a data directory, by name.
//!
//! Tables, WALs and manifests share one number space (the manifest's next
//! file number), so a number names exactly one file.

use std::path::{Path, PathBuf};

use strata_core::{FileSystem, Result, WritableFile, zeros_from};

use crate::manifest::parse_manifest_file_name;

/// A file of the data directory that strata wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbFile {
    Table(u64),
    Wal(u64),
    Manifest(u64),
    /// The temporary file of a `CURRENT` switch.
    Temp(u64),
}

impl DbFile {
    pub(crate) fn number(self) -> u64 {
        match self {
            Self::Table(n) | Self::Wal(n) | Self::Manifest(n) | Self::Temp(n) => n,
        }
    }

    /// Recognises the names strata writes; `None` for any other file (which
    /// strata leaves alone).
    pub(crate) fn parse(name: &str) -> Option<Self> {
        if let Some(n) = parse_manifest_file_name(name) {
            return Some(Self::Manifest(n));
        }
        let (stem, ext) = name.split_once('.')?;
        if stem.len() < 6 || !stem.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u64 = stem.parse().ok()?;
        if format!("{n:06}") != stem {
            return None;
        }
        match ext {
            "sst" => Some(Self::Table(n)),
            "log" => Some(Self::Wal(n)),
            "dbtmp" => Some(Self::Temp(n)),
            _ => None,
        }
    }
}

pub(crate) fn table_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:06}.sst"))
}

pub(crate) fn wal_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:06}.log"))
}

/// The first file in a directory without `CURRENT` that may hold data: a
/// table, or a WAL with bytes in it. A failed or interrupted creation
/// leaves only an empty WAL, a manifest (never in force without `CURRENT`)
/// and temporary files, which the new database deletes as leftovers.
pub(crate) fn data_without_current(
    fs: &dyn FileSystem,
    dir: &Path,
    on_disk: &[(String, DbFile)],
) -> Result<Option<String>> {
    for (name, file) in on_disk {
        let holds_data = match file {
            DbFile::Table(_) => true,
            // A preallocated WAL that took no write is all zeros.
            DbFile::Wal(_) => !zeros_from(&*fs.open(&dir.join(name))?, 0)?,
            DbFile::Manifest(_) | DbFile::Temp(_) => false,
        };
        if holds_data {
            return Ok(Some(name.clone()));
        }
    }
    Ok(None)
}

/// Creates WAL `number`, preallocated to `bytes` (see
/// [`WritableFile::preallocate`]); 0 preallocates nothing.
pub(crate) fn create_wal(
    fs: &dyn FileSystem,
    dir: &Path,
    number: u64,
    bytes: u64,
) -> Result<Box<dyn WritableFile>> {
    let mut file = fs.create(&wal_path(dir, number))?;
    if bytes > 0 {
        file.preallocate(bytes)?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_foreign_names_are_ignored() {
        let dir = Path::new("/d");
        let name = |p: PathBuf| p.file_name().unwrap().to_str().unwrap().to_owned();
        assert_eq!(
            DbFile::parse(&name(table_path(dir, 7))),
            Some(DbFile::Table(7))
        );
        assert_eq!(
            DbFile::parse(&name(wal_path(dir, 1234567))),
            Some(DbFile::Wal(1234567))
        );
        assert_eq!(DbFile::parse("MANIFEST-000003"), Some(DbFile::Manifest(3)));
        assert_eq!(DbFile::parse("000009.dbtmp"), Some(DbFile::Temp(9)));
        for foreign in [
            "LOCK",
            "CURRENT",
            "7.sst",
            "0000007.sst",
            "00000a.log",
            "000001.txt",
            "notes.md",
            "",
        ] {
            assert_eq!(DbFile::parse(foreign), None, "{foreign}");
        }
    }
}
