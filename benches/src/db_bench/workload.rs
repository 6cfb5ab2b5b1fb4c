//! [`Workload`]: the db_bench and YCSB workloads by name.

use std::fmt;
use std::str::FromStr;

/// One workload. The db_bench ones follow LevelDB's db_bench in name and
/// meaning; the YCSB ones follow YCSB's core workloads A, B and E with
/// zipfian key choice (see [`Zipfian`](super::Zipfian)); the synced ones
/// measure group commit.
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
    /// YCSB A (update heavy): `num` operations, 50 % gets (checked) and
    /// 50 % puts of existing keys, keys chosen zipfian.
    YcsbA,
    /// YCSB B (read mostly): as A with 95 % gets and 5 % puts.
    YcsbB,
    /// YCSB E (short ranges): `num` operations, 95 % scans (a seek to a
    /// zipfian key, then up to 1..=100 entries, uniform) and 5 % puts of new
    /// keys after the key space.
    YcsbE,
    /// `synced_num` puts in random order, each synced before it returns,
    /// from 1 thread, into an empty store that syncs every write.
    FillSync1,
    /// As [`Workload::FillSync1`] from 8 threads: group commit.
    FillSync8,
    /// As [`Workload::FillSync1`] from 64 threads.
    FillSync64,
}

impl Workload {
    /// The db_bench workloads, in an order where each finds the data it
    /// needs: what `strata bench` runs by default.
    pub const DB_BENCH: [Workload; 9] = [
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

    /// Every workload, in an order where each finds the data it needs:
    /// the db_bench ones with YCSB's before `deleterandom` (which empties
    /// the store), then the synced fills (each in a fresh store).
    pub const ALL: [Workload; 15] = [
        Workload::FillSeq,
        Workload::FillRandom,
        Workload::Overwrite,
        Workload::ReadRandom,
        Workload::ReadMissing,
        Workload::ReadSeq,
        Workload::SeekRandom,
        Workload::ReadWhileWriting,
        Workload::YcsbA,
        Workload::YcsbB,
        Workload::YcsbE,
        Workload::DeleteRandom,
        Workload::FillSync1,
        Workload::FillSync8,
        Workload::FillSync64,
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
            Workload::YcsbA => "ycsb-a",
            Workload::YcsbB => "ycsb-b",
            Workload::YcsbE => "ycsb-e",
            Workload::FillSync1 => "fillsync-1",
            Workload::FillSync8 => "fillsync-8",
            Workload::FillSync64 => "fillsync-64",
        }
    }

    /// True if the workload starts from an empty store.
    pub fn needs_fresh_store(self) -> bool {
        matches!(self, Workload::FillSeq | Workload::FillRandom) || self.is_synced()
    }

    /// True if the workload needs a store that syncs every write (opened
    /// with [`StoreFactory::open_fresh_synced`](super::StoreFactory::open_fresh_synced)).
    pub fn is_synced(self) -> bool {
        self.synced_threads().is_some()
    }

    /// The writer threads of a synced fill, which ignore
    /// [`BenchConfig::threads`](super::BenchConfig::threads); `None` for
    /// the other workloads.
    pub fn synced_threads(self) -> Option<usize> {
        match self {
            Workload::FillSync1 => Some(1),
            Workload::FillSync8 => Some(8),
            Workload::FillSync64 => Some(64),
            _ => None,
        }
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
                | Workload::YcsbA
                | Workload::YcsbB
                | Workload::YcsbE
        ) || self.is_synced()
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
        assert!(err.to_string().contains("ycsb-e"), "{err}");
    }

    #[test]
    fn db_bench_workloads_keep_their_order_inside_all() {
        let in_all: Vec<Workload> = Workload::ALL
            .into_iter()
            .filter(|w| Workload::DB_BENCH.contains(w))
            .collect();
        assert_eq!(in_all, Workload::DB_BENCH);
        for w in Workload::ALL {
            assert_eq!(w.is_synced(), w.name().starts_with("fillsync"), "{w}");
            assert!(
                !w.is_synced() || (w.needs_fresh_store() && w.writes()),
                "{w}"
            );
        }
    }
}
