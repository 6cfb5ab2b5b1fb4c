//! [`Stats`]: what the database holds and what it has written.

use std::sync::atomic::Ordering;
use std::time::Duration;

use strata_core::SeqNo;

use super::shared::Shared;

/// Files and bytes of one level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LevelStats {
    /// The level number (0 is the newest, overlapping level).
    pub level: usize,
    /// Table files in the level.
    pub files: usize,
    /// Bytes of those files.
    pub bytes: u64,
    /// Entries in those files (all kinds).
    pub entries: u64,
    /// Tombstones among them.
    pub tombstones: u64,
}

/// A point-in-time report from [`Db::stats`](crate::Db::stats).
///
/// Byte counters cover this open of the database (they start at zero).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// Every level, L0 first.
    pub levels: Vec<LevelStats>,
    /// Approximate bytes in the active memtable.
    pub active_memtable_bytes: u64,
    /// Immutable memtables waiting for their flush.
    pub immutable_memtables: usize,
    /// Approximate bytes in the immutable memtables.
    pub immutable_memtable_bytes: u64,
    /// The sequence number of the last visible write.
    pub last_seqno: SeqNo,
    /// Block cache lookups that found the block.
    pub block_cache_hits: u64,
    /// Block cache lookups that read the block from disk.
    pub block_cache_misses: u64,
    /// Bytes held by the block cache.
    pub block_cache_bytes: u64,
    /// Key and value bytes written by callers.
    pub user_bytes_written: u64,
    /// Bytes appended to WALs (framing included).
    pub wal_bytes_written: u64,
    /// WAL fsyncs. Under `SyncPolicy::Always`, writes per sync show how
    /// well group commit shares them.
    pub wal_syncs: u64,
    /// Bytes of tables written by flushes.
    pub flush_bytes_written: u64,
    /// Bytes of tables read by compactions.
    pub compaction_bytes_read: u64,
    /// Bytes of tables written by compactions.
    pub compaction_bytes_written: u64,
    /// Compactions done, by the strategy step that asked for them, under
    /// [`PickReason::as_str`](strata_compaction::PickReason::as_str) names
    /// (e.g. `level0_file_count`, `seeks`, `trivial_move`, `manual`).
    pub compactions: std::collections::BTreeMap<String, u64>,
    /// The strategy's score per level (leveled: ≥ 1 means the level is due).
    pub level_scores: Vec<f64>,
    /// `(WAL + flush + compaction bytes) / user bytes`; 0 before any write.
    pub write_amplification: f64,
    /// Flushes completed.
    pub flushes: u64,
    /// Writes that had to wait for a flush because the immutable memtable
    /// queue was full.
    pub stalls: u64,
    /// Total time writers spent in such waits.
    pub stall_time: Duration,
    /// Snapshots currently held.
    pub live_snapshots: usize,
}

impl Shared {
    pub(crate) fn stats(&self) -> Stats {
        let version = self.version.load_full();
        let levels = version
            .levels
            .iter()
            .enumerate()
            .map(|(level, files)| LevelStats {
                level,
                files: files.len(),
                // Counts come from disk: never let them overflow.
                bytes: files
                    .iter()
                    .fold(0u64, |sum, t| sum.saturating_add(t.meta.size)),
                entries: files
                    .iter()
                    .fold(0u64, |sum, t| sum.saturating_add(t.meta.num_entries)),
                tombstones: files
                    .iter()
                    .fold(0u64, |sum, t| sum.saturating_add(t.meta.num_tombstones)),
            })
            .collect();
        let mem_bytes = |slot: &crate::version::MemSlot| slot.mem.approximate_memory_usage() as u64;
        let c = &self.counters;
        let active_wal = self.write_target.read().wal.stats();
        let wal_bytes = c.retired_wal_bytes.load(Ordering::Relaxed) + active_wal.bytes;
        let wal_syncs = c.retired_wal_syncs.load(Ordering::Relaxed) + active_wal.syncs;
        let user = c.user_bytes.load(Ordering::Relaxed);
        let flush = c.flush_bytes.load(Ordering::Relaxed);
        let compaction = c.compaction_bytes_written.load(Ordering::Relaxed);
        let (compactions, level_scores) = {
            let state = self.compaction.lock();
            let view = super::compact::levels_view(
                &version,
                &state.busy,
                self.now_ms(),
                self.opts.seek_compaction,
            );
            (state.by_reason.clone(), self.opts.compaction.scores(&view))
        };
        let cache = self.table_cache.block_cache();
        Stats {
            levels,
            active_memtable_bytes: mem_bytes(&version.active),
            immutable_memtables: version.imms.len(),
            immutable_memtable_bytes: version.imms.iter().map(|s| mem_bytes(s)).sum(),
            last_seqno: self.publisher.visible(),
            block_cache_hits: cache.map_or(0, |c| c.hits()),
            block_cache_misses: cache.map_or(0, |c| c.misses()),
            block_cache_bytes: cache.map_or(0, |c| c.usage_bytes()),
            user_bytes_written: user,
            wal_bytes_written: wal_bytes,
            wal_syncs,
            flush_bytes_written: flush,
            compaction_bytes_read: c.compaction_bytes_read.load(Ordering::Relaxed),
            compaction_bytes_written: compaction,
            compactions,
            level_scores,
            write_amplification: if user == 0 {
                0.0
            } else {
                (wal_bytes + flush + compaction) as f64 / user as f64
            },
            flushes: c.flushes.load(Ordering::Relaxed),
            stalls: c.stalls.load(Ordering::Relaxed),
            stall_time: Duration::from_nanos(c.stall_nanos.load(Ordering::Relaxed)),
            live_snapshots: self.snapshots.lock().values().sum(),
        }
    }
}
