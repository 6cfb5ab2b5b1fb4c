//! [`LevelsView::check_pick`]: whether a pick is safe to run on a view.
//!
//! The engine runs it on every pick before executing it (a custom strategy
//! may be wrong), and the shipped strategies run it on each candidate so they
//! only ever return valid picks. The rules keep three invariants:
//!
//! 1. **Ownership.** Every named file exists at the named level, is named
//!    once, and no running compaction owns it.
//! 2. **Shape.** Levels ≥ 1 stay sorted and disjoint: every file of a level
//!    ≥ 1 that the merged key range meets is an input (so inputs of such a
//!    level are contiguous), and nothing passed over or in the target level
//!    meets a moved file.
//! 3. **Newest first.** For every key, a shallower level (and in L0 an
//!    earlier file, by `max_seqno`) holds the newer version. Data leaving L0
//!    may only pass L0 files that are entirely newer; an L0 → L0 merge may
//!    not interleave its seqno range with an L0 file it meets; a dropped file
//!    shadows no older data.
//!
//! Running compactions' outputs are not in the view yet, only their inputs
//! (`being_compacted`). Their outputs land inside the key hull of their
//! inputs, so a merge or move into level `o ≥ 1` must also stay clear of
//! each run of consecutive busy files of levels `o − 1` and `o` (all busy L0
//! files counting as one run).

use std::collections::HashSet;

use strata_core::{Error, Result};

use crate::task::CompactionPick;
use crate::view::{FileView, Hull, LevelsView, MAX_LEVELS, hull};

impl LevelsView {
    /// Checks that `pick` respects the rules in this module's doc.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the first rule broken.
    pub fn check_pick(&self, pick: &CompactionPick) -> Result<()> {
        match pick {
            CompactionPick::Merge(task) => {
                let mut named = Vec::new();
                let mut levels_seen = HashSet::new();
                for (level, numbers) in &task.inputs {
                    if numbers.is_empty() || !levels_seen.insert(*level) {
                        return Err(bad(format!("L{level} listed empty or twice")));
                    }
                    named.extend(numbers.iter().map(|n| (*level, *n)));
                }
                if task.target_file_size == 0 {
                    return Err(bad("target_file_size is 0".to_owned()));
                }
                let inputs = self.resolve(&named)?;
                self.check_merge(&inputs, task.output_level)
            }
            CompactionPick::Move { files, to_level } => {
                let moved = self.resolve(files)?;
                self.check_move(&moved, *to_level)
            }
            CompactionPick::Drop { files } => {
                let dropped = self.resolve(files)?;
                self.check_drop(&dropped)
            }
        }
    }

    /// Rule 1: the files exist where named, once each, and are idle.
    fn resolve(&self, named: &[(usize, u64)]) -> Result<Vec<&FileView>> {
        if named.is_empty() {
            return Err(bad("pick names no file".to_owned()));
        }
        let mut seen = HashSet::new();
        named
            .iter()
            .map(|&(level, number)| {
                let f = self
                    .file(level, number)
                    .ok_or_else(|| bad(format!("no file {number} in L{level}")))?;
                if !seen.insert(number) {
                    return Err(bad(format!("file {number} named twice")));
                }
                if f.being_compacted {
                    return Err(bad(format!("file {number} is being compacted")));
                }
                Ok(f)
            })
            .collect()
    }

    fn check_merge(&self, inputs: &[&FileView], output: usize) -> Result<()> {
        let all = hull(inputs.iter().copied()).ok_or_else(|| bad("no inputs".to_owned()))?;
        let min_in = inputs.iter().map(|f| f.level).min().unwrap_or(0);
        let max_in = inputs.iter().map(|f| f.level).max().unwrap_or(0);
        if output >= MAX_LEVELS || output < max_in {
            return Err(bad(format!(
                "output L{output} is above an input or beyond L{}",
                MAX_LEVELS - 1
            )));
        }
        let numbers: HashSet<u64> = inputs.iter().map(|f| f.number).collect();
        let is_input = |f: &FileView| numbers.contains(&f.number);
        // Rule 2: at each level >= 1 from the shallowest input down to the
        // output, everything the inputs so far reach is an input.
        for level in min_in.max(1)..=output {
            let reach = hull(inputs.iter().copied().filter(|f| f.level <= level));
            if let Some(reach) = reach
                && let Some(f) = self
                    .overlapping(level, reach.smallest, reach.largest)
                    .find(|f| !is_input(f))
            {
                return Err(bad(format!(
                    "L{level} file {} overlaps the inputs but is not one",
                    f.number
                )));
            }
        }
        // Rule 3 for data leaving or staying in L0.
        if let Some(l0) = hull(inputs.iter().copied().filter(|f| f.level == 0)) {
            let mut busy: Option<Hull<'_>> = None;
            for g in self.level(0).iter().filter(|g| !is_input(g) && l0.meets(g)) {
                if output == 0 && g.being_compacted {
                    // Busy files may end up merged together: judge their
                    // union, which is where that output will sit.
                    let h = Hull::of(g);
                    busy = Some(busy.map_or(h, |b| b.widen(&h)));
                    continue;
                }
                let ok = if output == 0 {
                    l0.seqno_disjoint(g.min_seqno, g.max_seqno)
                } else {
                    g.min_seqno > l0.max_seqno
                };
                if !ok {
                    return Err(bad(format!(
                        "L0 file {} would end up in the wrong age order",
                        g.number
                    )));
                }
            }
            if let Some(b) = busy
                && !l0.seqno_disjoint(b.min_seqno, b.max_seqno)
            {
                return Err(bad(
                    "the inputs interleave in age with L0 files being compacted".to_owned(),
                ));
            }
        }
        if output >= 1 {
            for level in min_in..=output {
                if let Some(f) = self
                    .overlapping(level, all.smallest, all.largest)
                    .find(|f| f.being_compacted)
                {
                    return Err(bad(format!(
                        "the key range meets file {} being compacted",
                        f.number
                    )));
                }
            }
            self.check_clear_of_running(&all, output)?;
        }
        Ok(())
    }

    fn check_move(&self, moved: &[&FileView], to_level: usize) -> Result<()> {
        if to_level >= MAX_LEVELS {
            return Err(bad(format!("L{to_level} does not exist")));
        }
        for (i, f) in moved.iter().enumerate() {
            if f.level >= to_level {
                return Err(bad(format!(
                    "file {} in L{} cannot move to L{to_level}",
                    f.number, f.level
                )));
            }
            for level in f.level + 1..=to_level {
                if let Some(g) = self.overlapping(level, &f.smallest, &f.largest).next() {
                    return Err(bad(format!(
                        "moved file {} overlaps file {} in L{level}",
                        f.number, g.number
                    )));
                }
            }
            if to_level >= 1
                && let Some(g) = moved.iter().skip(i + 1).find(|g| g.overlaps_file(f))
            {
                return Err(bad(format!(
                    "moved files {} and {} overlap",
                    f.number, g.number
                )));
            }
            if f.level == 0
                && let Some(g) = self.level(0).iter().find(|g| {
                    g.overlaps_file(f)
                        && g.min_seqno <= f.max_seqno
                        && !moved.iter().any(|m| m.number == g.number)
                })
            {
                return Err(bad(format!(
                    "moving file {} would put it below older L0 file {}",
                    f.number, g.number
                )));
            }
            self.check_clear_of_running(&Hull::of(f), to_level)?;
        }
        Ok(())
    }

    fn check_drop(&self, dropped: &[&FileView]) -> Result<()> {
        for f in dropped {
            if !f.is_fully_expired(self.now_ms) {
                return Err(bad(format!("file {} has live entries", f.number)));
            }
            let shadowed = self.files().find(|g| {
                g.min_seqno <= f.max_seqno
                    && g.overlaps_file(f)
                    && !dropped.iter().any(|d| d.number == g.number)
            });
            if let Some(g) = shadowed {
                return Err(bad(format!(
                    "dropping file {} could bring back older data of file {}",
                    f.number, g.number
                )));
            }
        }
        Ok(())
    }

    /// Whether `range` stays clear of where running compactions into
    /// `output` may write (see the module doc).
    fn check_clear_of_running(&self, range: &Hull<'_>, output: usize) -> Result<()> {
        let levels = [output.checked_sub(1), Some(output)];
        for level in levels.into_iter().flatten() {
            for run in self.busy_runs(level) {
                if run.meets_range(range) {
                    return Err(bad(format!(
                        "the key range meets a compaction running in L{level}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Key hulls of the runs of consecutive busy files of `level`; all busy
    /// files of L0 form one run.
    fn busy_runs(&self, level: usize) -> Vec<Hull<'_>> {
        let files = self.level(level);
        if level == 0 {
            return hull(files.iter().filter(|f| f.being_compacted))
                .into_iter()
                .collect();
        }
        files
            .chunk_by(|a, b| a.being_compacted == b.being_compacted)
            .filter(|run| run.first().is_some_and(|f| f.being_compacted))
            .filter_map(hull)
            .collect()
    }
}

fn bad(reason: String) -> Error {
    Error::invalid_argument(format!("invalid compaction pick: {reason}"))
}

#[cfg(test)]
mod tests;
