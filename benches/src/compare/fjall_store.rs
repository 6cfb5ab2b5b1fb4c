//! fjall 3 as a [`Store`]: one keyspace of one database.
//!
//! Settings: the block cache of [`EngineSettings::cache_bytes`] (fjall's
//! cache holds data, index and filter blocks), data block compression in
//! every level per [`EngineSettings::compression`] (fjall's default would
//! compress only from L2 on), bloom filters of
//! [`EngineSettings::bloom_bits_per_key`] in every level (its default asks
//! for a 0.01 % false-positive rate in L0), memtables of
//! [`EngineSettings::memtable_bytes`], an uncompressed journal. The rest are
//! fjall's defaults: leveled compaction, 4 KiB blocks, min(cores, 4)
//! background workers.
//!
//! Durability: every write goes to the journal and is handed to the OS
//! before it returns (fjall's default, `PersistMode::Buffer`). A synced
//! store then calls `Database::persist(PersistMode::SyncData)` (fdatasync
//! of the journal) before returning; fjall has no group commit, but a
//! writer whose record an earlier fdatasync already covered finds little
//! left to sync.

use std::path::PathBuf;

use fjall::config::{BloomConstructionPolicy, CompressionPolicy, FilterPolicy, FilterPolicyEntry};
use fjall::{
    CompressionType, Database, Guard, Keyspace, KeyspaceCreateOptions, PersistMode, Slice,
};

use super::engine::{Compression, EngineSettings};
use crate::db_bench::{Store, StoreFactory, StoreResult, remove_dir_if_present};

/// An open fjall keyspace and its database.
pub struct FjallStore {
    // Dropped first: the keyspace holds on to the database's internals.
    keyspace: Keyspace,
    db: Database,
    sync: bool,
}

fn pair(guard: Guard) -> StoreResult<(Slice, Slice)> {
    Ok(guard.into_inner()?)
}

impl Store for FjallStore {
    type Bytes = Slice;
    type Cursor<'a> = std::iter::Map<fjall::Iter, fn(Guard) -> StoreResult<(Slice, Slice)>>;

    fn put(&self, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.keyspace.insert(key, value)?;
        self.persist()
    }

    fn get(&self, key: &[u8]) -> StoreResult<Option<Slice>> {
        Ok(self.keyspace.get(key)?)
    }

    fn delete(&self, key: &[u8]) -> StoreResult<()> {
        self.keyspace.remove(key)?;
        self.persist()
    }

    fn scan_from(&self, start: &[u8]) -> Self::Cursor<'_> {
        self.keyspace
            .range::<&[u8], _>(start..)
            .map(pair as fn(Guard) -> _)
    }

    fn flush(&self) -> StoreResult<()> {
        // Seals the memtable and waits until it is written as a table.
        Ok(self.keyspace.rotate_memtable_and_wait()?)
    }
}

impl FjallStore {
    fn persist(&self) -> StoreResult<()> {
        if self.sync {
            self.db.persist(PersistMode::SyncData)?;
        }
        Ok(())
    }
}

/// Opens fjall databases in one directory, deleting it first.
#[derive(Debug, Clone)]
pub struct FjallFactory {
    dir: PathBuf,
    settings: EngineSettings,
}

impl FjallFactory {
    /// Databases in `dir` (which must hold nothing else).
    pub fn new(dir: impl Into<PathBuf>, settings: EngineSettings) -> Self {
        Self {
            dir: dir.into(),
            settings,
        }
    }

    fn open(&self, sync: bool) -> StoreResult<FjallStore> {
        remove_dir_if_present(&self.dir)?;
        let s = &self.settings;
        let compression = match s.compression {
            Compression::None => CompressionType::None,
            Compression::Lz4 => CompressionType::Lz4,
        };
        let db = Database::builder(&self.dir)
            .cache_size(s.cache_bytes)
            .journal_compression(CompressionType::None)
            .open()?;
        let bloom = FilterPolicyEntry::Bloom(BloomConstructionPolicy::BitsPerKey(
            s.bloom_bits_per_key as f32,
        ));
        let memtable = s.memtable_bytes;
        let keyspace = db.keyspace("bench", || {
            KeyspaceCreateOptions::default()
                .data_block_compression_policy(CompressionPolicy::all(compression))
                .filter_policy(FilterPolicy::all(bloom))
                .max_memtable_size(memtable)
        })?;
        Ok(FjallStore {
            keyspace,
            db,
            sync: sync || s.sync,
        })
    }
}

impl StoreFactory for FjallFactory {
    type Store = FjallStore;

    fn open_fresh(&mut self) -> StoreResult<FjallStore> {
        self.open(false)
    }

    fn open_fresh_synced(&mut self) -> StoreResult<FjallStore> {
        self.open(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db_bench::{BenchConfig, NoProgress, Workload, run_all};

    #[test]
    fn fjall_runs_every_workload() {
        let dir = tempfile::tempdir().unwrap();
        let mut factory = FjallFactory::new(dir.path().join("db"), EngineSettings::default());
        let config = BenchConfig {
            num: 1_000,
            synced_num: 64,
            ..BenchConfig::default()
        };
        let results = run_all(&mut factory, &Workload::ALL, &config, &NoProgress).unwrap();
        let read = results.iter().find(|r| r.workload == "readrandom").unwrap();
        assert_eq!(read.found, Some(1_000));
        let store = factory.open_fresh().unwrap();
        store.put(b"k", b"v").unwrap();
        store.flush().unwrap();
        let all: Vec<_> = store.scan_from(b"").map(Result::unwrap).collect();
        assert_eq!(all.len(), 1);
        assert_eq!(&*all[0].1, b"v");
    }
}
