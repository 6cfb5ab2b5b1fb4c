//! The [`CompactionStrategy`] trait: what to compact next, decided from
//! metadata alone.
//!
//! Contract for implementors:
//! - **Pure and fast.** A strategy sees only the [`LevelsView`] it is given
//!   and does no I/O. The engine calls [`CompactionStrategy::pick`] after
//!   every flush and compaction and on a timer, from background threads,
//!   possibly several at once: keep it to a pass or two over the files.
//!   Interior state (a round-robin cursor) must be behind a lock.
//! - **Idle files only.** Never name a file with `being_compacted`, and
//!   never produce work whose output range meets a running compaction's
//!   (see [`LevelsView::check_pick`], which the engine runs on every pick and
//!   which a strategy may run on its own candidates).
//! - **`None` means nothing is worth doing**; the engine then sleeps until
//!   the next trigger. Returning the same pick for an unchanged view is fine:
//!   the engine marks the picked files busy before asking again.

use std::fmt;
use std::ops::Bound;

use crate::manual::pick_manual;
use crate::task::CompactionPick;
#[cfg(doc)]
use crate::view::FileView;
use crate::view::LevelsView;

/// Default split size of compaction output: 64 MiB.
pub const DEFAULT_TARGET_FILE_SIZE: u64 = 64 << 20;

/// Chooses compaction work from a read-only view of the levels.
///
/// See the module doc for the contract; `docs/compaction.md` shows a whole
/// custom strategy.
pub trait CompactionStrategy: Send + Sync + fmt::Debug {
    /// A short stable name for stats and logs (`"leveled"`, ...).
    fn name(&self) -> &'static str;

    /// The most worthwhile work now, or `None` when nothing is worth doing.
    fn pick(&self, view: &LevelsView) -> Option<CompactionPick>;

    /// One score per level of `view`, for stats: at or above 1.0 means the
    /// level wants compaction (leveled: bytes / target, L0: files / trigger;
    /// other strategies document their own notion).
    fn scores(&self, view: &LevelsView) -> Vec<f64>;

    /// The level a full manual compaction (`Db::compact()`) writes
    /// everything to. Must be at least the deepest non-empty level.
    fn bottom_level(&self, view: &LevelsView) -> usize;

    /// Split size of the output of a manual compaction (`u64::MAX`: one file).
    fn manual_target_file_size(&self) -> u64 {
        DEFAULT_TARGET_FILE_SIZE
    }

    /// The manual compaction of every file whose key range meets `range`
    /// (`(Unbounded, Unbounded)` for `Db::compact()`): those files, plus every
    /// file their merged key range reaches in the levels down to
    /// [`bottom_level`](Self::bottom_level), merged into that level.
    ///
    /// `None` if nothing meets the range, if a file it needs is being
    /// compacted (wait for running compactions, then ask again), or if the
    /// range is already compacted (only bottom-level files that are
    /// [settled](FileView::is_settled): no tombstones, no TTL entries, no
    /// shadowed versions; and only one file if the bottom is L0, where files
    /// overlap).
    fn pick_manual(
        &self,
        view: &LevelsView,
        range: (Bound<&[u8]>, Bound<&[u8]>),
    ) -> Option<CompactionPick> {
        pick_manual(
            view,
            self.bottom_level(view),
            self.manual_target_file_size(),
            range,
        )
    }
}
