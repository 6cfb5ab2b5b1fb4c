//! [`Engine`]: the engines compared, and [`EngineSettings`], the settings
//! every engine gets alike.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An engine the comparison can run. strata is always built in; fjall needs
/// the `peers` feature and RocksDB the `peer-rocksdb` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// This project.
    Strata,
    /// fjall 3 (pure Rust LSM-tree).
    Fjall,
    /// RocksDB through the `rocksdb` crate.
    Rocksdb,
}

impl Engine {
    /// Every engine, strata first (the ratios' baseline).
    pub const ALL: [Engine; 3] = [Engine::Strata, Engine::Fjall, Engine::Rocksdb];

    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Strata => "strata",
            Engine::Fjall => "fjall",
            Engine::Rocksdb => "rocksdb",
        }
    }

    /// True if this build can run it (its feature is on).
    pub fn compiled_in(self) -> bool {
        match self {
            Engine::Strata => true,
            Engine::Fjall => cfg!(feature = "peers"),
            Engine::Rocksdb => cfg!(feature = "peer-rocksdb"),
        }
    }

    /// The engines this build can run, strata first.
    pub fn available() -> Vec<Engine> {
        Engine::ALL
            .into_iter()
            .filter(|e| e.compiled_in())
            .collect()
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Engine::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| format!("unknown engine `{s}` (known: strata, fjall, rocksdb)"))
    }
}

/// Compression of table data blocks (write-ahead logs are never
/// compressed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Blocks stored as they are.
    #[default]
    None,
    /// LZ4 in every level.
    Lz4,
}

impl Compression {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Lz4 => "lz4",
        }
    }
}

impl FromStr for Compression {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Compression::None),
            "lz4" => Ok(Compression::Lz4),
            other => Err(format!("unknown compression `{other}` (known: none, lz4)")),
        }
    }
}

/// What every engine is configured with, the same way. Everything not
/// named here stays at the engine's default (compaction style, background
/// threads, block size 4 KiB in all three).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineSettings {
    /// Block cache capacity, in bytes.
    pub cache_bytes: u64,
    /// Table block compression.
    pub compression: Compression,
    /// Sync the write-ahead log before acknowledging every write, in every
    /// workload (the synced fills always do).
    pub sync: bool,
    /// Bloom filter bits per key, in every level.
    pub bloom_bits_per_key: u32,
    /// Size of one memtable (write buffer), in bytes.
    pub memtable_bytes: u64,
}

impl Default for EngineSettings {
    /// 64 MiB of block cache, no compression, no fsync per write, 10 bloom
    /// bits per key, 64 MiB memtables (all three engines' default size).
    fn default() -> Self {
        Self {
            cache_bytes: 64 << 20,
            compression: Compression::None,
            sync: false,
            bloom_bits_per_key: 10,
            memtable_bytes: 64 << 20,
        }
    }
}

impl EngineSettings {
    /// strata's options for these settings.
    pub fn strata_options(&self) -> strata::Options {
        let compression = match self.compression {
            Compression::None => strata::CompressionType::None,
            Compression::Lz4 => strata::CompressionType::Lz4,
        };
        let sync = if self.sync {
            strata::SyncPolicy::Always
        } else {
            strata::SyncPolicy::Never
        };
        strata::Options::default()
            .block_cache_bytes(self.cache_bytes)
            .compression(compression)
            .sync_policy(sync)
            .bloom_bits_per_key(self.bloom_bits_per_key)
            .memtable_size(usize::try_from(self.memtable_bytes).unwrap_or(usize::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in Engine::ALL {
            assert_eq!(e.name().parse::<Engine>(), Ok(e));
        }
        assert!("leveldb".parse::<Engine>().unwrap_err().contains("rocksdb"));
        for c in [Compression::None, Compression::Lz4] {
            assert_eq!(c.name().parse::<Compression>(), Ok(c));
        }
        assert!("zstd".parse::<Compression>().is_err());
        assert_eq!(Engine::available()[0], Engine::Strata);
    }
}
