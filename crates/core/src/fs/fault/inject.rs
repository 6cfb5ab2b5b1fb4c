//! What [`FaultFs`] injects: [`FaultError`], the error a
//! failing call returns; [`Fault`], which calls fail; and [`TracedOp`], one
//! recorded call.

use std::io;
use std::path::{Path, PathBuf};

#[cfg(doc)]
use super::FaultFs;
use super::FsOp;

/// Raw OS error numbers of Linux (and most Unixes).
const EIO: i32 = 5;
const ENOSPC: i32 = 28;

/// The error an injected fault makes a call fail with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FaultError {
    /// `io::Error::other("injected fault in <op>")`: what
    /// [`FaultFs::fail_nth`] and [`FaultFs::fail_from`] inject.
    #[default]
    Injected,
    /// `EIO` ("Input/output error"): the device failed the call. On Unix it
    /// is the OS error itself (`raw_os_error() == Some(5)`).
    Eio,
    /// `ENOSPC` ("No space left on device"), of kind
    /// [`io::ErrorKind::StorageFull`]. On Unix it is the OS error itself
    /// (`raw_os_error() == Some(28)`).
    NoSpace,
}

impl FaultError {
    /// The error a call of `op` fails with.
    pub fn to_io_error(self, op: FsOp) -> io::Error {
        match self {
            FaultError::Injected => io::Error::other(format!("injected fault in {op:?}")),
            FaultError::Eio if cfg!(unix) => io::Error::from_raw_os_error(EIO),
            FaultError::Eio => io::Error::other("Input/output error (simulated EIO)"),
            FaultError::NoSpace if cfg!(unix) => io::Error::from_raw_os_error(ENOSPC),
            FaultError::NoSpace => io::Error::new(
                io::ErrorKind::StorageFull,
                "No space left on device (simulated ENOSPC)",
            ),
        }
    }
}

/// A fault to inject with [`FaultFs::inject`]: which calls fail, and how.
///
/// Built from [`Fault::on`]; by default it fails the next call of the
/// operation, once, with [`FaultError::Injected`].
///
/// ```
/// use strata_core::fs::{Fault, FaultError, FaultFs, FsOp};
/// let fs = FaultFs::new();
/// // The third append to a WAL from now on, and every one after it, fails
/// // with ENOSPC.
/// fs.inject(Fault::on(FsOp::Append).file(".log").nth(2).persistent().error(FaultError::NoSpace));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Fault {
    op: FsOp,
    /// Only calls on a path whose file name contains this count and fail.
    name: Option<String>,
    /// Matching calls still to let through before the first failure.
    pub(super) skip: u64,
    /// Fail every matching call after the skipped ones, not just one.
    pub(super) persistent: bool,
    /// For an append: the bytes written before it fails.
    pub(super) tear: Option<usize>,
    pub(super) error: FaultError,
}

impl Fault {
    /// A fault on the next call of `op`.
    pub fn on(op: FsOp) -> Self {
        Self {
            op,
            name: None,
            skip: 0,
            persistent: false,
            tear: None,
            error: FaultError::Injected,
        }
    }

    /// Only calls on files (or directories) whose name contains `part` count
    /// and fail; for a rename, the name of either side.
    pub fn file(mut self, part: &str) -> Self {
        self.name = Some(part.to_owned());
        self
    }

    /// Lets `n` matching calls succeed first: the fault fires at the `n`-th
    /// matching call from now (`0`, the default: the next one).
    pub fn nth(mut self, n: u64) -> Self {
        self.skip = n;
        self
    }

    /// Fails every matching call from the first failing one on, until
    /// [`FaultFs::clear_faults`] (or a crash or power loss).
    pub fn persistent(mut self) -> Self {
        self.persistent = true;
        self
    }

    /// The error the failing calls return.
    pub fn error(mut self, error: FaultError) -> Self {
        self.error = error;
        self
    }

    pub(super) fn matches(&self, op: FsOp, paths: &[&Path]) -> bool {
        self.op == op
            && self.name.as_deref().is_none_or(|part| {
                paths.iter().any(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.contains(part))
                })
            })
    }
}

/// One call [`FaultFs`] recorded while tracing ([`FaultFs::trace_ops`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedOp {
    /// The call's index among all calls of every operation (as
    /// [`FaultFs::op_total`] counts them; [`FaultFs::halt_at`] takes it).
    pub index: u64,
    /// The operation.
    pub op: FsOp,
    /// The file or directory it was made on (a rename: the source).
    pub path: PathBuf,
    /// True if the call failed by an injected fault or a halt (not for
    /// errors of the simulated disk itself, such as a missing file, nor for
    /// an append refused by a full disk).
    pub failed: bool,
}
