//! Read-only memory maps of table files: the one place strata uses `unsafe`.
//!
//! A point lookup that misses the block cache costs a `pread` per data block:
//! in a profile of random reads over a database larger than its block cache,
//! the system call, the kernel's page-cache lookup and the copy were about a
//! third of the reading thread's time. A mapped file answers the same read
//! with a view of memory the kernel already holds.
//!
//! Miri cannot run `mmap` (a foreign call), so this module is covered by
//! ordinary tests: `a_mapped_file_reads_as_the_plain_one_does` here, and
//! `crates/engine/tests/mmap_reads.rs` end to end.

use std::fs::File;
use std::io;

use bytes::Bytes;
use memmap2::Mmap;

use super::RandomAccessFile;

/// A whole file mapped read-only, shared as [`Bytes`] so that a block read
/// from it is a reference-counted view, not a copy.
pub(super) struct MappedFile {
    bytes: Bytes,
}

impl MappedFile {
    /// Maps `file` read-only. `None` for an empty file, which cannot be
    /// mapped (the caller reads it with `pread`).
    ///
    /// # Errors
    /// Whatever `mmap` or `fstat` report.
    pub(super) fn map(file: &File) -> io::Result<Option<Self>> {
        if file.metadata()?.len() == 0 {
            return Ok(None);
        }
        // SAFETY: `Mmap::map` is unsafe because the mapped bytes would change
        // (or, past a truncation, fault with SIGBUS) if the file were modified
        // while mapped, which Rust's `&[u8]` does not allow for. strata maps
        // only files it no longer writes: tables are written once, synced and
        // never opened for writing again, and a live database's directory is
        // locked against other strata processes. A program that truncates or
        // rewrites a table of an open database breaks that promise; this is
        // why mapping is opt-in (`Options::mmap_reads`), off by default.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(file)? };
        Ok(Some(Self {
            bytes: Bytes::from_owner(map),
        }))
    }

    fn range(&self, offset: u64, len: usize) -> io::Result<std::ops::Range<usize>> {
        usize::try_from(offset)
            .ok()
            .and_then(|start| Some(start..start.checked_add(len)?))
            .filter(|r| r.end <= self.bytes.len())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "read of {len} bytes at {offset} past the end of a {}-byte file",
                        self.bytes.len()
                    ),
                )
            })
    }
}

impl RandomAccessFile for MappedFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let range = self.range(offset, buf.len())?;
        buf.copy_from_slice(&self.bytes[range]);
        Ok(())
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.bytes.len() as u64)
    }

    fn read_bytes(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        let range = self.range(offset, len)?;
        Ok(self.bytes.slice(range))
    }

    fn is_mapped(&self) -> bool {
        true
    }
}
