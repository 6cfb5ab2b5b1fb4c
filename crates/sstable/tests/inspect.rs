//! The inspection API (`TableInspector`, `verify_table`) shows exactly what
//! a `TableBuilder` wrote, accepts every good table, and reports every
//! single-byte corruption, every truncation and every forged table as
//! `Corruption` at the offset of the damaged block — never `Ok`, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use bytes::Bytes;
use strata_core::checksum::{crc32c, crc32c_extend, mask};
use strata_core::{Error, ExpiringValue, FaultFs, FileSystem, InternalKey, ValueKind};
use strata_sstable::inspect::TableEntry;
use strata_sstable::{
    CompressionType, TableBuilder, TableInspector, TableOptions, TableSummary, verify_table,
};

const PATH: &str = "/t.sst";

/// A simulated disk holding `bytes` at [`PATH`].
fn disk_with(bytes: &[u8]) -> FaultFs {
    let fs = FaultFs::new();
    let mut f = fs.create(Path::new(PATH)).unwrap();
    f.append(bytes).unwrap();
    f.sync().unwrap();
    fs
}

fn inspect(bytes: &[u8]) -> strata_core::Result<TableInspector> {
    TableInspector::open(&disk_with(bytes), Path::new(PATH))
}

fn verify(bytes: &[u8]) -> strata_core::Result<strata_sstable::TableCheck> {
    verify_table(&disk_with(bytes), Path::new(PATH))
}

/// The entries `sample_entries` wrote, as the inspector should show them.
fn expected_entries(data: &[(InternalKey, Vec<u8>)]) -> Vec<(InternalKey, Option<u64>, Vec<u8>)> {
    data.iter()
        .map(|(k, v)| match k.kind {
            ValueKind::PutWithExpiry => {
                let (at, user) = ExpiringValue::decode(v).unwrap();
                (k.clone(), Some(at), user.to_vec())
            }
            _ => (k.clone(), None, v.clone()),
        })
        .collect()
}

fn shown(entries: &[TableEntry]) -> Vec<(InternalKey, Option<u64>, Vec<u8>)> {
    entries
        .iter()
        .map(|e| (e.key.clone(), e.expires_at_ms, e.value.to_vec()))
        .collect()
}

fn le64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// `(start, end)` of every stored structure of a good table: data blocks,
/// filter, properties, index (each with its trailer), footer.
fn regions(table: &TableInspector) -> Vec<(u64, u64)> {
    let with_trailer = |h: strata_sstable::BlockHandle| (h.offset, h.offset + h.size + 5);
    let f = table.footer();
    let mut out: Vec<_> = table
        .index()
        .iter()
        .map(|e| with_trailer(e.handle))
        .collect();
    out.extend(f.filter.map(with_trailer));
    out.push(with_trailer(f.properties));
    out.push(with_trailer(f.index));
    out.push((f.offset, table.file_size()));
    out
}

#[test]
fn inspect_shows_every_field_the_builder_wrote() {
    let data = common::sample_entries(60, 20);
    let opts = TableOptions::default()
        .block_size(256)
        .restart_interval(4)
        .time_range(1_000, 2_000);
    let (bytes, summary) = common::build_bytes(&data, opts);
    let table = inspect(&bytes).unwrap();

    // Footer: compared with the raw bytes, not only with our own decoder.
    let f = table.footer();
    let n = bytes.len();
    assert_eq!(table.file_size(), n as u64);
    assert_eq!(f.offset, n as u64 - 64);
    assert_eq!(&f.magic, b"STRATSST");
    assert_eq!(&bytes[n - 8..], b"STRATSST");
    assert_eq!(f.format_version, 1);
    assert_eq!(
        f.checksum,
        u32::from_le_bytes(bytes[n - 12..n - 8].try_into().unwrap())
    );
    let filter = f.filter.expect("10 bloom bits per key: a filter");
    let footer = &bytes[n - 64..];
    assert_eq!(
        (filter.offset, filter.size),
        (le64(footer, 0), le64(footer, 8))
    );
    assert_eq!(
        (f.properties.offset, f.properties.size),
        (le64(footer, 16), le64(footer, 24))
    );
    assert_eq!(
        (f.index.offset, f.index.size),
        (le64(footer, 32), le64(footer, 40))
    );
    assert_eq!(f.index.offset + f.index.size + 5, f.offset);

    // Properties: exactly what the builder reported.
    assert_eq!(table.properties(), &summary.properties);
    assert_eq!(table.properties().min_time_ms, 1_000);
    assert_eq!(table.properties().num_entries, data.len() as u64);

    // Index: one entry per block, contiguous from 0, separators are the
    // blocks' last keys.
    let index = table.index();
    assert_eq!(index.len() as u64, summary.properties.num_data_blocks);
    assert!(index.len() >= 5, "want several blocks, got {}", index.len());
    let mut next = 0;
    let mut all = Vec::new();
    for (i, entry) in index.iter().enumerate() {
        assert_eq!(entry.handle.offset, next, "block {i}");
        next = entry.handle.offset + entry.handle.size + 5;
        let block = table.data_block(i).unwrap();
        assert_eq!(block.handle, entry.handle);
        assert_eq!(block.compression, CompressionType::None);
        assert_eq!(block.raw_size, entry.handle.size, "stored uncompressed");
        assert_eq!(&block.entries.last().unwrap().key, &entry.separator);
        all.extend(block.entries);
    }
    assert_eq!(next, filter.offset);

    // Entries: every key, seqno, kind, expiry and value as written.
    let want = expected_entries(&data);
    assert_eq!(shown(&all), want);
    let streamed: Vec<TableEntry> = table.entries().collect::<Result<_, _>>().unwrap();
    assert_eq!(shown(&streamed), want);
    let kinds = |k: ValueKind| want.iter().filter(|e| e.0.kind == k).count();
    assert!(kinds(ValueKind::Delete) > 0 && kinds(ValueKind::PutWithExpiry) > 0);

    // Filter: 10 bits per key gives 7 probes; the bit array fills the block
    // but its last (probe-count) byte.
    let info = table.filter().unwrap();
    assert_eq!(info.handle, filter);
    assert_eq!(info.probes, 7);
    assert_eq!(info.bit_array_bytes, filter.size - 1);
    assert_eq!(info.bit_array_bytes % 64, 0);
    assert_eq!(summary.properties.filter_size, filter.size + 5);

    let err = table.data_block(index.len()).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
}

#[test]
fn inspect_shows_lz4_blocks_and_their_raw_size() {
    let data = common::sample_entries(60, 40);
    let opts = TableOptions::default()
        .block_size(512)
        .compression(CompressionType::Lz4);
    let (bytes, _) = common::build_bytes(&data, opts);
    let table = inspect(&bytes).unwrap();
    let mut compressed = 0;
    let mut all = Vec::new();
    for i in 0..table.index().len() {
        let block = table.data_block(i).unwrap();
        if block.compression == CompressionType::Lz4 {
            compressed += 1;
            assert!(block.raw_size > block.handle.size);
        }
        all.extend(block.entries);
    }
    assert!(compressed > 0, "repetitive values compress");
    assert_eq!(shown(&all), expected_entries(&data));
    assert_eq!(table.properties().compression, CompressionType::Lz4);
}

fn build_with(entries: &[(InternalKey, Vec<u8>)], opts: TableOptions) -> (Vec<u8>, TableSummary) {
    let fs = FaultFs::new();
    let path = Path::new(PATH);
    let mut b = TableBuilder::new(fs.create(path).unwrap(), path, opts).unwrap();
    for (k, v) in entries {
        b.add(k, v).unwrap();
    }
    let summary = b.finish().unwrap();
    (fs.read_all(path).unwrap(), summary)
}

#[test]
fn verify_accepts_good_tables_and_summarises_them() {
    let data = common::sample_entries(200, 30);
    let one = vec![(
        InternalKey::new(Bytes::from_static(b"k"), 7, ValueKind::Put),
        b"v".to_vec(),
    )];
    let cases = [
        (
            "plain",
            data.clone(),
            TableOptions::default().block_size(512),
        ),
        (
            "lz4",
            data.clone(),
            TableOptions::default()
                .block_size(512)
                .compression(CompressionType::Lz4),
        ),
        (
            "no filter",
            data.clone(),
            TableOptions::default().bloom_bits_per_key(0),
        ),
        ("one entry", one, TableOptions::default()),
        ("empty", Vec::new(), TableOptions::default()),
    ];
    for (name, entries, opts) in cases {
        let (bytes, summary) = build_with(&entries, opts);
        let check = verify(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let p = &summary.properties;
        assert_eq!(check.file_size, bytes.len() as u64, "{name}");
        assert_eq!(check.entries, entries.len() as u64, "{name}");
        assert_eq!(check.data_blocks, p.num_data_blocks, "{name}");
        let meta = 2 + u64::from(p.filter_size > 0);
        assert_eq!(check.blocks, p.num_data_blocks + meta, "{name}");
        assert_eq!(check.data_bytes, p.data_size, "{name}");
        assert_eq!(&check.properties, p, "{name}");
    }
}

/// Flips every byte of a small table, one at a time, with two patterns:
/// each must be `Corruption` naming the file, at the start of the block (or
/// footer) that holds the byte.
fn sweep_every_byte(opts: TableOptions) {
    let data = common::sample_entries(24, 10);
    let (bytes, _) = common::build_bytes(&data, opts);
    let good = inspect(&bytes).unwrap();
    assert!(good.index().len() >= 3, "want several data blocks");
    verify(&bytes).unwrap();
    let regions = regions(&good);
    // The structures tile the file: every byte belongs to exactly one.
    assert_eq!(regions.first().unwrap().0, 0);
    assert!(regions.windows(2).all(|w| w[0].1 == w[1].0));
    assert_eq!(regions.last().unwrap().1, bytes.len() as u64);
    for xor in [0xff, 0x01] {
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= xor;
            let (start, _) = *regions
                .iter()
                .find(|(s, e)| (*s..*e).contains(&(i as u64)))
                .unwrap();
            match verify(&bad) {
                Err(Error::Corruption { file, offset, .. }) => {
                    assert_eq!(file, Path::new(PATH));
                    assert!(offset < bytes.len() as u64, "byte {i}: offset {offset}");
                    assert_eq!(offset, start, "byte {i} ^ {xor:#x}");
                }
                Ok(check) => panic!("byte {i} ^ {xor:#x} went unnoticed: {check:?}"),
                Err(e) => panic!("byte {i} ^ {xor:#x}: not corruption: {e}"),
            }
        }
    }
    println!(
        "{} bytes x 2 patterns: every flip reported at its block's offset",
        bytes.len()
    );
}

#[test]
fn every_flipped_byte_is_corruption_at_its_block_uncompressed() {
    sweep_every_byte(TableOptions::default().block_size(128));
}

#[test]
fn every_flipped_byte_is_corruption_at_its_block_lz4() {
    sweep_every_byte(
        TableOptions::default()
            .block_size(256)
            .restart_interval(4)
            .compression(CompressionType::Lz4),
    );
}

#[test]
fn every_truncation_is_corruption() {
    let (bytes, _) = common::build_bytes(
        &common::sample_entries(10, 4),
        TableOptions::default().block_size(128),
    );
    for len in 0..bytes.len() {
        let err = verify(&bytes[..len]).unwrap_err();
        assert!(err.is_corruption(), "length {len}: {err}");
        let err = inspect(&bytes[..len]).unwrap_err();
        assert!(err.is_corruption(), "length {len}: {err}");
    }
}

/// Rewrites the stored bytes of the (uncompressed) block at `offset` with
/// `edit` and recomputes its trailer checksum, as a buggy writer would.
fn forge_block(bytes: &mut [u8], offset: u64, size: u64, edit: impl FnOnce(&mut [u8])) {
    let (start, end) = (offset as usize, (offset + size) as usize);
    edit(&mut bytes[start..end]);
    assert_eq!(bytes[end], 0, "uncompressed block");
    let crc = mask(crc32c_extend(crc32c(&bytes[start..end]), &[0]));
    bytes[end + 1..end + 5].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn properties_that_disagree_with_the_data_are_corruption_though_the_table_opens() {
    let data = common::sample_entries(30, 8);
    let (mut bytes, summary) = common::build_bytes(&data, TableOptions::default());
    let n = summary.properties.num_entries;
    assert!((3..128).contains(&n), "num_entries fits one varint byte");
    let props = inspect(&bytes).unwrap().footer().properties;
    // Layout: version varint (1) then num_entries varint.
    forge_block(&mut bytes, props.offset, props.size, |b| {
        assert_eq!(b[..2], [2, n as u8]);
        b[1] = (n - 1) as u8;
    });
    // A reader trusts the properties (its checksum is valid) ...
    let table = common::open_bytes(bytes.clone(), None).unwrap();
    assert_eq!(table.properties().num_entries, n - 1);
    // ... verify compares them with the data.
    match verify(&bytes).unwrap_err() {
        Error::Corruption { offset, reason, .. } => {
            assert_eq!(offset, props.offset);
            assert!(reason.contains("num_entries"), "{reason}");
        }
        e => panic!("{e}"),
    }
}

/// Offset of the 18th number (`num_shadowed`) in a properties block.
fn num_shadowed_offset(block: &[u8]) -> usize {
    let mut at = 1; // the version varint (one byte)
    for _ in 0..17 {
        while block[at] & 0x80 != 0 {
            at += 1;
        }
        at += 1;
    }
    at
}

#[test]
fn a_wrong_shadowed_count_is_corruption_and_version_1_has_none_to_check() {
    // 30 user keys with 1 to 3 versions each: 30 shadowed versions.
    let data = common::sample_entries(30, 8);
    let (bytes, summary) = common::build_bytes(&data, TableOptions::default());
    assert_eq!(summary.properties.num_shadowed, Some(30));
    let props = inspect(&bytes).unwrap().footer().properties;

    let mut forged = bytes.clone();
    forge_block(&mut forged, props.offset, props.size, |b| {
        let at = num_shadowed_offset(b);
        assert_eq!(b[at], 30);
        b[at] = 29;
    });
    match verify(&forged).unwrap_err() {
        Error::Corruption { offset, reason, .. } => {
            assert_eq!(offset, props.offset);
            assert!(reason.contains("num_shadowed"), "{reason}");
        }
        e => panic!("{e}"),
    }

    // Properties version 1 (the number reserved): unknown, not checked.
    let mut old = bytes;
    forge_block(&mut old, props.offset, props.size, |b| {
        b[0] = 1;
        let at = num_shadowed_offset(b);
        b[at] = 0;
    });
    verify(&old).unwrap();
    let table = common::open_bytes(old, None).unwrap();
    assert_eq!(table.properties().num_shadowed, None);
}

#[test]
fn a_data_block_with_valid_checksum_but_a_changed_key_is_corruption() {
    // Make the first block's second key equal to its first: keys no longer
    // strictly increase, though every checksum is valid.
    let data: Vec<_> = (0..40u32)
        .map(|i| {
            (
                InternalKey::new(format!("key{i:04}").into_bytes(), 100, ValueKind::Put),
                b"value".to_vec(),
            )
        })
        .collect();
    let opts = TableOptions::default().block_size(128).restart_interval(1);
    let (mut bytes, _) = common::build_bytes(&data, opts);
    let first = inspect(&bytes).unwrap().index()[0].handle;
    // With restart interval 1 every entry stores its key whole:
    // shared(0) unshared(15) value_len(5) "key0000"+trailer "value", then "key0001"...
    forge_block(&mut bytes, first.offset, first.size, |b| {
        let second = 3 + 15 + 5;
        assert_eq!(&b[second + 3..second + 10], b"key0001");
        b[second + 9] = b'0';
    });
    match verify(&bytes).unwrap_err() {
        Error::Corruption { offset, reason, .. } => {
            assert_eq!(offset, first.offset);
            assert!(reason.contains("previous key"), "{reason}");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn bytes_between_blocks_that_no_checksum_covers_are_corruption() {
    // Insert junk between the last data block and the filter, and move the
    // footer's handles (with a fresh footer checksum) so the table still opens.
    let data = common::sample_entries(20, 8);
    let (bytes, _) = common::build_bytes(&data, TableOptions::default());
    let table = inspect(&bytes).unwrap();
    let gap_at = table.footer().filter.unwrap().offset as usize;
    let mut forged = bytes[..gap_at].to_vec();
    forged.extend_from_slice(b"junk");
    forged.extend_from_slice(&bytes[gap_at..]);
    let n = forged.len();
    let footer = &mut forged[n - 64..];
    for handle in 0..3 {
        let at = handle * 16;
        let offset = le64(footer, at) + 4;
        footer[at..at + 8].copy_from_slice(&offset.to_le_bytes());
    }
    let crc = mask(crc32c(&footer[..52]));
    footer[52..56].copy_from_slice(&crc.to_le_bytes());

    let reader = common::open_bytes(forged.clone(), None).unwrap();
    assert_eq!(common::scan(&reader).unwrap().len(), data.len());
    match verify(&forged).unwrap_err() {
        Error::Corruption { offset, reason, .. } => {
            assert_eq!(offset, n as u64 - 64, "the footer holds the bad handle");
            assert!(reason.contains("filter"), "{reason}");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn checked_in_fixtures_verify_as_expected() {
    let fixtures: [(&str, &[u8], bool); 8] = [
        ("v1-tiny", include_bytes!("fixtures/v1-tiny.sst"), true),
        (
            "v1-props2-tiny",
            include_bytes!("fixtures/v1-props2-tiny.sst"),
            true,
        ),
        (
            "v1-props2-multi-block-lz4",
            include_bytes!("fixtures/v1-props2-multi-block-lz4.sst"),
            true,
        ),
        (
            "v1-multi-block-lz4",
            include_bytes!("fixtures/v1-multi-block-lz4.sst"),
            true,
        ),
        (
            "v1-multi-block-lz4-corrupt",
            include_bytes!("fixtures/v1-multi-block-lz4-corrupt.sst"),
            false,
        ),
        (
            "fuzz-unsorted-keys",
            include_bytes!("fixtures/fuzz-unsorted-keys.sst"),
            false,
        ),
        (
            "fuzz-seek-misses-key",
            include_bytes!("fixtures/fuzz-seek-misses-key.sst"),
            false,
        ),
        (
            // Opens and scans cleanly with a reader; only verify's filter
            // check sees that the filter hides a stored key.
            "fuzz-forged-filter",
            include_bytes!("fixtures/fuzz-forged-filter.sst"),
            false,
        ),
    ];
    for (name, bytes, good) in fixtures {
        match (verify(bytes), good) {
            (Ok(_), true) => {}
            (Err(Error::Corruption { offset, reason, .. }), false) => {
                println!("{name}: corruption at {offset}: {reason}");
                assert!(offset < bytes.len() as u64);
            }
            (other, _) => panic!("{name}: {other:?}"),
        }
    }
}

/// xorshift64*: deterministic noise without a dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// Inspects and verifies `bytes` every way the API allows; must not panic.
fn exercise(bytes: &[u8]) {
    let verified = verify(bytes);
    if let Ok(table) = inspect(bytes) {
        for i in 0..table.index().len().min(64) {
            let _ = table.data_block(i);
        }
        let _ = table.entries().take(10_000).count();
        if let Ok(check) = table.verify() {
            assert!(verified.is_ok());
            assert_eq!(check.file_size, bytes.len() as u64);
        }
    }
}

#[test]
fn arbitrary_and_mutated_bytes_never_panic() {
    let corpus = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/sst_open_and_scan"
    );
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(corpus)
        .map(|dir| {
            dir.filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    seeds.push(common::build_bytes(&common::sample_entries(20, 6), TableOptions::default()).0);
    for seed in &seeds {
        exercise(seed);
    }
    let mut rng = 0x5eed_1234_abcd_0001u64;
    for round in 0..3000 {
        let input = if round % 3 == 0 {
            let len = (next(&mut rng) % 300) as usize;
            (0..len).map(|_| next(&mut rng) as u8).collect()
        } else {
            let mut bytes = seeds[round % seeds.len()].clone();
            for _ in 0..=(next(&mut rng) % 4) {
                if bytes.is_empty() {
                    break;
                }
                let at = (next(&mut rng) % bytes.len() as u64) as usize;
                bytes[at] = next(&mut rng) as u8;
            }
            if next(&mut rng).is_multiple_of(8) {
                let cut = (next(&mut rng) % (bytes.len() as u64 + 1)) as usize;
                bytes.truncate(cut);
            }
            bytes
        };
        exercise(&input);
    }
}
