//! [`MemSlot`]: a memtable with the WAL that backs it and the write-time
//! range of its data.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use strata_memtable::MemTable;

/// A memtable (active or immutable) as versions hold it.
///
/// Invariant: every write in `mem` is in WAL `log_number` (or, after
/// recovery, was flushed before the memtable was made visible).
#[derive(Debug)]
pub(crate) struct MemSlot {
    pub(crate) mem: Arc<MemTable>,
    pub(crate) log_number: u64,
    min_time_ms: AtomicU64,
    max_time_ms: AtomicU64,
}

impl MemSlot {
    /// A slot for a new memtable of about `memtable_size` bytes, with a
    /// key filter sized for it (point reads of keys it lacks skip it).
    pub(crate) fn new(log_number: u64, memtable_size: usize) -> Self {
        Self {
            mem: Arc::new(MemTable::with_filter(memtable_size)),
            log_number,
            min_time_ms: AtomicU64::new(u64::MAX),
            max_time_ms: AtomicU64::new(0),
        }
    }

    /// Widens the write-time range to include `now_ms`.
    pub(crate) fn note_write_time(&self, now_ms: u64) {
        // Cheap loads first: the range rarely changes once writes flow.
        if now_ms < self.min_time_ms.load(Ordering::Relaxed) {
            self.min_time_ms.fetch_min(now_ms, Ordering::Relaxed);
        }
        if now_ms > self.max_time_ms.load(Ordering::Relaxed) {
            self.max_time_ms.fetch_max(now_ms, Ordering::Relaxed);
        }
    }

    /// The write-time range `(min, max)` in unix ms, `(0, 0)` if no write
    /// was noted.
    pub(crate) fn time_range(&self) -> (u64, u64) {
        let min = self.min_time_ms.load(Ordering::Relaxed);
        let max = self.max_time_ms.load(Ordering::Relaxed);
        if min > max { (0, 0) } else { (min, max) }
    }
}
