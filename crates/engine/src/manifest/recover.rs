//! [`recover`]: reads `CURRENT` and replays the manifest it names.

use std::io;
use std::path::Path;

use strata_core::{Error, FileSystem, Result};
use strata_wal::{DroppedTail, LogReader, RecoveryMode};

use super::current::{CURRENT_FILE_NAME, manifest_file_name, read_current};
use crate::version::{ManifestState, VersionEdit};

/// What [`recover`] found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecoveredManifest {
    /// The state all intact edits produce.
    pub state: ManifestState,
    /// The number of the live manifest (`CURRENT` names it).
    pub manifest_number: u64,
    /// Size in bytes of the manifest file, torn tail included.
    pub manifest_size: u64,
    /// Edits replayed (the snapshot edit included).
    pub edits: u64,
    /// A torn last edit that was dropped. Each edit is synced before
    /// [`ManifestWriter::append`](super::ManifestWriter::append) returns, so
    /// a dropped edit was never acknowledged; worth a log line, not an error.
    pub torn_tail: Option<DroppedTail>,
}

/// File numbers above this are refused as corrupt: a database would need
/// billions of years of flushes to reach them, and staying far from
/// `u64::MAX` keeps the arithmetic on them overflow-free.
pub const MAX_FILE_NUMBER: u64 = 1 << 62;

/// Reads `dir/CURRENT` and replays the manifest it names.
///
/// A torn last record is dropped and reported in
/// [`RecoveredManifest::torn_tail`]. Any other damage is an error: since each
/// edit is synced before the next is written, a crash can tear only the last.
/// The resulting state must pass [`ManifestState::check_invariants`].
///
/// The engine does not append to a recovered manifest: it starts a new one
/// with [`ManifestWriter::create`](super::ManifestWriter::create).
///
/// # Errors
/// * [`Error::Io`] of kind [`io::ErrorKind::NotFound`] if `dir` has no
///   `CURRENT` (not a database); see also
///   [`database_exists`](super::database_exists).
/// * [`Error::Corruption`] if `CURRENT` is malformed (offset 0 of `CURRENT`),
///   names a manifest that does not exist, or the manifest holds no complete
///   edit, a damaged record before its end, an edit that does not decode or
///   does not apply (at that record's offset), or a final state breaking the
///   invariants.
/// * [`Error::Io`] for other I/O failures.
pub fn recover(fs: &dyn FileSystem, dir: &Path) -> Result<RecoveredManifest> {
    recover_with_mode(fs, dir, RecoveryMode::TolerateTornTail)
}

/// [`recover`], reading the manifest in `mode`: [`RecoveryMode::Strict`]
/// turns a torn last edit into [`Error::Corruption`] too (for `verify`).
pub(crate) fn recover_with_mode(
    fs: &dyn FileSystem,
    dir: &Path,
    mode: RecoveryMode,
) -> Result<RecoveredManifest> {
    let manifest_number = read_current(fs, dir)?;
    let path = dir.join(manifest_file_name(manifest_number));
    let file = match fs.open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::corruption(
                dir.join(CURRENT_FILE_NAME),
                0,
                format!(
                    "names {}, which does not exist",
                    manifest_file_name(manifest_number)
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let manifest_size = file.size()?;
    let mut reader = LogReader::new(file, &path, mode)?;
    let mut state = ManifestState::new();
    let mut edits = 0u64;
    while let Some(record) = reader.next_record()? {
        let offset = reader.last_record_offset();
        let edit = VersionEdit::decode_from(&record, &path, offset)?;
        if edits == 0
            && (edit.log_number.is_none()
                || edit.next_file_number.is_none()
                || edit.last_seqno.is_none())
        {
            return Err(Error::corruption(
                &path,
                offset,
                "first edit is not a snapshot (it lacks a counter)",
            ));
        }
        state.try_apply(&edit).map_err(|reason| {
            Error::corruption(&path, offset, format!("edit does not apply: {reason}"))
        })?;
        edits += 1;
    }
    let torn_tail = reader.report().dropped.clone();
    if let Some(d) = &torn_tail
        && !d.is_torn_tail()
    {
        return Err(Error::corruption(
            &path,
            d.offset,
            format!(
                "damaged record with {} intact records after it: {}",
                d.intact_records_after, d.reason
            ),
        ));
    }
    if edits == 0 {
        return Err(Error::corruption(
            &path,
            0,
            "no complete edit: a manifest starts with a synced snapshot",
        ));
    }
    let at_end = reader.last_record_offset();
    if manifest_number >= state.next_file_number() {
        return Err(Error::corruption(
            &path,
            at_end,
            format!(
                "next file number {} is not above the manifest's own number",
                state.next_file_number()
            ),
        ));
    }
    if state.next_file_number() > MAX_FILE_NUMBER {
        return Err(Error::corruption(
            &path,
            at_end,
            format!(
                "next file number {} is implausibly large",
                state.next_file_number()
            ),
        ));
    }
    let newest_in_tables = state
        .levels()
        .iter()
        .flat_map(|l| l.iter().map(|m| m.max_seqno))
        .max()
        .unwrap_or(0);
    if newest_in_tables > state.last_seqno() {
        return Err(Error::corruption(
            &path,
            at_end,
            format!(
                "a table holds seqno {newest_in_tables}, above the last seqno {}",
                state.last_seqno()
            ),
        ));
    }
    state.check_invariants().map_err(|reason| {
        Error::corruption(
            &path,
            reader.last_record_offset(),
            format!("replayed state is invalid: {reason}"),
        )
    })?;
    Ok(RecoveredManifest {
        state,
        manifest_number,
        manifest_size,
        edits,
        torn_tail,
    })
}
