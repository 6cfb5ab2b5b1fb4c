//! [`OutputWriter`]: the compaction's output tables, cut at the target size.
//!
//! A table is opened lazily on the first entry (an empty output creates no
//! file) and is finished once it has reached the target size *and* the next
//! entry starts a new user key, so the versions of one user key always share
//! a file and outputs never overlap. Every file created is remembered so that
//! a failed job can delete them all.

use std::path::PathBuf;

use strata_core::key::split_encoded;
use strata_core::{FileSystem, Result, WritableFile};
use strata_sstable::{TableBuilder, TableOptions};

use super::OutputFile;
use super::retention::EntrySink;

/// Creates the next output file: `(file number, path, writable file)`.
pub(crate) type NewOutput<'a> = dyn FnMut() -> Result<(u64, PathBuf, Box<dyn WritableFile>)> + 'a;

/// The table being written.
struct Open {
    number: u64,
    path: PathBuf,
    builder: TableBuilder,
}

/// Writes the kept entries into tables. See the module docs.
pub(crate) struct OutputWriter<'a, 'b> {
    new_output: &'a mut NewOutput<'b>,
    options: TableOptions,
    target_file_size: u64,
    open: Option<Open>,
    /// User key of the last entry written to `open`.
    last_user_key: Vec<u8>,
    files: Vec<OutputFile>,
    /// Every file created, finished or not, for clean-up on failure.
    created: Vec<PathBuf>,
    entries_written: u64,
}

impl<'a, 'b> OutputWriter<'a, 'b> {
    pub(crate) fn new(
        new_output: &'a mut NewOutput<'b>,
        options: TableOptions,
        target_file_size: u64,
    ) -> Self {
        Self {
            new_output,
            options,
            target_file_size,
            open: None,
            last_user_key: Vec::new(),
            files: Vec::new(),
            created: Vec::new(),
            entries_written: 0,
        }
    }

    /// Entries written so far.
    pub(crate) fn entries_written(&self) -> u64 {
        self.entries_written
    }

    /// Finishes the open table and returns every finished output, in key order.
    ///
    /// # Errors
    /// As [`TableBuilder::finish`]. The files stay for
    /// [`OutputWriter::discard`] to delete.
    pub(crate) fn finish(&mut self) -> Result<Vec<OutputFile>> {
        self.finish_open()?;
        Ok(std::mem::take(&mut self.files))
    }

    /// Abandons the open table and deletes every file created (best effort:
    /// a file left behind is not in any version, and the engine removes such
    /// orphans when it opens).
    pub(crate) fn discard(&mut self, fs: &dyn FileSystem) {
        if let Some(open) = self.open.take() {
            open.builder.abandon();
        }
        self.files.clear();
        for path in self.created.drain(..) {
            let _ = fs.remove(&path);
        }
    }

    fn finish_open(&mut self) -> Result<()> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let summary = open.builder.finish()?;
        self.files.push(OutputFile {
            number: open.number,
            path: open.path,
            summary,
        });
        Ok(())
    }

    fn start_table(&mut self) -> Result<()> {
        let (number, path, file) = (self.new_output)()?;
        self.created.push(path.clone());
        let builder = TableBuilder::new(file, &path, self.options.clone())?;
        self.open = Some(Open {
            number,
            path,
            builder,
        });
        Ok(())
    }
}

impl EntrySink for OutputWriter<'_, '_> {
    fn emit(&mut self, encoded_key: &[u8], value: &[u8]) -> Result<()> {
        let user_key = split_encoded(encoded_key).0;
        let full = self.open.as_ref().is_some_and(|o| {
            o.builder.estimated_file_size() >= self.target_file_size
                && user_key != self.last_user_key.as_slice()
        });
        if full {
            self.finish_open()?;
        }
        if self.open.is_none() {
            self.start_table()?;
        }
        if let Some(open) = &mut self.open {
            open.builder.add_encoded(encoded_key, value)?;
        }
        self.last_user_key.clear();
        self.last_user_key.extend_from_slice(user_key);
        self.entries_written += 1;
        Ok(())
    }
}
