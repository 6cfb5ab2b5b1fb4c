//! [`TableOptions`]: how a [`TableBuilder`](crate::TableBuilder) lays out a table.

use strata_core::{Error, MAX_VALUE_SIZE, Result};

/// How a block's stored bytes are compressed.
///
/// The discriminant is the first byte of every block trailer.
/// On disk: never renumber, only add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum CompressionType {
    /// Stored as is.
    #[default]
    None = 0,
    /// LZ4 block format, prefixed with the uncompressed length (u32 LE).
    Lz4 = 1,
}

impl CompressionType {
    /// Decodes a persisted discriminant; `None` for unknown values.
    pub fn from_u8(b: u8) -> Option<Self> {
        match b {
            0 => Some(CompressionType::None),
            1 => Some(CompressionType::Lz4),
            _ => None,
        }
    }
}

/// Largest accepted `block_size` option (a block may still grow past it by one entry).
pub const MAX_BLOCK_SIZE_OPTION: usize = 64 * 1024 * 1024;

/// Layout choices for one table, builder style:
///
/// ```
/// use strata_sstable::{CompressionType, TableOptions};
/// let opts = TableOptions::default()
///     .block_size(16 * 1024)
///     .compression(CompressionType::Lz4)
///     .bloom_bits_per_key(12);
/// assert_eq!(opts.get_block_size(), 16 * 1024);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    pub(crate) block_size: usize,
    pub(crate) restart_interval: usize,
    pub(crate) bloom_bits_per_key: u32,
    pub(crate) compression: CompressionType,
    pub(crate) max_value_size: usize,
    pub(crate) min_time: Option<u64>,
    pub(crate) max_time: Option<u64>,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            block_size: 4096,
            restart_interval: 16,
            bloom_bits_per_key: 10,
            compression: CompressionType::None,
            max_value_size: MAX_VALUE_SIZE,
            min_time: None,
            max_time: None,
        }
    }
}

impl TableOptions {
    /// Target size of a data block before compression (default 4096). A block is
    /// cut once it reaches this size, so it may exceed it by one entry.
    pub fn block_size(mut self, bytes: usize) -> Self {
        self.block_size = bytes;
        self
    }

    /// Entries between restart points in a block (default 16).
    pub fn restart_interval(mut self, entries: usize) -> Self {
        self.restart_interval = entries;
        self
    }

    /// Bloom filter bits per distinct user key (default 10; 0 = no filter).
    pub fn bloom_bits_per_key(mut self, bits: u32) -> Self {
        self.bloom_bits_per_key = bits;
        self
    }

    /// Block compression (default none).
    pub fn compression(mut self, compression: CompressionType) -> Self {
        self.compression = compression;
        self
    }

    /// Largest value [`TableBuilder::add`](crate::TableBuilder::add) accepts
    /// (default [`strata_core::MAX_VALUE_SIZE`], which is also the ceiling).
    pub fn max_value_size(mut self, bytes: usize) -> Self {
        self.max_value_size = bytes;
        self
    }

    /// The write-time range (unix ms) of the data in the table, recorded in its
    /// properties for time-window compaction. Defaults: the time the builder
    /// was created, for both ends.
    pub fn time_range(mut self, min_time_ms: u64, max_time_ms: u64) -> Self {
        self.min_time = Some(min_time_ms);
        self.max_time = Some(max_time_ms);
        self
    }

    /// The configured block size.
    pub fn get_block_size(&self) -> usize {
        self.block_size
    }

    /// The configured compression.
    pub fn get_compression(&self) -> CompressionType {
        self.compression
    }

    /// Checks that the options are usable.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a zero or oversized block size, a zero or
    /// huge restart interval, more than 64 bloom bits per key, a value limit above
    /// [`strata_core::MAX_VALUE_SIZE`], or an inverted time range.
    pub fn validate(&self) -> Result<()> {
        if self.block_size == 0 || self.block_size > MAX_BLOCK_SIZE_OPTION {
            return Err(Error::invalid_argument(format!(
                "block_size {} is not in 1..={MAX_BLOCK_SIZE_OPTION}",
                self.block_size
            )));
        }
        if self.restart_interval == 0 || self.restart_interval > 1 << 16 {
            return Err(Error::invalid_argument(format!(
                "restart_interval {} is not in 1..=65536",
                self.restart_interval
            )));
        }
        if self.bloom_bits_per_key > 64 {
            return Err(Error::invalid_argument(format!(
                "bloom_bits_per_key {} is above 64",
                self.bloom_bits_per_key
            )));
        }
        if self.max_value_size > MAX_VALUE_SIZE {
            return Err(Error::invalid_argument(format!(
                "max_value_size {} is above {MAX_VALUE_SIZE}",
                self.max_value_size
            )));
        }
        if let (Some(lo), Some(hi)) = (self.min_time, self.max_time)
            && lo > hi
        {
            return Err(Error::invalid_argument(format!(
                "time range {lo}..={hi} is inverted"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_rejected() {
        assert!(TableOptions::default().validate().is_ok());
        for bad in [
            TableOptions::default().block_size(0),
            TableOptions::default().restart_interval(0),
            TableOptions::default().bloom_bits_per_key(65),
            TableOptions::default().max_value_size(MAX_VALUE_SIZE + 1),
            TableOptions::default().time_range(5, 4),
        ] {
            assert!(matches!(bad.validate(), Err(Error::InvalidArgument(_))));
        }
    }

    #[test]
    fn compression_discriminants_are_stable() {
        assert_eq!(CompressionType::None as u8, 0);
        assert_eq!(CompressionType::Lz4 as u8, 1);
        assert_eq!(CompressionType::from_u8(1), Some(CompressionType::Lz4));
        assert_eq!(CompressionType::from_u8(2), None);
    }
}
