//! The JSON form of [`strata::Stats`] answered by `GET /admin/stats`.

use std::collections::BTreeMap;

use serde::Serialize;

/// `GET /admin/stats`. Byte counters cover the current open of the
/// database; sizes are approximate where the engine's are.
#[derive(Debug, Serialize)]
pub(crate) struct StatsJson {
    pub(crate) levels: Vec<LevelJson>,
    pub(crate) memtables: MemtablesJson,
    pub(crate) last_seqno: u64,
    pub(crate) cache: CacheJson,
    pub(crate) writes: WritesJson,
    pub(crate) amplification: AmplificationJson,
    pub(crate) compactions: CompactionsJson,
    pub(crate) flushes: u64,
    pub(crate) stalls: StallsJson,
    pub(crate) live_snapshots: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct LevelJson {
    pub(crate) level: usize,
    pub(crate) files: usize,
    pub(crate) bytes: u64,
    pub(crate) entries: u64,
    pub(crate) tombstones: u64,
    /// The compaction strategy's score (leveled: ≥ 1 means due); null when
    /// the strategy gives none for this level.
    pub(crate) score: Option<f64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct MemtablesJson {
    pub(crate) active_bytes: u64,
    pub(crate) immutable_count: usize,
    pub(crate) immutable_bytes: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct CacheJson {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) bytes: u64,
    /// hits / (hits + misses); null before any lookup.
    pub(crate) hit_ratio: Option<f64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct WritesJson {
    pub(crate) user_bytes: u64,
    pub(crate) wal_bytes: u64,
    pub(crate) wal_syncs: u64,
    pub(crate) flush_bytes: u64,
    pub(crate) compaction_bytes_read: u64,
    pub(crate) compaction_bytes_written: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct AmplificationJson {
    /// (WAL + flush + compaction bytes written) / user bytes; 0 before any write.
    pub(crate) write: f64,
    /// Bytes in tables / bytes in the last non-empty level: how much more
    /// than the bottom level the tree holds; null with no tables.
    pub(crate) space: Option<f64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct CompactionsJson {
    pub(crate) total: u64,
    /// Compactions done, by the strategy step that asked for them.
    pub(crate) by_reason: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct StallsJson {
    pub(crate) count: u64,
    pub(crate) time_ms: u64,
}

impl From<&strata::Stats> for StatsJson {
    fn from(s: &strata::Stats) -> Self {
        let levels: Vec<LevelJson> = s
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| LevelJson {
                level: l.level,
                files: l.files,
                bytes: l.bytes,
                entries: l.entries,
                tombstones: l.tombstones,
                score: s.level_scores.get(i).copied().filter(|f| f.is_finite()),
            })
            .collect();
        let total: u64 = levels.iter().map(|l| l.bytes).sum();
        let bottom = levels.iter().rev().map(|l| l.bytes).find(|&b| b > 0);
        let lookups = s.block_cache_hits.saturating_add(s.block_cache_misses);
        Self {
            levels,
            memtables: MemtablesJson {
                active_bytes: s.active_memtable_bytes,
                immutable_count: s.immutable_memtables,
                immutable_bytes: s.immutable_memtable_bytes,
            },
            last_seqno: s.last_seqno,
            cache: CacheJson {
                hits: s.block_cache_hits,
                misses: s.block_cache_misses,
                bytes: s.block_cache_bytes,
                hit_ratio: (lookups > 0).then(|| s.block_cache_hits as f64 / lookups as f64),
            },
            writes: WritesJson {
                user_bytes: s.user_bytes_written,
                wal_bytes: s.wal_bytes_written,
                wal_syncs: s.wal_syncs,
                flush_bytes: s.flush_bytes_written,
                compaction_bytes_read: s.compaction_bytes_read,
                compaction_bytes_written: s.compaction_bytes_written,
            },
            amplification: AmplificationJson {
                write: s.write_amplification,
                space: bottom.map(|b| total as f64 / b as f64),
            },
            compactions: CompactionsJson {
                total: s.compactions.values().sum(),
                by_reason: s.compactions.clone(),
            },
            flushes: s.flushes,
            stalls: StallsJson {
                count: s.stalls,
                time_ms: u64::try_from(s.stall_time.as_millis()).unwrap_or(u64::MAX),
            },
            live_snapshots: s.live_snapshots,
        }
    }
}
