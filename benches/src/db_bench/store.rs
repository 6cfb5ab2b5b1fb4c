//! [`Store`]: the store under test, its implementation for [`strata::Db`],
//! and [`StoreFactory`], which opens empty ones.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use strata::{Db, DbIterator, Options, SyncPolicy};

/// Any error of a store under test: each engine has its own error type.
pub type StoreError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with a [`StoreError`].
pub type StoreResult<T> = Result<T, StoreError>;

/// The operations the workloads need from a key-value store. Implement it
/// for another engine to run the same workloads against it.
///
/// Methods take `&self`: workloads call them from several threads at once.
pub trait Store: Send + Sync {
    /// A key or value the store hands out (owned or shared, not copied if
    /// the store can avoid it).
    type Bytes: AsRef<[u8]>;

    /// A forward iterator over `(key, value)` pairs; an error item ends it.
    type Cursor<'a>: Iterator<Item = StoreResult<(Self::Bytes, Self::Bytes)>>
    where
        Self: 'a;

    /// Sets `key` to `value`.
    ///
    /// # Errors
    /// The store's write error.
    fn put(&self, key: &[u8], value: &[u8]) -> StoreResult<()>;

    /// The value of `key`, or `None` if absent.
    ///
    /// # Errors
    /// The store's read error.
    fn get(&self, key: &[u8]) -> StoreResult<Option<Self::Bytes>>;

    /// Removes `key`.
    ///
    /// # Errors
    /// The store's write error.
    fn delete(&self, key: &[u8]) -> StoreResult<()>;

    /// The live entries with keys `>= start`, in ascending key order (a
    /// seek followed by nexts).
    fn scan_from(&self, start: &[u8]) -> Self::Cursor<'_>;

    /// Makes everything written so far reach the store's on-disk tables
    /// (whatever that means for it), returning when done.
    ///
    /// # Errors
    /// The store's error.
    fn flush(&self) -> StoreResult<()>;
}

/// Opens empty stores for the workloads that start from one.
pub trait StoreFactory {
    /// The store it opens.
    type Store: Store;

    /// An open, empty store. The previous store this factory opened has
    /// been dropped before the call, so it may reuse its location.
    ///
    /// # Errors
    /// Opening (or clearing) failed.
    fn open_fresh(&mut self) -> StoreResult<Self::Store>;

    /// As [`Self::open_fresh`], but the store syncs its write-ahead log
    /// before acknowledging each write (the synced fills run on it).
    ///
    /// # Errors
    /// Opening (or clearing) failed.
    fn open_fresh_synced(&mut self) -> StoreResult<Self::Store>;
}

type DbItem = strata::Result<(Bytes, Bytes)>;

fn boxed(item: DbItem) -> StoreResult<(Bytes, Bytes)> {
    item.map_err(StoreError::from)
}

impl Store for Db {
    type Bytes = Bytes;
    type Cursor<'a> = std::iter::Map<DbIterator, fn(DbItem) -> StoreResult<(Bytes, Bytes)>>;

    fn put(&self, key: &[u8], value: &[u8]) -> StoreResult<()> {
        Ok(Db::put(self, key, value)?)
    }

    fn get(&self, key: &[u8]) -> StoreResult<Option<Bytes>> {
        Ok(Db::get(self, key)?)
    }

    fn delete(&self, key: &[u8]) -> StoreResult<()> {
        Ok(Db::delete(self, key)?)
    }

    fn scan_from(&self, start: &[u8]) -> Self::Cursor<'_> {
        self.scan(start..).map(boxed as fn(DbItem) -> _)
    }

    fn flush(&self) -> StoreResult<()> {
        Ok(Db::flush(self)?)
    }
}

/// Opens strata databases in one directory, deleting the directory (and
/// everything in it) before each open: give it a directory that holds
/// nothing else.
#[derive(Debug, Clone)]
pub struct StrataFactory {
    dir: PathBuf,
    options: Options,
}

impl StrataFactory {
    /// Databases in `dir`, opened with `options`.
    pub fn new(dir: impl Into<PathBuf>, options: Options) -> Self {
        Self {
            dir: dir.into(),
            options,
        }
    }
}

impl StoreFactory for StrataFactory {
    type Store = Db;

    fn open_fresh(&mut self) -> StoreResult<Db> {
        remove_dir_if_present(&self.dir)?;
        Ok(Db::open(&self.dir, self.options.clone())?)
    }

    fn open_fresh_synced(&mut self) -> StoreResult<Db> {
        remove_dir_if_present(&self.dir)?;
        let options = self.options.clone().sync_policy(SyncPolicy::Always);
        Ok(Db::open(&self.dir, options)?)
    }
}

/// Removes `dir` and everything in it; absent is fine.
///
/// # Errors
/// The removal failed.
pub fn remove_dir_if_present(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
