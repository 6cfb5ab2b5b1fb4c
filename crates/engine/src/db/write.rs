//! The write path: validate, make room, append to the WAL (group commit),
//! insert into the memtable, publish.
//!
//! Writers hold the read side of `write_target` from the WAL append to the
//! publish, so a rotation (which takes the write side) never separates a
//! write's WAL record from its memtable. Sequence numbers are assigned inside
//! the WAL's queue lock, so log order is seqno order; inserts then run
//! concurrently and the [`Publisher`](super::publish::Publisher) makes them
//! visible in order.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use strata_core::{Error, Result, ValueKind};
use strata_wal::{LogWriter, SyncPolicy, Wal, WriteBatch};

use super::files::{create_wal, wal_path};
use super::shared::Shared;
use super::wal_chain;
use crate::version::MemSlot;

impl Shared {
    /// Applies `batch` atomically; returns once it is visible and as durable
    /// as the sync policy promises.
    pub(crate) fn write(&self, mut batch: WriteBatch) -> Result<()> {
        self.check_writable()?;
        let user_bytes = self.check_limits(&batch)?;
        if batch.is_empty() {
            return Ok(());
        }
        self.make_room(false)?;
        let waited = self.l0_backpressure()?;
        if !waited.is_zero() {
            let nanos = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
            self.counters
                .stall_nanos
                .fetch_add(nanos, Ordering::Relaxed);
            self.counters.stalls.fetch_add(1, Ordering::Relaxed);
        }
        // Read before the append: nothing that can fail or panic may run
        // between taking seqnos and publishing them.
        let now = self.now_ms();
        let target = self.write_target.read();
        // `close` sets `closed` before it takes the write side: a writer
        // that gets the lock after that must not write past the final sync.
        self.check_open()?;
        let count = batch.len() as u64;
        let appended = target.wal.append_with(|buf| {
            let base = self.next_seqno.load(Ordering::Acquire);
            batch.set_base_seqno(base)?;
            self.next_seqno.store(base + count, Ordering::Release);
            batch.encode_into(buf);
            Ok(base)
        });
        let base = match appended {
            Ok(base) => base,
            Err(e) => {
                if target.wal.has_failed() {
                    self.set_bg_error("WAL write", &e);
                }
                return Err(e);
            }
        };
        target.slot.note_write_time(now);
        // `check_limits` keeps every entry far below what the memtable
        // refuses; should one be refused anyway, its seqnos are still
        // published (later writers wait for them) and the database stops
        // taking writes, as for a failed WAL write.
        let mut refused = None;
        // The memtable copies the bytes: the batch is read in place.
        for (seqno, op) in (base..).zip(batch.iter()) {
            if let Err(e) = target.slot.mem.insert(op.key, seqno, op.kind, op.value) {
                refused.get_or_insert(e);
            }
        }
        self.publisher.publish(base, base + count - 1);
        drop(target);
        if let Some(e) = refused {
            self.set_bg_error("memtable insert", &e);
            return Err(e);
        }
        self.counters
            .user_bytes
            .fetch_add(user_bytes, Ordering::Relaxed);
        Ok(())
    }

    /// Checks one key and value against the configured limits, before
    /// anything is allocated for them.
    pub(crate) fn check_sizes(&self, key: &[u8], value: &[u8]) -> Result<()> {
        if key.len() > self.opts.max_key_size {
            return Err(Error::invalid_argument(format!(
                "key of {} bytes exceeds the limit of {}",
                key.len(),
                self.opts.max_key_size
            )));
        }
        if value.len() > self.opts.max_value_size {
            return Err(Error::invalid_argument(format!(
                "value of {} bytes exceeds the limit of {}",
                value.len(),
                self.opts.max_value_size
            )));
        }
        Ok(())
    }

    /// Checks the configured key and value limits; returns the batch's user
    /// bytes (keys plus values).
    fn check_limits(&self, batch: &WriteBatch) -> Result<u64> {
        let mut bytes = 0u64;
        for e in batch.iter() {
            let value = e.user_value();
            self.check_sizes(e.key, value)?;
            bytes += (e.key.len() + value.len()) as u64;
        }
        Ok(bytes)
    }

    /// Rotates the active memtable if it is full (or if `force` and it holds
    /// anything), stalling while the immutable queue is full.
    pub(crate) fn make_room(&self, force: bool) -> Result<()> {
        let mut stall_started: Option<Instant> = None;
        let result = loop {
            let needs_room = |slot: &MemSlot| {
                let used = slot.mem.approximate_memory_usage();
                if force {
                    !slot.mem.is_empty()
                } else {
                    used >= self.opts.memtable_size
                }
            };
            if !needs_room(&self.write_target.read().slot) {
                break Ok(());
            }
            if self.version.load().imms.len() >= self.opts.max_immutable_memtables {
                // Stall until a flush frees a place (or the database fails).
                stall_started.get_or_insert_with(Instant::now);
                let mut bg = self.bg.lock();
                if let Some(e) = &bg.error {
                    break Err(Error::Background(e.clone()));
                }
                if bg.shutting_down {
                    break Err(Error::Closed);
                }
                if self.version.load().imms.len() >= self.opts.max_immutable_memtables {
                    self.bg_cv.notify_all();
                    self.done_cv.wait(&mut bg);
                }
                continue;
            }
            let _changing = self.version_lock.lock();
            // No rotation after close: the directory may be released.
            if let Err(e) = self.check_open() {
                break Err(e);
            }
            let mut target = self.write_target.write();
            if !needs_room(&target.slot) {
                break Ok(());
            }
            if self.version.load().imms.len() >= self.opts.max_immutable_memtables {
                continue;
            }
            break self.rotate(&mut target);
        };
        if let Some(started) = stall_started {
            let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.counters
                .stall_nanos
                .fetch_add(nanos, Ordering::Relaxed);
            self.counters.stalls.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// Starts a new WAL and memtable; the old memtable joins the immutables.
    /// REQUIRES: `version_lock` and the write side of `write_target` held.
    fn rotate(&self, target: &mut super::shared::WriteTarget) -> Result<()> {
        let number = self.new_file_number();
        let path = wal_path(&self.dir, number);
        let file = create_wal(&*self.fs, &self.dir, number, self.opts.wal_preallocation())?;
        // The new log's name must survive a power loss before any write
        // acknowledged from it does.
        self.fs.sync_dir(&self.dir)?;
        let wal = Arc::new(Wal::new(LogWriter::new(file), self.opts.sync_policy));
        if self.opts.sync_policy == SyncPolicy::Never {
            // The old log stays unsynced (writeback may never touch it if
            // its memtable is flushed first), so a power loss may cut it
            // while keeping later writes. The marker lets recovery see
            // where the new log's writes start and stop before a gap.
            let next = self.next_seqno.load(Ordering::Acquire);
            let marked = wal_chain::marker(next).and_then(|m| {
                wal.append_with(|buf| {
                    m.encode_into(buf);
                    Ok(())
                })
            });
            if let Err(e) = marked {
                self.set_bg_error("WAL marker at memtable rotation", &e);
                let _ = self.fs.remove(&path);
                return Err(e);
            }
        } else if let Err(e) = target.wal.sync() {
            // The old log's tail must be durable before later writes can
            // be: else a power loss could keep newer writes and lose older
            // ones.
            self.set_bg_error("WAL sync at memtable rotation", &e);
            let _ = self.fs.remove(&path);
            return Err(e);
        }
        let slot = Arc::new(MemSlot::new(number, self.opts.memtable_size));
        let old_wal = std::mem::replace(&mut target.wal, wal);
        if self.opts.sync_policy == SyncPolicy::Never {
            // `close` syncs it if its memtable is not flushed by then.
            self.unsynced_wals
                .lock()
                .push((target.slot.log_number, Arc::clone(&old_wal)));
        }
        target.slot = Arc::clone(&slot);
        let retired = old_wal.stats();
        self.counters
            .retired_wal_bytes
            .fetch_add(retired.bytes, Ordering::Relaxed);
        self.counters
            .retired_wal_syncs
            .fetch_add(retired.syncs, Ordering::Relaxed);
        let next = self.version.load().with_rotated(slot);
        self.version.store(Arc::new(next));
        self.wake_background();
        Ok(())
    }
}

/// Builds the one-operation batch behind `put`, `put_with_ttl` and `delete`.
pub(crate) fn single(
    kind: ValueKind,
    key: &[u8],
    value: &[u8],
    expires_at_ms: u64,
) -> Result<WriteBatch> {
    // kind, two varint lengths, the expiry: at most 1 + 10 + 10 + 8 bytes.
    let mut batch = WriteBatch::with_capacity(29 + key.len() + value.len());
    match kind {
        ValueKind::Put => batch.put(key, value)?,
        ValueKind::PutWithExpiry => batch.put_with_expiry(key, value, expires_at_ms)?,
        ValueKind::Delete => batch.delete(key)?,
    }
    Ok(batch)
}
