//! What the process and its directories cost: I/O counters from
//! `/proc/self/io`, resident memory from `/proc/self/status`, bytes under a
//! directory. Linux only; elsewhere the readers return `None` or zeros.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The cumulative I/O counters of this process (all its threads, the
/// engines' background threads included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoCounters {
    /// Bytes passed to `write`-like system calls (`wchar`), cached or not.
    pub wchar: u64,
    /// Bytes this process caused to be sent to storage (`write_bytes`),
    /// counted when page-cache pages are first dirtied.
    pub write_bytes: u64,
    /// Of `write_bytes`, bytes whose dirty pages were dropped before
    /// reaching storage (files truncated or deleted first, like a WAL
    /// retired before writeback).
    pub cancelled_write_bytes: u64,
}

impl IoCounters {
    /// The counters now, or `None` where `/proc/self/io` cannot be read.
    pub fn read() -> Option<Self> {
        parse_io(&std::fs::read_to_string("/proc/self/io").ok()?)
    }

    /// Counters accumulated since `earlier` (zero where one went down).
    pub fn since(self, earlier: Self) -> Self {
        Self {
            wchar: self.wchar.saturating_sub(earlier.wchar),
            write_bytes: self.write_bytes.saturating_sub(earlier.write_bytes),
            cancelled_write_bytes: self
                .cancelled_write_bytes
                .saturating_sub(earlier.cancelled_write_bytes),
        }
    }

    /// Bytes that went, or will go, to storage: `write_bytes` less the
    /// cancelled ones.
    pub fn disk_bytes(self) -> u64 {
        self.write_bytes.saturating_sub(self.cancelled_write_bytes)
    }
}

fn parse_io(text: &str) -> Option<IoCounters> {
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))?
            .trim()
            .parse()
            .ok()
    };
    Some(IoCounters {
        wchar: field("wchar")?,
        write_bytes: field("write_bytes")?,
        cancelled_write_bytes: field("cancelled_write_bytes")?,
    })
}

/// Resets this process's peak resident set size (`VmHWM`) to its current
/// size (`echo 5 > /proc/self/clear_refs`). False where that is refused.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Resident set size now (`VmRSS`), in bytes.
pub fn rss_bytes() -> Option<u64> {
    status_kib("VmRSS").map(|k| k * 1024)
}

/// Peak resident set size since start or the last [`reset_peak_rss`]
/// (`VmHWM`), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    status_kib("VmHWM").map(|k| k * 1024)
}

fn status_kib(name: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_status_kib(&text, name)
}

fn parse_status_kib(text: &str, name: &str) -> Option<u64> {
    let rest = text
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))?;
    rest.trim().strip_suffix("kB")?.trim().parse().ok()
}

/// The 1-, 5- and 15-minute load averages, as `/proc/loadavg` prints them.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Disk space of the regular files under `dir`, as `du` counts it: blocks
/// allocated (delayed allocations and preallocations included, holes of
/// sparse files excluded), where the platform says; file lengths elsewhere.
/// Recursive; symbolic links are not followed. A missing directory holds
/// zero bytes; files that vanish while it is walked (an engine deleting
/// them) are skipped.
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.path(), e.file_type().ok()?)))
        .map(|(path, kind)| {
            if kind.is_dir() {
                dir_bytes(&path)
            } else if kind.is_file() {
                std::fs::metadata(&path).map(|m| allocated(&m)).unwrap_or(0)
            } else {
                0
            }
        })
        .sum()
}

#[cfg(unix)]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    // `st_blocks` counts 512-byte units whatever the block size.
    meta.blocks() * 512
}

#[cfg(not(unix))]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    meta.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_and_status_lines_parse() {
        let io = "rchar: 6976\nwchar: 12\nsyscr: 10\nsyscw: 0\nread_bytes: 0\n\
                  write_bytes: 8192\ncancelled_write_bytes: 4096\n";
        let c = parse_io(io).unwrap();
        assert_eq!(
            (c.wchar, c.write_bytes, c.cancelled_write_bytes),
            (12, 8192, 4096)
        );
        assert_eq!(c.disk_bytes(), 4096);
        let later = IoCounters {
            wchar: 20,
            write_bytes: 8192 + 100,
            cancelled_write_bytes: 0,
        };
        assert_eq!(
            later.since(c),
            IoCounters {
                wchar: 8,
                write_bytes: 100,
                cancelled_write_bytes: 0
            }
        );
        assert_eq!(parse_io("wchar: 1\n"), None);
        let status = "Name:\tx\nVmHWM:\t    1748 kB\nVmRSS:\t  1700 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(1748));
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(1700));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn writing_a_file_shows_in_the_counters_and_the_directory_size() {
        let dir = tempfile::tempdir().unwrap();
        let before = IoCounters::read();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a"), vec![1u8; 10_000]).unwrap();
        std::fs::write(dir.path().join("sub/b"), vec![2u8; 5_000]).unwrap();
        // Whole blocks, at least the bytes written.
        let used = dir_bytes(dir.path());
        assert!((15_000..15_000 + 2 * 65_536).contains(&used), "{used}");
        // A sparse file's hole takes no space.
        let sparse = std::fs::File::create(dir.path().join("sparse")).unwrap();
        sparse.set_len(64 << 20).unwrap();
        drop(sparse);
        assert!(dir_bytes(dir.path()) < 1 << 20);
        assert_eq!(dir_bytes(&dir.path().join("absent")), 0);
        if let (Some(before), Some(after)) = (before, IoCounters::read()) {
            // Other test threads write too: at least ours.
            assert!(after.since(before).wchar >= 15_000);
        }
        if cfg!(target_os = "linux") {
            assert!(reset_peak_rss());
            let (peak, rss) = (peak_rss_bytes().unwrap(), rss_bytes().unwrap());
            assert!(peak > 0 && rss > 0);
            assert!(load_average().unwrap().split(' ').count() == 3);
        }
    }
}
