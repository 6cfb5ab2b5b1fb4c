//! Helpers shared by the behaviour tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata_core::{Error, FaultFs, FileSystem, RandomAccessFile};
use strata_wal::{LogReader, LogWriter, RecoveryMode, RecoveryReport};

/// A read-only in-memory file, for sweeps that read thousands of variants.
pub struct MemFile(pub Vec<u8>);

impl RandomAccessFile for MemFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = offset as usize;
        let src = self
            .0
            .get(start..start + buf.len())
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.0.len() as u64)
    }
}

/// Reads every record of `file` until the end, an error, or a drop.
pub fn read_file(
    file: Arc<dyn RandomAccessFile>,
    mode: RecoveryMode,
) -> (Vec<Vec<u8>>, Result<(), Error>, RecoveryReport) {
    read_with(LogReader::new(file, "test.log", mode).unwrap())
}

/// Reads every record `reader` gives, with how reading ended.
pub fn read_with(mut reader: LogReader) -> (Vec<Vec<u8>>, Result<(), Error>, RecoveryReport) {
    let mut out = Vec::new();
    loop {
        match reader.next_record() {
            Ok(Some(r)) => out.push(r),
            Ok(None) => return (out, Ok(()), reader.report().clone()),
            Err(e) => return (out, Err(e), reader.report().clone()),
        }
    }
}

/// Reads an in-memory log.
pub fn read_bytes(
    bytes: &[u8],
    mode: RecoveryMode,
) -> (Vec<Vec<u8>>, Result<(), Error>, RecoveryReport) {
    read_file(Arc::new(MemFile(bytes.to_vec())), mode)
}

/// Reads `path` on `fs`.
pub fn read_path(
    fs: &dyn FileSystem,
    path: &Path,
    mode: RecoveryMode,
) -> (Vec<Vec<u8>>, Result<(), Error>, RecoveryReport) {
    read_file(fs.open(path).unwrap(), mode)
}

/// A simulated disk with `/db` created; returns it and the log path.
pub fn fault_fs() -> (FaultFs, PathBuf) {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new("/db")).unwrap();
    (fs, PathBuf::from("/db/000001.log"))
}

/// Writes `records` to a fresh in-memory log and returns its bytes and the
/// end offset of each record.
pub fn build_log(records: &[Vec<u8>]) -> (Vec<u8>, Vec<u64>) {
    let (fs, path) = fault_fs();
    let mut w = LogWriter::new(fs.create(&path).unwrap());
    let mut ends = Vec::new();
    for r in records {
        w.add_record(r).unwrap();
        ends.push(w.len());
    }
    (fs.read_all(&path).unwrap(), ends)
}

/// A record of `len` bytes whose content depends on `seed`, so that records
/// differ and misplaced bytes are caught.
pub fn record(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// The offset of a corruption error, `None` for any other error.
pub fn corruption_offset(e: &Error) -> Option<u64> {
    match e {
        Error::Corruption { offset, .. } => Some(*offset),
        _ => None,
    }
}

/// A small deterministic PRNG (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
