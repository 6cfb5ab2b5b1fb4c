//! [`Options`]: how a database is opened and tuned, and the [`Clock`] that
//! decides when TTL values expire.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use strata_compaction::{CompactionStrategy, Leveled};

use strata_core::{Error, FileSystem, MAX_KEY_SIZE, MAX_VALUE_SIZE, Result, StdFs};
use strata_sstable::CompressionType;
use strata_wal::{RecoveryMode, SyncPolicy};

/// Where "now" comes from, in unix milliseconds: TTL expiry is judged by it.
///
/// The default is [`SystemClock`]; tests pass a [`ManualClock`] to make
/// expiry deterministic.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time in unix milliseconds.
    fn now_millis(&self) -> u64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        strata_core::key::now_millis()
    }
}

/// A clock that only moves when told to; share it with an `Arc`.
#[derive(Debug, Default)]
pub struct ManualClock {
    now_ms: AtomicU64,
}

impl ManualClock {
    /// A clock reading `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        Self {
            now_ms: AtomicU64::new(now_ms),
        }
    }

    /// Sets the time.
    pub fn set(&self, now_ms: u64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the time forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.now_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

/// Settings for [`Db::open`](crate::Db::open), built fluently:
///
/// ```
/// use strata::{Options, SyncPolicy};
/// let opts = Options::default()
///     .create_if_missing(true)
///     .memtable_size(8 << 20)
///     .sync_policy(SyncPolicy::Always);
/// assert_eq!(opts.get_memtable_size(), 8 << 20);
/// ```
#[derive(Clone)]
pub struct Options {
    pub(crate) create_if_missing: bool,
    pub(crate) error_if_exists: bool,
    pub(crate) memtable_size: usize,
    pub(crate) max_immutable_memtables: usize,
    pub(crate) block_size: usize,
    pub(crate) bloom_bits_per_key: u32,
    pub(crate) block_cache_bytes: u64,
    pub(crate) max_open_tables: usize,
    pub(crate) mmap_reads: bool,
    pub(crate) compression: CompressionType,
    pub(crate) sync_policy: SyncPolicy,
    pub(crate) recovery_mode: RecoveryMode,
    pub(crate) max_key_size: usize,
    pub(crate) max_value_size: usize,
    pub(crate) manifest_rewrite_bytes: u64,
    pub(crate) compaction: Arc<dyn CompactionStrategy>,
    pub(crate) auto_compaction: bool,
    pub(crate) seek_compaction: bool,
    pub(crate) compaction_threads: usize,
    pub(crate) compaction_nice: u8,
    pub(crate) compaction_interval: Duration,
    pub(crate) level0_slowdown_trigger: usize,
    pub(crate) level0_stop_trigger: usize,
    pub(crate) fs: Arc<dyn FileSystem>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            create_if_missing: true,
            error_if_exists: false,
            memtable_size: 64 << 20,
            max_immutable_memtables: 2,
            block_size: 4096,
            bloom_bits_per_key: 10,
            block_cache_bytes: 64 << 20,
            max_open_tables: 1000,
            mmap_reads: false,
            compression: CompressionType::None,
            sync_policy: SyncPolicy::Never,
            recovery_mode: RecoveryMode::TolerateTornTail,
            max_key_size: MAX_KEY_SIZE,
            max_value_size: MAX_VALUE_SIZE,
            manifest_rewrite_bytes: 4 << 20,
            compaction: Arc::new(Leveled::default()),
            auto_compaction: true,
            seek_compaction: true,
            compaction_threads: 1,
            compaction_nice: 5,
            compaction_interval: Duration::from_secs(30),
            level0_slowdown_trigger: 20,
            level0_stop_trigger: 36,
            fs: StdFs::shared(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("create_if_missing", &self.create_if_missing)
            .field("error_if_exists", &self.error_if_exists)
            .field("memtable_size", &self.memtable_size)
            .field("max_immutable_memtables", &self.max_immutable_memtables)
            .field("block_size", &self.block_size)
            .field("bloom_bits_per_key", &self.bloom_bits_per_key)
            .field("block_cache_bytes", &self.block_cache_bytes)
            .field("max_open_tables", &self.max_open_tables)
            .field("mmap_reads", &self.mmap_reads)
            .field("compression", &self.compression)
            .field("sync_policy", &self.sync_policy)
            .field("recovery_mode", &self.recovery_mode)
            .field("max_key_size", &self.max_key_size)
            .field("max_value_size", &self.max_value_size)
            .field("manifest_rewrite_bytes", &self.manifest_rewrite_bytes)
            .field("compaction", &self.compaction)
            .field("auto_compaction", &self.auto_compaction)
            .field("seek_compaction", &self.seek_compaction)
            .field("compaction_threads", &self.compaction_threads)
            .field("compaction_nice", &self.compaction_nice)
            .field("compaction_interval", &self.compaction_interval)
            .field("level0_slowdown_trigger", &self.level0_slowdown_trigger)
            .field("level0_stop_trigger", &self.level0_stop_trigger)
            .field("fs", &self.fs)
            .field("clock", &self.clock)
            .finish()
    }
}

impl Options {
    /// Create the directory and an empty database when there is none
    /// (default `true`). When `false`, opening a directory without a database
    /// is an [`Error::InvalidArgument`].
    pub fn create_if_missing(mut self, yes: bool) -> Self {
        self.create_if_missing = yes;
        self
    }

    /// Refuse to open a directory that already holds a database (default
    /// `false`): [`Error::InvalidArgument`].
    pub fn error_if_exists(mut self, yes: bool) -> Self {
        self.error_if_exists = yes;
        self
    }

    /// Bytes a memtable may hold before it becomes immutable and is flushed
    /// (default 64 MiB).
    pub fn memtable_size(mut self, bytes: usize) -> Self {
        self.memtable_size = bytes;
        self
    }

    /// Immutable memtables that may wait for their flush (default 2). When
    /// that many wait and the active one is full, writers stall until a
    /// flush finishes; the stall time shows in [`Stats`](crate::Stats).
    pub fn max_immutable_memtables(mut self, count: usize) -> Self {
        self.max_immutable_memtables = count;
        self
    }

    /// Target size of an SST data block before compression (default 4 KiB).
    pub fn block_size(mut self, bytes: usize) -> Self {
        self.block_size = bytes;
        self
    }

    /// Bloom filter bits per key in new tables (default 10, about 1% false
    /// positives; 0 disables filters).
    pub fn bloom_bits_per_key(mut self, bits: u32) -> Self {
        self.bloom_bits_per_key = bits;
        self
    }

    /// Bytes of the block cache shared by all tables (default 64 MiB; 0
    /// disables it).
    pub fn block_cache_bytes(mut self, bytes: u64) -> Self {
        self.block_cache_bytes = bytes;
        self
    }

    /// Tables kept open at once (default 1000); more are reopened on demand.
    pub fn max_open_tables(mut self, count: usize) -> Self {
        self.max_open_tables = count;
        self
    }

    /// Reads tables through read-only memory maps instead of `pread`
    /// (default off).
    ///
    /// A data block then costs no system call and no copy, which speeds up
    /// reads of data that is in the OS page cache but not in the block cache
    /// (the block cache is bypassed for mapped tables: the page cache plays
    /// its part, and each block read is checksummed again). The price: a
    /// table truncated or rewritten by another program while the database is
    /// open, or a disk error while reading a mapped page, kills the process
    /// with `SIGBUS` instead of returning an error; and the process's
    /// resident memory counts the table pages it touched. Has no effect on a
    /// file system without maps (such as `FaultFs`).
    pub fn mmap_reads(mut self, enabled: bool) -> Self {
        self.mmap_reads = enabled;
        self
    }

    /// Compression of new tables' blocks (default none).
    pub fn compression(mut self, compression: CompressionType) -> Self {
        self.compression = compression;
        self
    }

    /// When the WAL is synced (default [`SyncPolicy::Never`]: every
    /// acknowledged write survives a crash of the process, only
    /// [`SyncPolicy::Always`] also survives a power loss; see
    /// `docs/architecture.md`).
    ///
    /// Under `Never` a memtable rotation does not sync the WAL it retires
    /// either (its memtable's flush usually deletes it before writeback),
    /// so after a power loss recovery stops at the first write lost and
    /// skips the WALs after it (listed in
    /// [`OpenReport::wals_skipped`](crate::OpenReport)): the database
    /// holds the writes up to some point, with no hole. [`Db::close`](crate::Db::close)
    /// syncs every WAL still live.
    pub fn sync_policy(mut self, policy: SyncPolicy) -> Self {
        self.sync_policy = policy;
        self
    }

    /// How damage found in the WAL on open is handled (default
    /// [`RecoveryMode::TolerateTornTail`]: a torn tail is dropped and
    /// reported in [`Db::recovery_report`](crate::Db::recovery_report), and
    /// after a power loss under [`SyncPolicy::Never`] the WALs after the
    /// first lost write are skipped and reported too).
    /// [`RecoveryMode::Strict`] refuses to open instead, also for that
    /// gap, which an ordinary power loss under `Never` leaves.
    pub fn recovery_mode(mut self, mode: RecoveryMode) -> Self {
        self.recovery_mode = mode;
        self
    }

    /// Largest key accepted, in bytes (default and maximum 64 KiB).
    pub fn max_key_size(mut self, bytes: usize) -> Self {
        self.max_key_size = bytes;
        self
    }

    /// Largest value accepted, in bytes (default and maximum 256 MiB).
    pub fn max_value_size(mut self, bytes: usize) -> Self {
        self.max_value_size = bytes;
        self
    }

    /// Size at which the manifest is rewritten as one snapshot (default 4 MiB).
    pub fn manifest_rewrite_bytes(mut self, bytes: u64) -> Self {
        self.manifest_rewrite_bytes = bytes;
        self
    }

    /// The compaction strategy (default [`Leveled`]); see
    /// `docs/compaction.md` for choosing between leveled, size-tiered and
    /// time-window, and for writing your own.
    pub fn compaction(mut self, strategy: impl CompactionStrategy + 'static) -> Self {
        self.compaction = Arc::new(strategy);
        self
    }

    /// Whether background threads compact on their own (default `true`).
    /// With `false`, tables only merge on [`Db::compact`](crate::Db::compact)
    /// and [`Db::compact_range`](crate::Db::compact_range), and writers are
    /// never slowed for L0.
    pub fn auto_compaction(mut self, yes: bool) -> Self {
        self.auto_compaction = yes;
        self
    }

    /// Whether reads that keep looking past a table to deeper data mark it
    /// for compaction (default `true`): LevelDB's seek compaction. Each
    /// table allows one such read per 16 KiB of its size (at least 100); a
    /// point lookup counts when it reads the table's block in vain and then
    /// another table's, a scan when it merges the table with deeper ones.
    /// The strategy decides what to do with a table out of seeks
    /// ([`strata_compaction::FileView::seeks_exhausted`]):
    /// [`Leveled`](strata_compaction::Leveled) merges it into the next level
    /// when no level is over its target; the size-tiered and time-window
    /// strategies ignore it. Turn it off for write-heavy workloads that
    /// cannot spare the extra compaction.
    pub fn seek_compaction(mut self, yes: bool) -> Self {
        self.seek_compaction = yes;
        self
    }

    /// Background compaction threads (default 1; compactions on disjoint
    /// files run at once, one per thread).
    pub fn compaction_threads(mut self, threads: usize) -> Self {
        self.compaction_threads = threads;
        self
    }

    /// How many nice levels below the thread that opens the database the
    /// compaction threads run (default 5; 0 runs them alike; at most 19).
    /// When busy threads outnumber cores, the kernel then gives a
    /// compaction thread about a third of the CPU share of a thread serving
    /// reads and writes, so reads are not held up for whole scheduler
    /// slices; an idle core still goes to compaction in full. Should
    /// compaction fall behind, writers are slowed as for any L0 backlog
    /// ([`Options::level0_triggers`]). Linux only (elsewhere a thread's
    /// priority cannot be set alone, and this does nothing).
    pub fn compaction_nice(mut self, levels: u8) -> Self {
        self.compaction_nice = levels;
        self
    }

    /// How often the compaction threads ask the strategy for work even when
    /// nothing was written (default 30 s): time alone closes time windows
    /// and expires TTL data.
    pub fn compaction_interval(mut self, every: Duration) -> Self {
        self.compaction_interval = every;
        self
    }

    /// L0 file counts at which writers are slowed (default 20: a 1 ms pause
    /// per write) and stopped until compaction catches up (default 36). They
    /// apply only to strategies that move data out of L0 (leveled).
    pub fn level0_triggers(mut self, slowdown: usize, stop: usize) -> Self {
        self.level0_slowdown_trigger = slowdown;
        self.level0_stop_trigger = stop;
        self
    }

    /// The file system (default the real one). Tests pass
    /// [`strata_core::FaultFs`] to inject faults and simulate power loss.
    pub fn file_system(mut self, fs: Arc<dyn FileSystem>) -> Self {
        self.fs = fs;
        self
    }

    /// The clock TTL expiry is judged by (default [`SystemClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The memtable size set.
    pub fn get_memtable_size(&self) -> usize {
        self.memtable_size
    }

    /// The sync policy set.
    pub fn get_sync_policy(&self) -> SyncPolicy {
        self.sync_policy
    }

    /// The largest key accepted, in bytes.
    pub fn get_max_key_size(&self) -> usize {
        self.max_key_size
    }

    /// The largest value accepted, in bytes.
    pub fn get_max_value_size(&self) -> usize {
        self.max_value_size
    }

    /// Checks the settings fit together.
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::invalid_argument(what));
        if self.memtable_size < 4096 {
            return bad(format!(
                "memtable_size {} is below the minimum of 4096 bytes",
                self.memtable_size
            ));
        }
        if self.max_immutable_memtables == 0 {
            return bad("max_immutable_memtables must be at least 1".into());
        }
        if self.compaction_threads == 0 {
            return bad("compaction_threads must be at least 1".into());
        }
        if self.compaction_nice > 19 {
            return bad(format!(
                "compaction_nice {} is above 19, the lowest priority",
                self.compaction_nice
            ));
        }
        if self.level0_slowdown_trigger > self.level0_stop_trigger {
            return bad(format!(
                "level0 slowdown trigger {} is above the stop trigger {}",
                self.level0_slowdown_trigger, self.level0_stop_trigger
            ));
        }
        if self.max_open_tables == 0 {
            return bad("max_open_tables must be at least 1".into());
        }
        if self.max_key_size == 0 || self.max_key_size > MAX_KEY_SIZE {
            return bad(format!(
                "max_key_size {} must be within 1..={MAX_KEY_SIZE}",
                self.max_key_size
            ));
        }
        if self.max_value_size > MAX_VALUE_SIZE {
            return bad(format!(
                "max_value_size {} exceeds {MAX_VALUE_SIZE}",
                self.max_value_size
            ));
        }
        self.table_options().validate()
    }

    /// Bytes each new WAL is preallocated to: under a policy that syncs,
    /// a sync within the preallocated size need not make a new file size
    /// durable. The memtable budget bounds what one WAL takes before
    /// rotation (its records are smaller than their memtable charge).
    pub(crate) fn wal_preallocation(&self) -> u64 {
        match self.sync_policy {
            SyncPolicy::Never => 0,
            SyncPolicy::Always | SyncPolicy::Interval(_) => self.memtable_size as u64,
        }
    }

    /// Options for tables this database writes. The value limit is the
    /// format's, not `max_value_size`: that one is checked when a write is
    /// accepted, and lowering it must not stop recovery or flushes of values
    /// written under a higher one.
    pub(crate) fn table_options(&self) -> strata_sstable::TableOptions {
        strata_sstable::TableOptions::default()
            .block_size(self.block_size)
            .bloom_bits_per_key(self.bloom_bits_per_key)
            .compression(self.compression)
    }
}
