//! [`Snapshot`]: a fixed point in the write history to read from.

use std::ops::RangeBounds;
use std::sync::Arc;

use bytes::Bytes;
use strata_core::{Result, SeqNo};

use super::read::{KeyRange, iterate};
use super::shared::Shared;
use crate::iter::DbIterator;
use crate::version::Version;

/// A consistent, read-only view of the database as of one moment.
///
/// It sees exactly the writes made before it was taken (every write with a
/// sequence number up to [`Snapshot::seqno`]), whatever is written, flushed
/// or compacted afterwards. It pins the version it was taken from, so the
/// memtables and files it reads stay alive, and registers its sequence
/// number, so that flushes (and compactions) keep the versions it sees.
/// Drop it when done: a long-lived snapshot holds memory and disk space.
pub struct Snapshot {
    shared: Arc<Shared>,
    seqno: SeqNo,
    version: Arc<Version>,
}

impl Snapshot {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        // Registering under the lock that flushes read the list with means
        // no flush that starts afterwards can drop a version this sees.
        let seqno = {
            let mut live = shared.snapshots.lock();
            let seqno = shared.publisher.visible();
            *live.entry(seqno).or_insert(0) += 1;
            seqno
        };
        // Loaded after the seqno: holds every write up to it.
        let version = shared.version.load_full();
        Self {
            shared,
            seqno,
            version,
        }
    }

    /// The sequence number of the last write this snapshot sees.
    pub fn seqno(&self) -> SeqNo {
        self.seqno
    }

    /// The value of `key` as of the snapshot.
    ///
    /// # Errors
    /// [`Error::Corruption`](strata_core::Error::Corruption) or
    /// [`Error::Io`](strata_core::Error::Io) if a table on the lookup path
    /// cannot be read.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Bytes>> {
        let value = self
            .version
            .get(key.as_ref(), self.seqno, self.shared.clock());
        self.shared.after_read();
        value
    }

    /// The live keys in `range` with their values as of the snapshot, in key
    /// order (double-ended). See [`Db::scan`](crate::Db::scan).
    pub fn scan<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> DbIterator {
        self.iter(&KeyRange::from_bounds(&range))
    }

    /// The live keys starting with `prefix`, as of the snapshot.
    pub fn prefix(&self, prefix: impl AsRef<[u8]>) -> DbIterator {
        self.iter(&KeyRange::prefix(prefix.as_ref()))
    }

    fn iter(&self, range: &KeyRange) -> DbIterator {
        let iter = iterate(
            Arc::clone(&self.version),
            range,
            self.seqno,
            self.shared.now_ms(),
        )
        .unwrap_or_else(DbIterator::failed);
        self.shared.after_read();
        iter
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let mut live = self.shared.snapshots.lock();
        if let Some(count) = live.get_mut(&self.seqno) {
            *count -= 1;
            if *count == 0 {
                live.remove(&self.seqno);
            }
        }
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("seqno", &self.seqno)
            .finish()
    }
}
