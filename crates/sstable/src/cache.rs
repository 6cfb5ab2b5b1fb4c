//! [`BlockCache`]: decoded data blocks shared by every open table.
//!
//! Keyed by `(file id, block offset)`, weighted by block size, bounded in
//! bytes. Backed by `quick_cache`'s sharded CLOCK-Pro cache: lookups and
//! inserts from any thread, no global lock. Blocks are cheap to clone (`Bytes`
//! inside), so a hit costs a hash, a shard read lock and a reference count.

use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;
use quick_cache::{OptionsBuilder, Weighter};

use crate::block::Block;

/// Charged per entry on top of the block bytes (key, bookkeeping).
const ENTRY_OVERHEAD: u64 = 64;

/// Target bytes per shard; small caches get few shards so a block still fits in one.
const BYTES_PER_SHARD: u64 = 4 * 1024 * 1024;

type CacheKey = (u64, u64);

#[derive(Debug, Clone, Copy)]
struct BlockWeighter;

impl Weighter<CacheKey, Block> for BlockWeighter {
    fn weight(&self, _key: &CacheKey, block: &Block) -> u64 {
        block.size() as u64 + ENTRY_OVERHEAD
    }
}

/// A byte-bounded, concurrent cache of decoded blocks, shared (via `Arc`) by
/// all tables. Give each table a distinct `file_id` when opening it.
///
/// ```
/// use strata_sstable::BlockCache;
/// let cache = BlockCache::new(8 << 20);
/// assert_eq!(cache.capacity(), 8 << 20);
/// assert_eq!((cache.hits(), cache.misses(), cache.usage_bytes()), (0, 0, 0));
/// ```
pub struct BlockCache {
    cache: Cache<CacheKey, Block, BlockWeighter>,
    capacity: u64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl BlockCache {
    /// A cache holding at most `capacity_bytes` of blocks (plus a small
    /// per-entry charge). A block larger than a shard's share is not cached.
    pub fn new(capacity_bytes: u64) -> Self {
        let shards = (capacity_bytes / BYTES_PER_SHARD)
            .clamp(1, 64)
            .next_power_of_two() as usize;
        let items = (capacity_bytes / 4096).clamp(16, 1 << 22) as usize;
        // quick_cache splits the bound between shards, rounding each share
        // up; a multiple of the shard count keeps the total within the bound.
        let bound = capacity_bytes - capacity_bytes % shards as u64;
        let cache = match OptionsBuilder::new()
            .shards(shards)
            .estimated_items_capacity(items)
            .weight_capacity(bound)
            .build()
        {
            Ok(opts) => {
                Cache::with_options(opts, BlockWeighter, Default::default(), Default::default())
            }
            Err(_) => Cache::with_weighter(items, bound, BlockWeighter),
        };
        Self {
            cache,
            capacity: capacity_bytes,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Lookups that found their block.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Lookups that had to read the file.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Bytes currently charged (never above [`BlockCache::capacity`]).
    pub fn usage_bytes(&self) -> u64 {
        self.cache.weight()
    }

    /// The configured bound in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Blocks currently cached.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// True if nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// Drops every cached block of `file_id` (e.g. after the file is deleted).
    pub fn evict_file(&self, file_id: u64) {
        self.cache.retain(|&(id, _), _| id != file_id);
    }

    /// Counts a hit or miss.
    #[inline]
    pub(crate) fn get(&self, file_id: u64, offset: u64) -> Option<Block> {
        let found = self.cache.get(&(file_id, offset));
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub(crate) fn insert(&self, file_id: u64, offset: u64, block: Block) {
        self.cache.insert((file_id, offset), block);
    }
}

impl std::fmt::Debug for BlockCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockCache")
            .field("capacity", &self.capacity)
            .field("usage_bytes", &self.usage_bytes())
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish()
    }
}
