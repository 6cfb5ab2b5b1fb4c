//! One damaged copy of the database, and what verify, open and reads must
//! make of it.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

use strata::{Db, Error, FileStatus, RecoveryMode, VerifyReport};
use strata_core::{FaultFs, FileSystem};

use super::damage::{Damage, Expect};
use super::reads::Reads;
use super::{Pristine, options};

/// Where the simulated disk holds the database.
const SIM_DIR: &str = "/db";

/// How verify judged the damaged directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Problem,
    Warning,
    Clean,
}

/// What the default-mode open made of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// `Error::Corruption`.
    Refused,
    /// Opened, and the recovery report names a dropped WAL tail or manifest edit.
    Dropped,
    /// Opened with nothing dropped.
    Whole,
}

/// Everything one damaged copy showed.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub verify: Verdict,
    pub expect: Expect,
    pub open: Opened,
    /// Some read (get or scan) returned `Error::Corruption`.
    pub read_error: bool,
    /// Gets that returned the right value, and gets that returned
    /// `Corruption` (each on the damaged structure's lookup path).
    pub gets_right: u64,
    pub gets_corrupt: u64,
    /// A full compaction was tried on the damaged copy (and refused).
    pub compaction_refused: bool,
    /// For `CURRENT`, manifest and WAL damage: whether a strict open refused.
    pub strict_refused: Option<bool>,
}

impl Pristine {
    /// Runs every check on one damaged copy. Panics on the first violation.
    pub fn check(&self, damage: &Damage) -> Outcome {
        let file = damage.file();
        let damaged = damage.apply(&self.files[file]);
        let expect = self.expect(damage);
        let report = self.verify_on_disk(damage);
        let verify = check_report(&report, &self.dir().join(file), expect, &self.files);

        let fs = self.simulated(file, &damaged);
        let opened = Db::open(
            Path::new(SIM_DIR),
            options().file_system(Arc::new(fs.clone())),
        );
        // Damage verify calls a problem in `CURRENT`, the manifest or the
        // WAL is refused; a torn WAL tail is dropped; tables open lazily.
        let must_refuse = self.table(file).is_none()
            && matches!(expect, Expect::Problem(_) | Expect::MissingFiles);
        let mut reads = Reads::default();
        let mut compaction_refused = false;
        let open = match opened {
            Err(e) => {
                assert!(must_refuse, "{damage:?}: open refused: {e}");
                self.check_refusal(damage, &e, expect);
                Opened::Refused
            }
            Ok(db) => {
                assert!(
                    !must_refuse,
                    "{damage:?}: opened: {:?}",
                    db.recovery_report()
                );
                let open = self.check_open_db(damage, &db, expect, &mut reads);
                if self.table(file).is_some() && self.compaction_sample(damage) {
                    self.check_compaction(damage, &db, &fs);
                    compaction_refused = true;
                }
                open
            }
        };

        let strict_refused = self.table(file).is_none().then(|| {
            let fs = self.simulated(file, &damaged);
            let strict = options()
                .file_system(Arc::new(fs))
                .recovery_mode(RecoveryMode::Strict);
            match Db::open(Path::new(SIM_DIR), strict) {
                Ok(_) => {
                    assert_eq!(expect, Expect::Clean, "strict open accepted {damage:?}");
                    false
                }
                Err(e) => {
                    self.check_refusal(damage, &e, expect);
                    true
                }
            }
        });
        Outcome {
            verify,
            expect,
            open,
            read_error: reads.failed,
            gets_right: reads.gets_right,
            gets_corrupt: reads.gets_corrupt,
            compaction_refused,
            strict_refused,
        }
    }

    /// `strata::verify` of the real directory with `damage` done to it.
    /// The file is changed in place and restored the same way: rewriting it
    /// whole can make the file system flush it (ext4 does, after a
    /// truncation to zero), which would slow the sweep down a lot.
    pub fn verify_on_disk(&self, damage: &Damage) -> VerifyReport {
        let path = self.dir().join(damage.file());
        let original = &self.files[damage.file()];
        let mut f = fs::OpenOptions::new().write(true).open(&path).unwrap();
        let write_at = |f: &mut fs::File, at: u64, bytes: &[u8]| {
            f.seek(SeekFrom::Start(at)).unwrap();
            f.write_all(bytes).unwrap();
        };
        match *damage {
            Damage::Flip { offset, bit, .. } => {
                write_at(&mut f, offset, &[original[offset as usize] ^ (1 << bit)]);
            }
            Damage::Cut { len, .. } => f.set_len(len).unwrap(),
        }
        let report = strata::verify(self.dir());
        match *damage {
            Damage::Flip { offset, .. } => {
                write_at(&mut f, offset, &original[offset as usize..][..1]);
            }
            Damage::Cut { len, .. } => write_at(&mut f, len, &original[len as usize..]),
        }
        report.unwrap()
    }

    /// The database on a fresh simulated disk, with `file` damaged.
    fn simulated(&self, file: &str, damaged: &[u8]) -> FaultFs {
        let fs = FaultFs::new();
        let dir = Path::new(SIM_DIR);
        fs.create_dir_all(dir).unwrap();
        for (name, bytes) in &self.files {
            let bytes = if name == file { damaged } else { bytes };
            let mut f = fs.create(&dir.join(name)).unwrap();
            f.append(bytes).unwrap();
            f.sync().unwrap();
        }
        fs.sync_dir(dir).unwrap();
        fs
    }

    /// An open that failed must have failed with `Corruption` naming the
    /// damaged file — or, for a manifest that lost edits, a file the
    /// remaining history needs and that is gone.
    fn check_refusal(&self, damage: &Damage, e: &Error, expect: Expect) {
        let Error::Corruption { file, .. } = e else {
            panic!("{damage:?}: open failed with {e}, not Corruption");
        };
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let names_missing = expect == Expect::MissingFiles && !self.files.contains_key(name);
        assert!(
            name == damage.file() || names_missing,
            "{damage:?}: Corruption names {name}: {e}"
        );
        assert!(
            expect != Expect::Clean,
            "{damage:?}: undetectable damage refused: {e}"
        );
    }

    /// A default-mode open succeeded: what was dropped is reported, and
    /// every read is right or `Corruption` of the damaged structure.
    fn check_open_db(&self, damage: &Damage, db: &Db, expect: Expect, reads: &mut Reads) -> Opened {
        let report = db.recovery_report();
        let replayed = report.records_replayed as usize;
        let kept = self.records_kept(damage);
        let batches_kept = self.wal_records[..kept]
            .iter()
            .filter(|ops| !ops.is_empty())
            .count();
        assert_eq!(replayed, batches_kept, "{damage:?}: {report:?}");
        let dropped = !report.wal_tails_dropped.is_empty() || report.manifest_torn_tail.is_some();
        let log_damage = self.table(damage.file()).is_none();
        if log_damage {
            // Verify saw it, so open must have dropped something and said so.
            let seen = !matches!(expect, Expect::Clean | Expect::Padding);
            assert_eq!(dropped, seen, "{damage:?}: {report:?}");
        } else {
            assert!(!dropped, "{damage:?}: {report:?}");
        }
        if let Some((path, tail)) = report.wal_tails_dropped.first() {
            assert!(path.ends_with(&self.wal), "{damage:?}: {report:?}");
            assert_eq!(Expect::Warning(tail.offset), expect, "{damage:?}");
        }
        self.check_reads(damage, db, &self.model_after(kept), reads);
        if dropped {
            Opened::Dropped
        } else {
            Opened::Whole
        }
    }

    /// Every 17th damaged table copy also gets a full compaction, which
    /// reads every table whole.
    fn compaction_sample(&self, damage: &Damage) -> bool {
        match *damage {
            Damage::Flip { offset: at, .. } | Damage::Cut { len: at, .. } => at % 17 == 0,
        }
    }

    /// A full compaction over a damaged table must fail with `Corruption`
    /// of that table, and change nothing: the same reads give the same
    /// answers, and no table is deleted. Writes are refused afterwards.
    fn check_compaction(&self, damage: &Damage, db: &Db, fs: &FaultFs) {
        match db.compact() {
            Err(Error::Corruption { file, .. }) if file.ends_with(damage.file()) => {}
            other => panic!("{damage:?}: compaction over the damaged table gave {other:?}"),
        }
        self.check_reads(
            damage,
            db,
            &self.model_after(self.wal_records.len()),
            &mut Reads::default(),
        );
        // The failure stops background work: writes are refused until a
        // reopen, reads go on.
        assert!(
            matches!(db.put("after", "the failure"), Err(Error::Background(_))),
            "{damage:?}"
        );
        for t in &self.tables {
            assert!(
                fs.exists(&Path::new(SIM_DIR).join(&t.name)).unwrap(),
                "{damage:?}: the failed compaction deleted {}",
                t.name
            );
        }
    }
}

/// Checks verify's report against `expect`; returns its verdict.
fn check_report(
    report: &VerifyReport,
    damaged: &Path,
    expect: Expect,
    files: &BTreeMap<String, Vec<u8>>,
) -> Verdict {
    let problems: Vec<_> = report.problems().collect();
    let file = report.file(damaged);
    let offset = |status: &FileStatus| match status {
        FileStatus::Problem { offset, .. } | FileStatus::Warning { offset, .. } => *offset,
        _ => None,
    };
    match expect {
        Expect::Problem(at) => {
            assert_eq!(problems.len(), 1, "{report}");
            assert_eq!(problems[0].path, damaged, "{report}");
            assert_eq!(offset(&problems[0].status), at, "{report}");
            Verdict::Problem
        }
        Expect::Warning(at) => {
            assert!(report.is_ok(), "{report}");
            let file = file.unwrap_or_else(|| panic!("{damaged:?} not in {report}"));
            assert!(file.is_warning(), "{report}");
            assert_eq!(offset(&file.status), Some(at), "{report}");
            Verdict::Warning
        }
        Expect::Clean | Expect::Padding => {
            assert!(report.is_ok(), "{report}");
            assert_eq!(report.warnings().count(), 0, "{report}");
            Verdict::Clean
        }
        Expect::MissingFiles => {
            assert!(!problems.is_empty(), "{report}");
            for p in problems {
                let name = p.path.file_name().unwrap().to_str().unwrap();
                assert!(!files.contains_key(name), "{report}");
                assert_eq!(offset(&p.status), None, "{report}");
            }
            Verdict::Problem
        }
    }
}
