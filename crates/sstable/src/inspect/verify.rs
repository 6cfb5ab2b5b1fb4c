//! [`verify_table`]: reads every byte of a table and checks it.

use std::path::Path;

use strata_core::key::split_encoded;
use strata_core::{
    Error, ExpiringValue, FileSystem, InternalKey, InternalKeyRef, Result, ValueKind,
    compare_internal_keys,
};

use super::{TableInspector, for_each_entry, stored_end};
use crate::block_io::TRAILER_LEN;
use crate::handle::BlockHandle;
use crate::properties::TableProperties;

/// What [`verify_table`] read and found consistent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableCheck {
    /// Size of the file in bytes.
    pub file_size: u64,
    /// Blocks read and checked: data blocks plus the filter, properties and
    /// index blocks.
    pub blocks: u64,
    /// Data blocks.
    pub data_blocks: u64,
    /// Entries (all kinds).
    pub entries: u64,
    /// Bytes of the data blocks as stored, trailers included.
    pub data_bytes: u64,
    /// The table's properties, which agree with the data.
    pub properties: TableProperties,
}

/// Reads the table at `path` whole and checks it, stopping at the first
/// problem:
///
/// 1. the footer: magic number, format version, checksum;
/// 2. the index, properties and filter blocks: checksum, decoding;
/// 3. the layout: data blocks, filter, properties, index and footer follow
///    each other with no gap or overlap, so every byte of the file is
///    covered by a checksum;
/// 4. index separators strictly increase;
/// 5. every data block: checksum, decompression, decoding (restart array,
///    entry bounds, internal keys, expiry prefixes); keys strictly increase
///    within and across blocks; each block is non-empty, its keys are `<=`
///    its separator and `>` the previous block's separator;
/// 6. the bloom filter admits every user key stored;
/// 7. the properties agree with the data: counts (entries, deletions,
///    expiring, data blocks), key and value bytes, block sizes, smallest and
///    largest key, seqno range, latest expiry, and a filter is present iff
///    the table has entries and bloom bits.
///
/// # Errors
/// [`Error::Corruption`] naming `path` and the offset of the bad structure:
/// the footer's offset for footer and layout problems, the block's offset
/// for a bad block or keys out of order in it, the index block's offset for
/// bad separators or handles, the properties block's offset when the
/// properties disagree with the data, the filter block's offset when it
/// misses a key. [`Error::Io`] if the file cannot be read.
pub fn verify_table(fs: &dyn FileSystem, path: &Path) -> Result<TableCheck> {
    TableInspector::open(fs, path)?.verify()
}

impl TableInspector {
    /// [`verify_table`] on an opened table (whose footer and meta blocks
    /// [`TableInspector::open`] already checked).
    ///
    /// # Errors
    /// As [`verify_table`].
    pub fn verify(&self) -> Result<TableCheck> {
        self.check_layout()?;
        self.check_index_order()?;
        let mut tally = Tally::default();
        let mut previous: Vec<u8> = Vec::new();
        let mut lower_bound: Option<Vec<u8>> = None;
        for entry in &self.index {
            let handle = entry.handle;
            let separator = entry.separator.encode();
            let block = self.load_block(handle)?;
            let mut in_block = 0u64;
            for_each_entry(&block, |key, it| {
                let encoded = it.key();
                if tally.entries > 0 && compare_internal_keys(&previous, encoded).is_ge() {
                    return Err(it.corruption_here("key not above the previous key"));
                }
                if compare_internal_keys(encoded, &separator).is_gt() {
                    return Err(it.corruption_here("key above its block's index separator"));
                }
                if let Some(lower) = &lower_bound
                    && compare_internal_keys(encoded, lower).is_le()
                {
                    return Err(
                        it.corruption_here("key not above the previous block's index separator")
                    );
                }
                if let Some(bloom) = &self.bloom
                    && !bloom.may_contain(key.user_key)
                {
                    let at = self.filter.as_ref().map_or(0, |f| f.handle.offset);
                    return Err(Error::corruption(
                        &*self.path,
                        at,
                        format!(
                            "the bloom filter misses user key \"{}\" (stored in the block at {})",
                            key.user_key.escape_ascii(),
                            handle.offset
                        ),
                    ));
                }
                let value = it.value();
                let expiry = match key.kind {
                    ValueKind::PutWithExpiry => Some(
                        ExpiringValue::decode(value)
                            .ok_or_else(|| {
                                it.corruption_here("expiring value shorter than its expiry")
                            })?
                            .0,
                    ),
                    ValueKind::Put | ValueKind::Delete => None,
                };
                let shadows = tally.entries > 0 && split_encoded(&previous).0 == key.user_key;
                tally.add(key, value.len(), expiry, shadows);
                previous.clear();
                previous.extend_from_slice(encoded);
                in_block += 1;
                Ok(())
            })?;
            if in_block == 0 {
                return Err(Error::corruption(
                    &*self.path,
                    handle.offset,
                    "data block holds no entries",
                ));
            }
            tally.data_bytes += handle.size + TRAILER_LEN as u64;
            lower_bound = Some(separator);
        }
        tally.largest = InternalKey::decode_from(&previous);
        self.check_properties(&tally)?;
        let meta_blocks = 2 + u64::from(self.filter.is_some());
        Ok(TableCheck {
            file_size: self.file_size,
            blocks: self.index.len() as u64 + meta_blocks,
            data_blocks: self.index.len() as u64,
            entries: tally.entries,
            data_bytes: tally.data_bytes,
            properties: self.properties.clone(),
        })
    }

    /// Blocks follow each other from offset 0 to the footer: data blocks in
    /// index order, then filter, properties, index. Nothing else is written,
    /// so a gap would be bytes no checksum covers.
    fn check_layout(&self) -> Result<()> {
        let mut expected = 0u64;
        let mut step = |handle: BlockHandle, what: &str, bad_at: u64| -> Result<()> {
            if handle.offset != expected {
                return Err(Error::corruption(
                    &*self.path,
                    bad_at,
                    format!(
                        "{what} starts at offset {}, but the previous block ends at {expected}",
                        handle.offset
                    ),
                ));
            }
            expected = stored_end(handle).ok_or_else(|| {
                Error::corruption(&*self.path, bad_at, format!("{what} handle overflows"))
            })?;
            Ok(())
        };
        let index_at = self.footer.index.offset;
        for (i, entry) in self.index.iter().enumerate() {
            step(entry.handle, &format!("data block {i}"), index_at)?;
        }
        let footer_at = self.footer.offset;
        if let Some(filter) = self.footer.filter {
            step(filter, "the filter block", footer_at)?;
        }
        step(self.footer.properties, "the properties block", footer_at)?;
        step(self.footer.index, "the index block", footer_at)?;
        if expected != footer_at {
            return Err(Error::corruption(
                &*self.path,
                footer_at,
                format!("the index block ends at {expected}, not at the footer"),
            ));
        }
        Ok(())
    }

    /// Lookups binary-search the index: its separators must strictly increase.
    fn check_index_order(&self) -> Result<()> {
        for (i, pair) in self.index.windows(2).enumerate() {
            if let [a, b] = pair
                && a.separator >= b.separator
            {
                return Err(Error::corruption(
                    &*self.path,
                    self.footer.index.offset,
                    format!("index separators {i} and {} are out of order", i + 1),
                ));
            }
        }
        Ok(())
    }

    /// The properties must describe the data just read.
    fn check_properties(&self, tally: &Tally) -> Result<()> {
        let p = &self.properties;
        let stored_size = |h: Option<BlockHandle>| h.map_or(0, |h| h.size + TRAILER_LEN as u64);
        let numbers = [
            ("num_entries", p.num_entries, tally.entries),
            ("num_deletions", p.num_deletions, tally.deletions),
            ("num_expiring", p.num_expiring, tally.expiring),
            (
                "num_data_blocks",
                p.num_data_blocks,
                self.index.len() as u64,
            ),
            ("raw_key_bytes", p.raw_key_bytes, tally.key_bytes),
            ("raw_value_bytes", p.raw_value_bytes, tally.value_bytes),
            ("data_size", p.data_size, tally.data_bytes),
            (
                "index_size",
                p.index_size,
                stored_size(Some(self.footer.index)),
            ),
            (
                "filter_size",
                p.filter_size,
                stored_size(self.footer.filter),
            ),
            ("min_seqno", p.min_seqno, tally.min_seqno),
            ("max_seqno", p.max_seqno, tally.max_seqno),
            ("max_expiry_ms", p.max_expiry_ms, tally.max_expiry_ms),
        ];
        let bad = |reason: String| {
            Error::corruption(
                &*self.path,
                self.footer.properties.offset,
                format!("properties disagree with the data: {reason}"),
            )
        };
        for (name, recorded, found) in numbers {
            if recorded != found {
                return Err(bad(format!("{name} is {recorded}, the data gives {found}")));
            }
        }
        // Unknown (`None`) in a version-1 table: nothing to check.
        if let Some(recorded) = p.num_shadowed
            && recorded != tally.shadowed
        {
            return Err(bad(format!(
                "num_shadowed is {recorded}, the data gives {}",
                tally.shadowed
            )));
        }
        if p.smallest_key != tally.smallest {
            return Err(bad(format!(
                "smallest key is {:?}, the data's is {:?}",
                p.smallest_key, tally.smallest
            )));
        }
        if p.largest_key != tally.largest {
            return Err(bad(format!(
                "largest key is {:?}, the data's is {:?}",
                p.largest_key, tally.largest
            )));
        }
        let wants_filter = p.bloom_bits_per_key > 0 && p.num_entries > 0;
        if wants_filter != self.filter.is_some() {
            return Err(bad(format!(
                "bloom_bits_per_key is {} with {} entries, but the table {} a filter",
                p.bloom_bits_per_key,
                p.num_entries,
                if self.filter.is_some() {
                    "has"
                } else {
                    "lacks"
                }
            )));
        }
        Ok(())
    }
}

/// Statistics gathered from the data blocks, as the builder gathers them.
#[derive(Debug, Default)]
struct Tally {
    entries: u64,
    deletions: u64,
    expiring: u64,
    shadowed: u64,
    key_bytes: u64,
    value_bytes: u64,
    data_bytes: u64,
    min_seqno: u64,
    max_seqno: u64,
    max_expiry_ms: u64,
    smallest: Option<InternalKey>,
    largest: Option<InternalKey>,
}

impl Tally {
    /// `shadowed`: the entry's user key equals the previous entry's.
    fn add(
        &mut self,
        key: InternalKeyRef<'_>,
        value_len: usize,
        expiry: Option<u64>,
        shadowed: bool,
    ) {
        self.shadowed += u64::from(shadowed);
        if self.entries == 0 {
            self.smallest = Some(key.to_owned());
            self.min_seqno = key.seqno;
            self.max_seqno = key.seqno;
        }
        self.entries += 1;
        self.min_seqno = self.min_seqno.min(key.seqno);
        self.max_seqno = self.max_seqno.max(key.seqno);
        self.key_bytes += key.user_key.len() as u64;
        self.value_bytes += value_len as u64;
        match key.kind {
            ValueKind::Delete => self.deletions += 1,
            ValueKind::PutWithExpiry => self.expiring += 1,
            ValueKind::Put => {}
        }
        if let Some(at) = expiry {
            self.max_expiry_ms = self.max_expiry_ms.max(at);
        }
    }
}
