//! [`LogReader`]: reads records back, verifying every fragment.
//!
//! The reader reads the file one 32 KiB block at a time with positional reads
//! and checks each fragment's checksum, length and type, and that fragments
//! form whole records (`FULL`, or `FIRST MIDDLE* LAST`).
//!
//! See [`LogReader`] for where reading stops and what is reported.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata_core::{Error, RandomAccessFile, Result};

use crate::format::{BLOCK_SIZE, FragmentHeader, FragmentType, HEADER_SIZE, fragment_checksum};

/// The smallest page-cache page on supported platforms. Larger pages (16 or
/// 64 KiB) are multiples of it, so a page lost at their granularity is also
/// lost at this one. Divides `BLOCK_SIZE`: pages never cross blocks.
const PAGE_SIZE: usize = 4096;

/// How a [`LogReader`] treats damage; see [`LogReader`] for where reading stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RecoveryMode {
    /// Stop at the first incomplete or corrupt record and report the dropped
    /// tail instead of failing, *if* the damage is what a crash leaves: nothing
    /// intact after it, or a zero-filled hole (see [`LogReader`]). Damage with
    /// intact records after it that is not a zero-filled hole is still
    /// [`Error::Corruption`]. For the newest log, whose end a crash may have torn.
    #[default]
    TolerateTornTail,
    /// Any damage, a torn tail included, is [`Error::Corruption`]. (Zeros
    /// to the end of a log read with [`LogReader::zero_tail_is_end`] are
    /// its end, not damage.)
    Strict,
}

/// The part of a log a [`RecoveryMode::TolerateTornTail`] reader dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedTail {
    /// File offset where the drop starts: the first fragment of the damaged
    /// record (or the damaged fragment itself). Everything before it was read.
    pub offset: u64,
    /// Bytes from `offset` to the end of the file.
    pub bytes: u64,
    /// What was wrong at `offset`.
    pub reason: String,
    /// Estimated records lost: the damaged record at `offset` (unless it is
    /// only zeros, as a preallocated or never-written region reads) plus
    /// `intact_records_after`.
    pub records: u64,
    /// Records after the damage whose first fragment is intact (found by
    /// resynchronising at block boundaries). Non-zero only for a zero-filled
    /// hole (any other damage with intact records after it is an error): a
    /// power loss persisted later unsynced pages but not an earlier one.
    pub intact_records_after: u64,
}

impl DroppedTail {
    /// True if nothing intact follows the damage: the usual result of a crash
    /// during an append. False means a zero-filled hole with intact records
    /// after it: also a crash trace, but one that dropped several records
    /// (all unsynced when the crash hit), worth logging loudly.
    pub fn is_torn_tail(&self) -> bool {
        self.intact_records_after == 0
    }
}

/// What a [`LogReader`] has read so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Records returned.
    pub records: u64,
    /// Offset just past the last record returned: the valid prefix of the log.
    pub valid_len: u64,
    /// The dropped part, if reading stopped early in `TolerateTornTail` mode.
    pub dropped: Option<DroppedTail>,
}

impl RecoveryReport {
    /// Bytes dropped (0 if nothing was).
    pub fn bytes_dropped(&self) -> u64 {
        self.dropped.as_ref().map_or(0, |d| d.bytes)
    }

    /// Estimated records dropped (0 if nothing was).
    pub fn records_dropped(&self) -> u64 {
        self.dropped.as_ref().map_or(0, |d| d.records)
    }
}

/// One step of fragment parsing.
enum Fragment {
    /// A verified fragment; its payload is `buf[start..end]`.
    Data {
        kind: FragmentType,
        offset: u64,
        start: usize,
        end: usize,
    },
    /// The file ends exactly here.
    Eof,
    /// Damage at `offset`.
    Bad { offset: u64, reason: String },
}

/// Reads the records of a log file in order. Single-threaded.
///
/// # Where reading stops
/// The log is a prefix-ordered history: record *n + 1* may depend on record *n*
/// (a manifest edit, a batch with consecutive sequence numbers). So the reader
/// never skips a damaged region to resume after it. At the first problem —
/// checksum mismatch, impossible length, unknown type, broken fragment
/// sequence, a record cut off by the end of the file — it stops (unless
/// [`LogReader::zero_tail_is_end`] is set and only zeros follow, from a
/// record boundary to the end of the file: then the log simply ends there):
///
/// * [`RecoveryMode::Strict`] returns [`Error::Corruption`] with the offset of
///   the bad fragment (or of the first fragment of the record it breaks);
/// * [`RecoveryMode::TolerateTornTail`] first counts the checksum-valid
///   records after the damage, searching byte by byte after each damaged
///   fragment (so records later in the same block count too), then:
///   * none follow (a *torn tail*: a crash during the last appends): returns
///     `Ok(None)` and records a [`DroppedTail`] in the [`RecoveryReport`];
///   * some follow and the damage is a *zero-filled hole* (defined below):
///     also `Ok(None)` with a [`DroppedTail`], whose `intact_records_after`
///     is non-zero (see [`DroppedTail::is_torn_tail`]);
///   * some follow and the damage is anything else: [`Error::Corruption`] at
///     the same offset `Strict` reports. Garbage with intact records after it
///     is bit rot or a bug, not a crash trace, and the records after it may
///     have been acknowledged as durable.
///
/// # Zero-filled holes
/// Appends only grow the file, so after a power loss each 4 KiB page of the
/// file holds a prefix of its latest contents followed by zeros (a page
/// written back before the last writes into it, or never). The kernel may
/// persist a later page and not an earlier one, so a crash can leave zeros
/// *before* intact records — but only in unsynced data, since a sync persists
/// every page before it. Because each write appends whole records, such a
/// zero run starts at a record start or a page start. The damage counts as a
/// zero-filled hole iff, at the failing fragment (at file offset `f`), either
/// the bytes from `f` to the end of its 4 KiB page (or of the file) are all
/// zero, or a whole 4 KiB page (or the file's final part-page) starting inside
/// the fragment's extent is all zero. The extent is the header plus the
/// length it claims, or the rest of the block if that length does not fit.
///
/// A checksum-valid fragment never has an all-zero header, so a single bit
/// flip cannot make damage look like a hole — unless a record's payload
/// itself holds a whole aligned page of zeros, or the fragment starts a few
/// zero bytes before a page end; such bit rot is then tolerated like a crash.
/// So is a device that returns zeros for sectors it lost, even synced ones:
/// the drop is still reported, with the records lost after the hole.
///
/// The only damage read past is non-zero bytes in a block's padding tail (too
/// short for a header, never part of a record): `Strict` rejects them,
/// `TolerateTornTail` ignores them, since no record is lost.
pub struct LogReader {
    file: Arc<dyn RandomAccessFile>,
    path: PathBuf,
    mode: RecoveryMode,
    file_len: u64,
    /// The current block (`BLOCK_SIZE` bytes unless it is the file's last).
    buf: Vec<u8>,
    buf_start: u64,
    pos: usize,
    /// Payload of the multi-fragment record being assembled.
    record: Vec<u8>,
    /// Offset of the `FIRST` fragment of `record`, if one is open.
    record_start: Option<u64>,
    last_record_offset: u64,
    report: RecoveryReport,
    done: bool,
    /// Zeros from a record boundary to the end of the file end the log
    /// (see [`LogReader::zero_tail_is_end`]).
    zero_tail_is_end: bool,
}

impl LogReader {
    /// A reader over `file`; `path` names it in errors.
    ///
    /// # Errors
    /// [`Error::Io`] if the file's size or first block cannot be read.
    pub fn new(
        file: Arc<dyn RandomAccessFile>,
        path: impl Into<PathBuf>,
        mode: RecoveryMode,
    ) -> Result<Self> {
        let file_len = file.size()?;
        let mut reader = Self {
            file,
            path: path.into(),
            mode,
            file_len,
            buf: Vec::with_capacity(BLOCK_SIZE),
            buf_start: 0,
            pos: 0,
            record: Vec::new(),
            record_start: None,
            last_record_offset: 0,
            report: RecoveryReport::default(),
            done: false,
            zero_tail_is_end: false,
        };
        reader.load_block(0)?;
        Ok(reader)
    }

    /// Reads a log that may have been preallocated: if reading fails at a
    /// record boundary and every byte from there to the end of the file is
    /// zero, that is the end of the log in both modes, with nothing
    /// reported. Zeros after an open `FIRST` fragment are still a torn
    /// record. Off by default: without preallocation such zeros are a
    /// crash trace (or sectors a device lost), worth reporting.
    pub fn zero_tail_is_end(mut self, yes: bool) -> Self {
        self.zero_tail_is_end = yes;
        self
    }

    /// The next record, or `None` at the end of the log (or where a
    /// `TolerateTornTail` reader stopped; see [`LogReader::report`]).
    ///
    /// After an error or `None`, every later call returns `Ok(None)`.
    ///
    /// # Errors
    /// [`Error::Corruption`] for damage in [`RecoveryMode::Strict`];
    /// [`Error::Io`] if a read fails (in both modes).
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let result = self.read_record();
        if !matches!(result, Ok(Some(_))) {
            self.done = true;
        }
        result
    }

    /// File offset of the first fragment of the record last returned, for
    /// error messages about its contents (e.g. a write batch that fails to decode).
    pub fn last_record_offset(&self) -> u64 {
        self.last_record_offset
    }

    /// What was read and dropped so far.
    pub fn report(&self) -> &RecoveryReport {
        &self.report
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read_record(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            let (kind, offset, start, end) = match self.read_fragment()? {
                Fragment::Data {
                    kind,
                    offset,
                    start,
                    end,
                } => (kind, offset, start, end),
                Fragment::Eof => {
                    return match self.record_start {
                        Some(at) => {
                            let end = self.file_len;
                            self.stop(at, end, "record cut off by the end of the file")
                        }
                        None => Ok(None),
                    };
                }
                Fragment::Bad { offset, reason } => {
                    return self.stop(self.record_start.unwrap_or(offset), offset, &reason);
                }
            };
            let payload = self.buf.get(start..end).unwrap_or_default();
            match (kind, self.record_start) {
                (FragmentType::Full, None) => {
                    let record = payload.to_vec();
                    return Ok(Some(self.finish_record(offset, record)));
                }
                (FragmentType::First, None) => {
                    self.record.clear();
                    self.record.extend_from_slice(payload);
                    self.record_start = Some(offset);
                }
                (FragmentType::Middle, Some(_)) => self.record.extend_from_slice(payload),
                (FragmentType::Last, Some(first)) => {
                    self.record.extend_from_slice(payload);
                    self.record_start = None;
                    let record = std::mem::take(&mut self.record);
                    return Ok(Some(self.finish_record(first, record)));
                }
                (FragmentType::Full | FragmentType::First, Some(first)) => {
                    return self.stop(
                        first,
                        offset,
                        "record not finished before the next one starts",
                    );
                }
                (FragmentType::Middle | FragmentType::Last, None) => {
                    return self.stop(
                        offset,
                        offset,
                        "continuation fragment without a FIRST fragment",
                    );
                }
            }
        }
    }

    fn finish_record(&mut self, first_offset: u64, record: Vec<u8>) -> Vec<u8> {
        self.last_record_offset = first_offset;
        self.report.records += 1;
        self.report.valid_len = self.buf_start + self.pos as u64;
        record
    }

    /// Ends reading at `offset` (the damaged record) because of the fragment
    /// at `bad_at`: an error in `Strict` mode, or in `TolerateTornTail` mode
    /// for non-zero damage with intact records after it; a reported drop otherwise.
    fn stop(&mut self, offset: u64, bad_at: u64, reason: &str) -> Result<Option<Vec<u8>>> {
        // A preallocated log reads as zeros past its last append.
        if self.zero_tail_is_end
            && self.record_start.is_none()
            && offset == bad_at
            && strata_core::zeros_from(&*self.file, offset)?
        {
            return Ok(None);
        }
        if self.mode == RecoveryMode::Strict {
            return Err(Error::corruption(&self.path, offset, reason));
        }
        let zero_hole = self.is_zero_filled_hole(bad_at)?;
        let (damaged, intact_after) = self.scan_dropped(offset)?;
        if intact_after > 0 && !zero_hole {
            return Err(Error::corruption(
                &self.path,
                offset,
                format!("{reason}, with {intact_after} intact records after it"),
            ));
        }
        self.report.dropped = Some(DroppedTail {
            offset,
            bytes: self.file_len.saturating_sub(offset),
            reason: reason.to_owned(),
            records: u64::from(damaged) + intact_after,
            intact_records_after: intact_after,
        });
        Ok(None)
    }

    /// Whether the failing fragment at `at` looks like a page the kernel never
    /// wrote back (see "Zero-filled holes" on [`LogReader`]). Pages never
    /// cross blocks, so everything looked at is in `at`'s block.
    fn is_zero_filled_hole(&mut self, at: u64) -> Result<bool> {
        if at >= self.file_len {
            return Ok(false);
        }
        let block_start = at - at % BLOCK_SIZE as u64;
        self.load_block(block_start)?;
        let start = (at - block_start) as usize;
        let all_zero = |from: usize| {
            let to = (from - from % PAGE_SIZE + PAGE_SIZE).min(self.buf.len());
            self.buf
                .get(from..to)
                .is_some_and(|bytes| bytes.iter().all(|&b| b == 0))
        };
        if all_zero(start) {
            return Ok(true);
        }
        let claimed = self
            .buf
            .get(start..)
            .and_then(FragmentHeader::decode_from)
            .map(|h| start + HEADER_SIZE + usize::from(h.len));
        let extent_end = match claimed {
            Some(end) if end <= self.buf.len() => end,
            _ => self.buf.len(),
        };
        let first_page = start - start % PAGE_SIZE + PAGE_SIZE;
        Ok((first_page..extent_end).step_by(PAGE_SIZE).any(all_zero))
    }

    /// Classifies the dropped region from `offset` to the end of the file:
    /// whether the structure at `offset` is damaged data (not just zeros), and
    /// how many intact record starts follow it. After each bad fragment it
    /// searches on byte by byte.
    fn scan_dropped(&mut self, offset: u64) -> Result<(bool, u64)> {
        let block_start = offset - offset % BLOCK_SIZE as u64;
        self.load_block(block_start)?;
        self.pos = (offset - block_start) as usize;
        let head_end = (self.pos + HEADER_SIZE).min(self.buf.len());
        let nonzero = self
            .buf
            .get(self.pos..head_end)
            .is_some_and(|head| head.iter().any(|&b| b != 0));
        let mut first = true;
        let mut damaged = false;
        let mut intact = 0;
        loop {
            match self.read_fragment()? {
                Fragment::Eof => break,
                Fragment::Data { kind, .. } => {
                    if first {
                        // A whole fragment at the drop point was intact: the
                        // damaged record starts here.
                        damaged = true;
                    } else if matches!(kind, FragmentType::Full | FragmentType::First) {
                        intact += 1;
                    }
                }
                Fragment::Bad { offset: at, .. } => {
                    damaged |= first && nonzero;
                    intact += self.search_after(at)?;
                    break;
                }
            }
            first = false;
        }
        Ok((damaged, intact))
    }

    /// Counts the checksum-valid FULL and FIRST fragments found by trying
    /// every byte offset after the damage at `at`, to the end of the file:
    /// records later in the damaged block count too. (Bytes that merely look
    /// like a fragment need a CRC match: 1 in 2^32.) The search stops once
    /// it has checksummed 16 times the file's size (plus 1 MiB), which only
    /// a file crafted to look like fragment headers at every offset reaches;
    /// what it found by then decides.
    fn search_after(&mut self, at: u64) -> Result<u64> {
        let mut found = 0;
        let mut pos = usize::try_from(at - self.buf_start)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        // Bytes the search may checksum: honest damage costs a few records'
        // worth; a file crafted so that every offset looks like a header
        // would otherwise cost a block's size squared per block.
        let mut budget = self.file_len.saturating_mul(16).saturating_add(1 << 20);
        loop {
            while pos.saturating_add(HEADER_SIZE) <= self.buf.len() {
                if budget == 0 {
                    return Ok(found);
                }
                match self.probe(pos, &mut budget) {
                    Some((kind, end)) => {
                        if matches!(kind, FragmentType::Full | FragmentType::First) {
                            found += 1;
                        }
                        pos = end;
                    }
                    None => pos += 1,
                }
            }
            let next = self.buf_start + BLOCK_SIZE as u64;
            if next >= self.file_len {
                return Ok(found);
            }
            self.load_block(next)?;
            pos = 0;
        }
    }

    /// The fragment starting at `pos` of the loaded block, if its type is
    /// known, it fits the block and its checksum matches: `(type, end)`.
    fn probe(&self, pos: usize, budget: &mut u64) -> Option<(FragmentType, usize)> {
        let header = FragmentHeader::decode_from(self.buf.get(pos..)?)?;
        // Cheap checks first: most offsets fail them without a CRC.
        let kind = FragmentType::from_u8(header.kind)?;
        let start = pos + HEADER_SIZE;
        let end = start + usize::from(header.len);
        let payload = self.buf.get(start..end)?;
        *budget = budget.saturating_sub(payload.len() as u64 + 1);
        (fragment_checksum(header.kind, payload) == header.masked_crc).then_some((kind, end))
    }

    /// Parses the next fragment, moving to the next block when needed.
    fn read_fragment(&mut self) -> Result<Fragment> {
        loop {
            let remaining = self.buf.len() - self.pos;
            let offset = self.buf_start + self.pos as u64;
            if remaining < HEADER_SIZE {
                if self.buf.len() < BLOCK_SIZE {
                    // The file's last, short block.
                    if remaining == 0 {
                        return Ok(Fragment::Eof);
                    }
                    return Ok(bad(
                        offset,
                        "fragment header cut off by the end of the file",
                    ));
                }
                let tail = self.buf.get(self.pos..).unwrap_or_default();
                if self.mode == RecoveryMode::Strict && tail.iter().any(|&b| b != 0) {
                    return Ok(bad(offset, "non-zero bytes in block padding"));
                }
                let next = self.buf_start + BLOCK_SIZE as u64;
                if next >= self.file_len {
                    return Ok(Fragment::Eof);
                }
                self.load_block(next)?;
                continue;
            }
            let rest = self.buf.get(self.pos..).unwrap_or_default();
            let Some(header) = FragmentHeader::decode_from(rest) else {
                return Ok(bad(offset, "fragment header unreadable"));
            };
            if header.kind == 0 {
                return Ok(bad(offset, "fragment type 0 (zero-filled region)"));
            }
            let len = usize::from(header.len);
            if HEADER_SIZE + len > BLOCK_SIZE - self.pos {
                return Ok(bad(
                    offset,
                    format!("fragment length {len} overruns its block"),
                ));
            }
            let start = self.pos + HEADER_SIZE;
            let end = start + len;
            let Some(payload) = self.buf.get(start..end) else {
                return Ok(bad(offset, "fragment cut off by the end of the file"));
            };
            if fragment_checksum(header.kind, payload) != header.masked_crc {
                return Ok(bad(offset, "fragment checksum mismatch"));
            }
            let Some(kind) = FragmentType::from_u8(header.kind) else {
                return Ok(bad(
                    offset,
                    format!("unknown fragment type {}", header.kind),
                ));
            };
            self.pos = end;
            return Ok(Fragment::Data {
                kind,
                offset,
                start,
                end,
            });
        }
    }

    /// Reads the block starting at `start` (a multiple of `BLOCK_SIZE`).
    fn load_block(&mut self, start: u64) -> Result<()> {
        let n = self.file_len.saturating_sub(start).min(BLOCK_SIZE as u64) as usize;
        self.buf.resize(n, 0);
        self.file.read_at(start, &mut self.buf)?;
        self.buf_start = start;
        self.pos = 0;
        Ok(())
    }
}

fn bad(offset: u64, reason: impl Into<String>) -> Fragment {
    Fragment::Bad {
        offset,
        reason: reason.into(),
    }
}

impl std::fmt::Debug for LogReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogReader")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .field("file_len", &self.file_len)
            .field("offset", &(self.buf_start + self.pos as u64))
            .field("report", &self.report)
            .finish()
    }
}
