//! `strata stats` (and the shell's `stats`): the engine's [`Stats`] as a
//! table or as JSON.

use std::io::Write;
use std::process::ExitCode;

use serde_json::{Value, json};
use strata::Stats;

use crate::cli::StatsArgs;
use crate::format::{human_bytes, table};
use crate::open::{Create, open_db};

pub(crate) fn run(args: StatsArgs) -> anyhow::Result<ExitCode> {
    let db = open_db(&args.data.data_dir, Create::Never)?;
    let stats = db.stats();
    db.close()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&to_json(&stats))?)?;
    } else {
        out.write_all(render(&stats).as_bytes())?;
        writeln!(
            out,
            "(counters cover this open of the database only; the shell's `stats` shows a live one)"
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Bytes in all levels over bytes in the last non-empty one (1.0 for a
/// fully compacted tree); `None` with no tables.
fn space_amplification(stats: &Stats) -> Option<f64> {
    let total: u64 = stats.levels.iter().map(|l| l.bytes).sum();
    let last = stats.levels.iter().rev().find(|l| l.bytes > 0)?;
    Some(total as f64 / last.bytes as f64)
}

/// Block cache hits over lookups; `None` before any lookup.
fn hit_rate(stats: &Stats) -> Option<f64> {
    let lookups = stats.block_cache_hits + stats.block_cache_misses;
    (lookups > 0).then(|| stats.block_cache_hits as f64 / lookups as f64)
}

/// The stats as a human-readable report: a table of levels, then one line
/// per topic.
pub(crate) fn render(stats: &Stats) -> String {
    let score = |level: usize| {
        stats
            .level_scores
            .get(level)
            .map_or_else(|| "-".to_owned(), |s| format!("{s:.2}"))
    };
    let mut rows: Vec<Vec<String>> = stats
        .levels
        .iter()
        .map(|l| {
            vec![
                format!("L{}", l.level),
                l.files.to_string(),
                human_bytes(l.bytes),
                l.entries.to_string(),
                l.tombstones.to_string(),
                score(l.level),
            ]
        })
        .collect();
    rows.push(vec![
        "total".into(),
        stats
            .levels
            .iter()
            .map(|l| l.files)
            .sum::<usize>()
            .to_string(),
        human_bytes(stats.levels.iter().map(|l| l.bytes).sum()),
        stats
            .levels
            .iter()
            .map(|l| l.entries)
            .sum::<u64>()
            .to_string(),
        stats
            .levels
            .iter()
            .map(|l| l.tombstones)
            .sum::<u64>()
            .to_string(),
        String::new(),
    ]);
    let mut out = table(
        &["level", "files", "bytes", "entries", "tombstones", "score"],
        &[],
        &rows,
    );
    let percent =
        |r: Option<f64>| r.map_or_else(|| "n/a".to_owned(), |r| format!("{:.1} %", r * 100.0));
    let compactions: Vec<String> = stats
        .compactions
        .iter()
        .map(|(reason, n)| format!("{reason} {n}"))
        .collect();
    let lines = [
        format!(
            "memtables:     active {}, immutable {} ({})",
            human_bytes(stats.active_memtable_bytes),
            stats.immutable_memtables,
            human_bytes(stats.immutable_memtable_bytes)
        ),
        format!(
            "amplification: write {:.2}, space {}",
            stats.write_amplification,
            space_amplification(stats).map_or_else(|| "n/a".to_owned(), |s| format!("{s:.2}"))
        ),
        format!(
            "block cache:   {} hits, {} misses, hit rate {}, {} held",
            stats.block_cache_hits,
            stats.block_cache_misses,
            percent(hit_rate(stats)),
            human_bytes(stats.block_cache_bytes)
        ),
        format!(
            "write stalls:  {} ({:.3} s)",
            stats.stalls,
            stats.stall_time.as_secs_f64()
        ),
        format!(
            "background:    {} flushes; compactions: {}",
            stats.flushes,
            if compactions.is_empty() {
                "none".to_owned()
            } else {
                compactions.join(", ")
            }
        ),
        format!(
            "written:       {} by users, {} to the WAL ({} syncs), {} by flushes, {} by compactions",
            human_bytes(stats.user_bytes_written),
            human_bytes(stats.wal_bytes_written),
            stats.wal_syncs,
            human_bytes(stats.flush_bytes_written),
            human_bytes(stats.compaction_bytes_written)
        ),
        format!(
            "last seqno:    {}; live snapshots: {}",
            stats.last_seqno, stats.live_snapshots
        ),
    ];
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The stats as JSON; sizes in bytes, times in seconds, ratios as numbers
/// (`null` when undefined).
pub(crate) fn to_json(stats: &Stats) -> Value {
    let levels: Vec<Value> = stats
        .levels
        .iter()
        .map(|l| {
            json!({
                "level": l.level,
                "files": l.files,
                "bytes": l.bytes,
                "entries": l.entries,
                "tombstones": l.tombstones,
                "score": stats.level_scores.get(l.level),
            })
        })
        .collect();
    json!({
        "levels": levels,
        "memtables": {
            "active_bytes": stats.active_memtable_bytes,
            "immutable_count": stats.immutable_memtables,
            "immutable_bytes": stats.immutable_memtable_bytes,
        },
        "write_amplification": stats.write_amplification,
        "space_amplification": space_amplification(stats),
        "block_cache": {
            "hits": stats.block_cache_hits,
            "misses": stats.block_cache_misses,
            "hit_rate": hit_rate(stats),
            "bytes": stats.block_cache_bytes,
        },
        "stalls": {
            "count": stats.stalls,
            "seconds": stats.stall_time.as_secs_f64(),
        },
        "flushes": stats.flushes,
        "compactions": stats.compactions,
        "bytes_written": {
            "user": stats.user_bytes_written,
            "wal": stats.wal_bytes_written,
            "flush": stats.flush_bytes_written,
            "compaction": stats.compaction_bytes_written,
        },
        "compaction_bytes_read": stats.compaction_bytes_read,
        "wal_syncs": stats.wal_syncs,
        "last_seqno": stats.last_seqno,
        "live_snapshots": stats.live_snapshots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats_of_a_small_database() -> Stats {
        let dir = tempfile::tempdir().unwrap();
        let db = strata::Db::open(dir.path(), strata::Options::default()).unwrap();
        for i in 0..100 {
            db.put(format!("k{i:03}"), "v").unwrap();
        }
        db.flush().unwrap();
        db.get("k001").unwrap();
        db.stats()
    }

    #[test]
    fn the_table_shows_every_level_and_the_totals() {
        let stats = stats_of_a_small_database();
        let text = render(&stats);
        for l in &stats.levels {
            assert!(text.contains(&format!("\nL{} ", l.level)), "{text}");
        }
        let total = text.lines().find(|l| l.starts_with("total")).unwrap();
        assert!(total.contains(" 100"), "{total}");
        for topic in ["memtables:", "amplification:", "hit rate", "write stalls:"] {
            assert!(text.contains(topic), "{topic} missing from\n{text}");
        }
    }

    #[test]
    fn the_json_holds_the_numbers() {
        let stats = stats_of_a_small_database();
        let v = to_json(&stats);
        let entries: u64 = v["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["entries"].as_u64().unwrap())
            .sum();
        assert_eq!(entries, 100);
        assert_eq!(v["space_amplification"].as_f64(), Some(1.0));
        assert_eq!(v["flushes"].as_u64(), Some(stats.flushes));
        assert!(v["block_cache"]["hits"].is_u64());
    }
}
