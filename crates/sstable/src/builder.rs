//! [`TableBuilder`]: writes a table file from entries in internal-key order.
//!
//! Data blocks are cut when they reach `block_size` and appended to the file
//! whole (one `append` per block: the file has no user-space buffer). Each cut
//! adds one index entry: the block's last key → its [`BlockHandle`]. `finish`
//! then writes the filter, properties and index blocks and the footer, and
//! syncs the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata_core::key::split_encoded;
use strata_core::{
    Error, ExpiringValue, InternalKey, InternalKeyRef, MAX_KEY_SIZE, Result, ValueKind,
    WritableFile, compare_internal_keys,
};

use crate::block::BlockBuilder;
use crate::block_io::{BlockEncoder, TRAILER_LEN};
use crate::bloom::BloomBuilder;
use crate::footer::{FOOTER_LEN, Footer};
use crate::handle::BlockHandle;
use crate::options::{CompressionType, TableOptions};
use crate::properties::TableProperties;

/// What [`TableBuilder::finish`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableSummary {
    /// Size of the finished file in bytes.
    pub file_size: u64,
    /// The properties stored in the table.
    pub properties: TableProperties,
}

/// Writes one table. Single-threaded: owned by the flush or compaction job
/// that produces the file.
///
/// Entries must be added in strictly increasing internal-key order (user key
/// ascending, then sequence number descending). An `add` that breaks a rule
/// returns [`Error::InvalidArgument`] and changes nothing: the builder stays
/// usable. An I/O error poisons the builder; every later call fails and the
/// caller should [`abandon`](TableBuilder::abandon) it and delete the file.
///
/// A builder finished without entries writes a valid, empty table.
pub struct TableBuilder {
    file: Box<dyn WritableFile>,
    path: Arc<Path>,
    options: TableOptions,
    data_block: BlockBuilder,
    index_block: BlockBuilder,
    filter: Option<BloomBuilder>,
    encoder: BlockEncoder,
    handle_buf: Vec<u8>,
    /// Scratch for encoding keys passed to `add`.
    key_buf: Vec<u8>,
    /// Last key added (encoded), empty before the first add.
    last_key: Vec<u8>,
    /// Bytes appended to the file so far.
    offset: u64,
    props: TableProperties,
    first_key: Option<Vec<u8>>,
    poisoned: bool,
}

impl TableBuilder {
    /// Starts a table written to `file` (created empty by the caller at `path`;
    /// the path is only used in error messages).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the options fail [`TableOptions::validate`].
    pub fn new(
        file: Box<dyn WritableFile>,
        path: impl Into<PathBuf>,
        options: TableOptions,
    ) -> Result<Self> {
        options.validate()?;
        let now = strata_core::key::now_millis();
        let props = TableProperties {
            min_time_ms: options.min_time.unwrap_or(now),
            max_time_ms: options.max_time.unwrap_or(now),
            block_size: options.block_size as u64,
            restart_interval: options.restart_interval as u64,
            bloom_bits_per_key: u64::from(options.bloom_bits_per_key),
            compression: options.compression,
            num_shadowed: Some(0),
            ..TableProperties::default()
        };
        let path: PathBuf = path.into();
        Ok(Self {
            file,
            path: Arc::from(path.as_path()),
            data_block: BlockBuilder::new(options.restart_interval),
            // Index entries are binary-searched individually: a restart at every entry.
            index_block: BlockBuilder::new(1),
            filter: (options.bloom_bits_per_key > 0)
                .then(|| BloomBuilder::new(options.bloom_bits_per_key)),
            encoder: BlockEncoder::default(),
            handle_buf: Vec::with_capacity(BlockHandle::MAX_ENCODED_LEN),
            key_buf: Vec::new(),
            last_key: Vec::new(),
            offset: 0,
            props,
            first_key: None,
            poisoned: false,
            options,
        })
    }

    /// Adds an entry.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (nothing added) if the user key is longer than
    /// [`MAX_KEY_SIZE`], the value is longer than the configured
    /// `max_value_size`, a `PutWithExpiry` value lacks its 8-byte expiry, or the
    /// key does not sort after the previous one. [`Error::Io`] if writing a
    /// finished block fails (the builder is then poisoned).
    pub fn add(&mut self, key: &InternalKey, value: &[u8]) -> Result<()> {
        if key.seqno > strata_core::MAX_SEQNO {
            return Err(Error::invalid_argument(format!(
                "sequence number {} exceeds 56 bits",
                key.seqno
            )));
        }
        if key.user_key.len() > MAX_KEY_SIZE {
            return Err(oversized_key(key.user_key.len()));
        }
        let mut enc = std::mem::take(&mut self.key_buf);
        enc.clear();
        key.encode_into(&mut enc);
        let result = self.add_encoded(&enc, value);
        self.key_buf = enc;
        result
    }

    /// Adds an entry whose key is already an encoded internal key
    /// (`user_key ‖ trailer`), as iterators yield them.
    ///
    /// # Errors
    /// As [`TableBuilder::add`], plus [`Error::InvalidArgument`] if `key` is not
    /// a valid encoded internal key.
    pub fn add_encoded(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.check_usable()?;
        let parsed = InternalKeyRef::decode_from(key)
            .ok_or_else(|| Error::invalid_argument("not an encoded internal key"))?;
        if parsed.user_key.len() > MAX_KEY_SIZE {
            return Err(oversized_key(parsed.user_key.len()));
        }
        // The limit is on the user's value: an expiry prefix does not count,
        // or a TTL put of a maximal value could never be flushed.
        let user_len = match parsed.kind {
            ValueKind::PutWithExpiry => value.len().saturating_sub(ExpiringValue::PREFIX_LEN),
            _ => value.len(),
        };
        if user_len > self.options.max_value_size {
            return Err(Error::invalid_argument(format!(
                "value of {user_len} bytes exceeds the limit of {}",
                self.options.max_value_size
            )));
        }
        let expiry = match parsed.kind {
            ValueKind::PutWithExpiry => Some(
                ExpiringValue::decode(value)
                    .ok_or_else(|| {
                        Error::invalid_argument("PutWithExpiry value shorter than its expiry")
                    })?
                    .0,
            ),
            _ => None,
        };
        if self.first_key.is_some()
            && compare_internal_keys(key, &self.last_key) != std::cmp::Ordering::Greater
        {
            return Err(Error::invalid_argument(
                "keys must be added in strictly increasing internal-key order",
            ));
        }

        if let Some(filter) = &mut self.filter {
            filter.add(parsed.user_key);
        }
        // Keys arrive in order: the versions of a user key are consecutive.
        let shadows =
            self.first_key.is_some() && split_encoded(&self.last_key).0 == parsed.user_key;
        self.record_stats(parsed, value.len(), expiry, shadows);
        if self.first_key.is_none() {
            self.first_key = Some(key.to_vec());
        }
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.data_block.add(key, value);
        if self.data_block.estimated_size() >= self.options.block_size {
            self.flush_data_block()?;
        }
        Ok(())
    }

    /// `shadowed`: the entry's user key equals the previous entry's.
    fn record_stats(
        &mut self,
        key: InternalKeyRef<'_>,
        value_len: usize,
        expiry: Option<u64>,
        shadowed: bool,
    ) {
        let p = &mut self.props;
        if shadowed {
            p.num_shadowed = Some(p.num_shadowed.unwrap_or(0) + 1);
        }
        if p.num_entries == 0 {
            p.min_seqno = key.seqno;
            p.max_seqno = key.seqno;
        }
        p.num_entries += 1;
        p.min_seqno = p.min_seqno.min(key.seqno);
        p.max_seqno = p.max_seqno.max(key.seqno);
        p.raw_key_bytes += key.user_key.len() as u64;
        p.raw_value_bytes += value_len as u64;
        match key.kind {
            ValueKind::Delete => p.num_deletions += 1,
            ValueKind::PutWithExpiry => p.num_expiring += 1,
            ValueKind::Put => {}
        }
        if let Some(e) = expiry {
            p.max_expiry_ms = p.max_expiry_ms.max(e);
        }
    }

    fn check_usable(&self) -> Result<()> {
        if self.poisoned {
            return Err(Error::invalid_argument(
                "table builder failed earlier and cannot be used",
            ));
        }
        Ok(())
    }

    /// Encodes `raw` with the trailer and appends it; returns its handle.
    fn write_raw_block(&mut self, raw_kind: RawBlock<'_>) -> Result<BlockHandle> {
        let (raw, compression) = match raw_kind {
            RawBlock::Data => (self.data_block.finish(), self.options.compression),
            RawBlock::Other(bytes, c) => (bytes, c),
        };
        // Restart offsets are u32: a larger block cannot be written correctly.
        if u32::try_from(raw.len()).is_err() {
            self.poisoned = true;
            return Err(Error::invalid_argument(format!(
                "a block of {} bytes exceeds the 4 GiB limit of the block format",
                raw.len()
            )));
        }
        let out = self.encoder.encode(raw, compression);
        let handle = BlockHandle {
            offset: self.offset,
            size: (out.len() - TRAILER_LEN) as u64,
        };
        if let Err(e) = self.file.append(out) {
            self.poisoned = true;
            return Err(e.into());
        }
        self.offset += out.len() as u64;
        Ok(handle)
    }

    fn flush_data_block(&mut self) -> Result<()> {
        if self.data_block.is_empty() {
            return Ok(());
        }
        debug_assert!(self.data_block.entry_count() > 0);
        debug_assert_eq!(self.data_block.last_key(), &self.last_key[..]);
        let start = self.offset;
        let handle = self.write_raw_block(RawBlock::Data)?;
        self.data_block.reset();
        self.props.num_data_blocks += 1;
        self.props.data_size += self.offset - start;
        self.handle_buf.clear();
        handle.encode_into(&mut self.handle_buf);
        // The block's last key is a valid separator: >= every key in the
        // block, < every key after it.
        self.index_block.add(&self.last_key, &self.handle_buf);
        Ok(())
    }

    /// Bytes the file would have if finished now (approximate: excludes the
    /// filter and properties blocks). Compaction uses it to split outputs.
    pub fn estimated_file_size(&self) -> u64 {
        self.offset
            + self.data_block.estimated_size() as u64
            + self.index_block.estimated_size() as u64
            + FOOTER_LEN as u64
    }

    /// Entries added so far.
    pub fn num_entries(&self) -> u64 {
        self.props.num_entries
    }

    /// Writes the remaining data block, the filter, properties and index
    /// blocks and the footer, then syncs the file.
    ///
    /// # Errors
    /// [`Error::Io`] if a write or the sync fails; [`Error::InvalidArgument`]
    /// if the builder was poisoned by an earlier failure.
    pub fn finish(mut self) -> Result<TableSummary> {
        self.check_usable()?;
        self.flush_data_block()?;

        let filter_handle = match self.filter.take() {
            Some(f) if !f.is_empty() => {
                let bits = f.finish();
                let start = self.offset;
                let h = self.write_raw_block(RawBlock::Other(&bits, CompressionType::None))?;
                self.props.filter_size = self.offset - start;
                Some(h)
            }
            _ => None,
        };

        let index_raw = self.index_block.finish().to_vec();
        let compression = self.options.compression;
        // The properties record the index size, so encode the index first.
        self.props.index_size = (BlockEncoder::default()
            .encode(&index_raw, compression)
            .len()) as u64;
        self.props.smallest_key = self.first_key.as_deref().and_then(InternalKey::decode_from);
        self.props.largest_key = if self.props.num_entries > 0 {
            InternalKey::decode_from(&self.last_key)
        } else {
            None
        };
        debug_assert_eq!(
            self.props.smallest_key.is_some(),
            self.props.num_entries > 0
        );
        let mut props_raw = Vec::with_capacity(256);
        self.props.encode_into(&mut props_raw);
        let properties = self.write_raw_block(RawBlock::Other(&props_raw, compression))?;
        let index = self.write_raw_block(RawBlock::Other(&index_raw, compression))?;

        let mut footer = Vec::with_capacity(FOOTER_LEN);
        Footer {
            filter: filter_handle,
            properties,
            index,
        }
        .encode_into(&mut footer);
        let result = self.file.append(&footer).and_then(|()| self.file.sync());
        if let Err(e) = result {
            self.poisoned = true;
            return Err(e.into());
        }
        self.offset += footer.len() as u64;
        Ok(TableSummary {
            file_size: self.offset,
            properties: self.props.clone(),
        })
    }

    /// Gives up on the table without writing its tail. The caller deletes the file.
    pub fn abandon(self) {}

    /// The path given at creation.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Which bytes [`TableBuilder::write_raw_block`] writes.
enum RawBlock<'a> {
    /// The current data block (finished in place).
    Data,
    /// A meta block and its compression.
    Other(&'a [u8], CompressionType),
}

fn oversized_key(len: usize) -> Error {
    Error::invalid_argument(format!(
        "key of {len} bytes exceeds the limit of {MAX_KEY_SIZE}"
    ))
}

impl std::fmt::Debug for TableBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableBuilder")
            .field("path", &self.path)
            .field("offset", &self.offset)
            .field("entries", &self.props.num_entries)
            .finish_non_exhaustive()
    }
}
