//! The compaction executor: merges input tables into new output tables.
//!
//! [`run_compaction`] streams a k-way merge of the inputs ([`merge`]) through
//! the per-key retention rules ([`retention`]) into output tables cut at the
//! target size ([`output`]). It knows nothing of levels: the caller says which
//! tables to merge, which snapshots are live, and whether older data for a key
//! may exist outside the job; the caller installs the outputs (one version
//! edit) and deletes the inputs once no reader holds them.
//!
//! ## Invariants of a successful run
//! * Every snapshot in `snapshots`, and a read of the latest data, sees in the
//!   outputs (plus whatever lies outside the job) exactly what it saw in the
//!   inputs (plus the same outside data), at `now_ms` and any later time.
//! * Outputs are sorted, do not overlap, and never split the versions of a
//!   user key; each but the last holds at least `target_file_size` bytes.
//! * Outputs and their directory entries are durable (each table is synced by
//!   its builder, the directory once at the end).
//!
//! ## Failure
//! Any error (I/O, corrupt input, a caller's bad argument) deletes every
//! output created so far (best effort) and is returned: the caller's tree is
//! unchanged. Corrupt input never panics.
//!
//! ## Concurrency
//! A job runs on the calling thread. Jobs on disjoint inputs may run at once
//! on different threads; inputs are only read (without filling the block
//! cache, which a compaction would otherwise flush of hot blocks).

mod merge;
mod output;
mod retention;

pub use retention::visible_to_a_snapshot;

use std::path::{Path, PathBuf};

use strata_core::{Error, FileSystem, Result, WritableFile};
use strata_sstable::{TableOptions, TableReader, TableSummary};

use self::merge::MergingInputs;
use self::output::OutputWriter;
use self::retention::{DropCounts, EntrySink, Retention};

/// Everything one compaction needs. The caller builds it, passes it to
/// [`run_compaction`], and installs the returned outputs.
pub struct CompactionJob<'a> {
    /// Input tables, ordered newest data first: if two inputs hold the same
    /// version (user key and sequence number), the earlier input's copy wins.
    pub inputs: Vec<TableReader>,
    /// Sequence numbers of the live snapshots, ascending.
    pub snapshots: &'a [u64],
    /// "Now" for TTL expiry, unix milliseconds.
    pub now_ms: u64,
    /// True if an older version of this user key may exist outside the
    /// inputs (a deeper level, an older table not in the job): then the
    /// key's tombstones and expired values must be kept to keep hiding it.
    pub older_data_may_exist: &'a (dyn Fn(&[u8]) -> bool + Sync),
    /// An output is finished once it reaches this size (estimated) and the
    /// next entry starts a new user key.
    pub target_file_size: u64,
    /// Layout of the outputs. Their time range is set to the union of the
    /// inputs' (the data keeps its write times through compaction).
    pub table_options: TableOptions,
    /// Creates the next output file: `(file number, path, writable file)`.
    /// Called only when an output is about to receive its first entry. If it
    /// fails it must leave no file behind.
    pub new_output: &'a mut dyn FnMut() -> Result<(u64, PathBuf, Box<dyn WritableFile>)>,
    /// The file system of `dir`, used to sync it and to delete outputs on failure.
    pub fs: &'a dyn FileSystem,
    /// The directory the outputs are created in.
    pub dir: &'a Path,
}

/// What a successful [`run_compaction`] produced.
#[derive(Debug, Clone, Default)]
pub struct CompactionOutput {
    /// The output tables in key order (empty if everything was dropped).
    pub files: Vec<OutputFile>,
    /// Sum of the input files' sizes.
    pub bytes_read: u64,
    /// Sum of the output files' sizes.
    pub bytes_written: u64,
    /// Entries read from the inputs.
    pub entries_in: u64,
    /// Entries written to the outputs.
    pub entries_out: u64,
    /// Tombstones read but not written (shadowed, or no longer needed).
    pub tombstones_dropped: u64,
    /// Values expired at `now_ms` read but not written.
    pub expired_dropped: u64,
}

/// One output table, finished and synced.
#[derive(Debug, Clone)]
pub struct OutputFile {
    /// The file number `new_output` gave it.
    pub number: u64,
    /// Its path.
    pub path: PathBuf,
    /// Its size and properties (key, seqno and time ranges, counts).
    pub summary: TableSummary,
}

/// Runs a compaction: merges `job.inputs` into new tables. See the module
/// docs for what is kept and the guarantees.
///
/// # Errors
/// [`Error::InvalidArgument`] if the snapshots are not ascending or the table
/// options are invalid; [`Error::Corruption`] naming the table if an input is
/// corrupt; [`Error::Io`] if a read, write or sync fails. In every case the
/// outputs created so far are deleted (best effort) before returning.
pub fn run_compaction(job: CompactionJob<'_>) -> Result<CompactionOutput> {
    let CompactionJob {
        inputs,
        snapshots,
        now_ms,
        older_data_may_exist,
        target_file_size,
        table_options,
        new_output,
        fs,
        dir,
    } = job;
    if !snapshots.is_sorted() {
        return Err(Error::invalid_argument(
            "compaction snapshots must be in ascending order",
        ));
    }
    let options = output_options(&inputs, table_options);
    options.validate()?;

    let mut writer = OutputWriter::new(new_output, options, target_file_size);
    let retention = Retention::new(snapshots, now_ms, older_data_may_exist);
    let merged = merge_all(&inputs, retention, &mut writer).and_then(|(entries_in, dropped)| {
        let files = writer.finish()?;
        if !files.is_empty() {
            // The outputs' names must be durable before a manifest names them.
            fs.sync_dir(dir)?;
        }
        Ok((files, entries_in, dropped))
    });
    let (files, entries_in, dropped) = match merged {
        Ok(done) => done,
        Err(e) => {
            writer.discard(fs);
            return Err(e);
        }
    };
    Ok(CompactionOutput {
        bytes_read: inputs.iter().map(TableReader::file_size).sum(),
        bytes_written: files.iter().map(|f| f.summary.file_size).sum(),
        entries_in,
        entries_out: writer.entries_written(),
        tombstones_dropped: dropped.tombstones,
        expired_dropped: dropped.expired,
        files,
    })
}

/// Streams every input entry through `retention` into `sink`. Returns the
/// number of entries read and what was dropped.
fn merge_all(
    inputs: &[TableReader],
    mut retention: Retention<'_>,
    sink: &mut dyn EntrySink,
) -> Result<(u64, DropCounts)> {
    let mut merge = MergingInputs::new(inputs)?;
    while let Some(entry) = merge.current() {
        retention.add(&entry, sink)?;
        merge.advance()?;
    }
    Ok((merge.entries_read(), retention.finish()))
}

/// The caller's table options with the time range of the inputs' data.
fn output_options(inputs: &[TableReader], options: TableOptions) -> TableOptions {
    let min = inputs.iter().map(|t| t.properties().min_time_ms).min();
    let max = inputs.iter().map(|t| t.properties().max_time_ms).max();
    match (min, max) {
        (Some(min), Some(max)) => options.time_range(min, max.max(min)),
        _ => options,
    }
}
