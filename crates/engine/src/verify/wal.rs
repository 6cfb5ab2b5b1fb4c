//! Checking the write-ahead logs of a data directory, as `Db::open` would
//! replay them.

use std::path::{Path, PathBuf};

use strata_core::{Error, FileSystem, Result, SeqNo};
use strata_wal::{DroppedTail, LogReader, RecoveryMode, WriteBatch};

use super::report::{FileKind, FileReport, FileStatus};
use super::{file_size, status_of};
use crate::db::files::wal_path;

/// What reading one WAL found.
struct WalRead {
    records: u64,
    /// Write batches holding at least one op (counted before their seqno
    /// check: open refuses any such batch after a damaged log).
    non_empty: u64,
    /// The first failure, or `None`.
    problem: Option<Error>,
    /// Damage a `TolerateTornTail` reader stopped at.
    dropped: Option<DroppedTail>,
}

/// Reads every WAL in `numbers` (ascending), checking each record's
/// checksums, that it decodes as a write batch and that sequence numbers
/// continue from batch to batch across the logs, as open's replay demands.
///
/// A damaged tail is judged as open judges it. A crash can tear the end of
/// the newest log that holds data: those writes were in flight, and under
/// `SyncPolicy::Always` never acknowledged; open drops them and reports it.
/// So such a tail is a warning. Each older log was synced before the next
/// one took writes, so damage in a log that a later log continues is a
/// problem (open refuses it).
pub(super) fn check_wals(fs: &dyn FileSystem, dir: &Path, numbers: &[u64]) -> Vec<FileReport> {
    let mut last: Option<SeqNo> = None;
    let reads: Vec<(PathBuf, WalRead)> = numbers
        .iter()
        .map(|&n| {
            let path = wal_path(dir, n);
            let read = read_wal(fs, &path, &mut last);
            (path, read)
        })
        .collect();
    let mut reports = Vec::with_capacity(reads.len());
    for (i, (path, read)) in reads.iter().enumerate() {
        let continued = reads
            .get(i + 1..)
            .unwrap_or_default()
            .iter()
            .any(|(_, later)| later.non_empty > 0);
        let status = match (&read.problem, &read.dropped) {
            (Some(e), _) => status_of(e),
            (None, Some(d)) if continued => FileStatus::Problem {
                offset: Some(d.offset),
                reason: format!(
                    "damaged record ({}) in a WAL that a later WAL continues; open refuses this",
                    d.reason
                ),
            },
            (None, Some(d)) => FileStatus::Warning {
                offset: Some(d.offset),
                reason: format!(
                    "torn tail ({}): the next open drops {} bytes, about {} record(s){}",
                    d.reason,
                    d.bytes,
                    d.records,
                    if d.is_torn_tail() {
                        String::new()
                    } else {
                        format!(
                            ", {} of them intact after a zero-filled hole",
                            d.intact_records_after
                        )
                    }
                ),
            },
            (None, None) => FileStatus::Ok,
        };
        let mut report = FileReport::new(path.clone(), FileKind::Wal, status);
        report.size = file_size(fs, path);
        report.entries = Some(read.records);
        reports.push(report);
    }
    reports
}

/// Reads one WAL with a `TolerateTornTail` reader (which still fails on
/// damage followed by intact records, other than a zero-filled hole).
/// `last` carries the last seqno replayed across logs.
fn read_wal(fs: &dyn FileSystem, path: &Path, last: &mut Option<SeqNo>) -> WalRead {
    let mut read = WalRead {
        records: 0,
        non_empty: 0,
        problem: None,
        dropped: None,
    };
    let result = (|| -> Result<Option<DroppedTail>> {
        // As replay reads it: WALs may be preallocated.
        let mut reader = LogReader::new(fs.open(path)?, path, RecoveryMode::TolerateTornTail)?
            .zero_tail_is_end(true);
        while let Some(record) = reader.next_record()? {
            let offset = reader.last_record_offset();
            let batch = WriteBatch::decode_from(&record, path, offset)?;
            read.records += 1;
            if batch.is_empty() {
                continue;
            }
            read.non_empty += 1;
            let base = batch.base_seqno();
            if let Some(prev) = *last
                && Some(base) != prev.checked_add(1)
            {
                return Err(Error::corruption(
                    path,
                    offset,
                    format!("write batch at seqno {base} does not continue from seqno {prev}"),
                ));
            }
            *last = Some(batch.last_seqno());
        }
        Ok(reader.report().dropped.clone())
    })();
    match result {
        Ok(dropped) => read.dropped = dropped,
        Err(e) => read.problem = Some(e),
    }
    read
}
