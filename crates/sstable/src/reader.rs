//! [`TableReader`]: an open, immutable table.
//!
//! `open` reads and verifies the footer, index, properties and filter once and
//! keeps them in memory; data blocks are read on demand through the shared
//! [`BlockCache`]. A reader is `Send + Sync` and cheap to clone (an `Arc`
//! inside): any number of threads may call `get` and create iterators at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use strata_core::key::{TRAILER_LEN, pack_trailer, split_encoded, unpack_trailer};
use strata_core::{
    Error, MAX_KEY_SIZE, MAX_SEQNO, RandomAccessFile, Result, SeqNo, ValueKind,
    compare_internal_keys,
};

use crate::block::{Block, RestartHints};
use crate::block_io::read_block;
use crate::bloom::BloomFilter;
use crate::cache::BlockCache;
use crate::footer::{FOOTER_LEN, Footer};
use crate::handle::BlockHandle;
use crate::iter::TableIterator;
use crate::properties::TableProperties;

/// The newest version of a key found by [`TableReader::get`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionedValue {
    /// Sequence number of the write.
    pub seqno: SeqNo,
    /// What the write did; a `Delete` is returned too (the caller stops there).
    pub kind: ValueKind,
    /// The stored value (empty for a `Delete`; for `PutWithExpiry` it starts
    /// with the 8-byte expiry, see [`strata_core::ExpiringValue`]).
    pub value: Bytes,
}

/// State shared by a reader and its iterators.
pub(crate) struct TableInner {
    pub(crate) file: Arc<dyn RandomAccessFile>,
    pub(crate) path: Arc<Path>,
    pub(crate) file_id: u64,
    pub(crate) cache: Option<Arc<BlockCache>>,
    pub(crate) index: Block,
    /// Narrows seeks in `index` (valid because `open` checked its order).
    pub(crate) index_hints: RestartHints,
    pub(crate) index_offset: u64,
    filter: Option<BloomFilter>,
    properties: TableProperties,
    /// End of the data-block region: data handles must end at or before it.
    data_end: u64,
    file_size: u64,
}

/// An open table. See the module docs for its concurrency rules.
#[derive(Clone)]
pub struct TableReader {
    inner: Arc<TableInner>,
}

impl TableReader {
    /// Opens the table in `file`. `path` names it in errors; `file_id` must be
    /// unique among the tables sharing `cache`. A memory-mapped `file`
    /// ([`RandomAccessFile::is_mapped`]) bypasses `cache`: its blocks are read
    /// as views of the map, checksummed on every read.
    ///
    /// # Errors
    /// [`Error::Corruption`] (naming `path` and the offset of the bad
    /// structure) if the footer, index, properties or filter block is invalid;
    /// [`Error::Io`] if a read fails.
    pub fn open(
        file: Arc<dyn RandomAccessFile>,
        path: impl Into<PathBuf>,
        file_id: u64,
        cache: Option<Arc<BlockCache>>,
    ) -> Result<Self> {
        let path: PathBuf = path.into();
        let path: Arc<Path> = Arc::from(path.as_path());
        let file_size = file.size()?;
        if file_size < FOOTER_LEN as u64 {
            return Err(Error::corruption(
                &*path,
                0,
                format!("file of {file_size} bytes is shorter than a table footer"),
            ));
        }
        let footer_offset = file_size - FOOTER_LEN as u64;
        let mut buf = [0u8; FOOTER_LEN];
        file.read_at(footer_offset, &mut buf)?;
        let footer = Footer::decode_from(&buf, &path, file_size)?;

        let index_bytes = read_block(&*file, &path, footer.index, footer_offset)?;
        let index = Block::decode(index_bytes, Arc::clone(&path), footer.index.offset)?;
        index.validate()?;
        check_index_order(&index)?;
        let index_hints = index.restart_hints();

        let props_bytes = read_block(&*file, &path, footer.properties, footer_offset)?;
        let properties =
            TableProperties::decode_from(&props_bytes, &path, footer.properties.offset)?;

        let filter = match footer.filter {
            Some(h) => {
                let bytes = read_block(&*file, &path, h, footer_offset)?;
                Some(BloomFilter::decode_from(bytes, &path, h.offset)?)
            }
            None => None,
        };
        let data_end = footer.filter.map_or(footer.properties.offset, |f| f.offset);
        // A mapped file's blocks are views of memory the OS already holds:
        // caching them would save a checksum but cost a cache insert and
        // eviction per miss, and would keep a deleted table's map alive.
        let cache = cache.filter(|_| !file.is_mapped());
        Ok(Self {
            inner: Arc::new(TableInner {
                file,
                path,
                file_id,
                cache,
                index,
                index_hints,
                index_offset: footer.index.offset,
                filter,
                properties,
                data_end,
                file_size,
            }),
        })
    }

    /// The newest version of `user_key` with sequence number `<= snapshot`,
    /// tombstones included; `None` if the table holds no such version.
    ///
    /// Asks the bloom filter, binary-searches the index, reads one data block
    /// (through the cache) and seeks in it.
    ///
    /// # Errors
    /// [`Error::Corruption`] if a block on the path is invalid; [`Error::Io`]
    /// if a read fails.
    pub fn get(&self, user_key: &[u8], snapshot: SeqNo) -> Result<Option<VersionedValue>> {
        if !self.may_contain(user_key) {
            return Ok(None);
        }
        self.get_unfiltered(user_key, snapshot)
    }

    /// [`TableReader::get`] without asking the bloom filter: for a caller
    /// that already asked it through [`TableReader::may_contain_hash`],
    /// hashing the key once for every table it probes.
    ///
    /// # Errors
    /// As [`TableReader::get`].
    pub fn get_unfiltered(
        &self,
        user_key: &[u8],
        snapshot: SeqNo,
    ) -> Result<Option<VersionedValue>> {
        if user_key.len() > MAX_KEY_SIZE {
            return Ok(None);
        }
        let trailer = pack_trailer(snapshot.min(MAX_SEQNO), ValueKind::SEEK).to_le_bytes();
        // Build the seek key on the stack for ordinary keys: the hot path does not allocate.
        let mut stack = [0u8; 256];
        let heap;
        let seek: &[u8] = if user_key.len() + TRAILER_LEN <= stack.len() {
            let n = user_key.len();
            stack[..n].copy_from_slice(user_key);
            stack[n..n + TRAILER_LEN].copy_from_slice(&trailer);
            &stack[..n + TRAILER_LEN]
        } else {
            heap = [user_key, &trailer[..]].concat();
            &heap
        };
        self.inner.get_at(user_key, seek)
    }

    /// False only if the table certainly holds no version of `user_key`
    /// (always true without a filter).
    pub fn may_contain(&self, user_key: &[u8]) -> bool {
        self.inner
            .filter
            .as_ref()
            .is_none_or(|f| f.may_contain(user_key))
    }

    /// [`TableReader::may_contain`] for a key hashed once with
    /// [`FilterHash::of`] (every table's filter uses the same hash).
    pub fn may_contain_hash(&self, hash: FilterHash) -> bool {
        self.inner
            .filter
            .as_ref()
            .is_none_or(|f| f.may_contain_hash(hash.0))
    }

    /// The table's properties, read at open.
    pub fn properties(&self) -> &TableProperties {
        &self.inner.properties
    }

    /// An iterator over every entry, initially unpositioned.
    pub fn iter(&self) -> TableIterator {
        TableIterator::new(Arc::clone(&self.inner))
    }

    /// An iterator restricted to user keys within `(lower, upper)`, initially
    /// unpositioned. Bounds are respected by seeks and in both directions.
    pub fn range(
        &self,
        lower: std::ops::Bound<&[u8]>,
        upper: std::ops::Bound<&[u8]>,
    ) -> TableIterator {
        let mut it = self.iter();
        it.set_bounds(lower.map(<[u8]>::to_vec), upper.map(<[u8]>::to_vec));
        it
    }

    /// The id given at open (the block-cache key prefix).
    pub fn file_id(&self) -> u64 {
        self.inner.file_id
    }

    /// The path given at open.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The file's size in bytes.
    pub fn file_size(&self) -> u64 {
        self.inner.file_size
    }

    /// Bytes kept in memory for this table (index and filter).
    pub fn memory_usage(&self) -> usize {
        self.inner.index.size() + self.inner.filter.as_ref().map_or(0, BloomFilter::size)
    }
}

/// A user key's bloom-filter hash, computed once for a lookup that asks
/// several tables' filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterHash(u64);

impl FilterHash {
    /// The hash of `user_key`, as every table's filter computes it.
    pub fn of(user_key: &[u8]) -> Self {
        Self(crate::bloom::bloom_hash(user_key))
    }
}

impl TableInner {
    fn get_at(&self, user_key: &[u8], seek: &[u8]) -> Result<Option<VersionedValue>> {
        let mut index_key = Vec::with_capacity(seek.len() + 16);
        let candidates = if self.index_hints.len() == self.index.num_restarts() {
            self.index_hints.candidates(seek)
        } else {
            0..=usize::MAX
        };
        let Some(mut index_entry) =
            self.index
                .seek_point(seek, compare_internal_keys, candidates, &mut index_key)?
        else {
            return Ok(None);
        };
        let mut key = Vec::with_capacity(seek.len() + 16);
        // The block under the first separator `>= seek` holds the answer,
        // unless all its keys sort below `seek` (possible when a separator
        // lies between blocks): then it is the next block's first entry.
        for _ in 0..2 {
            let handle = self.decode_handle(self.index.point_value(&index_entry))?;
            let block = self.data_block(handle, true)?;
            let Some(entry) =
                block.seek_point(seek, compare_internal_keys, 0..=usize::MAX, &mut key)?
            else {
                match self.index.next_point(&index_entry, &mut index_key)? {
                    Some(next) => index_entry = next,
                    None => return Ok(None),
                }
                continue;
            };
            if compare_internal_keys(&key, &index_key).is_gt() {
                return Err(Error::corruption(
                    &*self.path,
                    handle.offset,
                    "block keys disagree with the index",
                ));
            }
            // Blocks are checked entry by entry as they are read, so a key
            // too short for its trailer is caught here, not at decode.
            if key.len() < TRAILER_LEN {
                return Err(Error::corruption(
                    &*self.path,
                    handle.offset,
                    "entry key shorter than its trailer",
                ));
            }
            let (found, trailer) = split_encoded(&key);
            if found != user_key {
                return Ok(None);
            }
            let (seqno, kind) = unpack_trailer(trailer).ok_or_else(|| {
                Error::corruption(&*self.path, handle.offset, "entry with unknown value kind")
            })?;
            return Ok(Some(VersionedValue {
                seqno,
                kind,
                value: block.point_value_bytes(&entry),
            }));
        }
        Ok(None)
    }

    /// Decodes an index entry's value.
    pub(crate) fn decode_handle(&self, value: &[u8]) -> Result<BlockHandle> {
        BlockHandle::decode_from(value).ok_or_else(|| {
            Error::corruption(&*self.path, self.index_offset, "bad block handle in index")
        })
    }

    /// The data block at `handle`, from the cache or the file.
    pub(crate) fn data_block(&self, handle: BlockHandle, fill_cache: bool) -> Result<Block> {
        if let Some(cache) = &self.cache
            && let Some(block) = cache.get(self.file_id, handle.offset)
        {
            return Ok(block);
        }
        let bytes = read_block(&*self.file, &self.path, handle, self.data_end)?;
        let block = Block::decode(bytes, Arc::clone(&self.path), handle.offset)?;
        if fill_cache && let Some(cache) = &self.cache {
            cache.insert(self.file_id, handle.offset, block.clone());
        }
        Ok(block)
    }
}

/// Lookups binary-search the index, which is only right if its separator keys
/// strictly increase; a checksum does not prove that, so check once at open.
fn check_index_order(index: &Block) -> Result<()> {
    let mut it = index.iter(compare_internal_keys);
    let mut previous: Vec<u8> = Vec::new();
    it.seek_to_first();
    while it.valid() {
        if !previous.is_empty() && compare_internal_keys(&previous, it.key()).is_ge() {
            return Err(it.corruption_here("index keys out of order"));
        }
        previous.clear();
        previous.extend_from_slice(it.key());
        it.next();
    }
    it.status()
}

impl std::fmt::Debug for TableReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableReader")
            .field("path", &self.inner.path)
            .field("file_id", &self.inner.file_id)
            .field("file_size", &self.inner.file_size)
            .field("entries", &self.inner.properties.num_entries)
            .finish_non_exhaustive()
    }
}
