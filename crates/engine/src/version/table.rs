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

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::{FaultFs, InternalKey, ValueKind};

    fn handle(fs: &FaultFs, cache: &Arc<TableCache>, number: u64) -> Arc<TableHandle> {
        let path = PathBuf::from(format!("/db/{number:06}.sst"));
        let mut w = fs.create(&path).unwrap();
        w.append(b"table bytes").unwrap();
        let key = InternalKey::new(&b"k"[..], 1, ValueKind::Put);
        let meta = FileMetadata {
            number,
            size: 11,
            smallest: key.clone(),
            largest: key,
            min_seqno: 1,
            max_seqno: 1,
            min_time_ms: 0,
            max_time_ms: 0,
            num_entries: 1,
            num_tombstones: 0,
        };
        Arc::new(TableHandle::new(meta, path, Arc::clone(cache)))
    }

    #[test]
    fn an_obsolete_file_is_deleted_when_its_last_holder_goes() {
        let fs = FaultFs::new();
        fs.create_dir_all(Path::new("/db")).unwrap();
        let cache = Arc::new(TableCache::new(Arc::new(fs.clone()), 4, None));
        let table = handle(&fs, &cache, 7);
        let path = table.path.clone();
        let reader_version = vec![Arc::clone(&table)];
        // Removed from the current version: marked, but a reader holds it.
        table.mark_obsolete();
        drop(table);
        assert!(fs.exists(&path).unwrap(), "deleted while a version held it");
        drop(reader_version);
        assert!(
            !fs.exists(&path).unwrap(),
            "kept after the last holder went"
        );

        // A live (not obsolete) table is never deleted by a drop.
        let live = handle(&fs, &cache, 8);
        let live_path = live.path.clone();
        drop(live);
        assert!(fs.exists(&live_path).unwrap());
    }
}
