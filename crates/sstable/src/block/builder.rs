//! [`BlockBuilder`]: writes prefix-compressed entries with restart points.

use strata_core::coding::{put_fixed32, put_varint32};

use super::U32_LEN;

/// Builds one block in memory. See the module docs for the format.
#[derive(Debug)]
pub(crate) struct BlockBuilder {
    buf: Vec<u8>,
    restarts: Vec<u32>,
    restart_interval: usize,
    /// Entries since the last restart point.
    since_restart: usize,
    entries: usize,
    last_key: Vec<u8>,
    finished: bool,
}

impl BlockBuilder {
    /// A builder that starts a restart point every `restart_interval` entries
    /// (values below 1 are treated as 1).
    pub(crate) fn new(restart_interval: usize) -> Self {
        Self {
            buf: Vec::new(),
            restarts: vec![0],
            restart_interval: restart_interval.max(1),
            since_restart: 0,
            entries: 0,
            last_key: Vec::new(),
            finished: false,
        }
    }

    /// Appends an entry.
    ///
    /// REQUIRES: `key` sorts after every key added since the last reset under
    /// the comparator the block will be read with, and [`finish`] was not called.
    /// Key and value lengths fit in `u32` (the table builder enforces far lower limits).
    ///
    /// [`finish`]: BlockBuilder::finish
    pub(crate) fn add(&mut self, key: &[u8], value: &[u8]) {
        debug_assert!(!self.finished, "add after finish without reset");
        let shared = if self.since_restart < self.restart_interval {
            common_prefix_len(&self.last_key, key)
        } else {
            self.restarts.push(self.buf.len() as u32);
            self.since_restart = 0;
            0
        };
        let unshared = &key[shared..];
        put_varint32(&mut self.buf, shared as u32);
        put_varint32(&mut self.buf, unshared.len() as u32);
        put_varint32(&mut self.buf, value.len() as u32);
        self.buf.extend_from_slice(unshared);
        self.buf.extend_from_slice(value);

        self.last_key.truncate(shared);
        self.last_key.extend_from_slice(unshared);
        self.since_restart += 1;
        self.entries += 1;
    }

    /// The size [`BlockBuilder::finish`] would return if called now.
    pub(crate) fn estimated_size(&self) -> usize {
        self.buf.len() + (self.restarts.len() + 1) * U32_LEN
    }

    /// True if no entry was added since the last reset.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Entries added since the last reset.
    pub(crate) fn entry_count(&self) -> usize {
        self.entries
    }

    /// The last key added (empty if none).
    pub(crate) fn last_key(&self) -> &[u8] {
        &self.last_key
    }

    /// Appends the restart array and returns the whole block. Call
    /// [`BlockBuilder::reset`] before adding to the builder again.
    pub(crate) fn finish(&mut self) -> &[u8] {
        if !self.finished {
            for &r in &self.restarts {
                put_fixed32(&mut self.buf, r);
            }
            put_fixed32(&mut self.buf, self.restarts.len() as u32);
            self.finished = true;
        }
        &self.buf
    }

    /// Empties the builder, keeping its allocations.
    pub(crate) fn reset(&mut self) {
        self.buf.clear();
        self.restarts.clear();
        self.restarts.push(0);
        self.since_restart = 0;
        self.entries = 0;
        self.last_key.clear();
        self.finished = false;
    }
}

fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
