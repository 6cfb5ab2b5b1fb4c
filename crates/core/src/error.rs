//! The error type shared by every strata crate.

use std::path::PathBuf;

/// Every fallible strata operation returns this error.
///
/// The enum is `#[non_exhaustive]`: match the variants you handle and keep a
/// catch-all arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system (or the file-system implementation) failed a call.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// Bytes read from disk do not decode, or fail their checksum.
    ///
    /// `file` names the file and `offset` the byte where the bad structure starts,
    /// so an operator can inspect it (`strata sst dump`, a hex editor).
    #[error("corruption in {} at offset {offset}: {reason}", file.display())]
    Corruption {
        /// The file holding the bad bytes.
        file: PathBuf,
        /// Byte offset, from the start of `file`, of the structure that failed.
        offset: u64,
        /// What was wrong, for humans.
        reason: String,
    },

    /// A caller passed something strata refuses (an oversized key, a bad option).
    /// Nothing was written.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The data directory is locked by another open handle, in this process or another.
    #[error("data directory {} is already in use (lock file held by another handle or process)", path.display())]
    Locked {
        /// The lock file that could not be acquired.
        path: PathBuf,
    },

    /// The handle was closed; no further operations are accepted.
    #[error("the handle is closed")]
    Closed,

    /// A background job (a flush, a compaction, a WAL sync) failed; the
    /// database refuses writes until it is reopened (reads still work). The
    /// string describes the first failure.
    #[error("a background job failed, writes are refused until the database is reopened: {0}")]
    Background(String),
}

impl Error {
    /// Shorthand for [`Error::Corruption`].
    pub fn corruption(file: impl Into<PathBuf>, offset: u64, reason: impl Into<String>) -> Self {
        Error::Corruption {
            file: file.into(),
            offset,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid_argument(reason: impl Into<String>) -> Self {
        Error::InvalidArgument(reason.into())
    }

    /// True for [`Error::Corruption`].
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
    }
}

/// `Result` with strata's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
