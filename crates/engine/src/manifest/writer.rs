//! [`ManifestWriter`]: creates a manifest, installs it as `CURRENT`, appends edits.

use std::path::{Path, PathBuf};

use strata_core::{Error, FileSystem, Result};
use strata_wal::LogWriter;

use super::current::{CURRENT_FILE_NAME, current_contents, manifest_file_name, temp_current_path};
use crate::version::{ManifestState, VersionEdit};

/// Appends [`VersionEdit`]s to the live manifest, one synced record each.
///
/// Single-threaded (`&mut self`); the engine serialises manifest writes.
/// After a failed [`ManifestWriter::append`] the writer refuses every later
/// call: whether the failed edit is durable is unknown until recovery, so the
/// caller must stop writing edits to this manifest (and, to go on, switch to
/// a new one with [`ManifestWriter::create`] from the state it holds in force).
pub struct ManifestWriter {
    log: LogWriter,
    number: u64,
    path: PathBuf,
}

impl std::fmt::Debug for ManifestWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManifestWriter")
            .field("path", &self.path)
            .field("size", &self.size())
            .finish()
    }
}

impl ManifestWriter {
    /// Writes `MANIFEST-<number>` in `dir` holding `state`'s snapshot edit and
    /// makes it the live manifest by replacing `CURRENT`.
    ///
    /// The switch, each step finished before the next starts:
    /// 1. write the manifest (snapshot edit) and sync it;
    /// 2. sync `dir`, so the manifest's name survives a power loss;
    /// 3. write `NNNNNN.dbtmp` holding `MANIFEST-NNNNNN\n` and sync it;
    /// 4. rename it over `CURRENT` (atomic: `CURRENT` is old or new, never partial);
    /// 5. sync `dir`, so the rename is durable before this returns.
    ///
    /// When this returns `Ok`, the new manifest is in force even across a
    /// power loss, and the old manifest may be deleted. On `Err`, which
    /// manifest is in force is undecided until recovery: a failure after the
    /// rename (step 5) leaves `CURRENT` naming the new one. So after an `Err`
    /// the caller must not acknowledge further edits through the old writer
    /// (recovery may not read them) and must delete neither manifest; it
    /// either succeeds a later `create` with a new number or stops writing
    /// and lets the next open recover.
    ///
    /// REQUIRES: `number < state.next_file_number()`, so no other file gets
    /// this number later.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `number` is not below
    /// `state.next_file_number()`, names a manifest file that exists (such as
    /// the one `CURRENT` names now), or
    /// `state` breaks [`ManifestState::check_invariants`];
    /// [`Error::Io`] if any file-system call fails.
    pub fn create(
        fs: &dyn FileSystem,
        dir: &Path,
        number: u64,
        state: &ManifestState,
    ) -> Result<Self> {
        if number >= state.next_file_number() {
            return Err(Error::invalid_argument(format!(
                "manifest number {number} is not below the next file number {}",
                state.next_file_number()
            )));
        }
        state.check_invariants().map_err(Error::InvalidArgument)?;
        // Creating truncates: never reuse the name of an existing manifest
        // (the live one above all), whatever CURRENT says or fails to say.
        let path = dir.join(manifest_file_name(number));
        if fs.exists(&path)? {
            return Err(Error::invalid_argument(format!(
                "{} already exists; a new manifest needs a new number",
                manifest_file_name(number)
            )));
        }
        let mut log = LogWriter::new(fs.create(&path)?);
        log.add_record(&state.snapshot_edit().encode())?;
        log.sync()?;
        fs.sync_dir(dir)?;
        install_current(fs, dir, number)?;
        Ok(Self { log, number, path })
    }

    /// Appends `edit` as one record and syncs it: durable when this returns.
    ///
    /// The caller applies the edit to its [`ManifestState`] (which validates
    /// it) before appending; this does not check it against the state.
    ///
    /// # Errors
    /// [`Error::Io`] if the append or sync fails, or an earlier one did.
    pub fn append(&mut self, edit: &VersionEdit) -> Result<()> {
        self.log.add_record(&edit.encode())?;
        self.log.sync()
    }

    /// Bytes in the manifest file (the engine rewrites it when this grows).
    pub fn size(&self) -> u64 {
        self.log.len()
    }

    /// The manifest's file number.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The manifest's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Steps 3 to 5 of the switch; removes the temporary file if it fails before
/// the rename.
fn install_current(fs: &dyn FileSystem, dir: &Path, number: u64) -> Result<()> {
    let tmp = temp_current_path(dir, number);
    let written = (|| -> std::io::Result<()> {
        let mut f = fs.create(&tmp)?;
        f.append(&current_contents(number))?;
        // Without this sync a power loss could persist the rename but not the
        // content, leaving an empty CURRENT.
        f.sync()?;
        fs.rename(&tmp, &dir.join(CURRENT_FILE_NAME))
    })();
    if let Err(e) = written {
        // Best effort: a leftover temp file is harmless (recovery ignores it).
        let _ = fs.remove(&tmp);
        return Err(e.into());
    }
    Ok(fs.sync_dir(dir)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::FaultFs;

    /// The framed first record and `CURRENT` of the worked example in
    /// `docs/format.md`, byte for byte.
    #[test]
    fn worked_example_manifest_bytes() {
        let fs = FaultFs::new();
        let dir = Path::new("/db");
        fs.create_dir_all(dir).unwrap();
        let mut state = ManifestState::new();
        let mut e = VersionEdit::new();
        e.log_number = Some(2);
        e.next_file_number = Some(3);
        state.apply(&e).unwrap();
        let w = ManifestWriter::create(&fs, dir, 1, &state).unwrap();
        let bytes = fs.read_all(w.path()).unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "db45a115060001010202030300");
        let current = fs.read_all(&dir.join(CURRENT_FILE_NAME)).unwrap();
        assert_eq!(current, b"MANIFEST-000001\n");
    }
}
