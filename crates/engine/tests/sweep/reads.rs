//! Reading a damaged copy that opened: every key, and full scans both ways.

use strata::{Db, Error};

use super::damage::Damage;
use super::layout::{Part, Structure};
use super::{Model, Pristine};

/// What the reads of one opened copy returned.
#[derive(Debug, Default)]
pub struct Reads {
    pub failed: bool,
    pub gets_right: u64,
    pub gets_corrupt: u64,
}

impl Pristine {
    /// Gets every key and scans both ways, counting into `reads`.
    pub fn check_reads(&self, damage: &Damage, db: &Db, want: &Model, reads: &mut Reads) {
        let table = self.tables.iter().position(|t| t.name == damage.file());
        let structure = match (table, damage) {
            (Some(t), Damage::Flip { offset, .. }) => Some(self.tables[t].structure_at(*offset)),
            _ => None,
        };
        // Only table damage may fail a read, and only as Corruption of it.
        let check_error = |e: &Error, what: &str| {
            let Error::Corruption { file, offset, .. } = e else {
                panic!("{damage:?}: {what}: {e}, not Corruption");
            };
            assert!(table.is_some(), "{damage:?}: {what}: {e}");
            assert!(file.ends_with(damage.file()), "{damage:?}: {what}: {e}");
            if let Some(s) = structure {
                assert_eq!(*offset, s.start, "{damage:?}: {what}: {e}");
            }
        };
        for k in &self.keys {
            let (may, must) = match table {
                Some(t) => self.touches(t, structure, k),
                None => (false, false),
            };
            let shown = String::from_utf8_lossy(k);
            match db.get(k) {
                Ok(got) => {
                    assert_eq!(
                        got.as_deref(),
                        want.get(k).map(Vec::as_slice),
                        "{damage:?}: wrong value for {shown}"
                    );
                    assert!(!must, "{damage:?}: {shown} read, its block is damaged");
                    reads.gets_right += 1;
                }
                Err(e) => {
                    check_error(&e, &format!("get {shown}"));
                    assert!(
                        may,
                        "{damage:?}: get {shown} failed but never touches it: {e}"
                    );
                    reads.gets_corrupt += 1;
                    reads.failed = true;
                }
            }
        }
        let expected: Vec<(Vec<u8>, Vec<u8>)> = want.clone().into_iter().collect();
        for reverse in [false, true] {
            let iter = db.scan::<&[u8], _>(..);
            let items: Box<dyn Iterator<Item = _>> = if reverse {
                Box::new(iter.rev())
            } else {
                Box::new(iter)
            };
            let mut got = Vec::new();
            let mut error = None;
            for item in items {
                match item {
                    Ok((k, v)) => got.push((k.to_vec(), v.to_vec())),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            let mut right: Box<dyn Iterator<Item = &(Vec<u8>, Vec<u8>)>> = if reverse {
                Box::new(expected.iter().rev())
            } else {
                Box::new(expected.iter())
            };
            for (i, kv) in got.iter().enumerate() {
                assert_eq!(
                    Some(kv),
                    right.next(),
                    "{damage:?}: scan item {i}, reverse {reverse}"
                );
            }
            match error {
                // A full scan reads every block of every table.
                None => assert!(
                    table.is_none() && got.len() == expected.len(),
                    "{damage:?}: scan (reverse {reverse}) ended without an error after {} of {}",
                    got.len(),
                    expected.len()
                ),
                Some(e) => {
                    check_error(&e, "scan");
                    reads.failed = true;
                }
            }
        }
    }

    /// Whether a get of `key` may, and must, read damaged structure `s`
    /// (`None`: a truncated table) of table `t`, given the lookup order:
    /// the table the open wrote from the WAL, then L0 newest first (whose
    /// covering tables' filters are all probed up front), then L1.
    fn touches(&self, t: usize, s: Option<Structure>, key: &[u8]) -> (bool, bool) {
        let table = &self.tables[t];
        let covers = table.covers(key);
        let in_wal = self.wal_records.iter().flatten().any(|(k, _)| k == key);
        let found_before = in_wal
            || self.tables[..t]
                .iter()
                .any(|o| o.key_block.contains_key(key));
        match s.map(|s| s.part) {
            None | Some(Part::Filter | Part::Properties | Part::Index | Part::Footer) => {
                // The table cannot open: every lookup that opens it fails.
                let opens = covers && (table.level == 0 || !found_before);
                (opens, opens)
            }
            Some(Part::Data(b)) => {
                let reaches = covers && !found_before;
                match table.key_block.get(key) {
                    Some(&block) => (reaches && block == b, reaches && block == b),
                    // Absent: a filter false positive reads the block the
                    // index points at, which may be the damaged one.
                    None => (reaches, false),
                }
            }
        }
    }
}
