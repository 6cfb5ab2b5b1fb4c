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
//! * [`FaultFs::fail_nth`] fails the n-th future call of one operation,
//!   [`FaultFs::fail_from`] every call from then on, and
//!   [`FaultFs::tear_nth_append`] writes only a prefix of an append and fails.
//!
//! After `crash` or `power_loss`, handles opened before it fail every call:
//! they belonged to the process that died. Locks are released.
//!
//! Directories themselves are assumed durable once created. Cloning a
//! `FaultFs` gives another handle to the same simulated disk.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{FileSystem, LockGuard, RandomAccessFile, WritableFile};

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

#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Fail the call whose index (per op, counted from 0) is `at`.
    Once { op: FsOp, at: u64 },
    /// Fail every call with index `>= at`.
    From { op: FsOp, at: u64 },
    /// The append with index `at` writes `keep` bytes, then fails.
    Tear { at: u64, keep: usize },
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
    faults: Vec<Fault>,
    /// Set by [`FaultFs::halt`]: every call fails until [`FaultFs::restart`].
    halted: bool,
}

enum Injected {
    None,
    Fail,
    Tear(usize),
}

impl State {
    /// Counts a call of `op` and tells whether a fault fires on it.
    fn tick(&mut self, op: FsOp) -> Injected {
        if self.halted {
            return Injected::Fail;
        }
        let count = self.counts.entry(op).or_insert(0);
        let idx = *count;
        *count += 1;
        let hit = self.faults.iter().position(|f| match *f {
            Fault::Once { op: o, at } => o == op && at == idx,
            Fault::From { op: o, at } => o == op && idx >= at,
            Fault::Tear { at, .. } => op == FsOp::Append && at == idx,
        });
        match hit.map(|i| self.faults[i]) {
            None => Injected::None,
            Some(Fault::From { .. }) => Injected::Fail,
            Some(Fault::Once { .. }) => {
                self.faults
                    .retain(|f| !matches!(f, Fault::Once { op: o, at } if *o == op && *at == idx));
                Injected::Fail
            }
            Some(Fault::Tear { keep, .. }) => {
                self.faults
                    .retain(|f| !matches!(f, Fault::Tear { at, .. } if *at == idx));
                Injected::Tear(keep)
            }
        }
    }

    fn check(&mut self, op: FsOp) -> io::Result<()> {
        match self.tick(op) {
            Injected::None => Ok(()),
            _ => Err(injected_error(op)),
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
}

fn injected_error(op: FsOp) -> io::Error {
    io::Error::other(format!("injected fault in {op:?}"))
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

    /// Fails the `n`-th future call of `op` (`n = 0`: the next one).
    pub fn fail_nth(&self, op: FsOp, n: u64) {
        let mut s = self.state.lock();
        let at = s.counts.get(&op).copied().unwrap_or(0) + n;
        s.faults.push(Fault::Once { op, at });
    }

    /// Fails every call of `op` from the `n`-th future one on.
    pub fn fail_from(&self, op: FsOp, n: u64) {
        let mut s = self.state.lock();
        let at = s.counts.get(&op).copied().unwrap_or(0) + n;
        s.faults.push(Fault::From { op, at });
    }

    /// The `n`-th future append writes only its first `keep` bytes, then fails.
    pub fn tear_nth_append(&self, n: u64, keep: usize) {
        let mut s = self.state.lock();
        let at = s.counts.get(&FsOp::Append).copied().unwrap_or(0) + n;
        s.faults.push(Fault::Tear { at, keep });
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        self.state.lock().faults.clear();
    }

    /// How many calls of `op` were made so far.
    pub fn op_count(&self, op: FsOp) -> u64 {
        self.state.lock().counts.get(&op).copied().unwrap_or(0)
    }

    /// Simulates killing the process: appended data stays, open handles die,
    /// locks are released, pending faults are cleared.
    pub fn crash(&self) {
        let mut s = self.state.lock();
        s.epoch += 1;
        s.locks.clear();
        s.faults.clear();
    }

    /// Simulates a power cut: like [`FaultFs::crash`], and in addition every file
    /// loses the bytes appended after its last sync, and every directory loses
    /// the creations, renames and removals made after its last sync.
    pub fn power_loss(&self) {
        let mut s = self.state.lock();
        s.epoch += 1;
        s.locks.clear();
        s.faults.clear();
        s.names = s.durable_names.clone();
        for inode in s.inodes.values_mut() {
            let keep = inode.synced_len;
            inode.data.truncate(keep);
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

    /// Undoes [`FaultFs::halt`].
    pub fn restart(&self) {
        self.state.lock().halted = false;
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

struct MemWritable {
    state: Arc<Mutex<State>>,
    inode: u64,
    epoch: u64,
    len: u64,
}

impl WritableFile for MemWritable {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        let mut s = self.state.lock();
        if s.epoch != self.epoch {
            return Err(dead_handle());
        }
        let injected = s.tick(FsOp::Append);
        let written = match injected {
            Injected::None => data,
            Injected::Fail => return Err(injected_error(FsOp::Append)),
            Injected::Tear(keep) => &data[..keep.min(data.len())],
        };
        let torn = written.len() < data.len() || !matches!(injected, Injected::None);
        s.inode_mut(self.inode)?.data.extend_from_slice(written);
        self.len += written.len() as u64;
        if torn {
            // Even a tear that kept every byte fails: the writer never
            // learned that its write completed.
            return Err(io::Error::other("injected torn write"));
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        let mut s = self.state.lock();
        if s.epoch != self.epoch {
            return Err(dead_handle());
        }
        s.check(FsOp::Sync)?;
        let inode = s.inode_mut(self.inode)?;
        inode.synced_len = inode.data.len();
        Ok(())
    }

    fn len(&self) -> u64 {
        self.len
    }
}

struct MemRandomAccess {
    state: Arc<Mutex<State>>,
    inode: u64,
    epoch: u64,
}

impl RandomAccessFile for MemRandomAccess {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut s = self.state.lock();
        if s.epoch != self.epoch {
            return Err(dead_handle());
        }
        s.check(FsOp::ReadAt)?;
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

struct MemLock {
    state: Arc<Mutex<State>>,
    path: PathBuf,
    epoch: u64,
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

impl FileSystem for FaultFs {
    fn create(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        let mut s = self.state.lock();
        s.check(FsOp::Create)?;
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
        }))
    }

    fn open(&self, path: &Path) -> io::Result<Arc<dyn RandomAccessFile>> {
        let mut s = self.state.lock();
        s.check(FsOp::Open)?;
        let id = *s.names.get(path).ok_or_else(|| not_found(path))?;
        Ok(Arc::new(MemRandomAccess {
            state: Arc::clone(&self.state),
            inode: id,
            epoch: s.epoch,
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.check(FsOp::Rename)?;
        if !s.parent_exists(to) {
            return Err(not_found(to));
        }
        let id = s.names.remove(from).ok_or_else(|| not_found(from))?;
        s.names.insert(to.to_path_buf(), id);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.check(FsOp::Remove)?;
        s.names
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| not_found(path))
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut s = self.state.lock();
        s.check(FsOp::List)?;
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
        s.check(FsOp::Exists)?;
        Ok(s.names.contains_key(path) || s.dirs.contains(path))
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.check(FsOp::CreateDir)?;
        for ancestor in dir.ancestors() {
            if !ancestor.as_os_str().is_empty() {
                s.dirs.insert(ancestor.to_path_buf());
            }
        }
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.check(FsOp::SyncDir)?;
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
        s.check(FsOp::Lock)?;
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
mod tests {
    use super::*;
    use crate::fs::DirLock;

    fn setup() -> (FaultFs, PathBuf) {
        let fs = FaultFs::new();
        let dir = PathBuf::from("/db");
        fs.create_dir_all(&dir).unwrap();
        (fs, dir)
    }

    #[test]
    fn a_halted_machine_changes_nothing_until_restarted() {
        let (fs, dir) = setup();
        let a = dir.join("a");
        let mut w = fs.create(&a).unwrap();
        w.append(b"kept").unwrap();
        fs.halt();
        assert!(w.append(b" lost").is_err());
        assert!(w.sync().is_err());
        assert!(fs.create(&dir.join("b")).is_err());
        assert!(fs.remove(&a).is_err());
        assert!(fs.list(&dir).is_err());
        fs.restart();
        assert_eq!(fs.read_all(&a).unwrap(), b"kept");
        assert!(!fs.exists(&dir.join("b")).unwrap());
    }

    #[test]
    fn power_loss_keeps_only_synced_bytes_of_durable_names() {
        let (fs, dir) = setup();
        let a = dir.join("a");
        let mut w = fs.create(&a).unwrap();
        w.append(b"synced").unwrap();
        w.sync().unwrap();
        w.append(b" lost").unwrap();
        fs.sync_dir(&dir).unwrap();
        let b = dir.join("b");
        let mut wb = fs.create(&b).unwrap();
        wb.append(b"never in a synced directory").unwrap();
        wb.sync().unwrap();

        fs.power_loss();
        assert_eq!(fs.read_all(&a).unwrap(), b"synced");
        assert!(!fs.exists(&b).unwrap());
        // Handles from before the crash are dead.
        assert!(w.append(b"x").is_err());
    }

    #[test]
    fn crash_keeps_unsynced_bytes() {
        let (fs, dir) = setup();
        let a = dir.join("a");
        let mut w = fs.create(&a).unwrap();
        w.append(b"in the page cache").unwrap();
        fs.crash();
        assert_eq!(fs.read_all(&a).unwrap(), b"in the page cache");
    }

    #[test]
    fn rename_is_durable_only_after_dir_sync() {
        let (fs, dir) = setup();
        let (tmp, cur) = (dir.join("tmp"), dir.join("CURRENT"));
        let mut w = fs.create(&cur).unwrap();
        w.append(b"old").unwrap();
        w.sync().unwrap();
        fs.sync_dir(&dir).unwrap();
        let mut w = fs.create(&tmp).unwrap();
        w.append(b"new").unwrap();
        w.sync().unwrap();
        fs.rename(&tmp, &cur).unwrap();
        assert_eq!(fs.read_all(&cur).unwrap(), b"new");
        fs.power_loss();
        assert_eq!(fs.read_all(&cur).unwrap(), b"old");
    }

    #[test]
    fn injected_faults_fire_once_or_from_then_on() {
        let (fs, dir) = setup();
        let mut w = fs.create(&dir.join("f")).unwrap();
        fs.fail_nth(FsOp::Append, 1);
        w.append(b"a").unwrap();
        assert!(w.append(b"b").is_err());
        w.append(b"c").unwrap();
        fs.fail_from(FsOp::Sync, 0);
        assert!(w.sync().is_err());
        assert!(w.sync().is_err());
        fs.clear_faults();
        w.sync().unwrap();
        assert_eq!(fs.read_all(&dir.join("f")).unwrap(), b"ac");
    }

    #[test]
    fn a_tear_that_keeps_every_byte_still_fails() {
        let (fs, dir) = setup();
        let mut w = fs.create(&dir.join("f")).unwrap();
        fs.tear_nth_append(0, 100);
        assert!(w.append(b"abc").is_err());
        assert_eq!(fs.read_all(&dir.join("f")).unwrap(), b"abc");
        fs.fail_nth(FsOp::CreateDir, 0);
        assert!(fs.create_dir_all(Path::new("/other")).is_err());
    }

    #[test]
    fn torn_append_writes_a_prefix() {
        let (fs, dir) = setup();
        let mut w = fs.create(&dir.join("f")).unwrap();
        fs.tear_nth_append(0, 3);
        assert!(w.append(b"abcdef").is_err());
        assert_eq!(w.len(), 3);
        assert_eq!(fs.read_all(&dir.join("f")).unwrap(), b"abc");
    }

    #[test]
    fn reads_past_end_and_missing_files_are_errors() {
        let (fs, dir) = setup();
        assert_eq!(
            fs.open(&dir.join("nope")).err().map(|e| e.kind()),
            Some(io::ErrorKind::NotFound)
        );
        assert!(fs.create(Path::new("/no/such/dir/f")).is_err());
        let mut w = fs.create(&dir.join("f")).unwrap();
        w.append(b"abc").unwrap();
        let r = fs.open(&dir.join("f")).unwrap();
        let mut buf = [0; 2];
        assert!(r.read_at(2, &mut buf).is_err());
        assert!(r.read_at(u64::MAX, &mut buf).is_err());
        assert_eq!(fs.list(&dir).unwrap(), vec!["f".to_string()]);
    }

    #[test]
    fn lock_is_exclusive_and_released_by_drop_or_crash() {
        let (fs, dir) = setup();
        let l = DirLock::acquire(&fs, &dir).unwrap();
        assert!(matches!(
            DirLock::acquire(&fs, &dir),
            Err(crate::Error::Locked { .. })
        ));
        drop(l);
        let _held = DirLock::acquire(&fs, &dir).unwrap();
        fs.crash();
        DirLock::acquire(&fs, &dir).unwrap();
    }
}
