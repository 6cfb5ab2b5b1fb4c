//! Inspection of table files, for tools: the library side of `strata sst
//! dump` and of `strata verify`.
//!
//! * [`TableInspector`] opens a table and shows its structure as plain data:
//!   the [`FooterInfo`] (every block handle, format version, magic), the
//!   [`TableProperties`], the sparse index ([`IndexEntry`]: separator key →
//!   [`BlockHandle`]), the bloom filter's shape ([`FilterInfo`]), and, on
//!   request, each data block ([`DataBlock`]) or every entry ([`TableEntry`]:
//!   user key, seqno, kind, expiry, value) in order.
//! * [`verify_table`] (and [`TableInspector::verify`]) reads every byte of
//!   the file and checks everything a reader relies on; see its docs for the
//!   list. The first problem is [`Error::Corruption`] naming the file and the
//!   offset of the bad block or structure.
//!
//! Unlike [`TableReader`](crate::TableReader), nothing here caches blocks or
//! aims at speed: each call reads from the file again.
//!
//! ## Invariants
//! Nothing read is trusted: every block's checksum is verified before it is
//! decoded, lengths and offsets are range-checked, and bad bytes are
//! [`Error::Corruption`], never a panic.
//!
//! ## Concurrency
//! A [`TableInspector`] is read-only, `Send + Sync`: any threads may call it.
//! The file must not change while it is inspected (tables never do).

mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use strata_core::coding::{decode_fixed32, decode_fixed64};
use strata_core::{
    Error, ExpiringValue, FileSystem, InternalKey, InternalKeyRef, RandomAccessFile, Result,
    ValueKind, compare_internal_keys,
};

use crate::block::{Block, BlockIter};
use crate::block_io::{TRAILER_LEN, read_block};
use crate::bloom::BloomFilter;
use crate::footer::{FOOTER_LEN, Footer};
use crate::handle::BlockHandle;
use crate::options::CompressionType;
use crate::properties::TableProperties;

pub use verify::{TableCheck, verify_table};

/// The decoded footer of a table: where its meta blocks are, and how the file
/// identifies itself. See `docs/format.md` for the 64-byte layout.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FooterInfo {
    /// File offset of the footer (the file's size minus 64).
    pub offset: u64,
    /// The filter block; `None` if the table has no filter.
    pub filter: Option<BlockHandle>,
    /// The properties block.
    pub properties: BlockHandle,
    /// The index block.
    pub index: BlockHandle,
    /// The table format version (1 is the only one so far).
    pub format_version: u32,
    /// The footer's checksum as stored: masked CRC-32C of its first 52 bytes.
    pub checksum: u32,
    /// The last 8 bytes of the file: `b"STRATSST"`.
    pub magic: [u8; 8],
}

/// One entry of the sparse index: the data block under `separator`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexEntry {
    /// An internal key `>=` every key of the block and `<` every key of the
    /// next block (the builder uses the block's last key).
    pub separator: InternalKey,
    /// Where the data block is stored (size excludes its 5-byte trailer).
    pub handle: BlockHandle,
}

/// The shape of a table's bloom filter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FilterInfo {
    /// Where the filter block is stored (size excludes its trailer).
    pub handle: BlockHandle,
    /// Bytes of the bit array (a multiple of 64: one cache line per block).
    pub bit_array_bytes: u64,
    /// Probes per key.
    pub probes: u8,
}

/// One entry of a table, decoded for display.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableEntry {
    /// User key, sequence number and kind.
    pub key: InternalKey,
    /// For [`ValueKind::PutWithExpiry`]: when the value expires, unix ms.
    pub expires_at_ms: Option<u64>,
    /// The user's value (the expiry prefix removed); empty for a `Delete`.
    pub value: Bytes,
}

/// One data block, decoded for display.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataBlock {
    /// Where the block is stored.
    pub handle: BlockHandle,
    /// How it is stored (a block is stored uncompressed when lz4 saves too little).
    pub compression: CompressionType,
    /// Bytes of the block once decompressed (entries and restart array).
    pub raw_size: u64,
    /// Its entries, in order.
    pub entries: Vec<TableEntry>,
}

/// An opened table file, for dumping and verifying. See the module docs.
pub struct TableInspector {
    file: Arc<dyn RandomAccessFile>,
    path: Arc<Path>,
    file_size: u64,
    footer: FooterInfo,
    properties: TableProperties,
    index: Vec<IndexEntry>,
    filter: Option<FilterInfo>,
    bloom: Option<BloomFilter>,
}

impl TableInspector {
    /// Opens the table at `path` and reads its footer, index, properties and
    /// filter (verifying their checksums).
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be opened or read;
    /// [`Error::Corruption`] at the offset of the footer or meta block that
    /// is invalid (a file shorter than a footer: offset 0).
    pub fn open(fs: &dyn FileSystem, path: &Path) -> Result<Self> {
        Self::from_file(fs.open(path)?, path)
    }

    /// Like [`TableInspector::open`], for a file already open. `path` names
    /// it in errors.
    ///
    /// # Errors
    /// As [`TableInspector::open`].
    pub fn from_file(file: Arc<dyn RandomAccessFile>, path: impl Into<PathBuf>) -> Result<Self> {
        let path: PathBuf = path.into();
        let path: Arc<Path> = Arc::from(path.as_path());
        let file_size = file.size()?;
        let footer_offset = file_size.checked_sub(FOOTER_LEN as u64).ok_or_else(|| {
            Error::corruption(
                &*path,
                0,
                format!("file of {file_size} bytes is shorter than a table footer ({FOOTER_LEN})"),
            )
        })?;
        let mut raw = [0u8; FOOTER_LEN];
        file.read_at(footer_offset, &mut raw)?;
        let decoded = Footer::decode_from(&raw, &path, file_size)?;
        let footer = footer_info(&decoded, &raw, footer_offset);

        let index_block = read_block(&*file, &path, decoded.index, footer_offset)?;
        let index_block = Block::decode(index_block, Arc::clone(&path), decoded.index.offset)?;
        index_block.validate()?;
        let index = decode_index(&index_block, &path, decoded.index.offset)?;

        let props = read_block(&*file, &path, decoded.properties, footer_offset)?;
        let properties = TableProperties::decode_from(&props, &path, decoded.properties.offset)?;

        let (filter, bloom) = match decoded.filter {
            Some(handle) => {
                let bytes = read_block(&*file, &path, handle, footer_offset)?;
                let bloom = BloomFilter::decode_from(bytes.clone(), &path, handle.offset)?;
                // `decode_from` checked: at least one 64-byte block, then the probe count.
                let info = FilterInfo {
                    handle,
                    bit_array_bytes: bytes.len().saturating_sub(1) as u64,
                    probes: bytes.last().copied().unwrap_or_default(),
                };
                (Some(info), Some(bloom))
            }
            None => (None, None),
        };
        Ok(Self {
            file,
            path,
            file_size,
            footer,
            properties,
            index,
            filter,
            bloom,
        })
    }

    /// The path given at open.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's size in bytes.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// The footer.
    pub fn footer(&self) -> &FooterInfo {
        &self.footer
    }

    /// The properties block, decoded.
    pub fn properties(&self) -> &TableProperties {
        &self.properties
    }

    /// The sparse index: one entry per data block, in file order.
    pub fn index(&self) -> &[IndexEntry] {
        &self.index
    }

    /// The bloom filter's shape; `None` if the table has none.
    pub fn filter(&self) -> Option<&FilterInfo> {
        self.filter.as_ref()
    }

    /// Reads and decodes data block `i` (the block of `index()[i]`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `i` is not below `index().len()`;
    /// [`Error::Corruption`] at the block's offset if it fails its checksum
    /// or does not decode (an expiring value shorter than its expiry
    /// included); [`Error::Io`] if a read fails.
    pub fn data_block(&self, i: usize) -> Result<DataBlock> {
        let entry = self.index.get(i).ok_or_else(|| {
            Error::invalid_argument(format!(
                "data block {i} does not exist: the table has {}",
                self.index.len()
            ))
        })?;
        let handle = entry.handle;
        let block = self.load_block(handle)?;
        let mut entries = Vec::new();
        for_each_entry(&block, |key, it| {
            entries.push(table_entry(key, it)?);
            Ok(())
        })?;
        Ok(DataBlock {
            handle,
            compression: self.stored_compression(handle)?,
            raw_size: block.size() as u64,
            entries,
        })
    }

    /// Every entry of the table in order, block by block. Stops after the
    /// first error it yields.
    pub fn entries(&self) -> InspectEntries<'_> {
        InspectEntries {
            table: self,
            next_block: 0,
            current: Vec::new().into_iter(),
            done: false,
        }
    }

    /// Reads, checks and decodes the data block at `handle`.
    fn load_block(&self, handle: BlockHandle) -> Result<Block> {
        let bytes = read_block(&*self.file, &self.path, handle, self.data_end())?;
        let block = Block::decode(bytes, Arc::clone(&self.path), handle.offset)?;
        block.validate()?;
        Ok(block)
    }

    /// End of the data-block region: where the first meta block starts.
    fn data_end(&self) -> u64 {
        self.footer
            .filter
            .map_or(self.footer.properties.offset, |f| f.offset)
    }

    /// The compression type byte of the trailer of the block at `handle`.
    /// Call after [`read_block`] verified the trailer's checksum (which
    /// covers this byte).
    fn stored_compression(&self, handle: BlockHandle) -> Result<CompressionType> {
        let mut kind = [0u8; 1];
        let at = handle.offset.checked_add(handle.size).ok_or_else(|| {
            Error::corruption(&*self.path, handle.offset, "block handle overflows")
        })?;
        self.file.read_at(at, &mut kind)?;
        CompressionType::from_u8(kind[0]).ok_or_else(|| {
            Error::corruption(
                &*self.path,
                handle.offset,
                format!("unknown block compression type {}", kind[0]),
            )
        })
    }
}

impl std::fmt::Debug for TableInspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableInspector")
            .field("path", &self.path)
            .field("file_size", &self.file_size)
            .field("footer", &self.footer)
            .field("data_blocks", &self.index.len())
            .finish_non_exhaustive()
    }
}

/// Iterator over every entry of a table; see [`TableInspector::entries`].
#[derive(Debug)]
pub struct InspectEntries<'a> {
    table: &'a TableInspector,
    next_block: usize,
    current: std::vec::IntoIter<TableEntry>,
    done: bool,
}

impl Iterator for InspectEntries<'_> {
    type Item = Result<TableEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.current.next() {
                return Some(Ok(entry));
            }
            if self.done || self.next_block >= self.table.index.len() {
                return None;
            }
            match self.table.data_block(self.next_block) {
                Ok(block) => {
                    self.current = block.entries.into_iter();
                    self.next_block += 1;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

fn footer_info(decoded: &Footer, raw: &[u8; FOOTER_LEN], offset: u64) -> FooterInfo {
    // `Footer::decode_from` accepted `raw`, so these fixed fields are present.
    let at = |i: usize| raw.get(i..).unwrap_or_default();
    let mut magic = [0u8; 8];
    magic.copy_from_slice(&decode_fixed64(at(56)).unwrap_or_default().to_le_bytes());
    FooterInfo {
        offset,
        filter: decoded.filter,
        properties: decoded.properties,
        index: decoded.index,
        format_version: decode_fixed32(at(48)).unwrap_or_default(),
        checksum: decode_fixed32(at(52)).unwrap_or_default(),
        magic,
    }
}

/// Decodes every index entry; a bad handle is corruption at the index block.
fn decode_index(block: &Block, path: &Path, offset: u64) -> Result<Vec<IndexEntry>> {
    let mut out = Vec::new();
    for_each_entry(block, |key, it| {
        let handle = BlockHandle::decode_from(it.value()).ok_or_else(|| {
            Error::corruption(
                path,
                offset,
                format!("index entry {} holds a bad block handle", out.len()),
            )
        })?;
        out.push(IndexEntry {
            separator: key.to_owned(),
            handle,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Calls `f` on every entry of `block` in stored order (not assuming it is
/// sorted), then reports any corruption the walk met.
fn for_each_entry(
    block: &Block,
    mut f: impl FnMut(InternalKeyRef<'_>, &BlockIter) -> Result<()>,
) -> Result<()> {
    let mut it = block.iter(compare_internal_keys);
    it.seek_to_first();
    while it.valid() {
        let key = InternalKeyRef::decode_from(it.key())
            .ok_or_else(|| it.corruption_here("entry key is not a valid internal key"))?;
        f(key, &it)?;
        it.next();
    }
    it.status()
}

/// The entry under `it`, its expiry split from the value.
fn table_entry(key: InternalKeyRef<'_>, it: &BlockIter) -> Result<TableEntry> {
    let stored = it.value_bytes();
    let (expires_at_ms, value) = match key.kind {
        ValueKind::PutWithExpiry => {
            let (at, value) = ExpiringValue::decode_bytes(&stored)
                .ok_or_else(|| it.corruption_here("expiring value shorter than its expiry"))?;
            (Some(at), value)
        }
        ValueKind::Put | ValueKind::Delete => (None, stored),
    };
    Ok(TableEntry {
        key: key.to_owned(),
        expires_at_ms,
        value,
    })
}

/// Bytes a block occupies in the file, trailer included; `None` on overflow.
fn stored_end(handle: BlockHandle) -> Option<u64> {
    handle
        .offset
        .checked_add(handle.size)?
        .checked_add(TRAILER_LEN as u64)
}
