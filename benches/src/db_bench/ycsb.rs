//! YCSB's core workloads A, B and E on the db_bench machinery: the same
//! keys, values, threads and recorders, with YCSB's operation mixes and its
//! scrambled zipfian key choice.

use std::sync::atomic::{AtomicU64, Ordering};

use super::recorder::Recorder;
use super::run::Run;
use super::zipf::{Zipfian, unit};
use super::{Store, StoreResult, WorkloadResult};

/// Longest scan of YCSB E (`maxscanlength`); lengths are uniform in
/// `1..=MAX_SCAN_LENGTH`.
pub(super) const MAX_SCAN_LENGTH: u64 = 100;

/// The two kinds of operation a YCSB workload mixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mix {
    /// Gets (checked) and puts over existing keys (A, B).
    ReadUpdate,
    /// Short scans and puts of new keys after the key space (E).
    ScanInsert,
}

impl<S: Store> Run<'_, S> {
    /// `num` operations split among the threads, `read_percent` % of them
    /// reads (gets or scans, per `mix`) and the rest writes.
    pub(super) fn ycsb(&self, mix: Mix, read_percent: u64) -> StoreResult<WorkloadResult> {
        let num = self.config.num;
        match mix {
            Mix::ReadUpdate => {
                // Built before the clock runs: the sum is O(num).
                let chooser = Zipfian::new(num, Zipfian::YCSB_CONSTANT);
                self.timed(false, |t, rec| {
                    let t = t as u64;
                    for j in 0..self.config.share(num, t as usize) {
                        let i = chooser.scrambled(unit(self.random(t, 2 * j + 1)));
                        if self.random(t, 2 * j) % 100 < read_percent {
                            self.get_checked(i, rec)?;
                        } else {
                            self.put(i, rec)?;
                        }
                    }
                    Ok(())
                })
            }
            Mix::ScanInsert => {
                // As YCSB: the chooser ranks the loaded keys plus twice the
                // inserts expected, and draws again past the keys inserted
                // so far (a draw lands below with odds num / items > 0.9).
                let expected_inserts = num * (100 - read_percent.min(100)) / 100 * 2;
                let chooser = Zipfian::new(num + expected_inserts, Zipfian::YCSB_CONSTANT);
                let inserted = AtomicU64::new(0);
                self.timed(false, |t, rec| {
                    self.scan_insert(t, &chooser, &inserted, read_percent, rec)
                })
            }
        }
    }

    /// Thread `t`'s share of YCSB E. New keys are `sorted_key(num + n)`
    /// for n = 0, 1, ... in the order threads claim them, so they sort after
    /// the loaded keys (YCSB hashes its inserts over the key space instead;
    /// here the scans' start keys are spread by the chooser either way).
    fn scan_insert(
        &self,
        t: usize,
        chooser: &Zipfian,
        inserted: &AtomicU64,
        scan_percent: u64,
        rec: &mut Recorder<'_>,
    ) -> StoreResult<()> {
        let num = self.config.num;
        let mut draws = 0u64;
        let mut draw = || {
            draws += 1;
            self.random(t as u64, draws)
        };
        for _ in 0..self.config.share(num, t) {
            if draw() % 100 < scan_percent {
                let limit = num + inserted.load(Ordering::Relaxed);
                let start = loop {
                    let k = chooser.scrambled(unit(draw()));
                    if k < limit {
                        break k;
                    }
                };
                let len = 1 + draw() % MAX_SCAN_LENGTH;
                self.seek_and_read(start, len as usize, rec)?;
            } else {
                let i = num + inserted.fetch_add(1, Ordering::Relaxed);
                self.put(i, rec)?;
            }
        }
        Ok(())
    }
}
