//! Fuzz target bodies (called by the cargo-fuzz package in `/fuzz`). Each
//! takes arbitrary bytes, must never panic, and asserts the consistency a
//! user relies on.

use std::io;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use strata_core::key::split_encoded;
use strata_core::{InternalKey, MAX_SEQNO, RandomAccessFile, ValueKind, compare_internal_keys};

use crate::block::{Block, BlockBuilder};
use crate::bloom::{BloomBuilder, BloomFilter};
use crate::cache::BlockCache;
use crate::inspect::TableInspector;
use crate::reader::TableReader;

/// Entries a fuzz scan visits at most, to bound run time.
const SCAN_LIMIT: usize = 20_000;

/// A read-only in-memory file.
#[derive(Debug, Clone)]
pub struct MemFile(pub Arc<Vec<u8>>);

impl MemFile {
    /// A file holding `data`.
    pub fn new(data: Vec<u8>) -> Self {
        Self(Arc::new(data))
    }
}

impl RandomAccessFile for MemFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|start| self.0.get(start..start.checked_add(buf.len())?))
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "read past end"))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.0.len() as u64)
    }
}

type Entry = (Vec<u8>, Vec<u8>);

/// Opens `data` as a table, scans it both ways, seeks and gets; checks that
/// `verify_table` passes only tables the reader serves whole.
///
/// # Panics
/// If the table's answers are inconsistent: forward scan not strictly
/// increasing, backward scan not its reverse, a seek or get disagreeing with
/// the scan.
pub fn sst_open_and_scan(data: &[u8]) {
    let cache = Arc::new(BlockCache::new(1 << 20));
    let file = Arc::new(MemFile::new(data.to_vec()));
    // What `strata verify` trusts: a table it passes must open and scan.
    let verified = TableInspector::from_file(file.clone(), "fuzz.sst")
        .and_then(|t| t.verify())
        .ok();
    let Ok(table) = TableReader::open(file, "fuzz.sst", 7, Some(cache)) else {
        assert!(
            verified.is_none(),
            "verify_table passed a table that does not open"
        );
        return;
    };
    let _ = table.properties();
    let mut it = table.iter();
    let mut forward: Vec<Entry> = Vec::new();
    it.seek_to_first();
    while it.valid() && forward.len() < SCAN_LIMIT {
        forward.push((it.key().to_vec(), it.value().to_vec()));
        it.next();
    }
    let complete = !it.valid() && it.status().is_ok();
    if !complete {
        assert!(
            verified.is_none() || forward.len() >= SCAN_LIMIT,
            "verify_table passed a table whose scan fails"
        );
        return;
    }
    for pair in forward.windows(2) {
        assert_eq!(
            compare_internal_keys(&pair[0].0, &pair[1].0),
            std::cmp::Ordering::Less,
            "forward scan not increasing"
        );
    }
    let mut backward: Vec<Entry> = Vec::new();
    let mut it = table.iter();
    it.seek_to_last();
    while it.valid() && backward.len() <= forward.len() {
        backward.push((it.key().to_vec(), it.value().to_vec()));
        it.prev();
    }
    if it.status().is_ok() {
        backward.reverse();
        assert_eq!(
            backward, forward,
            "backward scan is not the reverse of forward"
        );
    }
    let probes = [0, forward.len() / 2, forward.len().saturating_sub(1)];
    for &i in &probes {
        let Some((key, value)) = forward.get(i) else {
            continue;
        };
        let mut it = table.iter();
        it.seek_encoded(key);
        if it.status().is_ok() {
            assert!(
                it.valid() && it.key() == key.as_slice(),
                "seek missed a scanned key"
            );
            assert_eq!(it.value(), value.as_slice());
        }
        let user_key = split_encoded(key).0;
        if let Ok(found) = table.get(user_key, MAX_SEQNO) {
            let newest = forward.iter().find(|(k, _)| split_encoded(k).0 == user_key);
            match (found, newest) {
                (Some(v), Some((k, val))) => {
                    assert_eq!(
                        split_encoded(k).1 >> 8,
                        v.seqno,
                        "get found another version"
                    );
                    assert_eq!(v.value.as_ref(), val.as_slice());
                }
                // The filter is trusted (its checksum only stops accidents):
                // a forged one may hide keys from `get`, never from a scan.
                (None, Some(_)) if table.may_contain(user_key) => {
                    panic!("get missed a scanned key the filter admits")
                }
                _ => {}
            }
        }
    }
    let via_entries: Vec<Entry> = table
        .entries(std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)
        .take(SCAN_LIMIT)
        .map_while(Result::ok)
        .map(|(k, v)| (k.encode(), v.to_vec()))
        .collect();
    if forward.len() < SCAN_LIMIT && via_entries.len() == forward.len() {
        assert_eq!(via_entries, forward);
    }
    if let Some(check) = verified
        && forward.len() < SCAN_LIMIT
    {
        assert_eq!(
            check.entries,
            forward.len() as u64,
            "verify_table passed a table whose scan differs"
        );
    }
}

/// Decodes `data` as a block and drives an iterator over it; then builds a
/// block from entries derived from `data` and checks it reads back exactly.
///
/// # Panics
/// If a block written by `BlockBuilder` does not read back as written.
pub fn block_decode(data: &[u8]) {
    let path: Arc<Path> = Arc::from(Path::new("fuzz.block"));
    if let Ok(block) = Block::decode(Bytes::copy_from_slice(data), Arc::clone(&path), 0) {
        // A block that validates reads whole, and the same in both
        // directions; one that only decodes must merely not panic.
        let validated = block.validate().is_ok();
        let mut it = block.iter(compare_internal_keys);
        it.seek_to_first();
        let mut forward: Vec<Entry> = Vec::new();
        while it.valid() && forward.len() < SCAN_LIMIT {
            forward.push((it.key().to_vec(), it.value().to_vec()));
            let _ = it.value_bytes();
            it.next();
        }
        let forward_ok = it.status().is_ok() && !it.valid();
        assert!(
            !validated || forward_ok || forward.len() >= SCAN_LIMIT,
            "a validated block failed a forward scan: {:?}",
            it.status()
        );
        it.seek_to_last();
        let mut backward: Vec<Entry> = Vec::new();
        while it.valid() && backward.len() < SCAN_LIMIT {
            backward.push((it.key().to_vec(), it.value().to_vec()));
            it.prev();
        }
        assert!(
            !validated || it.status().is_ok(),
            "a validated block failed a backward scan: {:?}",
            it.status()
        );
        if validated && forward_ok && forward.len() < SCAN_LIMIT {
            backward.reverse();
            assert_eq!(
                forward, backward,
                "decoded block reads differently backwards"
            );
        }
        for target in data.chunks(9).take(8) {
            it.seek(target);
            if it.valid() {
                it.prev();
            }
        }
        let _ = it.status();
    }

    // Round trip: user keys from 3-byte chunks, deduplicated and sorted,
    // each stored as one version (so internal order is user-key order).
    let restart = usize::from(data.first().copied().unwrap_or(1) % 8) + 1;
    let mut user_entries: Vec<Entry> = data
        .chunks(3)
        .map(|c| (c.to_vec(), c.iter().rev().copied().collect()))
        .collect();
    user_entries.sort();
    user_entries.dedup_by(|a, b| a.0 == b.0);
    let entries: Vec<Entry> = user_entries
        .into_iter()
        .map(|(k, v)| (InternalKey::new(k, 1, ValueKind::Put).encode(), v))
        .collect();
    let mut builder = BlockBuilder::new(restart);
    for (k, v) in &entries {
        builder.add(k, v);
    }
    let raw = Bytes::copy_from_slice(builder.finish());
    let block = match Block::decode(raw, path, 0) {
        Ok(b) => b,
        Err(e) => panic!("built block does not decode: {e}"),
    };
    let mut it = block.iter(compare_internal_keys);
    it.seek_to_first();
    let mut got = Vec::new();
    while it.valid() {
        got.push((it.key().to_vec(), it.value().to_vec()));
        it.next();
    }
    assert!(it.status().is_ok());
    assert_eq!(got, entries, "block does not read back as written");
    it.seek_to_last();
    let mut back = Vec::new();
    while it.valid() {
        back.push((it.key().to_vec(), it.value().to_vec()));
        it.prev();
    }
    back.reverse();
    assert_eq!(back, entries, "backward scan differs");
    for (k, _) in entries.iter().step_by(7) {
        it.seek(k);
        assert!(it.valid() && it.key() == k.as_slice(), "seek missed a key");
    }
}

/// Decodes `data` as a filter block and probes it; then builds a filter over
/// keys derived from `data` and checks it has no false negatives.
///
/// # Panics
/// On a false negative.
pub fn bloom_probe(data: &[u8]) {
    if let Ok(filter) = BloomFilter::decode_from(Bytes::copy_from_slice(data), Path::new("f"), 0) {
        for key in data.chunks(5).take(64) {
            let _ = filter.may_contain(key);
        }
        let _ = filter.may_contain(b"");
    }
    let bits = u32::from(data.first().copied().unwrap_or(10) % 24) + 1;
    let mut builder = BloomBuilder::new(bits);
    let keys: Vec<&[u8]> = data.get(1..).unwrap_or_default().chunks(4).collect();
    for key in &keys {
        builder.add(key);
    }
    let block = Bytes::from(builder.finish());
    let filter = match BloomFilter::decode_from(block, Path::new("f"), 0) {
        Ok(f) => f,
        Err(e) => panic!("built filter does not decode: {e}"),
    };
    for key in &keys {
        assert!(filter.may_contain(key), "false negative for {key:?}");
    }
}

#[cfg(test)]
mod tests;
