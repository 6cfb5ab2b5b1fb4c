//! The ways the sweep damages a file, and what `verify` must report for
//! each.

use std::collections::BTreeSet;

use super::Pristine;

/// One way to damage one file.
#[derive(Debug, Clone)]
pub enum Damage {
    /// Flip bit `bit` of byte `offset`.
    Flip { file: String, offset: u64, bit: u8 },
    /// Keep only the first `len` bytes.
    Cut { file: String, len: u64 },
}

impl Damage {
    pub fn file(&self) -> &str {
        match self {
            Self::Flip { file, .. } | Self::Cut { file, .. } => file,
        }
    }

    pub fn apply(&self, bytes: &[u8]) -> Vec<u8> {
        match *self {
            Self::Flip { offset, bit, .. } => {
                let mut out = bytes.to_vec();
                out[offset as usize] ^= 1 << bit;
                out
            }
            Self::Cut { len, .. } => bytes[..len as usize].to_vec(),
        }
    }
}

/// What `verify` must report for a damage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A problem in the damaged file (only there), at this offset.
    Problem(Option<u64>),
    /// A warning (a torn WAL tail) in the damaged file at this offset.
    Warning(u64),
    /// Nothing to see: a WAL cut exactly at a record boundary is a valid,
    /// shorter log.
    Clean,
    /// A flipped bit in a WAL block's padding (a block tail too short for
    /// a fragment header, never part of a record): the default mode and
    /// verify skip it, as nothing is lost; strict mode refuses it.
    Padding,
    /// A manifest cut exactly at a record boundary is a valid, shorter
    /// history: what gives it away is the files that history needs and the
    /// lost edits had deleted. Problems name those missing files.
    MissingFiles,
}

impl Pristine {
    /// Every damage the sweep tries: at each offset of
    /// [`Pristine::offsets_to_damage`] (every byte, but in the WAL), one
    /// flipped bit (which bit cycles with the offset) and a truncation to
    /// that length.
    pub fn damages(&self) -> Vec<Damage> {
        let mut out = Vec::new();
        for (name, bytes) in &self.files {
            let len = bytes.len() as u64;
            let offsets = self.offsets_to_damage(name, len);
            let (flips, cuts) = (offsets.clone(), offsets);
            out.extend(flips.into_iter().map(|offset| Damage::Flip {
                file: name.clone(),
                offset,
                bit: (offset % 8) as u8,
            }));
            out.extend(cuts.into_iter().map(|len| Damage::Cut {
                file: name.clone(),
                len,
            }));
        }
        out
    }

    /// Every offset of a file up to 8 KiB. In a larger one (the WAL, with
    /// its record spanning two log blocks): 16 bytes either side of each
    /// record boundary and of each 32 KiB block boundary, and every 61st
    /// byte.
    fn offsets_to_damage(&self, name: &str, len: u64) -> BTreeSet<u64> {
        if len <= 8 * 1024 {
            return (0..len).collect();
        }
        let near = |at: u64| at.saturating_sub(16)..(at + 16).min(len);
        let mut out: BTreeSet<u64> = (0..len).step_by(61).collect();
        for &(start, end) in self.records.get(name).into_iter().flatten() {
            out.extend(near(start));
            out.extend(near(end));
        }
        for block in (0..len).step_by(32 * 1024) {
            out.extend(near(block));
        }
        out
    }

    /// What verify must report for `damage`.
    pub fn expect(&self, damage: &Damage) -> Expect {
        let file = damage.file();
        let kind = self.kind_of(file);
        if let Some(t) = self.table(file) {
            return match *damage {
                Damage::Flip { offset, .. } => Expect::Problem(Some(t.structure_at(offset).start)),
                Damage::Cut { len, .. } => Expect::Problem(Some(len)),
            };
        }
        // Where a record ends or starts (after a block's padding, the next
        // record starts at the block boundary): the log cut there is whole.
        let at_boundary =
            |len: u64| len == 0 || self.records[file].iter().any(|r| r.0 == len || r.1 == len);
        match (kind, damage) {
            ("CURRENT", _) => Expect::Problem(Some(0)),
            ("MANIFEST", Damage::Flip { offset, .. }) => {
                Expect::Problem(Some(self.record_at(file, *offset).unwrap().1))
            }
            ("MANIFEST", Damage::Cut { len: 0, .. }) => Expect::Problem(Some(0)),
            ("MANIFEST", Damage::Cut { len, .. }) if at_boundary(*len) => Expect::MissingFiles,
            ("MANIFEST", Damage::Cut { len, .. }) => {
                Expect::Problem(Some(self.record_at(file, *len).unwrap().1))
            }
            ("WAL", Damage::Flip { offset, .. }) => match self.record_at(file, *offset) {
                None => Expect::Padding,
                Some((i, start, _)) if i + 1 == self.wal_records.len() => Expect::Warning(start),
                Some((_, start, _)) => Expect::Problem(Some(start)),
            },
            ("WAL", Damage::Cut { len, .. }) if at_boundary(*len) => Expect::Clean,
            ("WAL", Damage::Cut { len, .. }) => match self.record_at(file, *len) {
                // Only zeros left of the cut record (its header's first
                // bytes can be zero) read as the log's end, as
                // preallocated space does.
                Some((_, start, _)) if self.all_zero(file, start, *len) => Expect::Clean,
                Some((_, start, _)) => Expect::Warning(start),
                // Cut inside a block's padding: only zeros follow the last
                // record, which is the log's end.
                None => Expect::Clean,
            },
            _ => unreachable!("{damage:?}"),
        }
    }

    /// Whether bytes `from..to` of `file` are all zero.
    fn all_zero(&self, file: &str, from: u64, to: u64) -> bool {
        self.files[file][from as usize..to as usize]
            .iter()
            .all(|&b| b == 0)
    }

    /// WAL records a default-mode open of `damage` must replay.
    pub fn records_kept(&self, damage: &Damage) -> usize {
        let all = self.wal_records.len();
        if damage.file() != self.wal {
            return all;
        }
        match *damage {
            // A flip in padding loses nothing.
            Damage::Flip { offset, .. } => self.record_at(&self.wal, offset).map_or(all, |r| r.0),
            Damage::Cut { len, .. } => self.records[&self.wal]
                .iter()
                .filter(|r| r.1 <= len)
                .count(),
        }
    }
}
