//! The foundation tour: the path one write takes through strata's lower
//! layers, run on real files.
//!
//! 1. Four threads write 100 000 keys as write batches into a write-ahead log
//!    shared through group commit, fsyncing before each write returns.
//! 2. As after a restart, the log is read back and replayed into a memtable.
//! 3. The memtable is flushed to a sorted string table (lz4-compressed blocks,
//!    bloom filter, sparse index).
//! 4. The table answers point lookups and a range scan through a block cache.
//!
//! ```sh
//! cargo run --release -p strata-sstable --example tour [DATA_DIR]
//! ```
//!
//! `DATA_DIR` defaults to `./strata-data`; the tour rewrites `000001.log`
//! and `000002.sst` there each run.

use std::ops::Bound;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use strata_core::{DirLock, FileSystem, Result, StdFs, ValueKind};
use strata_memtable::MemTable;
use strata_sstable::{BlockCache, CompressionType, TableBuilder, TableOptions, TableReader};
use strata_wal::{LogReader, LogWriter, RecoveryMode, SyncPolicy, Wal, WriteBatch};

const WRITERS: u64 = 4;
const BATCHES_PER_WRITER: u64 = 250;
const OPS_PER_BATCH: u64 = 100;

fn key(writer: u64, batch: u64, op: u64) -> Vec<u8> {
    format!("user:{writer}:{:08}", batch * OPS_PER_BATCH + op).into_bytes()
}

fn main() -> Result<()> {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("strata-data"), PathBuf::from);
    let fs = StdFs;
    fs.create_dir_all(&dir)?;
    let _lock = DirLock::acquire(&fs, &dir)?;
    println!("strata foundation tour in {}", dir.display());

    // 1. Group-committed, fsynced writes into the log.
    let log_path = dir.join("000001.log");
    let wal = Wal::new(LogWriter::new(fs.create(&log_path)?), SyncPolicy::Always);
    fs.sync_dir(&dir)?;
    let next_seqno = AtomicU64::new(1);
    let started = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (wal, next_seqno) = (&wal, &next_seqno);
                s.spawn(move || -> Result<()> {
                    for b in 0..BATCHES_PER_WRITER {
                        let mut batch = WriteBatch::new();
                        for op in 0..OPS_PER_BATCH {
                            batch.put(&key(w, b, op), format!("value {w}/{b}/{op}").as_bytes())?;
                        }
                        // Every tenth batch also deletes a key of the one before.
                        if b % 10 == 9 {
                            batch.delete(&key(w, b - 1, 0))?;
                        }
                        // Sequence numbers are taken inside the group-commit
                        // lock, so log order and seqno order agree.
                        wal.append_with(|buf| {
                            let base = next_seqno.fetch_add(batch.len() as u64, Ordering::Relaxed);
                            batch.set_base_seqno(base)?;
                            batch.encode_into(buf);
                            Ok(())
                        })?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    })?;
    let stats = wal.stats();
    println!(
        "1. wal: {} batches, {} bytes in {:?}; {} fsyncs covered {} group appends",
        stats.records,
        stats.bytes,
        started.elapsed(),
        stats.syncs,
        stats.appends
    );
    drop(wal);

    // 2. Replay the log into a memtable, as recovery does.
    let started = Instant::now();
    let mut reader = LogReader::new(
        fs.open(&log_path)?,
        &log_path,
        RecoveryMode::TolerateTornTail,
    )?;
    let mem = MemTable::new();
    while let Some(record) = reader.next_record()? {
        let batch = WriteBatch::decode_from(&record, &log_path, reader.last_record_offset())?;
        for (i, op) in batch.iter().enumerate() {
            let seqno = batch.base_seqno() + i as u64;
            mem.insert(op.key, seqno, op.kind, op.value)?;
        }
    }
    println!(
        "2. replay: {} records, {} bytes dropped, memtable holds {} entries (~{} KiB) in {:?}",
        reader.report().records,
        reader.report().bytes_dropped(),
        mem.len(),
        mem.approximate_memory_usage() / 1024,
        started.elapsed()
    );

    // 3. Flush the memtable to an SST.
    let started = Instant::now();
    let sst_path = dir.join("000002.sst");
    let options = TableOptions::default().compression(CompressionType::Lz4);
    let mut builder = TableBuilder::new(fs.create(&sst_path)?, &sst_path, options)?;
    for (key, value) in mem.iter() {
        builder.add(&key, &value)?;
    }
    let summary = builder.finish()?;
    fs.sync_dir(&dir)?;
    let p = &summary.properties;
    println!(
        "3. flush: {} entries ({} tombstones) in {} data blocks, {} bytes on disk for {} raw, in {:?}",
        p.num_entries,
        p.num_deletions,
        p.num_data_blocks,
        summary.file_size,
        p.raw_key_bytes + p.raw_value_bytes,
        started.elapsed()
    );

    // 4. Read it back through the block cache.
    let cache = Arc::new(BlockCache::new(8 << 20));
    let table = TableReader::open(fs.open(&sst_path)?, &sst_path, 2, Some(Arc::clone(&cache)))?;
    let latest = next_seqno.load(Ordering::Relaxed);
    for probe in [key(2, 17, 42), key(0, 8, 0), b"user:9:missing".to_vec()] {
        let shown = String::from_utf8_lossy(&probe).into_owned();
        match table.get(&probe, latest)? {
            Some(v) if v.kind == ValueKind::Delete => {
                println!("4. get {shown}: deleted at seqno {}", v.seqno)
            }
            Some(v) => println!(
                "4. get {shown}: {:?} (seqno {})",
                String::from_utf8_lossy(&v.value),
                v.seqno
            ),
            None => println!("4. get {shown}: absent"),
        }
    }
    let lower = key(1, 0, 0);
    let upper = key(1, 0, 5);
    let scanned: Vec<String> = table
        .entries(Bound::Included(&lower[..]), Bound::Excluded(&upper[..]))
        .map(|entry| entry.map(|(k, _)| String::from_utf8_lossy(&k.user_key).into_owned()))
        .collect::<Result<_>>()?;
    println!(
        "4. scan [{}, {}): {scanned:?}",
        String::from_utf8_lossy(&lower),
        String::from_utf8_lossy(&upper)
    );
    println!(
        "4. block cache: {} hits, {} misses, {} bytes held",
        cache.hits(),
        cache.misses(),
        cache.usage_bytes()
    );
    Ok(())
}
