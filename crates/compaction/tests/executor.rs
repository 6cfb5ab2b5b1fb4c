//! The compaction executor against a model: what every snapshot (and the
//! latest read) sees is unchanged, obsolete versions and needless tombstones
//! are gone, outputs are well formed, and a failed job leaves no file behind.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;
use strata_compaction::{CompactionJob, CompactionOutput, run_compaction};
use strata_core::checksum::{crc32c, crc32c_extend, mask};
use strata_core::{
    Error, ExpiringValue, FaultFs, FileSystem, FsOp, InternalKey, MAX_SEQNO, Result, ValueKind,
};
use strata_sstable::{BlockCache, TableBuilder, TableOptions, TableReader};

const DIR: &str = "/db";
/// Output file numbers start here; inputs use small numbers.
const FIRST_OUTPUT: u64 = 1000;

/// One version of a key, with its stored value (expiry prefix included).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    key: InternalKey,
    value: Vec<u8>,
}

impl Version {
    fn new(user_key: &[u8], seqno: u64, kind: ValueKind, value: Vec<u8>) -> Self {
        Self {
            key: InternalKey::new(user_key.to_vec(), seqno, kind),
            value,
        }
    }

    /// The user value a read at `now_ms` returns, `None` if it reads as absent.
    fn read(&self, now_ms: u64) -> Option<Vec<u8>> {
        match self.key.kind {
            ValueKind::Delete => None,
            ValueKind::Put => Some(self.value.clone()),
            ValueKind::PutWithExpiry => {
                let (at, v) = ExpiringValue::decode(&self.value).unwrap();
                (!ExpiringValue::is_expired(at, now_ms)).then(|| v.to_vec())
            }
        }
    }
}

fn table_path(number: u64) -> PathBuf {
    Path::new(DIR).join(format!("{number:06}.sst"))
}

fn small_blocks() -> TableOptions {
    TableOptions::default().block_size(64).restart_interval(2)
}

/// Writes `versions` (any order) as table `number` and opens it.
fn write_table(fs: &FaultFs, number: u64, versions: &[Version], opts: TableOptions) -> TableReader {
    let mut sorted = versions.to_vec();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let path = table_path(number);
    let mut b = TableBuilder::new(fs.create(&path).unwrap(), &path, opts).unwrap();
    for v in &sorted {
        b.add(&v.key, &v.value).unwrap();
    }
    b.finish().unwrap();
    open_table(fs, number, None)
}

fn open_table(fs: &FaultFs, number: u64, cache: Option<Arc<BlockCache>>) -> TableReader {
    let path = table_path(number);
    TableReader::open(fs.open(&path).unwrap(), &path, number, cache).unwrap()
}

fn read_table(fs: &FaultFs, path: &Path) -> Vec<Version> {
    let t = TableReader::open(fs.open(path).unwrap(), path, 9999, None).unwrap();
    let mut it = t.iter();
    it.seek_to_first();
    let mut out = Vec::new();
    while it.valid() {
        out.push(Version {
            key: InternalKey::decode_from(it.key()).unwrap(),
            value: it.value().to_vec(),
        });
        it.next();
    }
    it.status().unwrap();
    out
}

/// Knobs of one run besides the inputs.
struct Params<'a> {
    snapshots: &'a [u64],
    now_ms: u64,
    older: &'a (dyn Fn(&[u8]) -> bool + Sync),
    target: u64,
}

fn compact(fs: &FaultFs, inputs: Vec<TableReader>, p: &Params<'_>) -> Result<CompactionOutput> {
    let mut next = FIRST_OUTPUT;
    let mut new_output = || {
        let number = next;
        next += 1;
        let path = table_path(number);
        let file = fs.create(&path)?;
        Ok((number, path, file))
    };
    run_compaction(CompactionJob {
        inputs,
        snapshots: p.snapshots,
        now_ms: p.now_ms,
        older_data_may_exist: p.older,
        target_file_size: p.target,
        table_options: small_blocks(),
        new_output: &mut new_output,
        fs,
        dir: Path::new(DIR),
    })
}

/// File names in the directory.
fn listing(fs: &FaultFs) -> Vec<String> {
    fs.list(Path::new(DIR)).unwrap()
}

/// Names of the tables numbered below the first output.
fn input_names(fs: &FaultFs) -> Vec<String> {
    listing(fs)
        .into_iter()
        .filter(|n| n.as_str() < format!("{FIRST_OUTPUT:06}").as_str())
        .collect()
}

/// What a read of `user_key` at `snapshot` and `now_ms` returns from `versions`.
fn model_read(
    versions: &[Version],
    user_key: &[u8],
    snapshot: u64,
    now_ms: u64,
) -> Option<Vec<u8>> {
    versions
        .iter()
        .filter(|v| &v.key.user_key[..] == user_key && v.key.seqno <= snapshot)
        .max_by_key(|v| v.key.seqno)
        .and_then(|v| v.read(now_ms))
}

// ---------------------------------------------------------------- model test

#[derive(Debug, Clone)]
struct Op {
    user_key: Vec<u8>,
    kind: ValueKind,
    value: Vec<u8>,
    /// Expiry offset from 1000 ms, for `PutWithExpiry`.
    expiry: u64,
    table: usize,
    /// Orders the writes: seqnos are assigned by rank.
    order: u32,
}

fn op_strategy(tables: usize) -> impl Strategy<Value = Op> {
    (
        proptest::collection::vec(b'a'..b'd', 1..4),
        prop_oneof![
            3 => Just(ValueKind::Put),
            2 => Just(ValueKind::Delete),
            2 => Just(ValueKind::PutWithExpiry)
        ],
        proptest::collection::vec(any::<u8>(), 0..24),
        0u64..200,
        0..tables,
        any::<u32>(),
    )
        .prop_map(|(user_key, kind, value, expiry, table, order)| Op {
            user_key,
            kind,
            value,
            expiry,
            table,
            order,
        })
}

#[derive(Debug, Clone)]
struct Case {
    tables: usize,
    ops: Vec<Op>,
    /// Snapshot candidates, mapped into `0..=ops.len() + 1`.
    snapshots: Vec<u32>,
    now_ms: u64,
    /// Keys whose older data may exist below; those with `true` really have some.
    older: Vec<(Vec<u8>, bool)>,
    target: u64,
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (1usize..=5)
        .prop_flat_map(|tables| {
            (
                Just(tables),
                proptest::collection::vec(op_strategy(tables), 1..80),
                proptest::collection::vec(any::<u32>(), 0..4),
                1000u64..1200,
                proptest::collection::vec(
                    (proptest::collection::vec(b'a'..b'd', 1..4), any::<bool>()),
                    0..4,
                ),
                prop_oneof![Just(0u64), Just(300), Just(900), Just(1 << 20)],
            )
        })
        .prop_map(|(tables, ops, snapshots, now_ms, older, target)| Case {
            tables,
            ops,
            snapshots,
            now_ms,
            older,
            target,
        })
}

/// The case's versions, with distinct seqnos `1..=n` in a random order, per table.
fn versions_of(case: &Case) -> Vec<(usize, Version)> {
    let mut idx: Vec<usize> = (0..case.ops.len()).collect();
    idx.sort_by_key(|&i| (case.ops[i].order, i));
    let mut out = Vec::new();
    for (rank, &i) in idx.iter().enumerate() {
        let op = &case.ops[i];
        let value = match op.kind {
            ValueKind::Delete => Vec::new(),
            ValueKind::Put => op.value.clone(),
            ValueKind::PutWithExpiry => ExpiringValue::encode(1000 + op.expiry, &op.value),
        };
        let v = Version::new(&op.user_key, rank as u64 + 1, op.kind, value);
        out.push((op.table, v));
    }
    out
}

/// Checks the outputs of one run against the inputs; returns the output versions.
fn check_outputs(
    fs: &FaultFs,
    out: &CompactionOutput,
    inputs: &[Version],
    below: &[Version],
    p: &Params<'_>,
) -> Vec<Version> {
    // Files: sorted inside, non-overlapping, split only when full, at user-key boundaries.
    let mut outputs = Vec::new();
    let mut prev_last: Option<Vec<u8>> = None;
    for (i, f) in out.files.iter().enumerate() {
        let entries = read_table(fs, &f.path);
        assert!(!entries.is_empty(), "an output holds at least one entry");
        assert_eq!(entries.len() as u64, f.summary.properties.num_entries);
        assert_eq!(fs.file_len(&f.path), Some(f.summary.file_size));
        assert!(entries.windows(2).all(|w| w[0].key < w[1].key));
        let first = entries[0].key.user_key.to_vec();
        if let Some(prev) = &prev_last {
            assert!(*prev < first, "outputs overlap or split a user key");
        }
        prev_last = Some(entries.last().unwrap().key.user_key.to_vec());
        if i + 1 < out.files.len() {
            assert!(
                f.summary.file_size >= p.target,
                "split before the target size"
            );
        }
        outputs.extend(entries);
    }
    assert_eq!(out.entries_in, inputs.len() as u64);
    assert_eq!(out.entries_out, outputs.len() as u64);
    assert_eq!(
        out.bytes_written,
        out.files.iter().map(|f| f.summary.file_size).sum::<u64>()
    );
    let deletes = |vs: &[Version]| {
        vs.iter()
            .filter(|v| v.key.kind == ValueKind::Delete)
            .count() as u64
    };
    assert_eq!(out.tombstones_dropped, deletes(inputs) - deletes(&outputs));
    assert!(out.tombstones_dropped + out.expired_dropped <= out.entries_in - out.entries_out);

    // No key keeps more versions than there are readers to see them.
    let keys: BTreeSet<Vec<u8>> = inputs
        .iter()
        .chain(below)
        .map(|v| v.key.user_key.to_vec())
        .collect();
    for k in &keys {
        let n = outputs.iter().filter(|v| &v.key.user_key[..] == k).count();
        assert!(n <= p.snapshots.len() + 1, "{n} versions of {k:?} kept");
    }

    // Every reader sees the same thing, now and later.
    let before: Vec<Version> = inputs.iter().chain(below).cloned().collect();
    let after: Vec<Version> = outputs.iter().chain(below).cloned().collect();
    let reads = p.snapshots.iter().copied().chain([MAX_SEQNO]);
    for s in reads {
        for now in [p.now_ms, p.now_ms + 150, u64::MAX] {
            for k in &keys {
                assert_eq!(
                    model_read(&before, k, s, now),
                    model_read(&after, k, s, now),
                    "key {k:?} at snapshot {s}, time {now}"
                );
            }
        }
    }
    let mut expected: Vec<String> = input_names(fs);
    expected.extend(
        out.files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned()),
    );
    expected.sort();
    assert_eq!(listing(fs), expected, "stray files in the directory");
    outputs
}

fn run_case(case: &Case) {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new(DIR)).unwrap();
    let versions = versions_of(case);
    let n = versions.len() as u64;
    let all_inputs: Vec<Version> = versions.iter().map(|(_, v)| v.clone()).collect();
    // Inputs ordered newest data first (by their newest seqno; empty ones last).
    let mut tables: Vec<(u64, usize)> = (0..case.tables)
        .map(|t| {
            let newest = versions
                .iter()
                .filter(|(i, _)| *i == t)
                .map(|(_, v)| v.key.seqno)
                .max();
            (newest.unwrap_or(0), t)
        })
        .collect();
    tables.sort_by(|a, b| b.cmp(a));
    let open_inputs = |fs: &FaultFs| -> Vec<TableReader> {
        tables
            .iter()
            .map(|&(_, t)| open_table(fs, t as u64 + 1, None))
            .collect()
    };
    for t in 0..case.tables {
        let vs: Vec<Version> = versions
            .iter()
            .filter(|(i, _)| *i == t)
            .map(|(_, v)| v.clone())
            .collect();
        write_table(&fs, t as u64 + 1, &vs, small_blocks());
    }

    let mut snapshots: Vec<u64> = case
        .snapshots
        .iter()
        .map(|&s| u64::from(s) % (n + 2))
        .collect();
    snapshots.sort_unstable();
    snapshots.dedup();
    let older: BTreeSet<Vec<u8>> = case.older.iter().map(|(k, _)| k.clone()).collect();
    let below: Vec<Version> = case
        .older
        .iter()
        .filter(|(_, real)| *real)
        .map(|(k, _)| Version::new(k, 0, ValueKind::Put, b"below".to_vec()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let pred = |k: &[u8]| older.contains(k);
    let p = Params {
        snapshots: &snapshots,
        now_ms: case.now_ms,
        older: &pred,
        target: case.target,
    };
    let out = compact(&fs, open_inputs(&fs), &p).unwrap();
    let outputs = check_outputs(&fs, &out, &all_inputs, &below, &p);
    for f in &out.files {
        fs.remove(&f.path).unwrap();
    }
    drop(outputs);

    // Bottom of the tree, no snapshot: one live version per key, nothing absent.
    let nothing_below = |_: &[u8]| false;
    let p = Params {
        snapshots: &[],
        now_ms: case.now_ms,
        older: &nothing_below,
        target: case.target,
    };
    let out = compact(&fs, open_inputs(&fs), &p).unwrap();
    let outputs = check_outputs(&fs, &out, &all_inputs, &[], &p);
    let mut seen = BTreeSet::new();
    for v in &outputs {
        assert!(seen.insert(v.key.user_key.clone()), "two versions of a key");
        assert!(v.read(case.now_ms).is_some(), "{v:?} reads as absent");
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key
            .cmp(&other.key)
            .then_with(|| self.value.cmp(&other.value))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn every_reader_sees_the_same_data_after_compaction(case in case_strategy()) {
        run_case(&case);
    }
}

// ------------------------------------------------------------ fixed examples

fn fresh_fs() -> FaultFs {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new(DIR)).unwrap();
    fs
}

fn put(k: &str, seqno: u64, v: &str) -> Version {
    Version::new(k.as_bytes(), seqno, ValueKind::Put, v.as_bytes().to_vec())
}

fn nothing_below(_: &[u8]) -> bool {
    false
}

fn defaults(target: u64) -> Params<'static> {
    Params {
        snapshots: &[],
        now_ms: 0,
        older: &nothing_below,
        target,
    }
}

#[test]
fn the_earlier_input_wins_a_version_present_twice() {
    let fs = fresh_fs();
    let newer = write_table(&fs, 1, &[put("k", 5, "new copy")], small_blocks());
    let older = write_table(
        &fs,
        2,
        &[put("k", 5, "old copy"), put("k", 3, "x")],
        small_blocks(),
    );
    let out = compact(&fs, vec![newer, older], &defaults(1 << 20)).unwrap();
    assert_eq!(
        read_table(&fs, &out.files[0].path),
        [put("k", 5, "new copy")]
    );
    assert_eq!((out.entries_in, out.entries_out), (3, 1));
}

#[test]
fn nothing_to_write_creates_no_file_and_syncs_nothing() {
    let fs = fresh_fs();
    let del = Version::new(b"k", 7, ValueKind::Delete, Vec::new());
    let a = write_table(&fs, 1, &[del], small_blocks());
    let b = write_table(&fs, 2, &[put("k", 2, "v")], small_blocks());
    let syncs = fs.op_count(FsOp::SyncDir);
    let out = compact(&fs, vec![a, b], &defaults(1 << 20)).unwrap();
    assert!(out.files.is_empty());
    assert_eq!((out.tombstones_dropped, out.entries_out), (1, 0));
    assert_eq!(fs.op_count(FsOp::SyncDir), syncs);
    assert_eq!(listing(&fs).len(), 2);

    let out = compact(&fs, Vec::new(), &defaults(1 << 20)).unwrap();
    assert!(out.files.is_empty() && out.bytes_read == 0);
}

#[test]
fn outputs_keep_the_inputs_time_range_and_leave_the_cache_cold() {
    let fs = fresh_fs();
    let cache = Arc::new(BlockCache::new(1 << 20));
    let opts = |lo, hi| small_blocks().time_range(lo, hi);
    write_table(&fs, 1, &[put("a", 2, "x")], opts(500, 700));
    write_table(&fs, 2, &[put("b", 1, "y")], opts(100, 300));
    let inputs = vec![
        open_table(&fs, 1, Some(Arc::clone(&cache))),
        open_table(&fs, 2, Some(Arc::clone(&cache))),
    ];
    let out = compact(&fs, inputs, &defaults(1 << 20)).unwrap();
    let props = &out.files[0].summary.properties;
    assert_eq!((props.min_time_ms, props.max_time_ms), (100, 700));
    assert!(cache.is_empty(), "compaction reads filled the block cache");
}

#[test]
fn unsorted_snapshots_are_refused_before_anything_is_written() {
    let fs = fresh_fs();
    let t = write_table(&fs, 1, &[put("a", 2, "x")], small_blocks());
    let p = Params {
        snapshots: &[5, 3],
        ..defaults(1 << 20)
    };
    let err = compact(&fs, vec![t], &p).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert_eq!(listing(&fs).len(), 1);
}

#[test]
fn many_versions_of_one_key_stay_in_one_file() {
    let fs = fresh_fs();
    let versions: Vec<Version> = (1..=50).map(|s| put("hot", s, "value")).collect();
    let mut all = versions.clone();
    all.push(put("next", 60, "v"));
    let t = write_table(&fs, 1, &all, small_blocks());
    let snapshots: Vec<u64> = (1..=50).collect();
    let p = Params {
        snapshots: &snapshots,
        ..defaults(0)
    };
    let out = compact(&fs, vec![t], &p).unwrap();
    assert_eq!(out.files.len(), 2, "one file per user key at target 0");
    assert_eq!(read_table(&fs, &out.files[0].path).len(), 50);
}

// ------------------------------------------------------------------- faults

/// Three overlapping inputs of ~200 entries each; with a 1 KiB target the
/// job writes several outputs.
fn fault_inputs(fs: &FaultFs) -> Vec<TableReader> {
    (0..3u64)
        .map(|t| {
            let vs: Vec<Version> = (0..200u64)
                .map(|i| {
                    let seqno = (3 - t) * 1000 + i;
                    put(&format!("key{:04}", i * 3 + t), seqno, "some value bytes")
                })
                .collect();
            write_table(fs, t + 1, &vs, small_blocks())
        })
        .collect()
}

#[test]
fn an_io_error_anywhere_leaves_no_output_behind() {
    let ops = [
        FsOp::Create,
        FsOp::Append,
        FsOp::Sync,
        FsOp::SyncDir,
        FsOp::ReadAt,
    ];
    for op in ops {
        let fs = fresh_fs();
        let inputs = fault_inputs(&fs);
        let names = listing(&fs);
        let mut failures = 0;
        for n in 0.. {
            fs.fail_nth(op, n);
            let result = compact(&fs, inputs.clone(), &defaults(1024));
            fs.clear_faults();
            match result {
                Ok(out) => {
                    assert!(out.files.len() > 2, "the job should write several outputs");
                    break;
                }
                Err(e) => {
                    assert!(matches!(e, Error::Io(_)), "{op:?} #{n}: {e}");
                    assert_eq!(listing(&fs), names, "{op:?} #{n} left files behind");
                    failures += 1;
                }
            }
        }
        assert!(failures > 0, "{op:?} was never called");
    }
}

#[test]
fn a_torn_append_leaves_no_output_behind() {
    let fs = fresh_fs();
    let inputs = fault_inputs(&fs);
    let names = listing(&fs);
    for n in [0, 5, 20] {
        fs.tear_nth_append(n, 3);
        let result = compact(&fs, inputs.clone(), &defaults(1024));
        fs.clear_faults();
        assert!(result.is_err());
        assert_eq!(listing(&fs), names);
    }
}

// --------------------------------------------------------------- corruption

#[test]
fn a_corrupt_block_in_a_late_input_block_fails_the_job_cleanly() {
    let fs = fresh_fs();
    let inputs = fault_inputs(&fs);
    let names = listing(&fs);
    let data_size = inputs[2].properties().data_size as usize;
    fs.corrupt_byte(&table_path(3), data_size - 30, 0x55)
        .unwrap();
    let err = compact(&fs, inputs, &defaults(1024)).unwrap_err();
    assert!(err.is_corruption(), "{err}");
    assert!(err.to_string().contains("000003.sst"), "{err}");
    assert_eq!(listing(&fs), names);
}

/// A one-block table of `entries` whose first entry's kind byte is then set
/// to `kind` (with the block checksum fixed, so only the executor's own
/// checks can notice).
fn table_with_first_kind(fs: &FaultFs, entries: &[Version], kind: u8) -> TableReader {
    let opts = TableOptions::default()
        .restart_interval(1)
        .bloom_bits_per_key(0)
        .block_size(1 << 16);
    let t = write_table(fs, 1, entries, opts);
    let data_size = t.properties().data_size as usize;
    let mut bytes = fs.read_all(&table_path(1)).unwrap();
    // Entry: shared=0, unshared, value_len (one-byte varints), then the key;
    // the trailer's low byte (the kind) follows the user key.
    let user_key_len = entries[0].key.user_key.len();
    bytes[3 + user_key_len] = kind;
    let (block, trailer) = bytes[..data_size].split_at_mut(data_size - 5);
    let crc = mask(crc32c_extend(crc32c(block), &trailer[..1]));
    trailer[1..].copy_from_slice(&crc.to_le_bytes());
    let mut f = fs.create(&table_path(1)).unwrap();
    f.append(&bytes).unwrap();
    f.sync().unwrap();
    open_table(fs, 1, None)
}

#[test]
fn an_unknown_kind_is_corruption() {
    let fs = fresh_fs();
    let t = table_with_first_kind(&fs, &[put("a", 2, "xyz"), put("b", 1, "w")], 77);
    let err = compact(&fs, vec![t], &defaults(0)).unwrap_err();
    assert!(err.is_corruption(), "{err}");
    assert_eq!(listing(&fs).len(), 1);
}

#[test]
fn an_expiring_value_without_its_expiry_is_corruption() {
    let fs = fresh_fs();
    let t = table_with_first_kind(&fs, &[put("a", 2, "xyz"), put("b", 1, "w")], 2);
    let err = compact(&fs, vec![t], &defaults(0)).unwrap_err();
    assert!(err.to_string().contains("expiry"), "{err}");
    assert_eq!(listing(&fs).len(), 1);
}

#[test]
fn any_flipped_byte_fails_cleanly_or_compacts_without_panicking() {
    let fs = fresh_fs();
    let vs: Vec<Version> = (0..30u64)
        .map(|i| put(&format!("k{:02}", i % 12), 100 - i, "val"))
        .collect();
    write_table(&fs, 1, &vs, small_blocks());
    let original = fs.read_all(&table_path(1)).unwrap();
    for at in 0..original.len() {
        let mut bytes = original.clone();
        bytes[at] ^= 0x5a;
        let mut f = fs.create(&table_path(1)).unwrap();
        f.append(&bytes).unwrap();
        let Ok(t) = TableReader::open(fs.open(&table_path(1)).unwrap(), table_path(1), 1, None)
        else {
            continue;
        };
        match compact(&fs, vec![t], &defaults(200)) {
            Ok(out) => {
                for f in &out.files {
                    fs.remove(&f.path).unwrap();
                }
            }
            Err(_) => assert_eq!(listing(&fs).len(), 1, "byte {at}"),
        }
    }
}
