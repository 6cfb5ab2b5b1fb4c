//! Checking the write-ahead logs of a data directory, as `Db::open` would
//! replay them.

use std::path::Path;

use strata_core::{Error, FileSystem, SeqNo};
use strata_wal::{DroppedTail, RecoveryMode};

use super::report::{FileKind, FileReport, FileStatus};
use super::{file_size, status_of};
use crate::db::files::wal_path;
use crate::db::wal_chain::{WalChain, WalVisit};

/// Reads every WAL in `numbers` (ascending) as open's replay reads them
/// (see [`WalChain`]): each record's checksums, that it decodes as a write
/// batch, and that sequence numbers continue from `first_seqno` (the
/// manifest's last seqno plus one, if the manifest was read) from batch to
/// batch across the logs.
///
/// Damage is judged as open judges it:
/// * a torn tail that no write follows is a warning: a crash leaves one
///   (those writes were in flight, and under `SyncPolicy::Always` never
///   acknowledged); open drops it and reports it;
/// * a WAL after a break that a power loss explains (its predecessor was
///   not synced before it took writes) is a warning: open skips it;
/// * damage in a WAL that a later, synced-after one continues, or a break
///   in the seqnos, is a problem (open refuses both), reported at the
///   damage. Checking then goes on with the next WAL on its own.
pub(super) fn check_wals(
    fs: &dyn FileSystem,
    dir: &Path,
    numbers: &[u64],
    first_seqno: Option<SeqNo>,
) -> Vec<FileReport> {
    let mut chain = WalChain::new(RecoveryMode::TolerateTornTail, first_seqno);
    let mut reports: Vec<FileReport> = Vec::with_capacity(numbers.len());
    for &number in numbers {
        let path = wal_path(dir, number);
        let mut read = chain.read(fs, &path, |_| Ok(()));
        if let Err(Error::Corruption { file, .. }) = &read
            && let Some(earlier) = reports.iter_mut().find(|r| r.path == *file)
        {
            // Damage in an earlier WAL that this one continues: the
            // problem is the earlier WAL's. Check this one on its own.
            if let Err(e) = &read {
                earlier.status = status_of(e);
            }
            chain = WalChain::new(RecoveryMode::TolerateTornTail, None);
            read = chain.read(fs, &path, |_| Ok(()));
        }
        let (status, records) = match read {
            Ok(WalVisit::Read { batches, dropped }) => {
                let status = dropped.map_or(FileStatus::Ok, |d| FileStatus::Warning {
                    offset: Some(d.offset),
                    reason: torn_tail_reason(&d),
                });
                (status, Some(batches))
            }
            Ok(WalVisit::Skipped { reason }) => (
                FileStatus::Warning {
                    offset: None,
                    reason: format!("the next open skips this WAL: {reason}"),
                },
                None,
            ),
            Err(e) => {
                chain = WalChain::new(RecoveryMode::TolerateTornTail, None);
                (status_of(&e), None)
            }
        };
        let mut report = FileReport::new(path.clone(), FileKind::Wal, status);
        report.size = file_size(fs, &path);
        report.entries = records;
        reports.push(report);
    }
    reports
}

fn torn_tail_reason(d: &DroppedTail) -> String {
    format!(
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
    )
}
