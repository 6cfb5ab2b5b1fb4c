//! The handles [`FaultFs`](super::FaultFs) gives out: files being written,
//! files being read, and locks. Each belongs to the epoch (the simulated
//! process) that opened it and fails every call after a crash.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;

use super::{FaultError, FsOp, Injected, State, dead_handle};
use crate::fs::{LockGuard, RandomAccessFile, WritableFile};

pub(super) struct MemWritable {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) inode: u64,
    pub(super) epoch: u64,
    pub(super) len: u64,
    pub(super) path: PathBuf,
}

impl WritableFile for MemWritable {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        let mut s = self.state.lock();
        if s.epoch != self.epoch {
            return Err(dead_handle());
        }
        let (keep, error) = match s.tick(FsOp::Append, &[&self.path]) {
            Injected::None => (data.len(), None),
            Injected::Fail(e) => return Err(e.to_io_error(FsOp::Append)),
            // Even a tear that keeps every byte fails: the writer never
            // learned that its write completed.
            Injected::Tear(keep) => (
                keep.min(data.len()),
                Some(io::Error::other("injected torn write")),
            ),
        };
        let free = match s.capacity {
            Some(cap) => usize::try_from(cap.saturating_sub(s.used_bytes())).unwrap_or(usize::MAX),
            None => usize::MAX,
        };
        let (keep, error) = if keep > free {
            (free, Some(FaultError::NoSpace.to_io_error(FsOp::Append)))
        } else {
            (keep, error)
        };
        let written = data.get(..keep).unwrap_or(data);
        s.inode_mut(self.inode)?.data.extend_from_slice(written);
        self.len += written.len() as u64;
        error.map_or(Ok(()), Err)
    }

    fn sync(&mut self) -> io::Result<()> {
        let mut s = self.state.lock();
        if s.epoch != self.epoch {
            return Err(dead_handle());
        }
        s.check(FsOp::Sync, &[&self.path])?;
        let inode = s.inode_mut(self.inode)?;
        inode.synced_len = inode.data.len();
        Ok(())
    }

    fn len(&self) -> u64 {
        self.len
    }
}

pub(super) struct MemRandomAccess {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) inode: u64,
    pub(super) epoch: u64,
    pub(super) path: PathBuf,
}

impl RandomAccessFile for MemRandomAccess {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut s = self.state.lock();
        if s.epoch != self.epoch {
            return Err(dead_handle());
        }
        s.check(FsOp::ReadAt, &[&self.path])?;
        let data = &s.inode_mut(self.inode)?.data;
        let src = usize::try_from(offset)
            .ok()
            .and_then(|start| data.get(start..start.checked_add(buf.len())?))
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "read past end of file"))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn size(&self) -> io::Result<u64> {
        let mut s = self.state.lock();
        if s.epoch != self.epoch {
            return Err(dead_handle());
        }
        Ok(s.inode_mut(self.inode)?.data.len() as u64)
    }
}

pub(super) struct MemLock {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) path: PathBuf,
    pub(super) epoch: u64,
}

impl LockGuard for MemLock {}

impl Drop for MemLock {
    fn drop(&mut self) {
        let mut s = self.state.lock();
        if s.epoch == self.epoch {
            s.locks.remove(&self.path);
        }
    }
}
