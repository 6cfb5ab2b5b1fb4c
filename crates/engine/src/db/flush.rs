//! Flushes: an immutable memtable becomes an L0 table, recorded in the
//! manifest, and its WAL is deleted. Also the background thread that runs
//! them and the WAL's interval sync.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use strata_compaction::visible_to_a_snapshot;
use strata_core::{FileSystem, Result, SeqNo};
use strata_sstable::{TableBuilder, TableSummary};

use super::files::{table_path, wal_path};
use super::shared::Shared;
use crate::manifest::{FileMetadata, ManifestWriter, VersionEdit};
use crate::options::Options;
use crate::version::{MemSlot, TableHandle};

/// Writes table `number` of `dir` from `slot`, keeping per key its newest
/// version and the newest one each of `snapshots` (ascending) sees. Returns
/// `None`, writing nothing, if the memtable is empty. The table and its
/// directory entry are durable when this returns.
pub(crate) fn write_table(
    fs: &dyn FileSystem,
    dir: &Path,
    opts: &Options,
    slot: &MemSlot,
    number: u64,
    snapshots: &[SeqNo],
) -> Result<Option<FileMetadata>> {
    if slot.mem.is_empty() {
        return Ok(None);
    }
    let path = table_path(dir, number);
    let (min_time, max_time) = slot.time_range();
    let table_opts = opts.table_options().time_range(min_time, max_time);
    let file = fs.create(&path)?;
    let built = TableBuilder::new(file, &path, table_opts).and_then(|mut builder| {
        // The cursor copies each key out of the memtable's arena; the value
        // and the encoded key reuse one buffer each.
        let mut cursor = slot.mem.cursor();
        cursor.seek_to_first();
        let (mut encoded, mut value) = (Vec::new(), Vec::new());
        let mut newer_kept: Option<(Vec<u8>, SeqNo)> = None;
        while let Some(key) = cursor.key() {
            let keep = match &newer_kept {
                Some((user, newer)) if user[..] == *key.user_key => {
                    visible_to_a_snapshot(snapshots, key.seqno, *newer)
                }
                _ => true,
            };
            if keep {
                encoded.clear();
                key.encode_into(&mut encoded);
                value.clear();
                cursor.append_value(&mut value);
                builder.add_encoded(&encoded, &value)?;
                let kept = newer_kept.get_or_insert_with(|| (Vec::new(), 0));
                kept.0.clear();
                kept.0.extend_from_slice(key.user_key);
                kept.1 = key.seqno;
            }
            cursor.next();
        }
        builder.finish()
    });
    let summary = match built {
        Ok(s) => s,
        Err(e) => {
            let _ = fs.remove(&path);
            return Err(e);
        }
    };
    // The table's name must be durable before a manifest names it.
    fs.sync_dir(dir)?;
    Ok(table_metadata(number, &summary))
}

/// The manifest's record of a finished table; `None` for an empty one.
pub(crate) fn table_metadata(number: u64, summary: &TableSummary) -> Option<FileMetadata> {
    let p = &summary.properties;
    let (Some(smallest), Some(largest)) = (p.smallest_key.clone(), p.largest_key.clone()) else {
        return None;
    };
    Some(FileMetadata {
        number,
        size: summary.file_size,
        smallest,
        largest,
        min_seqno: p.min_seqno,
        max_seqno: p.max_seqno,
        min_time_ms: p.min_time_ms,
        max_time_ms: p.max_time_ms.max(p.min_time_ms),
        num_entries: p.num_entries,
        num_tombstones: p.num_deletions,
        num_expiring: p.num_expiring,
        max_expiry_ms: p.max_expiry_ms,
        num_shadowed: p.num_shadowed,
    })
}

impl Shared {
    /// Flushes the oldest immutable memtable; `false` if there is none.
    pub(crate) fn flush_oldest(&self) -> Result<bool> {
        let Some(slot) = self.version.load().imms.last().cloned() else {
            return Ok(false);
        };
        let number = self.new_file_number();
        let snapshots = self.snapshot_seqnos();
        let meta = write_table(&*self.fs, &self.dir, &self.opts, &slot, number, &snapshots)?;
        if let Some(m) = &meta {
            self.counters
                .flush_bytes
                .fetch_add(m.size, Ordering::Relaxed);
        }
        let max_seqno = slot.mem.max_seqno().unwrap_or(0);

        let _changing = self.version_lock.lock();
        let current = self.version.load_full();
        // WALs of memtables newer than this one stay live.
        let log_number = current
            .imms
            .iter()
            .rev()
            .nth(1)
            .unwrap_or(&current.active)
            .log_number;
        let mut edit = VersionEdit::new();
        edit.log_number = Some(log_number);
        let table = match meta {
            Some(meta) => {
                let handle = TableHandle::new(
                    meta.clone(),
                    table_path(&self.dir, number),
                    Arc::clone(&self.table_cache),
                );
                edit.add_file(0, meta);
                Some(Arc::new(handle))
            }
            None => None,
        };
        self.log_edit(edit, max_seqno)?;
        let next = current.with_flushed(&slot, table);
        self.version.store(Arc::new(next));
        drop(_changing);

        self.counters.flushes.fetch_add(1, Ordering::Relaxed);
        self.wake_compaction();
        // Best effort: a WAL left behind is below the log number, so the next
        // open deletes it without replaying it.
        let _ = self.fs.remove(&wal_path(&self.dir, slot.log_number));
        self.unsynced_wals
            .lock()
            .retain(|(number, _)| *number >= log_number);
        {
            let _bg = self.bg.lock();
            self.done_cv.notify_all();
        }
        Ok(true)
    }

    /// Applies `edit` (with the counters filled in) to the manifest state,
    /// appends it durably, and rewrites the manifest when it has grown.
    /// REQUIRES: `version_lock` held.
    pub(crate) fn log_edit(&self, mut edit: VersionEdit, max_seqno: SeqNo) -> Result<()> {
        let mut m = self.manifest.lock();
        edit.next_file_number = Some(self.next_file_number.load(Ordering::SeqCst));
        edit.last_seqno = Some(m.state.last_seqno().max(max_seqno));
        let mut state = m.state.clone();
        state.apply(&edit)?;
        if let Err(e) = m.writer.append(&edit) {
            // Whether the edit is durable is unknown: stop, let reopen decide.
            self.set_bg_error("manifest write", &e);
            return Err(e);
        }
        m.state = state;
        if m.writer.size() >= m.rewrite_at {
            let number = self.new_file_number();
            let mut bump = VersionEdit::new();
            bump.next_file_number = Some(self.next_file_number.load(Ordering::SeqCst));
            m.state.apply(&bump)?;
            match ManifestWriter::create(&*self.fs, &self.dir, number, &m.state) {
                Ok(writer) => {
                    m.rewrite_at = self
                        .opts
                        .manifest_rewrite_bytes
                        .max(writer.size().saturating_mul(2));
                    let old = std::mem::replace(&mut m.writer, writer);
                    let _ = self.fs.remove(old.path());
                }
                Err(e) => {
                    self.set_bg_error("manifest rewrite", &e);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// The background thread: flushes immutable memtables as they appear and
    /// syncs the WAL under `SyncPolicy::Interval`, until shutdown. A panic in
    /// a job is recorded as a background error (writers waiting on a flush
    /// are woken) rather than leaving them waiting forever.
    pub(crate) fn background_loop(&self) {
        loop {
            {
                let mut bg = self.bg.lock();
                if bg.shutting_down {
                    return;
                }
                let idle = self.version.load().imms.is_empty() || bg.error.is_some();
                if idle {
                    let _ = self.bg_cv.wait_for(&mut bg, self.idle_tick());
                }
                if bg.shutting_down {
                    return;
                }
            }
            let jobs = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run_jobs()));
            if jobs.is_err() {
                let e = strata_core::Error::invalid_argument("a background job panicked");
                self.set_bg_error("background thread", &e);
            }
        }
    }

    /// One round of background work: the interval sync, then every pending
    /// flush (syncing again between flushes, which can take long).
    fn run_jobs(&self) {
        self.sync_wal_if_due();
        if self.bg_error().is_some() {
            return;
        }
        loop {
            match self.flush_oldest() {
                Ok(true) => self.sync_wal_if_due(),
                Ok(false) => return,
                Err(e) => {
                    self.set_bg_error("flush", &e);
                    return;
                }
            }
        }
    }
}
