//! [`TableHandle`]: a live SST file as versions hold it, and the
//! [`TableCache`] that bounds how many tables are open at once.
//!
//! A handle is shared (`Arc`) by every [`Version`](super::Version) that lists
//! its file. When a flush or compaction removes the file from the current
//! version, the handle is marked obsolete; the file is deleted when the last
//! `Arc` goes, that is when no reader's version needs it any more.
//!
//! An open table's reader lives in its handle, so a lookup reaches it with
//! one atomic load instead of a cache probe. The cache only decides which
//! handles may keep a reader open: past `max_open_tables`, the reader opened
//! longest ago is closed (first in, first out) and reopened on next use.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Weak};

use arc_swap::ArcSwapOption;
use parking_lot::Mutex;
use strata_core::{Error, FileSystem, Result};
use strata_sstable::{BlockCache, TableReader};

use super::FileMetadata;

/// Bounds the number of open tables; see the module docs.
pub(crate) struct TableCache {
    fs: Arc<dyn FileSystem>,
    max_open: usize,
    /// Handles whose reader was opened, oldest first (some may since have
    /// been dropped or closed).
    open: Mutex<VecDeque<Weak<TableHandle>>>,
    block_cache: Option<Arc<BlockCache>>,
    /// Open tables through memory maps (`Options::mmap_reads`).
    mmap: bool,
    /// A handle ran out of allowed seeks since the engine last looked.
    seeks_ran_out: AtomicBool,
}

impl TableCache {
    pub(crate) fn new(
        fs: Arc<dyn FileSystem>,
        max_open_tables: usize,
        block_cache: Option<Arc<BlockCache>>,
        mmap: bool,
    ) -> Self {
        Self {
            fs,
            max_open: max_open_tables.max(1),
            open: Mutex::new(VecDeque::new()),
            block_cache,
            mmap,
            seeks_ran_out: AtomicBool::new(false),
        }
    }

    /// True once after any table of this cache ran out of allowed seeks:
    /// the engine then asks its compaction strategy again.
    pub(crate) fn take_seeks_ran_out(&self) -> bool {
        // The plain load keeps every read's check free of a write.
        self.seeks_ran_out.load(Ordering::Relaxed)
            && self.seeks_ran_out.swap(false, Ordering::Relaxed)
    }

    /// Opens the table of `handle` and installs its reader, closing the
    /// oldest open one if that makes too many.
    ///
    /// # Errors
    /// [`Error::Corruption`] if the file's size differs from the manifest's
    /// record or its footer, index, filter or properties are invalid;
    /// [`Error::Io`] if it cannot be read.
    fn open(&self, handle: &Arc<TableHandle>) -> Result<Arc<TableReader>> {
        let mut open = self.open.lock();
        // Another thread may have opened it while this one waited.
        if let Some(reader) = handle.reader.load_full() {
            return Ok(reader);
        }
        let meta = &handle.meta;
        let path = &handle.path;
        let file = if self.mmap {
            self.fs.open_mapped(path)?
        } else {
            self.fs.open(path)?
        };
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
        let reader = Arc::new(TableReader::open(
            file,
            path,
            meta.number,
            self.block_cache.clone(),
        )?);
        handle.reader.store(Some(Arc::clone(&reader)));
        open.push_back(Arc::downgrade(handle));
        while open.len() > self.max_open {
            if let Some(oldest) = open.pop_front().and_then(|w| w.upgrade()) {
                oldest.reader.store(None);
            }
        }
        Ok(reader)
    }

    fn evict(&self, number: u64) {
        if let Some(cache) = &self.block_cache {
            cache.evict_file(number);
        }
    }

    pub(crate) fn block_cache(&self) -> Option<&Arc<BlockCache>> {
        self.block_cache.as_ref()
    }
}

/// A live table: its manifest metadata, where to find it, and its reader
/// while open.
pub(crate) struct TableHandle {
    pub(crate) meta: FileMetadata,
    pub(crate) path: PathBuf,
    cache: Arc<TableCache>,
    reader: ArcSwapOption<TableReader>,
    obsolete: AtomicBool,
    /// Reads that may still look past this table before merging it into
    /// the next level pays; see [`TableHandle::charge_seek`].
    allowed_seeks: AtomicI64,
}

/// Bytes of table per allowed seek. LevelDB's reasoning: one seek costs
/// about as much as compacting 40 KB (a 10 ms disk seek against a 1 MB
/// merge at 100 MB/s, about 25 times the bytes rewritten per input byte);
/// with fast storage and a block cache a wasted seek is cheaper, so strata
/// allows one per 16 KiB, as LevelDB does in practice.
const BYTES_PER_SEEK: u64 = 16 << 10;

/// Fewest allowed seeks of any table, so small tables are not compacted
/// after a handful of reads.
const MIN_ALLOWED_SEEKS: u64 = 100;

/// The allowance of a table of `size` bytes.
fn allowed_seeks(size: u64) -> i64 {
    i64::try_from((size / BYTES_PER_SEEK).max(MIN_ALLOWED_SEEKS)).unwrap_or(i64::MAX)
}

impl TableHandle {
    pub(crate) fn new(meta: FileMetadata, path: PathBuf, cache: Arc<TableCache>) -> Self {
        Self {
            allowed_seeks: AtomicI64::new(allowed_seeks(meta.size)),
            meta,
            path,
            cache,
            reader: ArcSwapOption::empty(),
            obsolete: AtomicBool::new(false),
        }
    }

    /// Records a read that had to look past this table to another one (a
    /// point lookup that read a block of it in vain, a scan that merged it
    /// with deeper tables). When the table's allowed seeks run out, it
    /// asks for compaction once: see [`TableHandle::seeks_exhausted`].
    pub(crate) fn charge_seek(&self) {
        if self.allowed_seeks.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.cache.seeks_ran_out.store(true, Ordering::Relaxed);
        }
    }

    /// Gives the table its full allowance again (after a move to a new
    /// level, where reads look past it for other reasons).
    pub(crate) fn reset_allowed_seeks(&self) {
        self.allowed_seeks
            .store(allowed_seeks(self.meta.size), Ordering::Relaxed);
    }

    /// True once reads have looked past this table more often than its
    /// size allows (LevelDB's "allowed seeks"): merging it into the next
    /// level would save more than it costs.
    pub(crate) fn seeks_exhausted(&self) -> bool {
        self.allowed_seeks.load(Ordering::Relaxed) <= 0
    }

    /// Runs `f` on the open table, opening it first if needed (see
    /// [`TableCache::open`] for the errors).
    pub(crate) fn with_reader<T>(
        self: &Arc<Self>,
        f: impl FnOnce(&TableReader) -> Result<T>,
    ) -> Result<T> {
        if let Some(reader) = self.reader.load().as_deref() {
            return f(reader);
        }
        let reader = self.cache.open(self)?;
        f(&reader)
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
            self.reader.store(None);
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
    use std::path::Path;
    use strata_core::{FaultFs, InternalKey, ValueKind};
    use strata_sstable::{TableBuilder, TableOptions};

    /// A real one-entry table `number` holding `k -> v<number>`.
    fn real_table(fs: &FaultFs, cache: &Arc<TableCache>, number: u64) -> Arc<TableHandle> {
        let path = PathBuf::from(format!("/db/{number:06}.sst"));
        let key = InternalKey::new(&b"k"[..], number, ValueKind::Put);
        let mut b =
            TableBuilder::new(fs.create(&path).unwrap(), &path, TableOptions::default()).unwrap();
        b.add(&key, format!("v{number}").as_bytes()).unwrap();
        let size = b.finish().unwrap().file_size;
        Arc::new(TableHandle::new(
            one_key_meta(number, size, key),
            path,
            Arc::clone(cache),
        ))
    }

    /// Metadata of a table `number` of `size` bytes holding only `key`.
    fn one_key_meta(number: u64, size: u64, key: InternalKey) -> FileMetadata {
        FileMetadata {
            number,
            size,
            smallest: key.clone(),
            min_seqno: key.seqno,
            max_seqno: key.seqno,
            largest: key,
            min_time_ms: 0,
            max_time_ms: 0,
            num_entries: 1,
            num_tombstones: 0,
            num_expiring: 0,
            max_expiry_ms: 0,
            num_shadowed: Some(0),
        }
    }

    #[test]
    fn no_more_than_max_open_tables_stay_open_and_closed_ones_reopen() {
        let fs = FaultFs::new();
        fs.create_dir_all(Path::new("/db")).unwrap();
        let cache = Arc::new(TableCache::new(Arc::new(fs.clone()), 2, None, false));
        let tables: Vec<_> = (1..=5).map(|n| real_table(&fs, &cache, n)).collect();
        let open = || tables.iter().filter(|t| t.reader.load().is_some()).count();
        for round in 0..3 {
            for t in &tables {
                let got = t
                    .with_reader(|r| r.get(b"k", u64::MAX >> 8))
                    .unwrap()
                    .unwrap();
                assert_eq!(got.value, format!("v{}", t.meta.number).as_bytes());
                assert!(open() <= 2, "round {round}: {} open", open());
            }
        }
        // A size that disagrees with the manifest is corruption, not data.
        let mut wrong = real_table(&fs, &cache, 9);
        Arc::get_mut(&mut wrong).unwrap().meta.size += 1;
        assert!(wrong.with_reader(|_| Ok(())).unwrap_err().is_corruption());
    }

    fn handle(fs: &FaultFs, cache: &Arc<TableCache>, number: u64) -> Arc<TableHandle> {
        let path = PathBuf::from(format!("/db/{number:06}.sst"));
        let mut w = fs.create(&path).unwrap();
        w.append(b"table bytes").unwrap();
        let key = InternalKey::new(&b"k"[..], 1, ValueKind::Put);
        Arc::new(TableHandle::new(
            one_key_meta(number, 11, key),
            path,
            Arc::clone(cache),
        ))
    }

    #[test]
    fn a_table_asks_for_compaction_once_when_its_seeks_run_out() {
        let fs = FaultFs::new();
        fs.create_dir_all(Path::new("/db")).unwrap();
        let cache = Arc::new(TableCache::new(Arc::new(fs.clone()), 2, None, false));
        // A tiny table: the minimum allowance.
        let t = real_table(&fs, &cache, 1);
        for _ in 0..MIN_ALLOWED_SEEKS - 1 {
            t.charge_seek();
        }
        assert!(!t.seeks_exhausted());
        assert!(!cache.take_seeks_ran_out());
        t.charge_seek();
        assert!(t.seeks_exhausted());
        assert!(cache.take_seeks_ran_out());
        // Asked once: further charges do not ask again.
        t.charge_seek();
        assert!(!cache.take_seeks_ran_out());
        // A move to a new level starts a new allowance.
        t.reset_allowed_seeks();
        assert!(!t.seeks_exhausted());
        assert_eq!(allowed_seeks(64 << 20), 4096);
    }

    #[test]
    fn an_obsolete_file_is_deleted_when_its_last_holder_goes() {
        let fs = FaultFs::new();
        fs.create_dir_all(Path::new("/db")).unwrap();
        let cache = Arc::new(TableCache::new(Arc::new(fs.clone()), 4, None, false));
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
