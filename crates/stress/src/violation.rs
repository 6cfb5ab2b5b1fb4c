//! [`Violation`]: a broken guarantee found by the crash test.

use std::fmt;

/// Which guarantee was broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ViolationKind {
    /// An acknowledged write is not visible and no later acknowledged
    /// write to the key superseded it (a lost put, a lost delete, an older
    /// value come back).
    LostWrite,
    /// A key or value appeared that no acknowledged write, and not the op
    /// in flight, produced.
    NeverWritten,
    /// A batch is visible in part.
    HalfAppliedBatch,
    /// A counter differs from the sum of its acknowledged increments (give
    /// or take the increments in flight).
    Counter,
    /// Reads disagree with each other: a scan out of order, a reverse scan
    /// different from the forward one, a get different from the scan.
    ReadsDisagree,
    /// `strata::verify` reported a problem in the data directory.
    Verify,
    /// The engine failed: open, a read, or close returned an error.
    Engine,
    /// The child exited on its own, or reported a failed check of its own
    /// reads while it ran.
    Child,
    /// An expected-state log is malformed (a harness bug, or a doctored log).
    ExpectedLog,
    /// The harness itself failed (I/O in the work directory, spawning the
    /// child): not a finding about strata.
    Harness,
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LostWrite => "lost acknowledged write",
            Self::NeverWritten => "never-written data appeared",
            Self::HalfAppliedBatch => "batch half applied",
            Self::Counter => "counter mismatch",
            Self::ReadsDisagree => "reads disagree",
            Self::Verify => "verify found a problem",
            Self::Engine => "engine error",
            Self::Child => "child failed",
            Self::ExpectedLog => "malformed expected-state log",
            Self::Harness => "harness failure",
        })
    }
}

/// A broken guarantee, with what was expected and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which guarantee.
    pub kind: ViolationKind,
    /// Human-readable details: keys, expected and found values, ops.
    pub detail: String,
}

impl Violation {
    /// A violation of `kind`.
    pub fn new(kind: ViolationKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

impl std::error::Error for Violation {}
