//! Opening a database: lock, recover the manifest, replay the WALs into L0
//! tables, start a new WAL and manifest, delete leftovers.
//!
//! Every step before the new manifest is installed only adds files; the
//! switch of `CURRENT` commits the recovery. A crash anywhere before it
//! leaves the old manifest and WALs in force, and the next open repeats the
//! recovery (deleting this attempt's tables as leftovers).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use arc_swap::ArcSwap;
use parking_lot::{Condvar, Mutex, RwLock};
use strata_core::{DirLock, Error, FileSystem, Result, SeqNo};
use strata_sstable::BlockCache;
use strata_wal::{DroppedTail, FrozenBatch, LogWriter, Wal};

use super::compact::CompactionState;
use super::files::{DbFile, data_without_current, table_path, wal_path};
use super::flush::write_table;
use super::publish::Publisher;
use super::shared::{BgState, Counters, ManifestSide, Shared, WriteTarget};
use super::wal_chain::{WalChain, WalVisit};
use crate::manifest::{
    CURRENT_FILE_NAME, FileMetadata, MAX_FILE_NUMBER, ManifestState, ManifestWriter,
    RecoveredManifest, VersionEdit, database_exists, manifest_file_name, recover_with_mode,
};
use crate::options::Options;
use crate::version::{MemSlot, TableCache, TableHandle, Version};

/// What [`Db::open`](crate::Db::open) found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenReport {
    /// True if the database was created by this open.
    pub created: bool,
    /// WAL files replayed.
    pub wal_files_replayed: usize,
    /// WAL records (write batches) replayed.
    pub records_replayed: u64,
    /// Damaged tails dropped from WALs (only in
    /// [`RecoveryMode::TolerateTornTail`](strata_wal::RecoveryMode)): what a
    /// crash during an append leaves. Such writes were never acknowledged
    /// under [`SyncPolicy::Always`](strata_wal::SyncPolicy).
    pub wal_tails_dropped: Vec<(PathBuf, DroppedTail)>,
    /// WALs replay stopped before, each with the reason: under
    /// [`SyncPolicy::Never`](strata_wal::SyncPolicy) a power loss cut an
    /// earlier WAL short, and these hold only writes that came after the
    /// lost ones. Replaying them would leave a hole in history, so the
    /// database recovers to the last write before the cut (and deletes
    /// them with the other leftovers).
    pub wals_skipped: Vec<(PathBuf, String)>,
    /// A torn last manifest edit that was dropped (it was never acknowledged).
    pub manifest_torn_tail: Option<DroppedTail>,
    /// L0 tables written from the replayed WALs.
    pub tables_written: usize,
    /// Files of earlier runs that no manifest references, deleted.
    pub leftovers_removed: Vec<PathBuf>,
}

/// Everything `open` hands to the `Db`.
pub(crate) struct Opened {
    pub(crate) shared: Arc<Shared>,
    pub(crate) lock: DirLock,
    pub(crate) report: OpenReport,
}

pub(crate) fn open(dir: &Path, opts: Options) -> Result<Opened> {
    opts.validate()?;
    let fs = Arc::clone(&opts.fs);
    if !fs.exists(dir)? {
        if !opts.create_if_missing {
            return Err(Error::invalid_argument(format!(
                "{} does not exist (set create_if_missing to create a database)",
                dir.display()
            )));
        }
        fs.create_dir_all(dir)?;
    }
    let lock = DirLock::acquire(&*fs, dir)?;
    let on_disk: Vec<(String, DbFile)> = fs
        .list(dir)?
        .into_iter()
        .filter_map(|name| DbFile::parse(&name).map(|f| (name, f)))
        .collect();

    let mut report = OpenReport::default();
    let mut state = if database_exists(&*fs, dir)? {
        if opts.error_if_exists {
            return Err(Error::invalid_argument(format!(
                "a database already exists in {} (error_if_exists is set)",
                dir.display()
            )));
        }
        // Strict mode refuses a torn last edit too.
        let recovered = recover_with_mode(&*fs, dir, opts.recovery_mode)?;
        check_needed_files(&*fs, dir, &recovered)?;
        report.manifest_torn_tail = recovered.torn_tail;
        recovered.state
    } else {
        if !opts.create_if_missing {
            return Err(Error::invalid_argument(format!(
                "no database in {} (set create_if_missing to create one)",
                dir.display()
            )));
        }
        if let Some(name) = data_without_current(&*fs, dir, &on_disk)? {
            // Creating a database here would delete it as a leftover.
            return Err(Error::corruption(
                dir.join(CURRENT_FILE_NAME),
                0,
                format!(
                    "missing, but the directory holds strata data ({name}); refusing to create a new database over it"
                ),
            ));
        }
        report.created = true;
        ManifestState::new()
    };

    // No number on disk may be handed out again.
    let max_on_disk = on_disk.iter().map(|(_, f)| f.number()).max().unwrap_or(0);
    let mut next_file = state.next_file_number().max(max_on_disk.saturating_add(1));
    if next_file > MAX_FILE_NUMBER {
        return Err(Error::corruption(
            dir,
            0,
            format!("file number {max_on_disk} on disk is implausibly large"),
        ));
    }

    let mut wals: Vec<u64> = on_disk
        .iter()
        .filter_map(|(_, f)| match f {
            DbFile::Wal(n) if *n >= state.log_number() => Some(*n),
            _ => None,
        })
        .collect();
    wals.sort_unstable();
    let mut replay = Replay {
        fs: &*fs,
        dir,
        opts: &opts,
        slot: MemSlot::new(0, opts.memtable_size),
        added: Vec::new(),
        last_seqno: state.last_seqno(),
        records: 0,
        next_file: &mut next_file,
    };
    let mut chain = WalChain::new(
        opts.recovery_mode,
        Some(state.last_seqno().saturating_add(1)),
    );
    for &number in &wals {
        let path = wal_path(dir, number);
        match chain.read(&*fs, &path, |batch| replay.apply(&batch))? {
            WalVisit::Read { dropped, .. } => {
                report.wal_files_replayed += 1;
                if let Some(dropped) = dropped {
                    report.wal_tails_dropped.push((path, dropped));
                }
            }
            WalVisit::Skipped { reason } => report.wals_skipped.push((path, reason)),
        }
    }
    replay.flush()?;
    report.records_replayed = replay.records;
    let last_seqno = replay.last_seqno;
    let added = replay.added;
    report.tables_written = added.len();

    let wal_number = next_file;
    let manifest_number = next_file + 1;
    next_file += 2;
    let mut wal_file = fs.create(&wal_path(dir, wal_number))?;
    fs.sync_dir(dir)?;
    let mut edit = VersionEdit::new();
    edit.log_number = Some(wal_number);
    edit.next_file_number = Some(next_file);
    edit.last_seqno = Some(last_seqno.max(state.last_seqno()));
    for meta in &added {
        edit.add_file(0, meta.clone());
    }
    state.apply(&edit)?;
    // The commit point: CURRENT names a manifest holding the replayed tables.
    let writer = ManifestWriter::create(&*fs, dir, manifest_number, &state)?;
    // Only now: before CURRENT exists, a WAL that holds bytes would make a
    // later open take the directory for a database.
    wal_file.preallocate(opts.wal_preallocation())?;

    for (name, file) in &on_disk {
        let obsolete = match *file {
            DbFile::Table(n) => state.level_of(n).is_none(),
            DbFile::Wal(n) => n < wal_number,
            DbFile::Manifest(n) => n != manifest_number,
            DbFile::Temp(_) => true,
        };
        if obsolete {
            let path = dir.join(name);
            // Best effort: a file that stays is removed by a later open.
            if fs.remove(&path).is_ok() {
                report.leftovers_removed.push(path);
            }
        }
    }

    let block_cache =
        (opts.block_cache_bytes > 0).then(|| Arc::new(BlockCache::new(opts.block_cache_bytes)));
    let table_cache = Arc::new(TableCache::new(
        Arc::clone(&fs),
        opts.max_open_tables,
        block_cache,
        opts.mmap_reads,
    ));
    let active = Arc::new(MemSlot::new(wal_number, opts.memtable_size));
    let tables = state
        .levels()
        .iter()
        .enumerate()
        .flat_map(|(level, files)| {
            let cache = &table_cache;
            files.iter().map(move |meta| {
                let handle = TableHandle::new(
                    meta.clone(),
                    table_path(dir, meta.number),
                    Arc::clone(cache),
                );
                (level, Arc::new(handle))
            })
        })
        .collect();
    let version = Version::new(Arc::clone(&active)).with_tables(tables);
    let last_seqno = state.last_seqno();
    let shared = Shared {
        dir: dir.to_path_buf(),
        fs,
        version: ArcSwap::from_pointee(version),
        version_lock: Mutex::new(()),
        write_target: RwLock::new(WriteTarget {
            wal: Arc::new(Wal::new(LogWriter::new(wal_file), opts.sync_policy)),
            slot: active,
        }),
        manifest: Mutex::new(ManifestSide {
            rewrite_at: opts
                .manifest_rewrite_bytes
                .max(writer.size().saturating_mul(2)),
            writer,
            state,
        }),
        table_cache,
        next_file_number: AtomicU64::new(next_file),
        next_seqno: AtomicU64::new(last_seqno + 1),
        publisher: Publisher::new(last_seqno),
        snapshots: Mutex::new(BTreeMap::new()),
        bg: Mutex::new(BgState::default()),
        compaction: Mutex::new(CompactionState {
            dirty: true,
            ..CompactionState::default()
        }),
        compaction_cv: Condvar::new(),
        bg_cv: Condvar::new(),
        done_cv: Condvar::new(),
        counters: Counters::default(),
        closed: AtomicBool::new(false),
        closing: Mutex::new(()),
        failed: AtomicBool::new(false),
        increment_lock: Mutex::new(()),
        unsynced_wals: Mutex::new(Vec::new()),
        opts,
    };
    Ok(Opened {
        shared: Arc::new(shared),
        lock,
        report,
    })
}

/// Checks that the files the recovered state needs exist: its tables, and
/// the WAL its log number names (the oldest one holding writes not yet in a
/// table).
///
/// Both hold as long as the manifest is whole: a flush deletes the WALs
/// below its new log number, and a compaction its inputs, only after its
/// edit is synced. So a missing one means data is gone: the file was
/// deleted, or the manifest lost the edits after which the file was no
/// longer needed (damaged or cut). In the second case replaying the older
/// history would serve stale values and delete the newer tables as
/// leftovers, so open refuses. If the manifest's last edit was dropped as
/// torn, that edit is the damage (a torn write is never synced, so nothing
/// was deleted after it): the error names the manifest.
fn check_needed_files(
    fs: &dyn FileSystem,
    dir: &Path,
    recovered: &RecoveredManifest,
) -> Result<()> {
    let state = &recovered.state;
    let tables = state
        .live_file_numbers()
        .map(|n| (table_path(dir, n), "table named by the manifest"));
    let wal = (
        wal_path(dir, state.log_number()),
        "WAL named by the manifest's log number",
    );
    for (path, what) in tables.chain(std::iter::once(wal)) {
        if fs.exists(&path)? {
            continue;
        }
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        return Err(match &recovered.torn_tail {
            Some(torn) => Error::corruption(
                dir.join(manifest_file_name(recovered.manifest_number)),
                torn.offset,
                format!(
                    "damaged last edit ({}), not a torn write: the edits before it need {name}, which is gone, so it was synced",
                    torn.reason
                ),
            ),
            None => Error::corruption(
                path,
                0,
                format!(
                    "{what} is missing (deleted, or the manifest lost the edits after which it was no longer needed)"
                ),
            ),
        });
    }
    Ok(())
}

/// WAL replay into memtables that are written out as L0 tables.
struct Replay<'a> {
    fs: &'a dyn FileSystem,
    dir: &'a Path,
    opts: &'a Options,
    slot: MemSlot,
    added: Vec<FileMetadata>,
    last_seqno: SeqNo,
    /// Write batches replayed.
    records: u64,
    next_file: &'a mut u64,
}

impl Replay<'_> {
    /// Inserts one batch (whose seqnos the chain checked).
    fn apply(&mut self, batch: &FrozenBatch) -> Result<()> {
        // The WAL does not record write times; replay time stands in.
        self.slot.note_write_time(self.opts.clock.now_millis());
        for (seqno, kind, key, value) in batch.iter() {
            self.slot.mem.insert(key, seqno, kind, value)?;
            self.last_seqno = self.last_seqno.max(seqno);
        }
        self.records += 1;
        if self.slot.mem.approximate_memory_usage() >= self.opts.memtable_size {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let number = *self.next_file;
        *self.next_file += 1;
        let slot = std::mem::replace(&mut self.slot, MemSlot::new(0, self.opts.memtable_size));
        // No snapshot exists yet: only the newest version of a key is kept.
        if let Some(meta) = write_table(self.fs, self.dir, self.opts, &slot, number, &[])? {
            self.added.push(meta);
        }
        Ok(())
    }
}
