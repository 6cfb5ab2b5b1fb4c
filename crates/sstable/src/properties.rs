//! [`TableProperties`]: statistics about a table, stored in its properties
//! block so compaction can plan without reading data blocks.
//!
//! Encoding (version 2), inside the block:
//!
//! ```text
//! version            varint32 (= 2; 1 is still read)
//! 18 × varint64      num_entries, num_deletions, num_expiring, num_data_blocks,
//!                    raw_key_bytes, raw_value_bytes, data_size, index_size,
//!                    filter_size, min_seqno, max_seqno, min_time_ms,
//!                    max_time_ms, max_expiry_ms, block_size, restart_interval,
//!                    bloom_bits_per_key, num_shadowed
//! compression        u8 (CompressionType discriminant)
//! smallest_key       u8 present flag (0/1), then varint64 length ‖ encoded internal key if 1
//! largest_key        same
//! ```
//!
//! Version 1 is the same layout with the last number reserved (written as
//! 0): such a table's `num_shadowed` is unknown (`None`), not 0.
//!
//! The block must be consumed exactly; keys are present iff `num_entries > 0`.

use std::path::Path;

use strata_core::coding::{put_length_prefixed, put_varint32, put_varint64};
use strata_core::{Error, InternalKey, Result, SliceReader};

use crate::options::CompressionType;

/// Properties encoding versions; never reuse a number.
/// 1: first release; the 18th number is reserved (0).
/// 2: the 18th number is `num_shadowed`.
const PROPERTIES_VERSION: u32 = 2;
/// The oldest version still read.
const PROPERTIES_VERSION_V1: u32 = 1;

/// Statistics of one table. Read them with
/// [`TableReader::properties`](crate::TableReader::properties); the builder
/// returns them from [`TableBuilder::finish`](crate::TableBuilder::finish).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TableProperties {
    /// Entries (all kinds).
    pub num_entries: u64,
    /// Entries of kind `Delete` (tombstones).
    pub num_deletions: u64,
    /// Entries of kind `PutWithExpiry`.
    pub num_expiring: u64,
    /// Entries whose user key equals the previous entry's: older versions
    /// of a key kept below a newer one (for a snapshot, or because a merge
    /// could not drop them). `None` for a table written before properties
    /// version 2, whose count is unknown.
    pub num_shadowed: Option<u64>,
    /// Data blocks.
    pub num_data_blocks: u64,
    /// Sum of user key lengths over all entries.
    pub raw_key_bytes: u64,
    /// Sum of stored value lengths over all entries (expiry prefixes included).
    pub raw_value_bytes: u64,
    /// Bytes of all data blocks as stored, trailers included.
    pub data_size: u64,
    /// Bytes of the index block as stored, trailer included.
    pub index_size: u64,
    /// Bytes of the filter block as stored, trailer included (0: no filter).
    pub filter_size: u64,
    /// Smallest sequence number (0 for an empty table).
    pub min_seqno: u64,
    /// Largest sequence number (0 for an empty table).
    pub max_seqno: u64,
    /// Start of the write-time range of the data, unix ms (from the builder's options).
    pub min_time_ms: u64,
    /// End of the write-time range of the data, unix ms.
    pub max_time_ms: u64,
    /// Latest expiry among `PutWithExpiry` entries, unix ms (0 if none).
    pub max_expiry_ms: u64,
    /// The `block_size` option the table was built with.
    pub block_size: u64,
    /// The `restart_interval` option the table was built with.
    pub restart_interval: u64,
    /// Bloom bits per key (0: no filter).
    pub bloom_bits_per_key: u64,
    /// The compression option the table was built with (individual blocks may
    /// still be stored uncompressed).
    pub compression: CompressionType,
    /// Smallest internal key; `None` iff the table is empty.
    pub smallest_key: Option<InternalKey>,
    /// Largest internal key; `None` iff the table is empty.
    pub largest_key: Option<InternalKey>,
}

impl TableProperties {
    /// Appends the encoding to `dst`.
    pub(crate) fn encode_into(&self, dst: &mut Vec<u8>) {
        put_varint32(dst, PROPERTIES_VERSION);
        for v in self.numbers() {
            put_varint64(dst, v);
        }
        dst.push(self.compression as u8);
        for key in [&self.smallest_key, &self.largest_key] {
            match key {
                Some(k) => {
                    dst.push(1);
                    put_length_prefixed(dst, &k.encode());
                }
                None => dst.push(0),
            }
        }
    }

    fn numbers(&self) -> [u64; 18] {
        [
            self.num_entries,
            self.num_deletions,
            self.num_expiring,
            self.num_data_blocks,
            self.raw_key_bytes,
            self.raw_value_bytes,
            self.data_size,
            self.index_size,
            self.filter_size,
            self.min_seqno,
            self.max_seqno,
            self.min_time_ms,
            self.max_time_ms,
            self.max_expiry_ms,
            self.block_size,
            self.restart_interval,
            self.bloom_bits_per_key,
            // Only a version-1 table lacks the count, and it is never re-encoded.
            self.num_shadowed.unwrap_or(0),
        ]
    }

    /// Decodes a properties block read from `offset` of `file`.
    ///
    /// # Errors
    /// [`Error::Corruption`] at `offset` for an unknown version, truncated or
    /// trailing bytes, an unknown compression type, undecodable keys, or
    /// inconsistent fields (keys absent in a non-empty table, smallest > largest).
    pub(crate) fn decode_from(src: &[u8], file: &Path, offset: u64) -> Result<Self> {
        let bad = |reason: &str| Error::corruption(file, offset, format!("properties: {reason}"));
        let mut r = SliceReader::new(src);
        let version = r.varint32().ok_or_else(|| bad("truncated version"))?;
        if version != PROPERTIES_VERSION && version != PROPERTIES_VERSION_V1 {
            return Err(bad(&format!("unknown version {version}")));
        }
        let mut n = [0u64; 18];
        for v in &mut n {
            *v = r.varint64().ok_or_else(|| bad("truncated field"))?;
        }
        let compression = r
            .u8()
            .and_then(CompressionType::from_u8)
            .ok_or_else(|| bad("bad compression type"))?;
        let mut keys = [None, None];
        for key in &mut keys {
            match r.u8() {
                Some(0) => {}
                Some(1) => {
                    let enc = r.length_prefixed().ok_or_else(|| bad("truncated key"))?;
                    *key = Some(InternalKey::decode_from(enc).ok_or_else(|| bad("bad key"))?);
                }
                _ => return Err(bad("bad key flag")),
            }
        }
        if !r.is_empty() {
            return Err(bad("trailing bytes"));
        }
        let [smallest_key, largest_key] = keys;
        let [
            num_entries,
            num_deletions,
            num_expiring,
            num_data_blocks,
            raw_key_bytes,
            raw_value_bytes,
            data_size,
            index_size,
            filter_size,
            min_seqno,
            max_seqno,
            min_time_ms,
            max_time_ms,
            max_expiry_ms,
            block_size,
            restart_interval,
            bloom_bits_per_key,
            shadowed_or_reserved,
        ] = n;
        let num_shadowed = (version >= PROPERTIES_VERSION).then_some(shadowed_or_reserved);
        let props = Self {
            num_entries,
            num_deletions,
            num_expiring,
            num_shadowed,
            num_data_blocks,
            raw_key_bytes,
            raw_value_bytes,
            data_size,
            index_size,
            filter_size,
            min_seqno,
            max_seqno,
            min_time_ms,
            max_time_ms,
            max_expiry_ms,
            block_size,
            restart_interval,
            bloom_bits_per_key,
            compression,
            smallest_key,
            largest_key,
        };
        let consistent = match (&props.smallest_key, &props.largest_key) {
            (Some(lo), Some(hi)) => props.num_entries > 0 && lo <= hi && min_seqno <= max_seqno,
            (None, None) => props.num_entries == 0,
            _ => false,
        };
        // The first entry has no predecessor: at most `num_entries - 1` are shadowed.
        let shadowed_fits = num_shadowed.is_none_or(|n| n < num_entries.max(1));
        if !consistent
            || num_deletions.saturating_add(num_expiring) > num_entries
            || num_data_blocks > num_entries
            || !shadowed_fits
        {
            return Err(bad("inconsistent fields"));
        }
        Ok(props)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::ValueKind;

    fn sample() -> TableProperties {
        TableProperties {
            num_entries: 10,
            num_deletions: 2,
            num_expiring: 1,
            num_shadowed: Some(4),
            num_data_blocks: 3,
            raw_key_bytes: 100,
            raw_value_bytes: 1000,
            data_size: 1200,
            index_size: 60,
            filter_size: 20,
            min_seqno: 5,
            max_seqno: 99,
            min_time_ms: 1,
            max_time_ms: 2,
            max_expiry_ms: 77,
            block_size: 4096,
            restart_interval: 16,
            bloom_bits_per_key: 10,
            compression: CompressionType::Lz4,
            smallest_key: Some(InternalKey::new(&b"a"[..], 9, ValueKind::Put)),
            largest_key: Some(InternalKey::new(&b"z"[..], 5, ValueKind::Delete)),
        }
    }

    #[test]
    fn round_trip_full_and_empty() {
        let empty = TableProperties {
            num_shadowed: Some(0),
            ..TableProperties::default()
        };
        for p in [sample(), empty] {
            let mut buf = Vec::new();
            p.encode_into(&mut buf);
            assert_eq!(
                TableProperties::decode_from(&buf, Path::new("p"), 0).unwrap(),
                p
            );
        }
    }

    #[test]
    fn version_1_reads_with_an_unknown_shadowed_count() {
        let mut buf = Vec::new();
        sample().encode_into(&mut buf);
        assert_eq!(buf[0], 2);
        // Version 1: same layout, the 18th number reserved (its value ignored).
        buf[0] = 1;
        let p = TableProperties::decode_from(&buf, Path::new("p"), 0).unwrap();
        assert_eq!(p.num_shadowed, None);
        assert_eq!(
            p,
            TableProperties {
                num_shadowed: None,
                ..sample()
            }
        );
        buf[0] = 3;
        assert!(TableProperties::decode_from(&buf, Path::new("p"), 0).is_err());
    }

    #[test]
    fn more_shadowed_entries_than_entries_after_the_first_is_corruption() {
        for (entries, shadowed, ok) in [(10, 9, true), (10, 10, false), (0, 0, true)] {
            let mut p = if entries == 0 {
                TableProperties {
                    num_shadowed: Some(0),
                    ..TableProperties::default()
                }
            } else {
                sample()
            };
            p.num_entries = entries;
            p.num_shadowed = Some(shadowed);
            let mut buf = Vec::new();
            p.encode_into(&mut buf);
            let got = TableProperties::decode_from(&buf, Path::new("p"), 0);
            assert_eq!(got.is_ok(), ok, "{entries} entries, {shadowed} shadowed");
        }
    }

    #[test]
    fn truncation_and_trailing_bytes_are_corruption() {
        let mut buf = Vec::new();
        sample().encode_into(&mut buf);
        for len in 0..buf.len() {
            let err = TableProperties::decode_from(&buf[..len], Path::new("p"), 8).unwrap_err();
            assert!(matches!(err, Error::Corruption { offset: 8, .. }));
        }
        buf.push(0);
        assert!(TableProperties::decode_from(&buf, Path::new("p"), 8).is_err());
    }

    #[test]
    fn keys_missing_in_non_empty_table_are_corruption() {
        let mut p = sample();
        p.largest_key = None;
        let mut buf = Vec::new();
        p.encode_into(&mut buf);
        assert!(TableProperties::decode_from(&buf, Path::new("p"), 0).is_err());
    }
}
