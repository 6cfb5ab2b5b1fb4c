//! Helpers shared by the behaviour tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod compaction;
pub mod faults;

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use strata::manifest::{FileMetadata, MAX_LEVELS, ManifestState, ManifestWriter, VersionEdit};
use strata_core::{FaultFs, FileSystem, InternalKey, MAX_SEQNO, ValueKind};

/// The database directory on a fresh simulated disk.
pub fn fresh_fs() -> (FaultFs, PathBuf) {
    let fs = FaultFs::new();
    let dir = PathBuf::from("/db");
    fs.create_dir_all(&dir).unwrap();
    (fs, dir)
}

/// Metadata for file `number` covering user keys `lo..=hi` (as 4-byte BE numbers).
pub fn meta(number: u64, lo: u32, hi: u32) -> FileMetadata {
    FileMetadata {
        number,
        size: 1000 + number,
        smallest: InternalKey::new(lo.to_be_bytes().to_vec(), number * 10 + 9, ValueKind::Put),
        largest: InternalKey::new(hi.to_be_bytes().to_vec(), number * 10, ValueKind::Delete),
        min_seqno: number * 10,
        max_seqno: number * 10 + 9,
        min_time_ms: 1_700_000_000_000 + number,
        max_time_ms: 1_700_000_000_000 + number * 2,
        num_entries: 50,
        num_tombstones: 5,
        num_expiring: 0,
        max_expiry_ms: 0,
        num_shadowed: Some(3),
    }
}

/// A sequence of valid edits on top of `ManifestState::new()`, mixing flushes
/// into L0, moves and compactions into L1..: `(edit, state after it)`.
pub fn edit_history(n: usize) -> Vec<(VersionEdit, ManifestState)> {
    let mut state = ManifestState::new();
    let mut out = Vec::new();
    let mut next = 2u64;
    for i in 0..n {
        let mut e = VersionEdit::new();
        let number = next;
        next += 1;
        match i % 3 {
            // Flush into L0 (overlapping ranges allowed).
            0 => e.add_file(0, meta(number, (i as u32) * 7 % 50, 60)),
            // Move the oldest L0 file (if any) out, add a fresh L1+ key range.
            1 => {
                if let Some(f) = state.level(0).unwrap().iter().next() {
                    e.remove_file(0, f.number);
                }
                let base = 1000 + (i as u32) * 10;
                e.add_file(
                    1 + (i % (MAX_LEVELS - 1)) as u8,
                    meta(number, base, base + 5),
                );
            }
            // Drop one L1+ file.
            _ => {
                let victim = (1..MAX_LEVELS).find_map(|l| {
                    let f = state.level(l)?.iter().next()?;
                    Some((l as u8, f.number))
                });
                if let Some((l, n)) = victim {
                    e.remove_file(l, n);
                }
            }
        }
        e.next_file_number = Some(next);
        e.log_number = Some(number);
        // Never below the newest seqno of any table (recovery checks it).
        e.last_seqno = Some((i as u64 + 1) * 100);
        state.apply(&e).unwrap();
        state.check_invariants().unwrap();
        out.push((e, state.clone()));
    }
    out
}

/// Creates manifest 1 from the state after `history[0]`, then appends the
/// rest. Returns the manifest's path.
pub fn write_manifest(
    fs: &FaultFs,
    dir: &Path,
    history: &[(VersionEdit, ManifestState)],
) -> PathBuf {
    let mut w = ManifestWriter::create(fs, dir, 1, &history[0].1).unwrap();
    for (e, _) in &history[1..] {
        w.append(e).unwrap();
    }
    w.path().to_path_buf()
}

/// Replaces the content of `path` (synced, durable).
pub fn overwrite(fs: &FaultFs, path: &Path, bytes: &[u8]) {
    let mut f = fs.create(path).unwrap();
    f.append(bytes).unwrap();
    f.sync().unwrap();
}

pub fn kind() -> impl Strategy<Value = ValueKind> {
    prop_oneof![
        Just(ValueKind::Delete),
        Just(ValueKind::Put),
        Just(ValueKind::PutWithExpiry)
    ]
}

/// Any valid `FileMetadata` (keys ordered, ranges ordered, counts consistent).
pub fn any_meta() -> impl Strategy<Value = FileMetadata> {
    (
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 0..12),
        proptest::collection::vec(any::<u8>(), 0..12),
        (0..=MAX_SEQNO, 0..=MAX_SEQNO, kind(), kind()),
        (any::<u64>(), any::<u64>()),
        (any::<u64>(), any::<u64>()),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(
            |(number, size, k1, k2, (s1, s2, kd1, kd2), (t1, t2), (c1, c2), shadowed)| {
                let a = InternalKey::new(k1, s1, kd1);
                let b = InternalKey::new(k2, s2, kd2);
                let (smallest, largest) = if a <= b { (a, b) } else { (b, a) };
                FileMetadata {
                    number,
                    size,
                    smallest,
                    largest,
                    min_seqno: s1.min(s2),
                    max_seqno: s1.max(s2),
                    min_time_ms: t1.min(t2),
                    max_time_ms: t1.max(t2),
                    num_entries: c1.max(c2),
                    num_tombstones: c1.min(c2),
                    num_expiring: (c1.max(c2) - c1.min(c2)) / 2,
                    max_expiry_ms: t1 ^ t2,
                    // Unknown (a tag-5 file) or below the entry count.
                    num_shadowed: shadowed.map(|n| n % c1.max(c2).max(1)),
                }
            },
        )
}

/// Any edit that decodes (fields within their ranges).
pub fn any_edit() -> impl Strategy<Value = VersionEdit> {
    (
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(0..=MAX_SEQNO),
        proptest::collection::vec((0..MAX_LEVELS as u8, any::<u64>()), 0..4),
        proptest::collection::vec((0..MAX_LEVELS as u8, any_meta()), 0..4),
    )
        .prop_map(
            |(log_number, next_file_number, last_seqno, removed, added)| VersionEdit {
                log_number,
                next_file_number,
                last_seqno,
                removed_files: removed,
                added_files: added,
            },
        )
}
