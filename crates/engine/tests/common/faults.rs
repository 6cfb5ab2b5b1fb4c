//! What the power-loss and I/O-error tests share: the writes they issue, a
//! `BTreeMap` model of them, reading a whole database back, and the power cut.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use strata::{Db, WriteBatch};
use strata_core::FaultFs;

/// Key -> value: what a database holds, or should.
pub type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// One acknowledged-or-not write.
#[derive(Debug, Clone)]
pub enum Write {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    /// Puts (`Some`) and deletes (`None`), applied atomically.
    Batch(Vec<(Vec<u8>, Option<Vec<u8>>)>),
}

impl Write {
    pub fn put(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Self {
        Write::Put(key.into(), value.into())
    }

    pub fn delete(key: impl Into<Vec<u8>>) -> Self {
        Write::Delete(key.into())
    }

    pub fn apply(&self, model: &mut Model) {
        match self {
            Write::Put(k, v) => {
                model.insert(k.clone(), v.clone());
            }
            Write::Delete(k) => {
                model.remove(k);
            }
            Write::Batch(ops) => {
                for (k, v) in ops {
                    match v {
                        Some(v) => model.insert(k.clone(), v.clone()),
                        None => model.remove(k),
                    };
                }
            }
        }
    }

    pub fn run(&self, db: &Db) -> strata::Result<()> {
        match self {
            Write::Put(k, v) => db.put(k, v),
            Write::Delete(k) => db.delete(k),
            Write::Batch(ops) => {
                let mut batch = WriteBatch::new();
                for (k, v) in ops {
                    match v {
                        Some(v) => batch.put(k, v)?,
                        None => batch.delete(k)?,
                    }
                }
                db.write(batch)
            }
        }
    }

    /// The keys it touches.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        match self {
            Write::Put(k, _) | Write::Delete(k) => vec![k.clone()],
            Write::Batch(ops) => ops.iter().map(|(k, _)| k.clone()).collect(),
        }
    }
}

/// The model after `writes`, in order.
pub fn model_after<'a>(writes: impl IntoIterator<Item = &'a Write>) -> Model {
    let mut model = Model::new();
    for w in writes {
        w.apply(&mut model);
    }
    model
}

/// The lengths `n` for which `got` is the model after `writes[..n]`.
pub fn matching_prefixes(got: &Model, writes: &[Write]) -> Vec<usize> {
    let mut model = Model::new();
    let mut out = Vec::new();
    if *got == model {
        out.push(0);
    }
    for (i, w) in writes.iter().enumerate() {
        w.apply(&mut model);
        if *got == model {
            out.push(i + 1);
        }
    }
    out
}

/// Everything `db` holds: a forward scan, whose keys must be strictly
/// ascending, which must be the mirror of a reverse scan and agree with
/// point reads of every key in `keys` (and of every key scanned).
pub fn contents(db: &Db, keys: &BTreeSet<Vec<u8>>) -> strata::Result<Model> {
    let scan = |reverse: bool| -> strata::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let it = db.scan::<&[u8], _>(..);
        let items: Vec<_> = if reverse {
            it.rev().collect()
        } else {
            it.collect()
        };
        items
            .into_iter()
            .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())))
            .collect()
    };
    let fwd = scan(false)?;
    let mut rev = scan(true)?;
    rev.reverse();
    assert!(
        rev == fwd,
        "the reverse scan is not the forward one reversed"
    );
    assert!(
        fwd.windows(2).all(|w| w[0].0 < w[1].0),
        "scan keys are not strictly ascending"
    );
    let fwd: Model = fwd.into_iter().collect();
    for k in keys.iter().chain(fwd.keys()) {
        let got = db.get(k)?.map(|v| v.to_vec());
        assert_eq!(got.as_ref(), fwd.get(k), "get {} vs scan", show(k));
    }
    Ok(fwd)
}

/// Up to five keys where `got` and `want` differ, with the values' lengths.
pub fn describe_mismatch(got: &Model, want: &Model) -> String {
    let keys: BTreeSet<_> = got.keys().chain(want.keys()).collect();
    keys.into_iter()
        .filter(|k| got.get(*k) != want.get(*k))
        .take(5)
        .map(|k| {
            format!(
                "{}: got {:?} want {:?}",
                show(k),
                got.get(k).map(|v| show(v)),
                want.get(k).map(|v| show(v))
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn show(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    if s.len() > 24 {
        format!("{}…", &s[..24])
    } else {
        s.into_owned()
    }
}

/// The machine stops and loses power while `db` (if any) is live; `db`'s
/// shutdown can then change nothing on the disk. Faults are cleared; the
/// disk's capacity stays.
pub fn power_cut(fs: &FaultFs, db: Option<Db>) {
    fs.halt();
    fs.power_loss();
    drop(db);
    fs.restart();
}

/// The database directory every test here uses.
pub fn dir() -> PathBuf {
    PathBuf::from("/db")
}
