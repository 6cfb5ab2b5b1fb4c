//! [`FileSystem`] over `std::fs` (Unix).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};

use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use super::mmap::MappedFile;
use super::{FileSystem, LockGuard, RandomAccessFile, WritableFile};

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdFs;

impl StdFs {
    /// A shareable handle, the usual way to pass a file system around.
    pub fn shared() -> Arc<dyn FileSystem> {
        Arc::new(StdFs)
    }
}

struct StdWritable {
    file: File,
    len: u64,
}

impl WritableFile for StdWritable {
    fn append(&mut self, mut data: &[u8]) -> io::Result<()> {
        // `write_all` by hand, so that after a partial write `len` still
        // matches the bytes the file really holds.
        while !data.is_empty() {
            match self.file.write(data) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.len += n as u64;
                    data = &data[n..];
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn preallocate(&mut self, len: u64) -> io::Result<()> {
        // A sparse extension: no blocks are written, but the size is set,
        // so appends within it leave the size alone.
        if len > self.len && len > self.file.metadata()?.len() {
            self.file.set_len(len)?;
        }
        Ok(())
    }
}

struct StdRandomAccess {
    file: File,
}

impl RandomAccessFile for StdRandomAccess {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }
}

/// Holds the locked file; the OS releases an flock when its descriptor closes.
struct StdLock {
    _file: File,
}

impl LockGuard for StdLock {}

impl FileSystem for StdFs {
    fn create(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        Ok(Box::new(StdWritable { file, len: 0 }))
    }

    fn open(&self, path: &Path) -> io::Result<Arc<dyn RandomAccessFile>> {
        Ok(Arc::new(StdRandomAccess {
            file: File::open(path)?,
        }))
    }

    fn open_mapped(&self, path: &Path) -> io::Result<Arc<dyn RandomAccessFile>> {
        let file = File::open(path)?;
        Ok(match MappedFile::map(&file)? {
            Some(mapped) => Arc::new(mapped),
            None => Arc::new(StdRandomAccess { file }),
        })
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            // Names that are not UTF-8 cannot be strata's; skip them.
            if let Ok(name) = entry?.file_name().into_string() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        path.try_exists()
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn LockGuard>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // flock(2) locks belong to the open file description, so a second
        // open of the same directory in this very process is refused too.
        match file.try_lock() {
            Ok(()) => Ok(Box::new(StdLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{} is locked", path.display()),
            )),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::DirLock;

    #[test]
    fn a_preallocated_file_takes_appends_from_its_start_and_reads_zeros_after() {
        let dir = tempfile::tempdir().unwrap();
        let fs = StdFs;
        let a = dir.path().join("a");
        let mut w = fs.create(&a).unwrap();
        w.append(b"head").unwrap();
        w.preallocate(4096).unwrap();
        w.append(b" tail").unwrap();
        w.sync().unwrap();
        assert_eq!(w.len(), 9);
        // Shrinking is not what preallocation does.
        w.preallocate(100).unwrap();
        drop(w);
        let all = fs.read_all(&a).unwrap();
        assert_eq!(all.len(), 4096);
        assert_eq!(&all[..9], b"head tail");
        assert!(all[9..].iter().all(|&b| b == 0));
    }

    #[test]
    fn write_read_rename_remove() {
        let dir = tempfile::tempdir().unwrap();
        let fs = StdFs;
        let a = dir.path().join("a");
        let mut w = fs.create(&a).unwrap();
        w.append(b"hello ").unwrap();
        w.append(b"world").unwrap();
        w.sync().unwrap();
        assert_eq!(w.len(), 11);
        drop(w);
        let r = fs.open(&a).unwrap();
        let mut buf = [0; 5];
        r.read_at(6, &mut buf).unwrap();
        assert_eq!(&buf, b"world");
        let err = r.read_at(8, &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let b = dir.path().join("b");
        fs.rename(&a, &b).unwrap();
        fs.sync_dir(dir.path()).unwrap();
        assert_eq!(fs.list(dir.path()).unwrap(), vec!["b".to_string()]);
        assert_eq!(fs.read_all(&b).unwrap(), b"hello world");
        fs.remove(&b).unwrap();
        assert!(!fs.exists(&b).unwrap());
    }

    #[test]
    fn a_mapped_file_reads_as_the_plain_one_does() {
        let dir = tempfile::tempdir().unwrap();
        let fs = StdFs;
        let path = dir.path().join("t");
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut w = fs.create(&path).unwrap();
        w.append(&data).unwrap();
        w.sync().unwrap();
        drop(w);
        let plain = fs.open(&path).unwrap();
        let mapped = fs.open_mapped(&path).unwrap();
        assert!(mapped.is_mapped() && !plain.is_mapped());
        assert_eq!(mapped.size().unwrap(), 10_000);
        for (offset, len) in [(0, 0), (0, 10_000), (4090, 12), (9_999, 1), (10_000, 0)] {
            let want = &data[offset..offset + len];
            for file in [&plain, &mapped] {
                assert_eq!(file.read_bytes(offset as u64, len).unwrap(), want);
                let mut buf = vec![0; len];
                file.read_at(offset as u64, &mut buf).unwrap();
                assert_eq!(buf, want);
            }
        }
        // Past the end is an error, never a fault, whichever way it is read.
        for (offset, len) in [(9_999, 2), (10_001, 1), (u64::MAX, 1)] {
            for file in [&plain, &mapped] {
                let err = file.read_bytes(offset, len).unwrap_err();
                let kind = err.kind();
                assert!(
                    matches!(
                        kind,
                        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput
                    ),
                    "{offset}+{len}: {kind:?}"
                );
            }
        }
        // A removed file stays readable through its map, as through a descriptor.
        fs.remove(&path).unwrap();
        assert_eq!(mapped.read_bytes(4096, 4).unwrap(), &data[4096..4100]);
        // An empty file cannot be mapped; it opens for plain reads.
        let empty = dir.path().join("empty");
        drop(fs.create(&empty).unwrap());
        let file = fs.open_mapped(&empty).unwrap();
        assert!(!file.is_mapped());
        assert_eq!(file.size().unwrap(), 0);
    }

    #[test]
    fn second_lock_in_same_process_is_refused_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(&StdFs, dir.path()).unwrap();
        let err = DirLock::acquire(&StdFs, dir.path()).unwrap_err();
        assert!(matches!(err, crate::Error::Locked { .. }), "{err}");
        drop(first);
        DirLock::acquire(&StdFs, dir.path()).unwrap();
    }
}
