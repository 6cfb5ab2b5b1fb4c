//! Compaction inside the engine: the strategy's view of the levels, the
//! background threads that run its picks, installing results with one
//! version edit, and manual compactions (`Db::compact`, `compact_range`).
//!
//! Disjointness: picks are made under the `compaction` lock, from a view
//! that marks every file a running compaction owns as busy, and the chosen
//! files become busy before the lock is released. A strategy never picks a
//! busy file, so concurrent compactions never share an input.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use strata_compaction::{
    CompactionJob, CompactionPick, CompactionTask, FileView, LevelsView, PickReason, run_compaction,
};
use strata_core::{Error, Result};

use super::files::table_path;
use super::flush::table_metadata;
use super::read::KeyRange;
use super::shared::Shared;
use crate::manifest::VersionEdit;
use crate::version::{TableHandle, Version};

/// Bookkeeping of running compactions, under `Shared::compaction`.
#[derive(Debug, Default)]
pub(crate) struct CompactionState {
    /// Files that running compactions read (or move or drop).
    pub(crate) busy: HashSet<u64>,
    /// Compactions running now.
    pub(crate) running: usize,
    /// A manual compaction is waiting or running: automatic picks pause.
    pub(crate) manual: bool,
    /// Something changed (a flush, a compaction): worth asking the strategy.
    pub(crate) dirty: bool,
    /// Compactions done, by the strategy step that asked for them.
    pub(crate) by_reason: BTreeMap<String, u64>,
}

/// The strategy's view of `version`, with `busy` files marked, and the
/// files out of allowed seeks marked if `seeks` (`Options::seek_compaction`).
pub(crate) fn levels_view(
    version: &Version,
    busy: &HashSet<u64>,
    now_ms: u64,
    seeks: bool,
) -> LevelsView {
    let levels = version
        .levels
        .iter()
        .enumerate()
        .map(|(level, files)| {
            files
                .iter()
                .map(|t| {
                    let m = &t.meta;
                    FileView {
                        number: m.number,
                        level,
                        size: m.size,
                        smallest: m.smallest.user_key.clone(),
                        largest: m.largest.user_key.clone(),
                        min_seqno: m.min_seqno,
                        max_seqno: m.max_seqno,
                        min_time_ms: m.min_time_ms,
                        max_time_ms: m.max_time_ms,
                        num_entries: m.num_entries,
                        num_tombstones: m.num_tombstones,
                        num_expiring: m.num_expiring,
                        max_expiry_ms: m.max_expiry_ms,
                        num_shadowed: m.num_shadowed,
                        being_compacted: busy.contains(&m.number),
                        seeks_exhausted: seeks && t.seeks_exhausted(),
                    }
                })
                .collect()
        })
        .collect();
    LevelsView { levels, now_ms }
}

impl Shared {
    /// Asks the strategy for work and claims its files; `None` if there is
    /// nothing to do (or a manual compaction has the floor).
    fn claim_pick(&self) -> Option<CompactionPick> {
        let mut state = self.compaction.lock();
        if state.manual || !self.opts.auto_compaction {
            return None;
        }
        let version = self.version.load_full();
        let view = levels_view(
            &version,
            &state.busy,
            self.now_ms(),
            self.opts.seek_compaction,
        );
        let pick = self.opts.compaction.pick(&view)?;
        // A (user-written) strategy that breaks its contract must not
        // corrupt the tree: such a pick is refused.
        view.check_pick(&pick).ok()?;
        let files = pick.files();
        state.busy.extend(files.iter().map(|(_, n)| *n));
        state.running += 1;
        Some(pick)
    }

    fn release_pick(&self, pick: &CompactionPick, result: &Result<()>) {
        let mut state = self.compaction.lock();
        for (_, n) in pick.files() {
            state.busy.remove(&n);
        }
        state.running = state.running.saturating_sub(1);
        if result.is_ok() {
            *state
                .by_reason
                .entry(pick.reason().to_string())
                .or_insert(0) += 1;
        }
        state.dirty = true;
        self.compaction_cv.notify_all();
    }

    /// After a read: wakes the compaction threads if a table ran out of
    /// allowed seeks since the last check (one atomic load otherwise).
    pub(crate) fn after_read(&self) {
        if self.opts.seek_compaction && self.table_cache.take_seeks_ran_out() {
            self.wake_compaction();
        }
    }

    /// Marks the tree changed and wakes the compaction threads.
    pub(crate) fn wake_compaction(&self) {
        let mut state = self.compaction.lock();
        state.dirty = true;
        self.compaction_cv.notify_all();
    }

    /// A compaction thread: waits for a change (or the periodic timer), then
    /// runs picks until the strategy has nothing more, until shutdown.
    pub(crate) fn compaction_loop(&self) {
        loop {
            {
                let mut state = self.compaction.lock();
                loop {
                    if self.bg.lock().shutting_down {
                        return;
                    }
                    if state.dirty && !state.manual {
                        state.dirty = false;
                        break;
                    }
                    let timed_out = self
                        .compaction_cv
                        .wait_for(&mut state, self.opts.compaction_interval)
                        .timed_out();
                    if timed_out {
                        // The periodic trigger: time alone can make work
                        // (a closed time window, expired files).
                        break;
                    }
                }
            }
            if self.bg_error().is_some() {
                continue;
            }
            while let Some(pick) = self.claim_pick() {
                let result =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run_pick(&pick)))
                        .unwrap_or_else(|_| Err(Error::invalid_argument("a compaction panicked")));
                if let Err(e) = &result {
                    self.set_bg_error("compaction", e);
                }
                self.release_pick(&pick, &result);
                if result.is_err() || self.bg.lock().shutting_down {
                    break;
                }
            }
        }
    }

    /// Runs one claimed pick and installs its result.
    fn run_pick(&self, pick: &CompactionPick) -> Result<()> {
        match pick {
            CompactionPick::Merge(task) => self.run_merge(task),
            CompactionPick::Move { files, to_level } => self.install(files, *to_level, true),
            CompactionPick::Drop { files } => self.install(files, 0, false),
        }
    }

    /// Merges `task`'s inputs into new files of its output level.
    fn run_merge(&self, task: &CompactionTask) -> Result<()> {
        let version = self.version.load_full();
        let wanted: HashSet<u64> = task
            .inputs
            .iter()
            .flat_map(|(_, numbers)| numbers.iter().copied())
            .collect();
        // Inputs newest data first: L0 in version order, then deeper levels.
        let mut inputs = Vec::new();
        let mut removed = Vec::new();
        let mut others: Vec<(Bytes, Bytes)> = Vec::new();
        for (level, files) in version.levels.iter().enumerate() {
            for t in files {
                if wanted.contains(&t.meta.number) {
                    inputs.push(t.with_reader(|r| Ok(r.clone()))?);
                    removed.push((level, t.meta.number));
                } else {
                    others.push((
                        t.meta.smallest.user_key.clone(),
                        t.meta.largest.user_key.clone(),
                    ));
                }
            }
        }
        if removed.len() != wanted.len() {
            return Err(Error::invalid_argument(
                "a compaction input is no longer in the tree",
            ));
        }
        // Conservative: any other table whose range covers the key may hold
        // an older version of it, so its tombstones must stay.
        let older = move |key: &[u8]| {
            others
                .iter()
                .any(|(lo, hi)| lo.as_ref() <= key && key <= hi.as_ref())
        };
        let snapshots = self.snapshot_seqnos();
        let mut new_output = || {
            let number = self.new_file_number();
            let path = table_path(&self.dir, number);
            let file = self.fs.create(&path)?;
            Ok((number, path, file))
        };
        let output = run_compaction(CompactionJob {
            inputs,
            snapshots: &snapshots,
            now_ms: self.now_ms(),
            older_data_may_exist: &older,
            target_file_size: task.target_file_size,
            table_options: self.opts.table_options(),
            new_output: &mut new_output,
            fs: &*self.fs,
            dir: &self.dir,
        })?;
        self.counters
            .compaction_bytes_read
            .fetch_add(output.bytes_read, Ordering::Relaxed);
        self.counters
            .compaction_bytes_written
            .fetch_add(output.bytes_written, Ordering::Relaxed);
        let mut added = Vec::new();
        for out in &output.files {
            if let Some(meta) = table_metadata(out.number, &out.summary) {
                added.push(meta);
            }
        }
        // On error, whether the edit reached the manifest is unknown (a
        // background error is set); the next open deletes what it does not
        // name, outputs included.
        self.install_merge(&removed, task.output_level, added)
    }

    /// Installs a merge: `removed` inputs out, `added` outputs in at
    /// `level`, with one version edit; the inputs' files go once no reader
    /// holds them.
    fn install_merge(
        &self,
        removed: &[(usize, u64)],
        level: usize,
        added: Vec<crate::manifest::FileMetadata>,
    ) -> Result<()> {
        let _changing = self.version_lock.lock();
        let current = self.version.load_full();
        let mut edit = VersionEdit::new();
        for &(l, n) in removed {
            edit.remove_file(level_u8(l)?, n);
        }
        let mut handles = Vec::new();
        for meta in added {
            edit.add_file(level_u8(level)?, meta.clone());
            let path = table_path(&self.dir, meta.number);
            handles.push((
                level,
                Arc::new(TableHandle::new(meta, path, Arc::clone(&self.table_cache))),
            ));
        }
        self.log_edit(edit, 0)?;
        let next = current.with_changes(removed, handles);
        mark_obsolete(&current, removed);
        self.version.store(Arc::new(next));
        Ok(())
    }

    /// Installs a move (`keep` true: the files go to `to_level` unchanged)
    /// or a drop (`keep` false: the files leave the tree).
    fn install(&self, files: &[(usize, u64)], to_level: usize, keep: bool) -> Result<()> {
        let _changing = self.version_lock.lock();
        let current = self.version.load_full();
        let mut edit = VersionEdit::new();
        let mut moved = Vec::new();
        for &(level, number) in files {
            let handle = current
                .levels
                .get(level)
                .and_then(|l| l.iter().find(|t| t.meta.number == number))
                .ok_or_else(|| Error::invalid_argument("a picked file is no longer in the tree"))?;
            edit.remove_file(level_u8(level)?, number);
            if keep {
                edit.add_file(level_u8(to_level)?, handle.meta.clone());
                // At its new level the file starts a new allowance, as a
                // file written there would.
                handle.reset_allowed_seeks();
                moved.push((to_level, Arc::clone(handle)));
            }
        }
        self.log_edit(edit, 0)?;
        let next = current.with_changes(files, moved);
        if !keep {
            mark_obsolete(&current, files);
        }
        self.version.store(Arc::new(next));
        Ok(())
    }

    /// A manual compaction of every table overlapping `range` (all of them
    /// for `None`) into the strategy's bottom level, after running ones
    /// finish. Tombstones and expired values are dropped where no table
    /// outside the compaction may hold older data.
    pub(crate) fn compact_range(&self, range: Option<&KeyRange>) -> Result<()> {
        {
            let mut state = self.compaction.lock();
            // One manual compaction at a time; it stops new automatic picks
            // at once, then waits for the running ones to finish.
            while state.manual {
                self.compaction_cv
                    .wait_for(&mut state, Duration::from_millis(100));
            }
            state.manual = true;
            while state.running > 0 {
                self.compaction_cv
                    .wait_for(&mut state, Duration::from_millis(100));
            }
        }
        let result = match self.bg_error() {
            Some(e) => Err(e),
            None => self.manual_merge(range),
        };
        let mut state = self.compaction.lock();
        state.manual = false;
        state.dirty = true;
        if result.is_ok() {
            *state
                .by_reason
                .entry(PickReason::Manual.to_string())
                .or_insert(0) += 1;
        }
        self.compaction_cv.notify_all();
        result
    }

    fn manual_merge(&self, range: Option<&KeyRange>) -> Result<()> {
        let version = self.version.load_full();
        let view = levels_view(&version, &HashSet::new(), self.now_ms(), false);
        let bounds = range.map_or((Bound::Unbounded, Bound::Unbounded), KeyRange::as_slices);
        let Some(pick) = self.opts.compaction.pick_manual(&view, bounds) else {
            return Ok(());
        };
        view.check_pick(&pick)?;
        let files = pick.files();
        self.compaction
            .lock()
            .busy
            .extend(files.iter().map(|(_, n)| *n));
        let result = self.run_pick(&pick);
        let mut state = self.compaction.lock();
        for (_, n) in &files {
            state.busy.remove(n);
        }
        if let Err(e) = &result {
            self.set_bg_error("manual compaction", e);
        }
        result
    }

    /// Slows or stops a writer while L0 is over its thresholds and the
    /// strategy keeps data in deeper levels (compaction can drain L0).
    /// Returns the time waited.
    pub(crate) fn l0_backpressure(&self) -> Result<Duration> {
        if !self.opts.auto_compaction {
            return Ok(Duration::ZERO);
        }
        let l0 = |v: &Version| v.levels.first().map_or(0, Vec::len);
        // The common case costs one load and no clock read.
        if l0(&self.version.load()) < self.opts.level0_slowdown_trigger {
            return Ok(Duration::ZERO);
        }
        let started = Instant::now();
        let mut waited = false;
        loop {
            let version = self.version.load();
            let l0 = l0(&version);
            if l0 < self.opts.level0_slowdown_trigger {
                break;
            }
            let view = levels_view(&version, &HashSet::new(), self.now_ms(), false);
            if self.opts.compaction.bottom_level(&view) == 0 {
                break;
            }
            self.check_writable()?;
            waited = true;
            if l0 < self.opts.level0_stop_trigger {
                // One short pause per write lets compaction catch up.
                std::thread::sleep(Duration::from_millis(1));
                break;
            }
            self.wake_compaction();
            let mut state = self.compaction.lock();
            self.compaction_cv
                .wait_for(&mut state, Duration::from_millis(50));
        }
        Ok(if waited {
            started.elapsed()
        } else {
            Duration::ZERO
        })
    }
}

fn level_u8(level: usize) -> Result<u8> {
    u8::try_from(level).map_err(|_| Error::invalid_argument(format!("level {level} out of range")))
}

/// Marks the handles of `removed` obsolete: their files are deleted when the
/// last version holding them is dropped.
fn mark_obsolete(version: &Version, removed: &[(usize, u64)]) {
    for &(level, number) in removed {
        if let Some(t) = version
            .levels
            .get(level)
            .and_then(|l| l.iter().find(|t| t.meta.number == number))
        {
            t.mark_obsolete();
        }
    }
}
