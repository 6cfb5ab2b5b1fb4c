//! Hooks for strata's criterion benches into crate-private parts (the block
//! format). Not part of the public API: no stability promise.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use strata_core::{Result, compare_internal_keys};

use crate::block::{Block, BlockBuilder};

/// One data block built in memory from encoded internal keys.
#[derive(Debug, Clone)]
pub struct DataBlock(Block);

impl DataBlock {
    /// Builds a block from `(encoded internal key, value)` pairs in increasing
    /// key order, with a restart point every `restart_interval` entries.
    ///
    /// # Errors
    /// `Corruption` only if the builder produced an invalid block (a bug).
    pub fn build<'a>(
        entries: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
        restart_interval: usize,
    ) -> Result<Self> {
        let mut builder = BlockBuilder::new(restart_interval);
        for (key, value) in entries {
            builder.add(key, value);
        }
        let bytes = Bytes::copy_from_slice(builder.finish());
        Block::decode(bytes, Arc::from(Path::new("bench")), 0).map(DataBlock)
    }

    /// Seeks to the first entry `>= target` (an encoded internal key) and
    /// returns its value length, or `None` past the end.
    pub fn seek(&self, target: &[u8]) -> Option<usize> {
        let mut it = self.0.iter(compare_internal_keys);
        it.seek(target);
        it.valid().then(|| it.value().len())
    }

    /// Bytes of the block.
    pub fn size(&self) -> usize {
        self.0.size()
    }
}
