//! [`Workload`]: the db_bench workloads by name.

use std::fmt;
use std::str::FromStr;

/// One db_bench workload. Names and meanings follow LevelDB's db_bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Puts `num` keys in ascending order into an empty store.
    FillSeq,
    /// Puts `num` keys, each once, in a random order into an empty store.
    FillRandom,
    /// Puts `num` random keys (drawn with replacement) over the existing ones.
    Overwrite,
    /// Gets `num` random keys (with replacement) and checks each value.
    ReadRandom,
    /// Gets `num` random keys that were never written.
    ReadMissing,
    /// Iterates over the whole store from the first key (per thread).
    ReadSeq,
    /// `num` times: seeks to a random key and reads it and the 10 after it.
    SeekRandom,
    /// `readrandom` on `threads` readers while one more thread overwrites
    /// random keys until they finish; only the reads are measured.
    ReadWhileWriting,
    /// Deletes every key, each once, in a random order.
    DeleteRandom,
}

impl Workload {
    /// Every workload, in an order where each finds the data it needs.
    pub const ALL: [Workload; 9] = [
        Workload::FillSeq,
        Workload::FillRandom,
        Workload::Overwrite,
        Workload::ReadRandom,
        Workload::ReadMissing,
        Workload::ReadSeq,
        Workload::SeekRandom,
        Workload::ReadWhileWriting,
        Workload::DeleteRandom,
    ];

    /// The db_bench name.
    pub fn name(self) -> &'static str {
        match self {
            Workload::FillSeq => "fillseq",
            Workload::FillRandom => "fillrandom",
            Workload::Overwrite => "overwrite",
            Workload::ReadRandom => "readrandom",
            Workload::ReadMissing => "readmissing",
            Workload::ReadSeq => "readseq",
            Workload::SeekRandom => "seekrandom",
            Workload::ReadWhileWriting => "readwhilewriting",
            Workload::DeleteRandom => "deleterandom",
        }
    }

    /// True if the workload starts from an empty store.
    pub fn needs_fresh_store(self) -> bool {
        matches!(self, Workload::FillSeq | Workload::FillRandom)
    }

    /// True if the workload writes (puts or deletes).
    pub fn writes(self) -> bool {
        matches!(
            self,
            Workload::FillSeq
                | Workload::FillRandom
                | Workload::Overwrite
                | Workload::ReadWhileWriting
                | Workload::DeleteRandom
        )
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A workload name that [`Workload::from_str`] does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownWorkload(pub String);

impl fmt::Display for UnknownWorkload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
        write!(
            f,
            "unknown workload `{}` (known: {})",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownWorkload {}

impl FromStr for Workload {
    type Err = UnknownWorkload;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Workload::ALL
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| UnknownWorkload(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_listed() {
        for w in Workload::ALL {
            assert_eq!(w.name().parse::<Workload>(), Ok(w));
        }
        let err = "fillsequential".parse::<Workload>().unwrap_err();
        assert!(err.to_string().contains("readwhilewriting"), "{err}");
    }
}
