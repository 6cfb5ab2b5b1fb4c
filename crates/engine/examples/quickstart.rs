//! Opens (or creates) the database in `./strata-data` (or the directory
//! given as the first argument), writes a few keys, counts how many times it
//! ran, reads back, and prints what the engine holds. Run it twice: the
//! counter and the keys survive.
//!
//! ```text
//! cargo run --release -p strata --example quickstart [DIR]
//! ```

use std::time::Duration;

use strata::{Db, Options, SyncPolicy, WriteBatch};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "strata-data".to_owned());
    let db = Db::open(&dir, Options::default().sync_policy(SyncPolicy::Always))?;
    let report = db.recovery_report();
    if report.created {
        println!("created a new database in {dir}");
    } else {
        println!(
            "opened {dir}: replayed {} WAL records from {} WAL files, {} damaged tails dropped",
            report.records_replayed,
            report.wal_files_replayed,
            report.wal_tails_dropped.len()
        );
    }

    let runs = db.increment("quickstart:runs", 1)?;
    println!("this is run number {runs}");

    let mut batch = WriteBatch::new();
    for (name, colour) in [("apple", "red"), ("pear", "green"), ("plum", "purple")] {
        batch.put(format!("fruit:{name}").as_bytes(), colour.as_bytes())?;
    }
    db.write(batch)?;
    db.put_with_ttl(
        "quickstart:greeting",
        "hello for a minute",
        Duration::from_secs(60),
    )?;

    println!("fruit, in key order:");
    for kv in db.prefix("fruit:") {
        let (k, v) = kv?;
        println!(
            "  {} = {}",
            String::from_utf8_lossy(&k),
            String::from_utf8_lossy(&v)
        );
    }
    println!("the same, backwards:");
    for kv in db.prefix("fruit:").rev() {
        let (k, _) = kv?;
        println!("  {}", String::from_utf8_lossy(&k));
    }

    db.flush()?;
    let stats = db.stats();
    println!(
        "last seqno {}, L0 tables {} ({} bytes), WAL bytes this run {}, flushes {}",
        stats.last_seqno,
        stats.levels[0].files,
        stats.levels[0].bytes,
        stats.wal_bytes_written,
        stats.flushes
    );
    db.close()?;
    Ok(())
}
