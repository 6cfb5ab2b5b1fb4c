//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use strata_core::{FaultFs, FileSystem, InternalKey, ValueKind};
use strata_sstable::fuzzing::MemFile;
use strata_sstable::{BlockCache, TableBuilder, TableOptions, TableReader, TableSummary};

/// Builds a table from `entries` (already sorted) and returns its bytes.
pub fn build_bytes(
    entries: &[(InternalKey, Vec<u8>)],
    opts: TableOptions,
) -> (Vec<u8>, TableSummary) {
    let fs = FaultFs::new();
    let path = Path::new("/t.sst");
    let mut b = TableBuilder::new(fs.create(path).unwrap(), path, opts).unwrap();
    for (k, v) in entries {
        b.add(k, v).unwrap();
    }
    let summary = b.finish().unwrap();
    let bytes = fs.read_all(path).unwrap();
    assert_eq!(bytes.len() as u64, summary.file_size);
    (bytes, summary)
}

/// Opens table bytes held in memory.
pub fn open_bytes(
    bytes: Vec<u8>,
    cache: Option<Arc<BlockCache>>,
) -> strata_core::Result<TableReader> {
    TableReader::open(Arc::new(MemFile::new(bytes)), "/t.sst", 1, cache)
}

/// Builds and opens.
pub fn build_table(entries: &[(InternalKey, Vec<u8>)], opts: TableOptions) -> TableReader {
    open_bytes(build_bytes(entries, opts).0, None).unwrap()
}

/// A deterministic data set: `n` user keys with 1..=3 versions each, mixed kinds.
pub fn sample_entries(n: usize, value_len: usize) -> Vec<(InternalKey, Vec<u8>)> {
    let mut out = Vec::new();
    let mut seq = 1_000_000u64;
    for i in 0..n {
        let user = format!("key{:06}", i * 7);
        let versions = 1 + i % 3;
        for v in 0..versions {
            seq -= 1;
            let kind = match (i + v) % 5 {
                0 => ValueKind::Delete,
                1 => ValueKind::PutWithExpiry,
                _ => ValueKind::Put,
            };
            let value = match kind {
                ValueKind::Delete => Vec::new(),
                ValueKind::PutWithExpiry => {
                    strata_core::ExpiringValue::encode(1_000 + i as u64, &vec![b'e'; value_len])
                }
                ValueKind::Put => format!("{user}-v{v}-")
                    .repeat(value_len / 10 + 1)
                    .into_bytes(),
            };
            out.push((
                InternalKey::new(Bytes::from(user.clone()), seq, kind),
                value,
            ));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Forward scan of a whole table as (key, value) pairs.
pub fn scan(table: &TableReader) -> strata_core::Result<Vec<(InternalKey, Vec<u8>)>> {
    let mut it = table.iter();
    it.seek_to_first();
    let mut out = Vec::new();
    while it.valid() {
        let k = it.internal_key().expect("valid key").to_owned();
        out.push((k, it.value().to_vec()));
        it.next();
    }
    it.status()?;
    Ok(out)
}

/// Backward scan, returned in forward order.
pub fn scan_back(table: &TableReader) -> strata_core::Result<Vec<(InternalKey, Vec<u8>)>> {
    let mut it = table.iter();
    it.seek_to_last();
    let mut out = Vec::new();
    while it.valid() {
        let k = it.internal_key().expect("valid key").to_owned();
        out.push((k, it.value().to_vec()));
        it.prev();
    }
    it.status()?;
    out.reverse();
    Ok(out)
}
