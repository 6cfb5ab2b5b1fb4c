//! Shared workload pieces for strata's criterion benches: deterministic key
//! and value generators and a helper that writes a table to a real file;
//! the whole-database workloads of the `engine-workloads` binary
//! ([`workloads`]); the db_bench- and YCSB-style workloads over any store
//! ([`db_bench`]) that `strata bench` runs; and the peer comparison that
//! runs them on strata, fjall and RocksDB ([`compare`]).
//!
//! Keys are 16 bytes and values 100 bytes unless a bench says otherwise, the
//! shapes `db_bench` and the peer comparisons use.
#![forbid(unsafe_code)]

pub mod compare;
pub mod db_bench;
pub mod workloads;

use std::path::{Path, PathBuf};

use strata_core::{FileSystem, InternalKey, Result, StdFs, ValueKind};
use strata_sstable::{TableBuilder, TableOptions, TableSummary};

/// Bytes of a generated key.
pub const KEY_LEN: usize = 16;
/// Bytes of a generated value.
pub const VALUE_LEN: usize = 100;

/// SplitMix64: a deterministic, well-mixed stand-in for random numbers.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The `i`-th key in sorted order: 16 ASCII digits, so `key(i) < key(i + 1)`.
pub fn sorted_key(i: u64) -> [u8; KEY_LEN] {
    let mut k = [b'0'; KEY_LEN];
    let digits = format!("{i:016}");
    k.copy_from_slice(&digits.as_bytes()[..KEY_LEN]);
    k
}

/// A 100-byte value derived from `i`, incompressible enough that lz4 does
/// not flatter the numbers.
pub fn value(i: u64) -> [u8; VALUE_LEN] {
    let mut v = [0u8; VALUE_LEN];
    for (j, chunk) in v.chunks_mut(8).enumerate() {
        let word = mix(i.wrapping_mul(31).wrapping_add(j as u64)).to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
    v
}

/// Writes a table of `entries` sorted keys (`sorted_key(0..entries)`, one
/// `Put` each, seqno = index + 1) to `dir/name` on the real file system.
///
/// # Errors
/// Any I/O error from writing the table.
pub fn write_table(
    dir: &Path,
    name: &str,
    entries: u64,
    options: TableOptions,
) -> Result<(PathBuf, TableSummary)> {
    let path = dir.join(name);
    let mut builder = TableBuilder::new(StdFs.create(&path)?, &path, options)?;
    for i in 0..entries {
        let key = InternalKey::new(sorted_key(i).to_vec(), i + 1, ValueKind::Put);
        builder.add(&key, &value(i))?;
    }
    let summary = builder.finish()?;
    Ok((path, summary))
}
