//! The live WALs read in order as one log: the rules open's replay and
//! `verify` share.
//!
//! Sequence numbers run on without a break from the manifest's last seqno,
//! batch to batch, across the logs. Where the run breaks, or a log's tail is
//! damaged, what that means depends on whether the log was synced before its
//! successor took writes:
//!
//! * Rotated under `SyncPolicy::Always` or `Interval`, it was. Damage in it
//!   that a later log continues, or a break in the seqnos, is corruption.
//! * Rotated under `SyncPolicy::Never`, it was not: a power loss may have
//!   cut any suffix of it (or all of it) while its successors kept theirs.
//!   Such a successor starts with a *marker*: an empty write batch whose
//!   base is the seqno its first write takes. A break before a marked log
//!   ends the chain there: that log and every later one are skipped, so
//!   recovery yields the writes up to the break and none after it, which
//!   is the state at a point in time.
//!
//! Invariant the rules rely on: the first live WAL's first write takes the
//! seqno after the manifest's last seqno. A flush records its memtable's
//! highest seqno as the manifest's last seqno in the same edit that makes
//! the next memtable's WAL the first live one; open records the last
//! replayed seqno and starts a new, empty WAL.

use std::path::{Path, PathBuf};

use strata_core::{Error, FileSystem, Result, SeqNo};
use strata_wal::{DroppedTail, FrozenBatch, LogReader, RecoveryMode, WriteBatch};

/// The marker that starts a WAL whose predecessor was not synced before
/// it took writes: an empty batch whose base is the next seqno.
pub(crate) fn marker(next_seqno: SeqNo) -> Result<WriteBatch> {
    let mut batch = WriteBatch::new();
    batch.set_base_seqno(next_seqno)?;
    Ok(batch)
}

/// What reading one log of the chain found.
#[derive(Debug)]
pub(crate) enum WalVisit {
    /// The log was read; its batches went to the caller.
    Read {
        /// Write batches that hold at least one op (markers and other
        /// empty batches are not counted).
        batches: u64,
        /// The damaged tail the reader stopped at, if any.
        dropped: Option<DroppedTail>,
    },
    /// The log lies after a break that a power loss explains: none of its
    /// writes were applied. `reason` says where the chain ended.
    Skipped { reason: String },
}

/// Reads the live WALs of a directory in ascending number, one call of
/// [`WalChain::read`] per log.
pub(crate) struct WalChain {
    mode: RecoveryMode,
    /// The seqno the next write must take; `None` until known (a `verify`
    /// of a directory whose manifest could not be read).
    next: Option<SeqNo>,
    /// A damaged tail dropped from an earlier log, not yet judged: fine if
    /// no write follows it, else judged by the next log that holds one.
    damage: Option<(PathBuf, DroppedTail)>,
    /// Set once the chain has ended at a break: every later log is skipped.
    ended: Option<String>,
}

impl WalChain {
    /// A chain whose first write takes seqno `first`.
    pub(crate) fn new(mode: RecoveryMode, first: Option<SeqNo>) -> Self {
        Self {
            mode,
            next: first,
            damage: None,
            ended: None,
        }
    }

    /// Reads the log at `path`, the next in the chain, handing each
    /// non-empty batch, in order, to `apply`.
    ///
    /// # Errors
    /// [`Error::Corruption`] for damage the rules above do not allow (and
    /// for any damage under [`RecoveryMode::Strict`]); I/O errors; what
    /// `apply` returns. The chain's state is then as before the failing
    /// batch, so a caller may go on reading later logs to report on them.
    pub(crate) fn read(
        &mut self,
        fs: &dyn FileSystem,
        path: &Path,
        mut apply: impl FnMut(FrozenBatch) -> Result<()>,
    ) -> Result<WalVisit> {
        if let Some(reason) = &self.ended {
            return Ok(WalVisit::Skipped {
                reason: reason.clone(),
            });
        }
        // WALs may be preallocated (under a syncing policy, now or when
        // they were written).
        let mut reader = LogReader::new(fs.open(path)?, path, self.mode)?.zero_tail_is_end(true);
        let mut first = true;
        let mut batches = 0u64;
        while let Some(record) = reader.next_record()? {
            let offset = reader.last_record_offset();
            let batch = WriteBatch::decode_from(&record, path, offset)?;
            if std::mem::take(&mut first) && batch.is_empty() {
                if let Some(reason) = self.check_marker(path, batch.base_seqno())? {
                    self.ended = Some(reason.clone());
                    return Ok(WalVisit::Skipped { reason });
                }
                continue;
            }
            if batch.is_empty() {
                continue;
            }
            if let Some((damaged, dropped)) = &self.damage {
                // Only a log whose successor starts with a marker may have
                // lost its tail, and the marker was judged above.
                return Err(Error::corruption(
                    damaged,
                    dropped.offset,
                    format!(
                        "damaged record in a WAL that a later one ({}) continues, and that was synced before it took writes",
                        path.display()
                    ),
                ));
            }
            let base = batch.base_seqno();
            if let Some(next) = self.next
                && base != next
            {
                return Err(Error::corruption(
                    path,
                    offset,
                    format!(
                        "write batch at seqno {base} does not continue from seqno {}",
                        next.saturating_sub(1)
                    ),
                ));
            }
            let batch = batch.freeze();
            let following = batch.base_seqno() + batch.len() as u64;
            apply(batch)?;
            self.next = Some(following);
            batches += 1;
        }
        let dropped = reader.report().dropped.clone();
        if let Some(d) = &dropped {
            self.damage = Some((path.to_path_buf(), d.clone()));
        }
        Ok(WalVisit::Read { batches, dropped })
    }

    /// Judges the marker at the start of `path` (`base`: the seqno the log's
    /// first write takes). Returns where the chain ends if the writes
    /// before it were cut short, `None` if they are whole.
    fn check_marker(&mut self, path: &Path, base: SeqNo) -> Result<Option<String>> {
        if let Some(next) = self.next
            && base < next
        {
            return Err(Error::corruption(
                path,
                0,
                format!(
                    "WAL marker says its writes start at seqno {base}, but seqno {} precedes it",
                    next - 1
                ),
            ));
        }
        let whole = self.next.is_none_or(|next| next == base);
        if whole {
            // Damage before a marker that lost no write: bytes that never
            // made a whole batch.
            self.next = Some(base);
            self.damage = None;
            return Ok(None);
        }
        let next = self.next.unwrap_or(base);
        let lost = match &self.damage {
            Some((damaged, d)) => format!(
                "{} lost writes from seqno {next} on ({} at offset {})",
                damaged.display(),
                d.reason,
                d.offset
            ),
            None => format!("the WALs before it lost the writes from seqno {next} on"),
        };
        if self.mode == RecoveryMode::Strict {
            return Err(Error::corruption(
                path,
                0,
                format!(
                    "{lost}; its writes start at seqno {base} (strict recovery refuses the gap)"
                ),
            ));
        }
        Ok(Some(format!(
            "{lost}, unsynced at a power loss; this WAL's writes start at seqno {base}, so replay stops before it"
        )))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::{Path, PathBuf};

    use strata_core::{FaultFs, FileSystem};
    use strata_wal::LogWriter;

    use super::*;

    /// One log's records: `None` a marker for the seqno given, `Some(n)` a
    /// batch of `n` puts at the seqno given.
    type Log<'a> = &'a [(SeqNo, Option<usize>)];

    fn write_logs(logs: &[Log<'_>]) -> (FaultFs, Vec<PathBuf>) {
        let fs = FaultFs::new();
        let dir = PathBuf::from("/db");
        fs.create_dir_all(&dir).unwrap();
        let mut paths = Vec::new();
        for (i, records) in logs.iter().enumerate() {
            let path = dir.join(format!("{i:06}.log"));
            let mut log = LogWriter::new(fs.create(&path).unwrap());
            for &(base, ops) in *records {
                let mut batch = WriteBatch::new();
                for op in 0..ops.unwrap_or(0) {
                    batch.put(format!("k{base}-{op}").as_bytes(), b"v").unwrap();
                }
                batch.set_base_seqno(base).unwrap();
                log.add_record(batch.as_bytes()).unwrap();
            }
            log.sync().unwrap();
            paths.push(path);
        }
        (fs, paths)
    }

    /// Reads the logs at `paths` as a chain from seqno `first`; returns the
    /// seqnos applied and each log's outcome.
    fn read_paths(
        fs: &FaultFs,
        paths: &[PathBuf],
        mode: RecoveryMode,
        first: SeqNo,
    ) -> (Vec<SeqNo>, Vec<Result<WalVisit>>) {
        let mut chain = WalChain::new(mode, Some(first));
        let mut applied = Vec::new();
        let mut visits = Vec::new();
        for path in paths {
            visits.push(chain.read(fs, path, |b| {
                applied.extend(b.iter().map(|(seqno, ..)| seqno));
                Ok(())
            }));
        }
        (applied, visits)
    }

    /// Writes `logs` and reads them as a chain from seqno `first`; the
    /// first error ends it.
    fn read_chain(
        logs: &[Log<'_>],
        mode: RecoveryMode,
        first: SeqNo,
    ) -> Result<(Vec<SeqNo>, Vec<WalVisit>)> {
        let (fs, paths) = write_logs(logs);
        let (applied, visits) = read_paths(&fs, &paths, mode, first);
        Ok((applied, visits.into_iter().collect::<Result<_>>()?))
    }

    /// Cuts the last 3 bytes off the log at `path`: a torn last record.
    fn tear(fs: &FaultFs, path: &Path) {
        let bytes = fs.read_all(path).unwrap();
        let mut f = fs.create(path).unwrap();
        f.append(&bytes[..bytes.len() - 3]).unwrap();
        f.sync().unwrap();
    }

    fn skipped(visits: &[WalVisit]) -> Vec<bool> {
        visits
            .iter()
            .map(|v| matches!(v, WalVisit::Skipped { .. }))
            .collect()
    }

    #[test]
    fn marked_logs_that_continue_are_replayed_whole() {
        let logs: &[Log<'_>] = &[
            &[(6, Some(2)), (8, Some(1))],
            &[(9, None), (9, Some(3))],
            &[(12, None)],
            &[(12, None), (12, Some(1))],
        ];
        let (applied, visits) = read_chain(logs, RecoveryMode::Strict, 6).unwrap();
        assert_eq!(applied, (6..=12).collect::<Vec<_>>());
        assert_eq!(skipped(&visits), [false; 4]);
    }

    #[test]
    fn a_gap_before_a_marked_log_ends_the_chain_there() {
        // The first log lost seqno 8 on; the second and third are skipped.
        let logs: &[Log<'_>] = &[
            &[(6, Some(2))],
            &[(9, None), (9, Some(3))],
            &[(12, None), (12, Some(1))],
        ];
        let (applied, visits) = read_chain(logs, RecoveryMode::TolerateTornTail, 6).unwrap();
        assert_eq!(applied, [6, 7]);
        assert_eq!(skipped(&visits), [false, true, true]);
        // Strict recovery refuses the gap instead.
        let e = read_chain(logs, RecoveryMode::Strict, 6).unwrap_err();
        assert!(e.to_string().contains("strict"), "{e}");
        // A first log whose head is not the manifest's next seqno is cut
        // off too, if marked.
        let (applied, visits) = read_chain(
            &[&[(9, None), (9, Some(1))]],
            RecoveryMode::TolerateTornTail,
            6,
        )
        .unwrap();
        assert!(applied.is_empty());
        assert_eq!(skipped(&visits), [true]);
    }

    #[test]
    fn an_unmarked_log_must_continue_exactly() {
        // A synced predecessor cannot have lost writes: a gap is corruption.
        let logs: &[Log<'_>] = &[&[(6, Some(2))], &[(9, Some(1))]];
        let e = read_chain(logs, RecoveryMode::TolerateTornTail, 6).unwrap_err();
        assert!(e.to_string().contains("does not continue"), "{e}");
        // So is a first write that is not the manifest's next seqno.
        let e = read_chain(&[&[(7, Some(1))]], RecoveryMode::TolerateTornTail, 6).unwrap_err();
        assert!(e.to_string().contains("does not continue"), "{e}");
        // And a marker behind writes already replayed.
        let logs: &[Log<'_>] = &[&[(6, Some(3))], &[(7, None)]];
        let e = read_chain(logs, RecoveryMode::TolerateTornTail, 6).unwrap_err();
        assert!(e.to_string().contains("precedes"), "{e}");
    }

    #[test]
    fn a_torn_tail_is_judged_by_the_next_log_that_holds_writes() {
        let logs: &[Log<'_>] = &[&[(6, Some(2)), (8, Some(2))], &[(10, None), (10, Some(1))]];
        let (fs, paths) = write_logs(logs);
        tear(&fs, &paths[0]);
        let (applied, visits) = read_paths(&fs, &paths, RecoveryMode::TolerateTornTail, 6);
        // The marked successor starts at 10, the torn batch held 8 and 9:
        // the chain ends before the successor.
        assert_eq!(applied, [6, 7]);
        assert!(matches!(
            visits[0],
            Ok(WalVisit::Read {
                dropped: Some(_),
                ..
            })
        ));
        assert!(matches!(visits[1], Ok(WalVisit::Skipped { .. })));

        // Unmarked, the successor was written after a synced predecessor:
        // the torn tail is corruption, named at the damaged log.
        let logs: &[Log<'_>] = &[&[(6, Some(2)), (8, Some(2))], &[(10, Some(1))]];
        let (fs, paths) = write_logs(logs);
        tear(&fs, &paths[0]);
        let (_, mut visits) = read_paths(&fs, &paths, RecoveryMode::TolerateTornTail, 6);
        match visits.pop() {
            Some(Err(Error::Corruption { file, .. })) => assert_eq!(file, paths[0]),
            other => panic!("{other:?}"),
        }
    }
}
