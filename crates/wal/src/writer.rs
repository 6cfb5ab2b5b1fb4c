//! [`LogWriter`]: frames records into blocks and appends them to a file.
//!
//! Invariant: `Framer::block_offset == bytes written so far % BLOCK_SIZE`, as
//! long as every append succeeded. A failed append or sync may leave the file
//! at an unknown length (a torn write) or with unknown durability, so the
//! writer refuses all further calls after one: continuing would frame records
//! against the wrong block offset, or acknowledge writes the OS may have lost.

use std::io;

use strata_core::{Result, WritableFile};

use crate::format::{BLOCK_SIZE, FragmentHeader, FragmentType, HEADER_SIZE};

/// Scratch capacity kept between records; a larger buffer (left by a huge
/// record) is released so one big write does not pin its memory forever.
const RETAINED_SCRATCH: usize = 1024 * 1024;

/// Splits records into fragments against a running block offset.
///
/// Separate from the file so that the group-commit path can frame records
/// under its queue lock while the current leader writes the previous group.
#[derive(Debug, Clone)]
pub(crate) struct Framer {
    block_offset: usize,
}

impl Framer {
    /// A framer for a log whose current length is `len`.
    pub(crate) fn new(len: u64) -> Self {
        Self {
            block_offset: (len % BLOCK_SIZE as u64) as usize,
        }
    }

    /// Appends the framed form of `record` (padding, headers, payloads) to `dst`.
    pub(crate) fn frame(&mut self, record: &[u8], dst: &mut Vec<u8>) {
        let mut rest = record;
        let mut first = true;
        // Runs at least once, so an empty record becomes one empty FULL fragment.
        loop {
            let leftover = BLOCK_SIZE - self.block_offset;
            if leftover < HEADER_SIZE {
                // Too short for a header: zero-fill and start a new block.
                dst.resize(dst.len() + leftover, 0);
                self.block_offset = 0;
            }
            let avail = BLOCK_SIZE - self.block_offset - HEADER_SIZE;
            let (payload, tail) = rest.split_at(rest.len().min(avail));
            let last = tail.is_empty();
            let kind = match (first, last) {
                (true, true) => FragmentType::Full,
                (true, false) => FragmentType::First,
                (false, false) => FragmentType::Middle,
                (false, true) => FragmentType::Last,
            };
            FragmentHeader::for_payload(kind, payload).encode_into(dst);
            dst.extend_from_slice(payload);
            self.block_offset += HEADER_SIZE + payload.len();
            debug_assert!(self.block_offset <= BLOCK_SIZE);
            rest = tail;
            first = false;
            if last {
                return;
            }
        }
    }
}

/// Appends records to a log file, one `append` (write syscall) per record.
///
/// Single-threaded; wrap it in a [`Wal`](crate::Wal) to share it between
/// threads with group commit.
pub struct LogWriter {
    file: Box<dyn WritableFile>,
    framer: Framer,
    scratch: Vec<u8>,
    failed: bool,
}

impl LogWriter {
    /// A writer appending to `file`. If the file already holds data (its
    /// [`WritableFile::len`] is not 0), framing continues at that offset, so a
    /// log can be extended by a writer whose file handle was positioned at its end.
    ///
    /// REQUIRES: existing content ends with a complete record. A writer
    /// continuing after a torn tail would put its records behind damage that
    /// every reader stops at; after a crash, start a new log instead.
    pub fn new(file: Box<dyn WritableFile>) -> Self {
        let framer = Framer::new(file.len());
        Self {
            file,
            framer,
            scratch: Vec::new(),
            failed: false,
        }
    }

    /// Frames `record` and appends it with a single write.
    ///
    /// Returns once the bytes reached the OS; call [`LogWriter::sync`] to make
    /// them durable.
    ///
    /// # Errors
    /// [`Error::Io`](strata_core::Error::Io) if the append fails, or if an
    /// earlier append or sync failed (the writer is then unusable).
    pub fn add_record(&mut self, record: &[u8]) -> Result<()> {
        self.check_usable()?;
        self.scratch.clear();
        self.framer.frame(record, &mut self.scratch);
        let result = self.file.append(&self.scratch);
        if self.scratch.capacity() > RETAINED_SCRATCH {
            self.scratch = Vec::new();
        }
        self.failed = result.is_err();
        Ok(result?)
    }

    /// Makes every record added so far durable (`fdatasync`).
    ///
    /// # Errors
    /// [`Error::Io`](strata_core::Error::Io) if the sync fails or the writer
    /// failed earlier; the writer is then unusable.
    pub fn sync(&mut self) -> Result<()> {
        self.check_usable()?;
        let result = self.file.sync();
        self.failed = result.is_err();
        Ok(result?)
    }

    /// Bytes in the log file, including framing and padding.
    pub fn len(&self) -> u64 {
        self.file.len()
    }

    /// True if the log file is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once an append or sync failed; every later call returns an error.
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    /// Appends already-framed bytes (the group-commit path).
    pub(crate) fn append_framed(&mut self, framed: &[u8]) -> Result<()> {
        self.check_usable()?;
        let result = self.file.append(framed);
        self.failed = result.is_err();
        Ok(result?)
    }

    /// Hands the framing state to the group-commit queue.
    pub(crate) fn framer(&self) -> Framer {
        self.framer.clone()
    }

    fn check_usable(&self) -> Result<()> {
        if self.failed {
            return Err(poisoned().into());
        }
        Ok(())
    }
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWriter")
            .field("len", &self.len())
            .field("framer", &self.framer)
            .field("failed", &self.failed)
            .finish()
    }
}

/// The error returned by a log that refuses writes after an earlier failure.
pub(crate) fn poisoned() -> io::Error {
    io::Error::other("the log failed an earlier append or sync and accepts no more writes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::MAX_FRAGMENT_PAYLOAD;

    fn framed(framer: &mut Framer, record: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        framer.frame(record, &mut out);
        out
    }

    #[test]
    fn empty_record_is_one_full_fragment() {
        let out = framed(&mut Framer::new(0), b"");
        assert_eq!(out.len(), HEADER_SIZE);
        assert_eq!(out[6], FragmentType::Full as u8);
    }

    #[test]
    fn record_filling_a_block_exactly_stays_full() {
        let mut f = Framer::new(0);
        let out = framed(&mut f, &vec![7; MAX_FRAGMENT_PAYLOAD]);
        assert_eq!(out.len(), BLOCK_SIZE);
        assert_eq!(out[6], FragmentType::Full as u8);
        assert_eq!(f.block_offset, BLOCK_SIZE);
        // The next record starts a new block without padding.
        let next = framed(&mut f, b"x");
        assert_eq!(next.len(), HEADER_SIZE + 1);
    }

    #[test]
    fn short_block_tail_is_zero_padded() {
        let mut f = Framer::new((BLOCK_SIZE - 6) as u64);
        let out = framed(&mut f, b"abc");
        assert_eq!(&out[..6], &[0; 6]);
        assert_eq!(out.len(), 6 + HEADER_SIZE + 3);
        assert_eq!(out[6 + 6], FragmentType::Full as u8);
    }

    #[test]
    fn exactly_a_header_left_gives_an_empty_first_fragment() {
        let mut f = Framer::new((BLOCK_SIZE - HEADER_SIZE) as u64);
        let out = framed(&mut f, b"abc");
        assert_eq!(out[6], FragmentType::First as u8);
        assert_eq!(&out[4..6], &[0, 0]);
        assert_eq!(out[HEADER_SIZE + 6], FragmentType::Last as u8);
    }

    #[test]
    fn big_record_is_first_middle_last() {
        let mut f = Framer::new(0);
        let out = framed(&mut f, &vec![1; 2 * BLOCK_SIZE + 10]);
        assert_eq!(out[6], FragmentType::First as u8);
        assert_eq!(out[BLOCK_SIZE + 6], FragmentType::Middle as u8);
        assert_eq!(out[2 * BLOCK_SIZE + 6], FragmentType::Last as u8);
    }
}
