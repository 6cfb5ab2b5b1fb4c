//! [`TableHandle`]: a live SST file as versions hold it, and the
//! [`TableCache`] that bounds how many tables are open at once.
//!
//! A handle is shared (`Arc`) by every [`Version`](super::Version) that lists
//! its file. When a flush or compaction removes the file from the current
//! version, the handle is marked obsolete; the file is deleted when the last
//! `Arc` goes, that is when no reader's version needs it any more.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use quick_cache::sync::Cache;
use strata_core::{Error, FileSystem, Result};
use strata_sstable::{BlockCache, TableReader};

use super::FileMetadata;

/// Open tables, bounded in number; a table evicted here is reopened (footer,
/// index and filter read again) on its next use.
pub(crate) struct TableCache {
    fs: Arc<dyn FileSystem>,
    tables: Cache<u64, TableReader>,
    block_cache: Option<Arc<BlockCache>>,
}

impl TableCache {
    pub(crate) fn new(
        fs: Arc<dyn FileSystem>,
        max_open_tables: usize,
        block_cache: Option<Arc<BlockCache>>,
    ) -> Self {
        Self {
            fs,
            tables: Cache::new(max_open_tables.max(1)),
            block_cache,
        }
    }

    /// The reader of table `meta.number` at `path`, opening it if needed.
    ///
    /// # Errors
    /// [`Error::Corruption`] if the file's size differs from the manifest's
    /// record or its footer, index, filter or properties are invalid;
    /// [`Error::Io`] if it cannot be read.
    pub(crate) fn reader(&self, meta: &FileMetadata, path: &Path) -> Result<TableReader> {
        if let Some(reader) = self.tables.get(&meta.number) {
            return Ok(reader);
        }
        let file = self.fs.open(path)?;
        let size = file.size()?;
        if size != meta.size {
            return Err(Error::corruption(
                path,
                0,
                format!(
                    "file is {size} bytes but the manifest recorded {}",
                    meta.size
                ),
            ));
        }
        let reader = TableReader::open(file, path, meta.number, self.block_cache.clone())?;
        self.tables.insert(meta.number, reader.clone());
        Ok(reader)
    }

    fn evict(&self, number: u64) {
        self.tables.remove(&number);
        if let Some(cache) = &self.block_cache {
            cache.evict_file(number);
        }
    }

    pub(crate) fn block_cache(&self) -> Option<&Arc<BlockCache>> {
        self.block_cache.as_ref()
    }
}

/// A live table: its manifest metadata and where to find it.
pub(crate) struct TableHandle {
    pub(crate) meta: FileMetadata,
    pub(crate) path: PathBuf,
    cache: Arc<TableCache>,
    obsolete: AtomicBool,
}

impl TableHandle {
    pub(crate) fn new(meta: FileMetadata, path: PathBuf, cache: Arc<TableCache>) -> Self {
        Self {
            meta,
            path,
            cache,
            obsolete: AtomicBool::new(false),
        }
    }

    /// The open table (see [`TableCache::reader`]).
    pub(crate) fn reader(&self) -> Result<TableReader> {
        self.cache.reader(&self.meta, &self.path)
    }

    /// True if `user_key` lies within the table's key range.
    pub(crate) fn covers(&self, user_key: &[u8]) -> bool {
        self.meta.smallest.user_key.as_ref() <= user_key
            && user_key <= self.meta.largest.user_key.as_ref()
    }

    /// Marks the file for deletion once the last version holding it is gone.
    #[allow(dead_code)] // Used by compaction, which removes files from versions.
    pub(crate) fn mark_obsolete(&self) {
        self.obsolete.store(true, Ordering::Release);
    }
}

impl Drop for TableHandle {
    fn drop(&mut self) {
        if self.obsolete.load(Ordering::Acquire) {
            self.cache.evict(self.meta.number);
            // Best effort: a file left behind is not in the manifest, so the
            // next open deletes it.
            let _ = self.cache.fs.remove(&self.path);
        }
    }
}

impl std::fmt::Debug for TableHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableHandle")
            .field("number", &self.meta.number)
            .field("size", &self.meta.size)
            .finish()
    }
}
