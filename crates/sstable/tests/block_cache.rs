//! The block cache serves repeated reads, counts hits and misses, is shared
//! between tables and threads, and never holds more than its capacity.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use strata_sstable::fuzzing::MemFile;
use strata_sstable::{BlockCache, TableOptions, TableReader};

#[test]
fn repeated_reads_hit_the_cache() {
    let data = common::sample_entries(200, 20);
    let (bytes, _) = common::build_bytes(&data, TableOptions::default());
    let cache = Arc::new(BlockCache::new(4 << 20));
    let table = common::open_bytes(bytes, Some(Arc::clone(&cache))).unwrap();
    let key = &data[10].0.user_key;
    table.get(key, u64::MAX).unwrap().unwrap();
    let (h0, m0) = (cache.hits(), cache.misses());
    assert_eq!(m0, 1);
    for _ in 0..5 {
        table.get(key, u64::MAX).unwrap().unwrap();
    }
    assert_eq!(cache.hits(), h0 + 5);
    assert_eq!(cache.misses(), m0);
    assert!(cache.usage_bytes() > 0);
}

#[test]
fn usage_stays_within_capacity_under_concurrent_readers() {
    let data = common::sample_entries(3000, 40);
    let (bytes, summary) = common::build_bytes(&data, TableOptions::default().block_size(1024));
    assert!(summary.properties.data_size > 200_000);
    let capacity = 64 * 1024;
    let cache = Arc::new(BlockCache::new(capacity));
    let file = Arc::new(MemFile::new(bytes));
    let tables: Vec<_> = (0..2)
        .map(|id| TableReader::open(file.clone(), "/t.sst", id, Some(Arc::clone(&cache))).unwrap())
        .collect();
    std::thread::scope(|s| {
        for (t, table) in tables.iter().enumerate() {
            let data = &data;
            let cache = &cache;
            s.spawn(move || {
                for (i, (k, _)) in data.iter().enumerate().skip(t) {
                    if i % 3 == 0 {
                        assert!(table.get(&k.user_key, u64::MAX).unwrap().is_some());
                        assert!(cache.usage_bytes() <= cache.capacity());
                    }
                }
                assert_eq!(common::scan(table).unwrap(), *data);
            });
        }
    });
    assert!(cache.usage_bytes() <= capacity);
    assert!(cache.misses() > 0 && cache.hits() > 0);
    cache.evict_file(0);
    cache.evict_file(1);
    assert_eq!(cache.usage_bytes(), 0);
}

#[test]
fn scans_can_bypass_the_cache() {
    let data = common::sample_entries(200, 20);
    let (bytes, _) = common::build_bytes(&data, TableOptions::default());
    let cache = Arc::new(BlockCache::new(4 << 20));
    let table = common::open_bytes(bytes, Some(Arc::clone(&cache))).unwrap();
    let mut it = table.iter();
    it.set_fill_cache(false);
    it.seek_to_first();
    while it.valid() {
        it.next();
    }
    it.status().unwrap();
    assert_eq!(cache.len(), 0);
}

#[test]
fn readers_and_caches_are_shareable_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<TableReader>();
    send_sync::<BlockCache>();
    send::<strata_sstable::TableIterator>();
    send::<strata_sstable::TableEntries>();
    send::<strata_sstable::TableBuilder>();
}
