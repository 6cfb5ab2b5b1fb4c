//! The worked example of `docs/format.md` ("Write-ahead log"), byte for byte:
//! a format change that alters it fails here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use strata_wal::{RecoveryMode, WriteBatch};

use common::{build_log, read_bytes};

const EXAMPLE: [u8; 24] = [
    0xe7, 0x5a, 0x4d, 0x00, // masked crc32c of type ‖ payload
    0x11, 0x00, // payload length 17
    0x01, // FULL
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // base seqno 1
    0x01, 0x00, 0x00, 0x00, // count 1
    0x01, 0x01, b'k', 0x01, b'v', // Put, "k", "v"
];

#[test]
fn documented_example_is_what_the_writer_produces() {
    let mut batch = WriteBatch::new();
    batch.put(b"k", b"v").unwrap();
    batch.set_base_seqno(1).unwrap();
    let (log, _) = build_log(&[batch.as_bytes().to_vec()]);
    assert_eq!(log, EXAMPLE);

    let (records, result, _) = read_bytes(&EXAMPLE, RecoveryMode::Strict);
    result.unwrap();
    let decoded = WriteBatch::decode_from(&records[0], Path::new("x.log"), 0).unwrap();
    assert_eq!(decoded, batch);
}

/// The marker example of `docs/format.md` ("WAL marker"): an empty batch
/// whose base is seqno 10.
const MARKER: [u8; 19] = [
    0xe9, 0xaa, 0xa3, 0x67, // masked crc32c of type ‖ payload
    0x0c, 0x00, // payload length 12
    0x01, // FULL
    0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // base seqno 10
    0x00, 0x00, 0x00, 0x00, // count 0
];

#[test]
fn documented_marker_is_what_the_writer_produces() {
    let mut batch = WriteBatch::new();
    batch.set_base_seqno(10).unwrap();
    let (log, _) = build_log(&[batch.as_bytes().to_vec()]);
    assert_eq!(log, MARKER);
    let (records, result, _) = read_bytes(&MARKER, RecoveryMode::Strict);
    result.unwrap();
    let decoded = WriteBatch::decode_from(&records[0], Path::new("x.log"), 0).unwrap();
    assert!(decoded.is_empty());
    assert_eq!(decoded.base_seqno(), 10);
}
