//! Counts of what the sweep saw, per kind of file.

use super::check::{Opened, Outcome, Verdict};
use super::damage::{Damage, Expect};

/// Outcomes of the damaged copies of one kind of file.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub variants: u64,
    pub flips: u64,
    pub cuts: u64,
    pub verify_problem: u64,
    pub verify_warning: u64,
    pub verify_ok: u64,
    /// WAL cuts at a record boundary: the one damage nothing can see.
    pub wal_boundary_cuts: u64,
    /// Flips in a WAL block's padding: harmless, only strict mode refuses.
    pub padding_flips: u64,
    pub open_refused: u64,
    pub open_dropped: u64,
    pub open_whole: u64,
    /// Opened whole, and some read returned `Corruption`.
    pub read_error: u64,
    /// Opened whole, every read right.
    pub read_exact: u64,
    pub strict_tried: u64,
    pub strict_refused: u64,
    pub gets_right: u64,
    pub gets_corrupt: u64,
    pub compactions_refused: u64,
}

impl Tally {
    pub fn add(&mut self, damage: &Damage, o: &Outcome) {
        self.variants += 1;
        match damage {
            Damage::Flip { .. } => self.flips += 1,
            Damage::Cut { .. } => self.cuts += 1,
        }
        match o.verify {
            Verdict::Problem => self.verify_problem += 1,
            Verdict::Warning => self.verify_warning += 1,
            Verdict::Clean => self.verify_ok += 1,
        }
        match o.expect {
            Expect::Clean => self.wal_boundary_cuts += 1,
            Expect::Padding => self.padding_flips += 1,
            _ => {}
        }
        match o.open {
            Opened::Refused => self.open_refused += 1,
            Opened::Dropped => self.open_dropped += 1,
            Opened::Whole if o.read_error => {
                self.open_whole += 1;
                self.read_error += 1;
            }
            Opened::Whole => {
                self.open_whole += 1;
                self.read_exact += 1;
            }
        }
        self.gets_right += o.gets_right;
        self.gets_corrupt += o.gets_corrupt;
        self.compactions_refused += u64::from(o.compaction_refused);
        if let Some(refused) = o.strict_refused {
            self.strict_tried += 1;
            self.strict_refused += u64::from(refused);
        }
    }

    pub fn merge(&mut self, o: &Self) {
        self.variants += o.variants;
        self.flips += o.flips;
        self.cuts += o.cuts;
        self.verify_problem += o.verify_problem;
        self.verify_warning += o.verify_warning;
        self.verify_ok += o.verify_ok;
        self.wal_boundary_cuts += o.wal_boundary_cuts;
        self.padding_flips += o.padding_flips;
        self.open_refused += o.open_refused;
        self.open_dropped += o.open_dropped;
        self.open_whole += o.open_whole;
        self.read_error += o.read_error;
        self.read_exact += o.read_exact;
        self.strict_tried += o.strict_tried;
        self.strict_refused += o.strict_refused;
        self.gets_right += o.gets_right;
        self.gets_corrupt += o.gets_corrupt;
        self.compactions_refused += o.compactions_refused;
    }

    pub fn header() -> String {
        format!(
            "| {:<9} | {:>6} | {:>5} | {:>5} | {:>7} | {:>7} | {:>6} | {:>7} | {:>7} | {:>10} | {:>10} | {:>6} |",
            "file",
            "copies",
            "flips",
            "cuts",
            "v.probl",
            "v.warn",
            "v.ok",
            "refused",
            "dropped",
            "read error",
            "read exact",
            "strict"
        )
    }

    pub fn row(&self, kind: &str) -> String {
        let strict = if self.strict_tried == 0 {
            "-".to_string()
        } else {
            format!("{}/{}", self.strict_refused, self.strict_tried)
        };
        format!(
            "| {:<9} | {:>6} | {:>5} | {:>5} | {:>7} | {:>7} | {:>6} | {:>7} | {:>7} | {:>10} | {:>10} | {:>6} |",
            kind,
            self.variants,
            self.flips,
            self.cuts,
            self.verify_problem,
            self.verify_warning,
            self.verify_ok,
            self.open_refused,
            self.open_dropped,
            self.read_error,
            self.read_exact,
            strict
        )
    }

    pub fn reads_header() -> String {
        format!(
            "| {:<9} | {:>10} | {:>10} | {:>11} |",
            "file", "gets right", "gets corr.", "compactions"
        )
    }

    /// Gets of opened copies, and full compactions tried (all refused).
    pub fn reads_row(&self, kind: &str) -> String {
        format!(
            "| {:<9} | {:>10} | {:>10} | {:>11} |",
            kind, self.gets_right, self.gets_corrupt, self.compactions_refused
        )
    }
}
