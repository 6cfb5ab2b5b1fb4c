//! [`verify`]: checks a closed data directory, file by file, without
//! changing it — the library side of `strata verify --data-dir DIR`.
//!
//! [`verify`] documents what is checked.
//!
//! ## Concurrency
//! `verify` takes the directory lock for its whole run, as
//! [`Db::open`](crate::Db::open) does: it fails with [`Error::Locked`]
//! while a `Db` (a server, say) has the directory open, and no `Db` can open
//! it meanwhile. It only reads; the lock file is created if it is missing,
//! as `Db::open` would.

mod report;
mod wal;

use std::collections::BTreeSet;
use std::io;
use std::path::Path;

use strata_core::fs::LOCK_FILE_NAME;
use strata_core::{DirLock, Error, FileSystem, Result, StdFs};
use strata_sstable::TableInspector;
use strata_wal::RecoveryMode;

pub use report::{FileKind, FileReport, FileStatus, VerifyReport};

use crate::db::files::{DbFile, data_without_current, table_path, wal_path};
use crate::manifest::{
    CURRENT_FILE_NAME, FileMetadata, RecoveredManifest, manifest_file_name, recover_with_mode,
};

/// Checks the data directory `dir` on the real file system, without
/// modifying it. It takes the directory lock for its whole run, as
/// [`Db::open`](crate::Db::open) does, so no `Db` can open the directory
/// meanwhile (the lock file is created if missing, as `Db::open` would).
///
/// What it checks:
/// 1. `CURRENT` names a manifest, and the manifest replays **strictly**:
///    every record's checksum, every edit decodes and applies, the final
///    state keeps its invariants. Unlike open, a torn last edit is a problem
///    too: verify reports damage, open repairs what a crash leaves. A
///    missing `CURRENT` is a problem if a table or a non-empty WAL exists
///    (open refuses the directory), else a warning (a first open was cut
///    short; the next one completes it).
/// 2. Every live table: present, the size the manifest records, and
///    [`verify_table`](strata_sstable::verify_table) (every block's checksum, decoding, key order, index,
///    filter and properties against the data); its properties agree with
///    the manifest's record of it (key range, seqno range, counts, times).
/// 3. The WAL the manifest's log number names exists (see
///    [`Db::open`](crate::Db::open)), and every WAL open would replay:
///    record checksums, write batches decode,
///    sequence numbers continue from the manifest's last seqno. A torn
///    tail of the newest WAL holding data is a warning (a crash leaves
///    one; open drops it), and so is a WAL open skips because a power loss
///    cut an unsynced WAL before it (`SyncPolicy::Never`); damage in a WAL
///    that a later one continues although it was synced first, or damage
///    followed by intact records (other than the zero-filled hole a power
///    loss can leave), is a problem (open refuses both).
/// 4. Files the manifest does not reference (tables, WALs, manifests and
///    temporary files of earlier runs, which the next open deletes) and
///    files strata did not write are listed as warnings.
///
/// If the manifest cannot be read, every table and WAL found is still
/// checked on its own, so the report shows all the damage at once.
///
/// Damage goes in the returned report ([`VerifyReport::is_ok`] is false,
/// each damaged file with the offset and reason); `Err` means the
/// directory could not be verified at all.
///
/// # Errors
/// [`Error::Locked`] if a `Db` holds the directory; [`Error::Io`] of kind
/// [`io::ErrorKind::NotFound`] if `dir` does not exist or holds neither
/// `CURRENT` nor any file strata writes; [`Error::Io`] if the directory
/// cannot be listed or the manifest cannot be read.
pub fn verify(dir: &Path) -> Result<VerifyReport> {
    verify_with_fs(&StdFs, dir)
}

/// [`verify`] through any [`FileSystem`] (a simulated disk in tests).
///
/// # Errors
/// As [`verify`].
pub fn verify_with_fs(fs: &dyn FileSystem, dir: &Path) -> Result<VerifyReport> {
    let not_found = |what: &str| {
        Error::Io(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} {what}", dir.display()),
        ))
    };
    if !fs.exists(dir)? {
        return Err(not_found("does not exist"));
    }
    // Look before locking, so that verifying a wrong path creates no lock file.
    let looks_like_db = fs
        .list(dir)?
        .iter()
        .any(|n| n == CURRENT_FILE_NAME || DbFile::parse(n).is_some());
    if !looks_like_db {
        return Err(not_found(
            "holds no strata database (no CURRENT, no table, WAL or manifest)",
        ));
    }
    let _lock = DirLock::acquire(fs, dir)?;
    let names = fs.list(dir)?;
    let mut report = VerifyReport::new(dir);
    let recovered = check_manifest(fs, dir, &names, &mut report)?;

    let on_disk: Vec<DbFile> = names.iter().filter_map(|n| DbFile::parse(n)).collect();
    let mut wals: Vec<u64> = Vec::new();
    match &recovered {
        Some(m) => {
            for (level, files) in m.state.levels().iter().enumerate() {
                let level = u8::try_from(level).unwrap_or(u8::MAX);
                for meta in files.iter() {
                    report.push(check_live_table(fs, dir, level, meta));
                }
            }
            // Older WALs are leftovers: their data is in tables.
            wals.extend(on_disk.iter().filter_map(|f| match *f {
                DbFile::Wal(n) if n >= m.state.log_number() => Some(n),
                _ => None,
            }));
            if !wals.contains(&m.state.log_number()) {
                report.push(missing_log(dir, m.state.log_number()));
            }
        }
        None => {
            // The live set is unknown: check every table and WAL on its own.
            for file in &on_disk {
                match *file {
                    DbFile::Table(n) => report.push(check_table_alone(fs, &table_path(dir, n))),
                    DbFile::Wal(n) => wals.push(n),
                    DbFile::Manifest(_) | DbFile::Temp(_) => {}
                }
            }
        }
    }
    wals.sort_unstable();
    let first_seqno = recovered
        .as_ref()
        .map(|m| m.state.last_seqno().saturating_add(1));
    for wal in wal::check_wals(fs, dir, &wals, first_seqno) {
        report.push(wal);
    }
    // Whatever no check covered: leftovers of strata's and foreign files.
    let checked: BTreeSet<&Path> = report.files.iter().map(|f| f.path.as_path()).collect();
    let rest: Vec<FileReport> = names
        .iter()
        .filter(|n| *n != LOCK_FILE_NAME && !checked.contains(dir.join(n).as_path()))
        .map(|n| unreferenced(fs, dir, n, recovered.is_some()))
        .collect();
    report.files.extend(rest);
    Ok(report)
}

/// Reads `CURRENT` and replays the manifest strictly, reporting both files.
/// `None` if that failed (the failure is in the report).
fn check_manifest(
    fs: &dyn FileSystem,
    dir: &Path,
    names: &[String],
    report: &mut VerifyReport,
) -> Result<Option<RecoveredManifest>> {
    let current = dir.join(CURRENT_FILE_NAME);
    let mut current_report = FileReport::new(current.clone(), FileKind::Current, FileStatus::Ok);
    current_report.size = file_size(fs, &current);
    if !names.iter().any(|n| n == CURRENT_FILE_NAME) {
        let on_disk: Vec<(String, DbFile)> = names
            .iter()
            .filter_map(|n| DbFile::parse(n).map(|f| (n.clone(), f)))
            .collect();
        // As open judges it: only a table or a WAL holding records makes a
        // missing CURRENT damage; without them it is a first open that was
        // cut short, which the next open completes.
        current_report.status = match data_without_current(fs, dir, &on_disk)? {
            Some(name) => FileStatus::Problem {
                offset: None,
                reason: format!(
                    "missing, though the directory holds strata data ({name}): open refuses it"
                ),
            },
            None => FileStatus::Warning {
                offset: None,
                reason: "missing: the first open was cut short before creating it; the next \
                         open creates the database and deletes the files it left"
                    .into(),
            },
        };
        report.push(current_report);
        return Ok(None);
    }
    match recover_with_mode(fs, dir, RecoveryMode::Strict) {
        Ok(m) => {
            report.push(current_report);
            let path = dir.join(manifest_file_name(m.manifest_number));
            let mut manifest = FileReport::new(path, FileKind::Manifest, FileStatus::Ok);
            manifest.size = Some(m.manifest_size);
            manifest.entries = Some(m.edits);
            report.push(manifest);
            Ok(Some(m))
        }
        Err(Error::Corruption {
            file,
            offset,
            reason,
        }) => {
            let status = FileStatus::Problem {
                offset: Some(offset),
                reason,
            };
            if file == current {
                current_report.status = status;
                report.push(current_report);
            } else {
                report.push(current_report);
                let mut manifest = FileReport::new(file, FileKind::Manifest, status);
                manifest.size = file_size(fs, &manifest.path);
                report.push(manifest);
            }
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Checks a table the manifest lists in `level`: present, of the recorded
/// size, sound on its own, and described by `meta`.
fn check_live_table(fs: &dyn FileSystem, dir: &Path, level: u8, meta: &FileMetadata) -> FileReport {
    let path = table_path(dir, meta.number);
    let mut report = FileReport::new(path.clone(), FileKind::Table, FileStatus::Ok);
    report.level = Some(level);
    report.size = file_size(fs, &path);
    let Some(size) = report.size else {
        report.status = FileStatus::Problem {
            offset: None,
            reason: format!("missing: the manifest lists it in L{level}"),
        };
        return report;
    };
    if size != meta.size {
        report.status = FileStatus::Problem {
            offset: Some(size.min(meta.size)),
            reason: format!(
                "{} bytes, but the manifest records {} bytes{}",
                size,
                meta.size,
                if size < meta.size { " (truncated)" } else { "" }
            ),
        };
        return report;
    }
    let checked = TableInspector::open(fs, &path).and_then(|t| {
        let check = t.verify()?;
        if let Some(reason) = disagreement(meta, &check.properties) {
            return Err(Error::corruption(
                &path,
                t.footer().properties.offset,
                format!("properties disagree with the manifest: {reason}"),
            ));
        }
        Ok(check)
    });
    match checked {
        Ok(check) => {
            report.entries = Some(check.entries);
            report.blocks = Some(check.blocks);
        }
        Err(e) => report.status = status_of(&e),
    }
    report
}

/// The report for the WAL the manifest's log number names, missing. A flush
/// deletes the WALs below its new log number only once its edit is synced,
/// so while the manifest is whole that WAL exists: its absence means the
/// manifest lost edits (cut at a record boundary, which replays cleanly) or
/// the WAL was deleted. Open refuses both.
fn missing_log(dir: &Path, number: u64) -> FileReport {
    let status = FileStatus::Problem {
        offset: None,
        reason: "missing: the manifest's log number names it as the oldest live WAL (deleted, or the manifest lost later edits); open refuses this".into(),
    };
    FileReport::new(wal_path(dir, number), FileKind::Wal, status)
}

/// Checks a table whose manifest record is unknown.
fn check_table_alone(fs: &dyn FileSystem, path: &Path) -> FileReport {
    let mut report = FileReport::new(path.to_path_buf(), FileKind::Table, FileStatus::Ok);
    report.size = file_size(fs, path);
    match strata_sstable::verify_table(fs, path) {
        Ok(check) => {
            report.entries = Some(check.entries);
            report.blocks = Some(check.blocks);
        }
        Err(e) => report.status = status_of(&e),
    }
    report
}

/// The first field where the manifest's record of a table and the table's
/// own properties differ. Both come from the builder's summary
/// (`db::flush::table_metadata`), so any difference is damage.
fn disagreement(meta: &FileMetadata, p: &strata_sstable::TableProperties) -> Option<String> {
    if p.smallest_key.as_ref() != Some(&meta.smallest) {
        return Some(format!(
            "smallest key {:?} in the table, {:?} in the manifest",
            p.smallest_key, meta.smallest
        ));
    }
    if p.largest_key.as_ref() != Some(&meta.largest) {
        return Some(format!(
            "largest key {:?} in the table, {:?} in the manifest",
            p.largest_key, meta.largest
        ));
    }
    let numbers = [
        ("min_seqno", p.min_seqno, meta.min_seqno),
        ("max_seqno", p.max_seqno, meta.max_seqno),
        ("num_entries", p.num_entries, meta.num_entries),
        ("tombstones", p.num_deletions, meta.num_tombstones),
        ("expiring entries", p.num_expiring, meta.num_expiring),
        ("max_expiry_ms", p.max_expiry_ms, meta.max_expiry_ms),
        ("min_time_ms", p.min_time_ms, meta.min_time_ms),
        (
            "max_time_ms",
            p.max_time_ms.max(p.min_time_ms),
            meta.max_time_ms,
        ),
    ];
    let differs = numbers
        .into_iter()
        .find(|(_, table, manifest)| table != manifest)
        .map(|(name, table, manifest)| {
            format!("{name} is {table} in the table, {manifest} in the manifest")
        });
    if differs.is_some() {
        return differs;
    }
    // A file recorded by an older manifest edit (tag 5) has no count to compare.
    match (p.num_shadowed, meta.num_shadowed) {
        (table, Some(manifest)) if table != Some(manifest) => Some(format!(
            "shadowed versions {table:?} in the table, {manifest} in the manifest"
        )),
        _ => None,
    }
}

/// A file no check above covered: a leftover of strata's, or a foreign file.
fn unreferenced(fs: &dyn FileSystem, dir: &Path, name: &str, manifest_read: bool) -> FileReport {
    let path = dir.join(name);
    let (kind, reason) = match DbFile::parse(name) {
        Some(file) => {
            let kind = match file {
                DbFile::Table(_) => FileKind::Table,
                DbFile::Wal(_) => FileKind::Wal,
                DbFile::Manifest(_) => FileKind::Manifest,
                DbFile::Temp(_) => FileKind::Temp,
            };
            let reason = if manifest_read {
                "leftover: the manifest does not reference it; the next open deletes it"
            } else {
                "not checked: the live manifest could not be read"
            };
            (kind, reason)
        }
        None => (FileKind::Other, "not a strata file; strata ignores it"),
    };
    let status = FileStatus::Warning {
        offset: None,
        reason: reason.into(),
    };
    let mut report = FileReport::new(path, kind, status);
    report.size = file_size(fs, &report.path);
    report
}

/// The size of `path`, `None` if it cannot be read (a missing file).
fn file_size(fs: &dyn FileSystem, path: &Path) -> Option<u64> {
    fs.open(path).and_then(|f| f.size()).ok()
}

/// The verdict for a check that failed with `e`.
fn status_of(e: &Error) -> FileStatus {
    match e {
        Error::Corruption { offset, reason, .. } => FileStatus::Problem {
            offset: Some(*offset),
            reason: reason.clone(),
        },
        other => FileStatus::Problem {
            offset: None,
            reason: other.to_string(),
        },
    }
}
