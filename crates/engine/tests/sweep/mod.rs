//! The corruption sweep's database: built once, closed, and mapped, so
//! that each damaged copy can be judged against the model of its contents.
//!
//! * `writer.rs` writes it and keeps the model;
//! * `layout.rs` maps its tables' blocks and its logs' records;
//! * `damage.rs` lists the damages and what `verify` must say of each;
//! * `check.rs` runs verify, open and strict open on one damaged copy;
//! * `reads.rs` reads an opened copy whole;
//! * `tally.rs` counts the outcomes.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod check;
pub mod damage;
pub mod layout;
pub mod reads;
pub mod tally;
pub mod writer;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use layout::{Part, TableLayout, record_extents, table_layouts};
use strata::manifest::{manifest_file_name, recover};
use strata::{Db, Options};
use strata_core::StdFs;
use writer::Writer;

/// Live keys and their values.
pub type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// One write: a put (`Some`) or a delete (`None`).
pub type Op = (Vec<u8>, Option<Vec<u8>>);

/// Blocks of 128 bytes keep the tables small and many-blocked.
pub const BLOCK_SIZE: usize = 128;

/// Bytes of padding at the end of the WAL's first block.
pub const PADDING: u64 = 3;

/// The database, closed, and everything the checks need to know about it.
pub struct Pristine {
    /// The real directory, always restored to the pristine bytes.
    pub tmp: tempfile::TempDir,
    /// Every file's name and bytes (the lock file excluded).
    pub files: BTreeMap<String, Vec<u8>>,
    /// Live keys once every flushed write is in.
    pub base: Model,
    /// The writes of each record of the WAL, in order.
    pub wal_records: Vec<Vec<Op>>,
    /// Every key ever written, and one never written.
    pub keys: BTreeSet<Vec<u8>>,
    /// Live tables in lookup order: L0 newest first, then L1.
    pub tables: Vec<TableLayout>,
    /// `(start, end)` of each record of the manifest and of the WAL.
    pub records: BTreeMap<String, Vec<(u64, u64)>>,
    pub manifest: String,
    pub wal: String,
}

/// Options of every open: small blocks, and no background compaction, so
/// nothing reads the tables but the checks.
pub fn options() -> Options {
    Options::default()
        .block_size(BLOCK_SIZE)
        .auto_compaction(false)
}

impl Pristine {
    /// Two flushes compacted into L1, two more flushes in L0 that overwrite
    /// and delete some of L1's keys, and a dozen writes left in the WAL:
    /// one manifest of six edits (the snapshot, four flushes, one
    /// compaction), three tables, one WAL.
    pub fn build() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let db = Db::open(tmp.path(), options()).unwrap();
        let mut w = Writer {
            db,
            model: Model::new(),
            keys: BTreeSet::new(),
            wal: None,
        };
        (0..60).for_each(|i| w.put(i, "a"));
        w.db.flush().unwrap();
        (30..80).for_each(|i| w.put(i, "b"));
        (0..10).for_each(|i| w.delete(i));
        w.db.flush().unwrap();
        w.db.compact().unwrap();
        (40..50).for_each(|i| w.put(i, "c"));
        (50..55).for_each(|i| w.delete(i));
        (80..85).for_each(|i| w.put_with_ttl(i, "c"));
        w.db.flush().unwrap();
        (45..75).step_by(2).for_each(|i| w.put(i, "d"));
        w.delete(60);
        w.delete(5); // a tombstone for a key no table holds
        w.db.flush().unwrap();

        let base = w.model.clone();
        w.wal = Some(Vec::new());
        (10..15).for_each(|i| w.put(i, "w"));
        w.delete(70);
        w.delete(41);
        w.put(90, "w");
        w.fill_log_block_but(tmp.path(), PADDING);
        w.put_big(93);
        w.batch(&[(91, Some("w")), (20, None), (42, Some("w")), (46, None)]);
        w.put_with_ttl(47, "w");
        w.put(52, "w");
        w.put(12, "x");
        let mut wal_records = w.wal.take().unwrap();
        // The WAL was started by a flush's rotation under the default
        // `SyncPolicy::Never`: its first record is the marker, an empty
        // batch.
        wal_records.insert(0, Vec::new());
        w.db.close().unwrap();

        let dir = tmp.path();
        let files: BTreeMap<String, Vec<u8>> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| e.file_name().into_string().unwrap())
            .filter(|n| n != strata_core::fs::LOCK_FILE_NAME)
            .map(|n| {
                let bytes = fs::read(dir.join(&n)).unwrap();
                (n, bytes)
            })
            .collect();
        let recovered = recover(&StdFs, dir).unwrap();
        let manifest = manifest_file_name(recovered.manifest_number);
        let wals: Vec<&String> = files.keys().filter(|n| n.ends_with(".log")).collect();
        assert_eq!(wals.len(), 1, "{wals:?}");
        let wal = wals[0].clone();
        let tables = table_layouts(dir, &recovered.state);
        let records = [&manifest, &wal]
            .into_iter()
            .map(|n| (n.clone(), record_extents(&dir.join(n))))
            .collect();
        let mut keys = w.keys;
        keys.insert(b"key999".to_vec());
        let pristine = Self {
            tmp,
            files,
            base,
            wal_records,
            keys,
            tables,
            records,
            manifest,
            wal,
        };
        pristine.check_shape();
        pristine
    }

    /// The database has the shape the sweep is meant to damage.
    fn check_shape(&self) {
        let levels: BTreeSet<usize> = self.tables.iter().map(|t| t.level).collect();
        assert_eq!(levels, BTreeSet::from([0, 1]), "{:?}", self.tables);
        assert!(self.tables.len() >= 3);
        for t in &self.tables {
            let data = t
                .structures
                .iter()
                .filter(|s| matches!(s.part, Part::Data(_)))
                .count();
            assert!(data >= 3, "{}: {data} data blocks", t.name);
        }
        assert!(
            self.records[&self.manifest].len() >= 5,
            "{:?}",
            self.records
        );
        let wal = &self.records[&self.wal];
        let spans = wal
            .iter()
            .any(|&(s, e)| s / (32 * 1024) != (e - 1) / (32 * 1024));
        assert!(spans, "a record spans two log blocks: {wal:?}");
        let padding: u64 = wal.windows(2).map(|w| w[1].0 - w[0].1).sum();
        assert_eq!(padding, PADDING, "{wal:?}");
        assert_eq!(self.records[&self.wal].len(), self.wal_records.len());
        assert_eq!(self.model_after(self.wal_records.len()), self.final_model());
    }

    /// The live keys after the flushed writes and the first `n` WAL records.
    pub fn model_after(&self, n: usize) -> Model {
        let mut m = self.base.clone();
        for ops in &self.wal_records[..n] {
            for (k, v) in ops {
                match v {
                    Some(v) => m.insert(k.clone(), v.clone()),
                    None => m.remove(k),
                };
            }
        }
        m
    }

    fn final_model(&self) -> Model {
        let dir = self.tmp.path();
        let db = Db::open(dir, options()).unwrap();
        let got: Model = db
            .scan::<&[u8], _>(..)
            .map(|kv| {
                let (k, v) = kv.unwrap();
                (k.to_vec(), v.to_vec())
            })
            .collect();
        drop(db);
        // The open rewrote the directory: put the pristine files back.
        self.restore_real_dir();
        got
    }

    /// Makes the real directory hold exactly the pristine files again.
    pub fn restore_real_dir(&self) {
        let dir = self.tmp.path();
        for e in fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if !self.files.contains_key(&name) && name != strata_core::fs::LOCK_FILE_NAME {
                fs::remove_file(dir.join(&name)).unwrap();
            }
        }
        for (name, bytes) in &self.files {
            fs::write(dir.join(name), bytes).unwrap();
        }
    }

    /// What kind of file `name` is, for the tallies.
    pub fn kind_of(&self, name: &str) -> &'static str {
        if name == "CURRENT" {
            "CURRENT"
        } else if name == self.manifest {
            "MANIFEST"
        } else if name == self.wal {
            "WAL"
        } else {
            match self.table(name).map(|t| t.level) {
                Some(0) => "table L0",
                Some(_) => "table L1",
                None => panic!("unexpected file {name}"),
            }
        }
    }

    pub fn table(&self, name: &str) -> Option<&TableLayout> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The record of log `name` holding byte `offset` (or, for `offset` at
    /// or past the end, `None`), as `(index, start, end)`.
    pub fn record_at(&self, name: &str, offset: u64) -> Option<(usize, u64, u64)> {
        self.records[name]
            .iter()
            .enumerate()
            .find(|(_, (s, e))| *s <= offset && offset < *e)
            .map(|(i, (s, e))| (i, *s, *e))
    }

    /// One line per file, for the test's output.
    pub fn describe(&self) -> String {
        let mut out = String::from("the database swept:\n");
        for (name, bytes) in &self.files {
            let detail = if let Some(t) = self.table(name) {
                let data = t.structures.len() - 4;
                format!(
                    "L{} table, {data} data blocks, {} keys",
                    t.level,
                    t.key_block.len()
                )
            } else if let Some(r) = self.records.get(name) {
                // Bytes between records: block tails too short for a header.
                let padding: u64 = r.windows(2).map(|w| w[1].0 - w[0].1).sum();
                format!("{} records, {padding} padding bytes", r.len())
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {name:<16} {:>6} bytes  {detail}\n",
                bytes.len()
            ));
        }
        out
    }

    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }
}
