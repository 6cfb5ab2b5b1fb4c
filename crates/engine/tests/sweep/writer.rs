//! Writing the database while keeping the model of it.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::Duration;

use strata::{Db, WriteBatch};

use super::{Model, Op};

/// Writes to the database and to the model.
pub struct Writer {
    pub db: Db,
    pub model: Model,
    pub keys: BTreeSet<Vec<u8>>,
    /// `Some` while the writes are meant to stay in the WAL.
    pub wal: Option<Vec<Vec<Op>>>,
}

fn key(i: usize) -> Vec<u8> {
    format!("key{i:03}").into_bytes()
}

impl Writer {
    pub fn apply(&mut self, ops: &[Op]) {
        for (k, v) in ops {
            self.keys.insert(k.clone());
            match v {
                Some(v) => self.model.insert(k.clone(), v.clone()),
                None => self.model.remove(k),
            };
        }
        if let Some(wal) = &mut self.wal {
            wal.push(ops.to_vec());
        }
    }

    pub fn put(&mut self, i: usize, tag: &str) {
        let value = format!("{tag}-{i:03}-").repeat(2).into_bytes();
        self.db.put(key(i), &value).unwrap();
        self.apply(&[(key(i), Some(value))]);
    }

    /// Puts a value sized so that the WAL's first 32 KiB block ends with
    /// `padding` bytes too few for a fragment header: the writer pads them.
    pub fn fill_log_block_but(&mut self, dir: &Path, padding: u64) {
        let wal_len = || {
            let wal = fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|e| e == "log"))
                .unwrap();
            fs::metadata(wal).unwrap().len()
        };
        let varint_len = |n: u64| {
            if n < 128 {
                1
            } else if n < 16384 {
                2
            } else {
                3
            }
        };
        // A probe measures a record's overhead (its value-length varint aside).
        let before = wal_len();
        self.put_sized(94, 1000);
        let at = wal_len();
        let overhead = at - before - 1000 - varint_len(1000);
        let room = 32 * 1024 - padding - at - overhead;
        let len = (1..=3)
            .map(|w| room - w)
            .find(|&len| varint_len(len) == room - len)
            .unwrap();
        self.put_sized(95, len);
        assert_eq!(wal_len(), 32 * 1024 - padding);
    }

    pub fn put_sized(&mut self, i: usize, len: u64) {
        let value: Vec<u8> = (0..len).map(|n| (n % 253) as u8).collect();
        self.db.put(key(i), &value).unwrap();
        self.apply(&[(key(i), Some(value))]);
    }

    /// A put whose WAL record spans two 32 KiB log blocks.
    pub fn put_big(&mut self, i: usize) {
        let value: Vec<u8> = (0..40_000u32).map(|n| (n % 251) as u8).collect();
        self.db.put(key(i), &value).unwrap();
        self.apply(&[(key(i), Some(value))]);
    }

    pub fn put_with_ttl(&mut self, i: usize, tag: &str) {
        let value = format!("{tag}-{i:03}-ttl").into_bytes();
        let year = Duration::from_secs(365 * 24 * 3600);
        self.db.put_with_ttl(key(i), &value, year).unwrap();
        self.apply(&[(key(i), Some(value))]);
    }

    pub fn delete(&mut self, i: usize) {
        self.db.delete(key(i)).unwrap();
        self.apply(&[(key(i), None)]);
    }

    pub fn batch(&mut self, ops: &[(usize, Option<&str>)]) {
        let mut batch = WriteBatch::new();
        let mut model_ops = Vec::new();
        for &(i, v) in ops {
            match v {
                Some(tag) => {
                    let value = format!("{tag}-{i:03}-batch").into_bytes();
                    batch.put(&key(i), &value).unwrap();
                    model_ops.push((key(i), Some(value)));
                }
                None => {
                    batch.delete(&key(i)).unwrap();
                    model_ops.push((key(i), None));
                }
            }
        }
        self.db.write(batch).unwrap();
        self.apply(&model_ops);
    }
}
