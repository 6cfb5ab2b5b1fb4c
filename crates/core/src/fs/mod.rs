//! The file-system trait every strata crate does its I/O through.
//!
//! Two implementations ship: [`StdFs`] (the real thing, over `std::fs`) and
//! [`FaultFs`] (an in-memory simulated disk for tests that can fail any call
//! with a chosen error, fill up, tear a write, and lose everything not yet
//! synced, as a power cut would).
//!
//! # Durability contract
//! * [`WritableFile::append`] returns once the bytes reached the operating
//!   system (a `write` syscall completed): a killed *process* loses nothing that
//!   was appended. Implementations do not buffer in user space.
//! * [`WritableFile::sync`] makes the file's contents durable (`fdatasync`).
//! * Creating, renaming or removing a file becomes durable only after
//!   [`FileSystem::sync_dir`] on its parent directory.
//!
//! Files are append-only once created; they are read with positional reads.

mod fault;
mod mmap;
mod std_fs;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

pub use fault::{Fault, FaultError, FaultFs, FsOp, TracedOp};
pub use std_fs::StdFs;

use crate::error::{Error, Result};

/// A file being written, append-only.
pub trait WritableFile: Send + Sync {
    /// Appends `data`. Returns once the bytes reached the OS (not necessarily disk).
    fn append(&mut self, data: &[u8]) -> io::Result<()>;

    /// Makes everything appended so far durable.
    fn sync(&mut self) -> io::Result<()>;

    /// Bytes appended so far (the file's size).
    fn len(&self) -> u64;

    /// True if nothing was appended yet.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets aside room for the file to reach `len` bytes without appends
    /// changing its size: the file then reads as zeros past what was
    /// appended, and a `sync` need not make a new size durable, which makes
    /// it cheaper (on ext4, a synced 150-byte append took 130–150 µs,
    /// within a preallocated file 85–100 µs). Readers of such a file must
    /// take trailing zeros for its end. A no-op where `len` is not beyond
    /// the appended bytes. The default does nothing; [`FaultFs`] files hold
    /// exactly what was appended.
    fn preallocate(&mut self, len: u64) -> io::Result<()> {
        let _ = len;
        Ok(())
    }
}

/// Whether every byte of `file` from `offset` to its end is zero (true
/// when `offset` is at or past the end): how a preallocated file's unused
/// space reads.
pub fn zeros_from(file: &dyn RandomAccessFile, offset: u64) -> io::Result<bool> {
    const CHUNK: u64 = 64 << 10;
    let size = file.size()?;
    let mut at = offset;
    while at < size {
        let len = usize::try_from((size - at).min(CHUNK)).unwrap_or(0);
        if file.read_bytes(at, len)?.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        at += len as u64;
    }
    Ok(true)
}

/// A file read with positional reads; safe to share between threads.
pub trait RandomAccessFile: Send + Sync {
    /// Fills `buf` from `offset`. Reading past the end is an
    /// [`io::ErrorKind::UnexpectedEof`] error.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;

    /// The file's size in bytes.
    fn size(&self) -> io::Result<u64>;

    /// Reads `len` bytes from `offset` as shared bytes. The default reads into
    /// a new buffer; a memory-mapped file returns a view without a copy.
    ///
    /// # Errors
    /// As [`RandomAccessFile::read_at`].
    fn read_bytes(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        let mut buf = vec![0u8; len];
        self.read_at(offset, &mut buf)?;
        Ok(Bytes::from(buf))
    }

    /// True if reads are views of a memory map: they cost no system call and
    /// no copy, so a block cache in front of this file saves only the
    /// checksum and decoding of a block, not I/O.
    fn is_mapped(&self) -> bool {
        false
    }
}

/// Held while a directory is locked; dropping it releases the lock.
pub trait LockGuard: Send + Sync {}

/// The operations strata needs from a file system.
pub trait FileSystem: Send + Sync + fmt::Debug + 'static {
    /// Creates `path` for writing, truncating any existing file.
    fn create(&self, path: &Path) -> io::Result<Box<dyn WritableFile>>;

    /// Opens an existing file for positional reads.
    fn open(&self, path: &Path) -> io::Result<Arc<dyn RandomAccessFile>>;

    /// Opens an existing file that nobody will write again for reads through
    /// a memory map, where this file system supports it (the default opens
    /// it as [`FileSystem::open`] does). See [`RandomAccessFile::is_mapped`].
    ///
    /// The file must not be truncated or rewritten while the returned handle
    /// or any bytes read from it live: on a real file system that would
    /// change bytes already read, or kill the process with `SIGBUS`.
    fn open_mapped(&self, path: &Path) -> io::Result<Arc<dyn RandomAccessFile>> {
        self.open(path)
    }

    /// Atomically replaces `to` with `from`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Deletes a file.
    fn remove(&self, path: &Path) -> io::Result<()>;

    /// Names (not paths) of the entries of `dir`, sorted.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;

    /// True if `path` exists.
    fn exists(&self, path: &Path) -> io::Result<bool>;

    /// Creates `dir` and its missing parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;

    /// Makes creations, renames and removals inside `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;

    /// Takes an exclusive advisory lock on the file `path` (created if missing).
    /// Fails with [`io::ErrorKind::WouldBlock`] if any other handle, in this
    /// process or another, holds it.
    fn lock(&self, path: &Path) -> io::Result<Box<dyn LockGuard>>;

    /// Reads a whole file.
    fn read_all(&self, path: &Path) -> io::Result<Vec<u8>> {
        let file = self.open(path)?;
        let size = usize::try_from(file.size()?)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "file too large"))?;
        let mut buf = vec![0; size];
        file.read_at(0, &mut buf)?;
        Ok(buf)
    }
}

/// The name of the lock file inside a data directory.
pub const LOCK_FILE_NAME: &str = "LOCK";

/// An exclusive lock on a data directory, released on drop.
pub struct DirLock {
    path: PathBuf,
    _guard: Box<dyn LockGuard>,
}

impl DirLock {
    /// Locks `dir` by locking `dir/LOCK`.
    ///
    /// # Errors
    /// [`Error::Locked`] if another handle holds the lock; [`Error::Io`] otherwise.
    pub fn acquire(fs: &dyn FileSystem, dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_FILE_NAME);
        match fs.lock(&path) {
            Ok(guard) => Ok(Self {
                path,
                _guard: guard,
            }),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(Error::Locked { path }),
            Err(e) => Err(Error::Io(e)),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Debug for DirLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirLock").field("path", &self.path).finish()
    }
}
