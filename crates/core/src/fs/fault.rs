//! [`FaultFs`]: an in-memory simulated disk that fails on command.
//!
//! It models what a crash can do to files, for tests of recovery:
//!
//! * every file keeps its bytes and how many of them were synced;
//!   [`FaultFs::power_loss`] truncates every file to its synced length, and
//!   rolls the directory namespace back to what the last
//!   [`FileSystem::sync_dir`] of each directory made durable (so a created or
//!   renamed file whose directory was never synced disappears, as on Linux);
//! * [`FaultFs::crash`] is a process kill: the OS keeps all appended data;
//! * [`FaultFs::inject`] fails calls of one operation (optionally only on
//!   files whose name contains a string) once or from then on, with a chosen
//!   error ([`FaultError`]: a generic injected error, `EIO` or `ENOSPC`);
//!   [`FaultFs::fail_nth`], [`FaultFs::fail_from`] and
//!   [`FaultFs::tear_nth_append`] (an append that writes only a prefix, then
//!   fails) are shorthands;
//! * [`FaultFs::halt`] / [`FaultFs::halt_at`] freeze the machine (now, or at
//!   the n-th call of any operation), so that a crash or power loss can be
//!   placed exactly between two calls;
//! * [`FaultFs::set_capacity`] makes the disk full: see "Full disk" below;
//! * [`FaultFs::trace_ops`] records every call (operation, path, failed or
//!   not), so a test can tell in which phase of its workload call `i` fell.
//!
//! After `crash` or `power_loss`, handles opened before it fail every call:
//! they belonged to the process that died. Locks are released.
//!
//! # Full disk
//! With a capacity set, the bytes of every file that has a name (synced or
//! not) count against it; removing a file frees its bytes at once (open
//! handles are not tracked). An append that does not fit writes the bytes
//! that fit (possibly none) and fails with `ENOSPC`, as a short `write(2)`
//! followed by a failing one does; the writer thus sees a torn append.
//! Nothing else is limited (creating, renaming and syncing never run out of
//! space). Raising or lifting the capacity lets later appends succeed.
//!
//! Directories themselves are assumed durable once created. Cloning a
//! `FaultFs` gives another handle to the same simulated disk.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{FileSystem, LockGuard, RandomAccessFile, WritableFile};

mod handles;
mod inject;

use handles::{MemLock, MemRandomAccess, MemWritable};
pub use inject::{Fault, FaultError, TracedOp};

/// The operations [`FaultFs`] counts and can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FsOp {
    /// [`FileSystem::create`].
    Create,
    /// [`FileSystem::open`].
    Open,
    /// [`WritableFile::append`].
    Append,
    /// [`WritableFile::sync`].
    Sync,
    /// [`RandomAccessFile::read_at`].
    ReadAt,
    /// [`FileSystem::rename`].
    Rename,
    /// [`FileSystem::remove`].
    Remove,
    /// [`FileSystem::list`].
    List,
    /// [`FileSystem::sync_dir`].
    SyncDir,
    /// [`FileSystem::create_dir_all`].
    CreateDir,
    /// [`FileSystem::exists`].
    Exists,
    /// [`FileSystem::lock`].
    Lock,
}

#[derive(Debug, Default)]
struct Inode {
    data: Vec<u8>,
    synced_len: usize,
}

#[derive(Debug, Default)]
struct State {
    inodes: HashMap<u64, Inode>,
    /// The namespace as the running process sees it.
    names: BTreeMap<PathBuf, u64>,
    /// The namespace that survives a power loss.
    durable_names: BTreeMap<PathBuf, u64>,
    dirs: BTreeSet<PathBuf>,
    locks: BTreeSet<PathBuf>,
    next_inode: u64,
    /// Bumped by every crash; handles from an older epoch are dead.
    epoch: u64,
    counts: HashMap<FsOp, u64>,
    /// Calls of every operation so far.
    total: u64,
    faults: Vec<Fault>,
    /// Set by [`FaultFs::halt`]: every call fails until [`FaultFs::restart`].
    halted: bool,
    /// The call (by `total`) that halts the machine.
    halt_at: Option<u64>,
    /// Bytes the named files may hold in all; `None`: unlimited.
    capacity: Option<u64>,
    trace: Option<Vec<TracedOp>>,
}

enum Injected {
    None,
    Fail(FaultError),
    Tear(usize),
}

impl State {
    /// Counts a call of `op` on `paths` and tells whether a fault fires on it.
    fn tick(&mut self, op: FsOp, paths: &[&Path]) -> Injected {
        if self.halted {
            return Injected::Fail(FaultError::Injected);
        }
        let index = self.total;
        self.total += 1;
        *self.counts.entry(op).or_insert(0) += 1;
        let injected = if self.halt_at.is_some_and(|at| index >= at) {
            self.halted = true;
            self.halt_at = None;
            Injected::Fail(FaultError::Injected)
        } else {
            self.fire(op, paths)
        };
        if let Some(trace) = &mut self.trace {
            trace.push(TracedOp {
                index,
                op,
                path: paths.first().map(|p| p.to_path_buf()).unwrap_or_default(),
                failed: !matches!(injected, Injected::None),
            });
        }
        injected
    }

    /// Advances every fault matching the call; the first due one decides.
    /// A one-shot fault that is due is spent, whether it decided or not.
    fn fire(&mut self, op: FsOp, paths: &[&Path]) -> Injected {
        let mut injected = Injected::None;
        self.faults.retain_mut(|f| {
            if !f.matches(op, paths) {
                return true;
            }
            if f.skip > 0 {
                f.skip -= 1;
                return true;
            }
            if matches!(injected, Injected::None) {
                injected = match f.tear {
                    Some(keep) if op == FsOp::Append => Injected::Tear(keep),
                    _ => Injected::Fail(f.error),
                };
            }
            f.persistent
        });
        injected
    }

    fn check(&mut self, op: FsOp, paths: &[&Path]) -> io::Result<()> {
        match self.tick(op, paths) {
            Injected::None => Ok(()),
            Injected::Fail(e) => Err(e.to_io_error(op)),
            Injected::Tear(_) => Err(FaultError::Injected.to_io_error(op)),
        }
    }

    fn parent_exists(&self, path: &Path) -> bool {
        match path.parent() {
            None => true,
            Some(p) if p.as_os_str().is_empty() || p == Path::new("/") => true,
            Some(p) => self.dirs.contains(p),
        }
    }

    fn inode_mut(&mut self, id: u64) -> io::Result<&mut Inode> {
        self.inodes
            .get_mut(&id)
            .ok_or_else(|| io::Error::other("simulated inode vanished"))
    }

    /// Bytes held by the files that have a name.
    fn used_bytes(&self) -> u64 {
        let named: HashSet<u64> = self.names.values().copied().collect();
        named
            .iter()
            .filter_map(|id| self.inodes.get(id))
            .map(|i| i.data.len() as u64)
            .sum()
    }
}

fn dead_handle() -> io::Error {
    io::Error::other("handle belongs to a process that crashed (simulated)")
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file", path.display()),
    )
}

/// An in-memory simulated disk with fault injection. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct FaultFs {
    state: Arc<Mutex<State>>,
}

impl FaultFs {
    /// An empty simulated disk.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `fault`: from now on, the calls it names fail.
    pub fn inject(&self, fault: Fault) {
        self.state.lock().faults.push(fault);
    }

    /// Fails the `n`-th future call of `op` (`n = 0`: the next one).
    pub fn fail_nth(&self, op: FsOp, n: u64) {
        self.inject(Fault::on(op).nth(n));
    }

    /// Fails every call of `op` from the `n`-th future one on.
    pub fn fail_from(&self, op: FsOp, n: u64) {
        self.inject(Fault::on(op).nth(n).persistent());
    }

    /// The `n`-th future append writes only its first `keep` bytes, then fails.
    pub fn tear_nth_append(&self, n: u64, keep: usize) {
        let mut fault = Fault::on(FsOp::Append).nth(n);
        fault.tear = Some(keep);
        self.inject(fault);
    }

    /// Removes every pending fault, and a pending [`FaultFs::halt_at`]. The
    /// capacity stays: a full disk is no fault ([`FaultFs::set_capacity`]).
    pub fn clear_faults(&self) {
        let mut s = self.state.lock();
        s.faults.clear();
        s.halt_at = None;
    }

    /// How many calls of `op` were made so far.
    pub fn op_count(&self, op: FsOp) -> u64 {
        self.state.lock().counts.get(&op).copied().unwrap_or(0)
    }

    /// How many calls of every operation were made so far (calls refused
    /// while halted do not count).
    pub fn op_total(&self) -> u64 {
        self.state.lock().total
    }

    /// Simulates killing the process: appended data stays, open handles die,
    /// locks are released, pending faults are cleared.
    pub fn crash(&self) {
        let mut s = self.state.lock();
        s.epoch += 1;
        s.locks.clear();
        s.faults.clear();
        s.halt_at = None;
    }

    /// Simulates a power cut: like [`FaultFs::crash`], and in addition every file
    /// loses the bytes appended after its last sync, and every directory loses
    /// the creations, renames and removals made after its last sync.
    pub fn power_loss(&self) {
        self.cut_power(|_, synced, _| synced);
    }

    /// Simulates a power cut after which each file kept its synced bytes
    /// plus a part of the rest that differs from file to file (chosen by
    /// `seed` and the file's identity), as writeback that reached some
    /// files further than others leaves them. Otherwise like
    /// [`FaultFs::power_loss`]. The same seed on the same history keeps the
    /// same bytes.
    pub fn power_loss_with_writeback(&self, seed: u64) {
        self.cut_power(|inode, synced, len| {
            let unsynced = len.saturating_sub(synced) as u64;
            // splitmix64 of the seed and the inode: a cheap, well-mixed
            // choice per file, with whole and nothing both likely.
            let mut z = seed ^ inode.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let kept = match z % 4 {
                0 => 0,
                1 => unsynced,
                _ => (z >> 2) % (unsynced + 1),
            };
            synced + usize::try_from(kept).unwrap_or(0)
        });
    }

    /// Rolls the namespace back to what directory syncs made durable and
    /// truncates each file to `keep(inode, synced_len, len)` bytes.
    fn cut_power(&self, keep: impl Fn(u64, usize, usize) -> usize) {
        let mut s = self.state.lock();
        s.epoch += 1;
        s.locks.clear();
        s.faults.clear();
        s.halt_at = None;
        s.names = s.durable_names.clone();
        for (&id, inode) in s.inodes.iter_mut() {
            let len = inode.data.len();
            let kept = keep(id, inode.synced_len, len).clamp(inode.synced_len, len);
            inode.data.truncate(kept);
        }
    }

    /// Stops the machine: every call through any handle fails (as an
    /// injected fault) until [`FaultFs::restart`]. A test halts, then
    /// simulates the crash or power loss, then drops the database handle
    /// (whose shutdown can then change nothing on the disk), then restarts
    /// and reopens.
    pub fn halt(&self) {
        self.state.lock().halted = true;
    }

    /// Halts the machine at the `n`-th future call of any operation (`0`:
    /// the next): that call fails, and so does every later one, as after
    /// [`FaultFs::halt`]. With [`FaultFs::op_total`] and a trace of a clean
    /// run this places a crash exactly before any one call.
    pub fn halt_at(&self, n: u64) {
        let mut s = self.state.lock();
        s.halt_at = Some(s.total + n);
    }

    /// True while the machine is halted.
    pub fn is_halted(&self) -> bool {
        self.state.lock().halted
    }

    /// Undoes [`FaultFs::halt`].
    pub fn restart(&self) {
        self.state.lock().halted = false;
    }

    /// Limits the bytes all named files may hold together (`None`: no
    /// limit); see "Full disk" in the module docs. A capacity below what
    /// the files already hold refuses every non-empty append.
    pub fn set_capacity(&self, bytes: Option<u64>) {
        self.state.lock().capacity = bytes;
    }

    /// Bytes the named files hold now, synced or not (what counts against
    /// the capacity).
    pub fn used_bytes(&self) -> u64 {
        self.state.lock().used_bytes()
    }

    /// Starts (`true`, discarding an earlier trace) or stops recording every
    /// call; see [`FaultFs::trace`].
    pub fn trace_ops(&self, on: bool) {
        self.state.lock().trace = on.then(Vec::new);
    }

    /// The calls recorded since [`FaultFs::trace_ops`] started, in order
    /// (empty when not tracing). Calls refused while halted are not recorded,
    /// except the one [`FaultFs::halt_at`] halted on.
    pub fn trace(&self) -> Vec<TracedOp> {
        self.state.lock().trace.clone().unwrap_or_default()
    }

    /// Current size of `path`, synced or not.
    pub fn file_len(&self, path: &Path) -> Option<u64> {
        let s = self.state.lock();
        let id = s.names.get(path)?;
        s.inodes.get(id).map(|i| i.data.len() as u64)
    }

    /// Overwrites one byte of `path` in place (synced), to simulate bit rot.
    pub fn corrupt_byte(&self, path: &Path, offset: usize, xor: u8) -> io::Result<()> {
        let mut s = self.state.lock();
        let id = *s.names.get(path).ok_or_else(|| not_found(path))?;
        let inode = s.inode_mut(id)?;
        let byte = inode
            .data
            .get_mut(offset)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "offset past end"))?;
        *byte ^= xor;
        Ok(())
    }
}

impl FileSystem for FaultFs {
    fn create(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        let mut s = self.state.lock();
        s.check(FsOp::Create, &[path])?;
        if !s.parent_exists(path) {
            return Err(not_found(path));
        }
        let id = s.next_inode;
        s.next_inode += 1;
        s.inodes.insert(id, Inode::default());
        s.names.insert(path.to_path_buf(), id);
        Ok(Box::new(MemWritable {
            state: Arc::clone(&self.state),
            inode: id,
            epoch: s.epoch,
            len: 0,
            path: path.to_path_buf(),
        }))
    }

    fn open(&self, path: &Path) -> io::Result<Arc<dyn RandomAccessFile>> {
        let mut s = self.state.lock();
        s.check(FsOp::Open, &[path])?;
        let id = *s.names.get(path).ok_or_else(|| not_found(path))?;
        Ok(Arc::new(MemRandomAccess {
            state: Arc::clone(&self.state),
            inode: id,
            epoch: s.epoch,
            path: path.to_path_buf(),
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.check(FsOp::Rename, &[from, to])?;
        if !s.parent_exists(to) {
            return Err(not_found(to));
        }
        let id = s.names.remove(from).ok_or_else(|| not_found(from))?;
        s.names.insert(to.to_path_buf(), id);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.check(FsOp::Remove, &[path])?;
        s.names
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| not_found(path))
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut s = self.state.lock();
        s.check(FsOp::List, &[dir])?;
        if !s.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        let children = s.names.keys().chain(s.dirs.iter());
        let mut out: Vec<String> = children
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        let mut s = self.state.lock();
        s.check(FsOp::Exists, &[path])?;
        Ok(s.names.contains_key(path) || s.dirs.contains(path))
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.check(FsOp::CreateDir, &[dir])?;
        for ancestor in dir.ancestors() {
            if !ancestor.as_os_str().is_empty() {
                s.dirs.insert(ancestor.to_path_buf());
            }
        }
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.check(FsOp::SyncDir, &[dir])?;
        let s = &mut *s;
        s.durable_names.retain(|p, _| p.parent() != Some(dir));
        for (p, id) in &s.names {
            if p.parent() == Some(dir) {
                s.durable_names.insert(p.clone(), *id);
            }
        }
        Ok(())
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn LockGuard>> {
        let mut s = self.state.lock();
        s.check(FsOp::Lock, &[path])?;
        if !s.locks.insert(path.to_path_buf()) {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{} is locked", path.display()),
            ));
        }
        Ok(Box::new(MemLock {
            state: Arc::clone(&self.state),
            path: path.to_path_buf(),
            epoch: s.epoch,
        }))
    }
}

#[cfg(test)]
mod tests;
