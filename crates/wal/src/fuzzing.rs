//! Fuzz bodies, called by the cargo-fuzz package in `fuzz/` and by tests.
//! Not part of the stable API.

use std::path::Path;
use std::sync::Arc;

use strata_core::{RandomAccessFile, Result};

use crate::batch::WriteBatch;
use crate::reader::{LogReader, RecoveryMode, RecoveryReport};
use crate::writer::Framer;

/// A read-only in-memory file.
struct MemFile(Vec<u8>);

impl RandomAccessFile for MemFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|start| self.0.get(start..start.checked_add(buf.len())?))
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn size(&self) -> std::io::Result<u64> {
        Ok(self.0.len() as u64)
    }
}

const PATH: &str = "fuzz.log";

fn read_log(data: Vec<u8>, mode: RecoveryMode) -> (Vec<Vec<u8>>, Result<()>, RecoveryReport) {
    let mut records = Vec::new();
    let mut reader = match LogReader::new(Arc::new(MemFile(data)), PATH, mode) {
        Ok(r) => r,
        Err(e) => return (records, Err(e), RecoveryReport::default()),
    };
    let result = loop {
        match reader.next_record() {
            Ok(Some(r)) => records.push(r),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    (records, result, reader.report().clone())
}

/// Treats `data` as a log file: reads it in both recovery modes and decodes
/// every record as a write batch. Panics only if an invariant breaks:
///
/// * reading fails only with `Corruption`, in either mode; a tolerant reader
///   fails only where a strict one fails too (at the same offset, or later
///   than non-zero block padding the strict reader stopped at);
/// * `Strict` returns a prefix of what `TolerateTornTail` returns, all of it
///   exactly when it succeeds, and fails no later than where the tolerant
///   reader dropped;
/// * the report agrees with the records and the file length;
/// * the records, framed again, read back identically;
/// * a record that decodes as a batch re-encodes to the same bytes.
pub fn wal_read(data: &[u8]) {
    let (tolerant, t_result, report) = read_log(data.to_vec(), RecoveryMode::TolerateTornTail);
    let (strict, s_result, _) = read_log(data.to_vec(), RecoveryMode::Strict);

    assert!(strict.len() <= tolerant.len());
    assert_eq!(strict[..], tolerant[..strict.len()]);
    let corruption_offset = |result: &Result<()>| match result {
        Err(strata_core::Error::Corruption { offset, .. }) => Some(*offset),
        other => panic!("a read failed with a non-corruption error: {other:?}"),
    };
    if t_result.is_err() {
        // Garbage with intact records after it: the tolerant reader stopped
        // where the strict one did, unless strict stopped earlier at padding.
        assert!(report.dropped.is_none());
        let t_offset = corruption_offset(&t_result);
        let s_offset = corruption_offset(&s_result);
        assert!(s_offset <= t_offset);
    }
    match (&s_result, &report.dropped) {
        (Ok(()), dropped) => {
            assert!(
                t_result.is_ok(),
                "strict read accepted what tolerant refused"
            );
            assert!(dropped.is_none(), "strict read accepted a dropped tail");
            assert_eq!(strict.len(), tolerant.len());
        }
        // Equal unless strict stopped first at non-zero padding before the drop.
        (Err(_), Some(d)) if strict.len() == tolerant.len() => {
            assert!(corruption_offset(&s_result) <= Some(d.offset));
        }
        // Strict stopped earlier, at non-zero padding the tolerant reader skips.
        (Err(_), _) => {
            corruption_offset(&s_result);
        }
    }

    let len = data.len() as u64;
    assert_eq!(report.records, tolerant.len() as u64);
    assert!(report.valid_len <= len);
    if let Some(d) = &report.dropped {
        assert!(d.offset >= report.valid_len && d.offset < len.max(1));
        assert_eq!(d.bytes, len - d.offset);
        assert!(d.records >= d.intact_records_after);
    }

    let mut framer = Framer::new(0);
    let mut reframed = Vec::new();
    for record in &tolerant {
        framer.frame(record, &mut reframed);
    }
    let (again, again_result, _) = read_log(reframed, RecoveryMode::Strict);
    assert!(again_result.is_ok());
    assert_eq!(again, tolerant);

    for record in &tolerant {
        check_batch(record);
    }
}

fn check_batch(record: &[u8]) {
    let Ok(batch) = WriteBatch::decode_from(record, Path::new(PATH), 0) else {
        return;
    };
    assert_eq!(batch.as_bytes(), record);
    let mut rebuilt = WriteBatch::new();
    let mut n = 0;
    for op in &batch {
        n += 1;
        let added = match (op.kind, op.expires_at_ms()) {
            (strata_core::ValueKind::Delete, _) => rebuilt.delete(op.key),
            (strata_core::ValueKind::PutWithExpiry, Some(at)) => {
                rebuilt.put_with_expiry(op.key, op.user_value(), at)
            }
            _ => rebuilt.put(op.key, op.value),
        };
        assert!(added.is_ok(), "a decoded op was refused: {added:?}");
    }
    assert_eq!(n, batch.len());
    assert!(rebuilt.set_base_seqno(batch.base_seqno()).is_ok());
    assert_eq!(rebuilt.as_bytes(), record);
}
