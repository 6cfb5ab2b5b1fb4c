//! RocksDB as a [`Store`], through the `rocksdb` crate (feature
//! `peer-rocksdb`; its bundled C++ build takes about 15 minutes on 2 cores,
//! so CI never builds it).
//!
//! Settings: a block-based table with an LRU block cache of
//! [`EngineSettings::cache_bytes`], full bloom filters of
//! [`EngineSettings::bloom_bits_per_key`], 4 KiB blocks; compression per
//! [`EngineSettings::compression`] in every level (RocksDB's default would
//! be Snappy); write buffers of [`EngineSettings::memtable_bytes`]. The rest
//! are RocksDB's defaults: leveled compaction, 2 background jobs, the WAL
//! uncompressed.
//!
//! Durability: the WAL is on; `WriteOptions::set_sync` is true for a synced
//! store, so each write returns after an fdatasync that RocksDB's write
//! group shares among concurrent writers (group commit).

use std::path::PathBuf;

use rocksdb::{
    BlockBasedOptions, Cache, DB, DBCompressionType, DBIteratorWithThreadMode, Direction,
    IteratorMode, Options, WriteOptions,
};

use super::engine::{Compression, EngineSettings};
use crate::db_bench::{Store, StoreFactory, StoreResult, remove_dir_if_present};

/// A key or value RocksDB handed out.
type Owned = Box<[u8]>;

type Item = Result<(Owned, Owned), rocksdb::Error>;

/// An open RocksDB database and the write options of every write.
pub struct RocksStore {
    db: DB,
    write: WriteOptions,
}

fn pair(item: Item) -> StoreResult<(Owned, Owned)> {
    Ok(item?)
}

impl Store for RocksStore {
    type Bytes = Owned;
    type Cursor<'a> =
        std::iter::Map<DBIteratorWithThreadMode<'a, DB>, fn(Item) -> StoreResult<(Owned, Owned)>>;

    fn put(&self, key: &[u8], value: &[u8]) -> StoreResult<()> {
        Ok(self.db.put_opt(key, value, &self.write)?)
    }

    fn get(&self, key: &[u8]) -> StoreResult<Option<Owned>> {
        Ok(self.db.get(key)?.map(Vec::into_boxed_slice))
    }

    fn delete(&self, key: &[u8]) -> StoreResult<()> {
        Ok(self.db.delete_opt(key, &self.write)?)
    }

    fn scan_from(&self, start: &[u8]) -> Self::Cursor<'_> {
        self.db
            .iterator(IteratorMode::From(start, Direction::Forward))
            .map(pair as fn(Item) -> _)
    }

    fn flush(&self) -> StoreResult<()> {
        Ok(self.db.flush()?)
    }
}

/// Opens RocksDB databases in one directory, deleting it first.
#[derive(Debug, Clone)]
pub struct RocksFactory {
    dir: PathBuf,
    settings: EngineSettings,
}

impl RocksFactory {
    /// Databases in `dir` (which must hold nothing else).
    pub fn new(dir: impl Into<PathBuf>, settings: EngineSettings) -> Self {
        Self {
            dir: dir.into(),
            settings,
        }
    }

    fn open(&self, sync: bool) -> StoreResult<RocksStore> {
        remove_dir_if_present(&self.dir)?;
        let s = &self.settings;
        let compression = match s.compression {
            Compression::None => DBCompressionType::None,
            Compression::Lz4 => DBCompressionType::Lz4,
        };
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&Cache::new_lru_cache(
            usize::try_from(s.cache_bytes).unwrap_or(usize::MAX),
        ));
        table.set_bloom_filter(f64::from(s.bloom_bits_per_key), false);
        table.set_block_size(4096);
        let mut options = Options::default();
        options.create_if_missing(true);
        options.set_compression_type(compression);
        options.set_bottommost_compression_type(compression);
        options.set_write_buffer_size(usize::try_from(s.memtable_bytes).unwrap_or(usize::MAX));
        options.set_block_based_table_factory(&table);
        let db = DB::open(&options, &self.dir)?;
        let mut write = WriteOptions::default();
        write.disable_wal(false);
        write.set_sync(sync || s.sync);
        Ok(RocksStore { db, write })
    }
}

impl StoreFactory for RocksFactory {
    type Store = RocksStore;

    fn open_fresh(&mut self) -> StoreResult<RocksStore> {
        self.open(false)
    }

    fn open_fresh_synced(&mut self) -> StoreResult<RocksStore> {
        self.open(true)
    }
}
