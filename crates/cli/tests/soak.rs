//! The server soak in miniature: `strata serve` (this crate's binary) as a
//! child process under 8 checked clients for 2,000 requests, its memory
//! sampled, then every malformed and slow-client case with `GET /health`
//! after each, a SIGTERM shutdown and `strata verify`. The full-length run
//! is `strata-stress soak` (docs/reliability.md, "Server soak").

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use strata_stress::{SoakConfig, soak};

fn config(work: PathBuf) -> SoakConfig {
    let mut config = SoakConfig::new(PathBuf::from(env!("CARGO_BIN_EXE_strata")), work);
    config.clients = 8;
    config.requests = Some(2_000);
    config.duration = Duration::from_secs(120);
    config.keys_per_client = 64;
    config.shared_keys = 64;
    config.seed = 7;
    config.header_timeout = Duration::from_secs(1);
    config.stall_timeout = Duration::from_secs(1);
    config.progress_every = None;
    config
}

#[test]
fn a_bounded_soak_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config(tmp.path().join("soak"));
    let report = soak(&config, &mut std::io::sink()).unwrap();
    println!("{report}");
    assert!(report.passed(), "{report}");
    assert_eq!(report.requests(), 2_000);
    assert_eq!(report.failed_requests(), 0);
    assert!(report.malformed_cases() >= 20, "{report}");
}

/// The harness must notice a server that refuses what it should store:
/// with a 4 KiB body limit, the larger values of the mix get 413.
#[test]
fn the_soak_fails_when_the_server_refuses_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = config(tmp.path().join("soak"));
    config.requests = Some(400);
    config.max_body_bytes = 4096;
    config.malformed = false;
    let report = soak(&config, &mut std::io::sink()).unwrap();
    assert!(!report.passed(), "{report}");
    assert!(report.failed_requests() > 0, "{report}");
    let text = report.to_string();
    assert!(text.contains("status 413 instead of 204"), "{text}");
    assert!(text.contains("RESULT: FAIL"), "{text}");
}

#[test]
fn the_soak_refuses_a_work_directory_in_use() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("precious"), "data").unwrap();
    let err = soak(&config(tmp.path().to_path_buf()), &mut std::io::sink()).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
}

/// `--engine-threads` bounds the server's threads under more concurrent
/// clients than that: unbounded, tokio's blocking pool grows a thread per
/// concurrent engine call, and each thread keeps its own allocator caches.
#[test]
fn engine_threads_bound_the_servers_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = config(tmp.path().join("soak"));
    config.clients = 24;
    config.requests = Some(3_000);
    config.engine_threads = Some(2);
    config.malformed = false;
    let report = soak(&config, &mut std::io::sink()).unwrap();
    assert!(report.passed(), "{report}");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    // main, tokio's workers, 2 engine-call threads, and the engine's own
    // (WAL syncer, flush, compaction, timers): a fixed handful.
    let bound = 1 + cores + 2 + 8;
    println!("peak threads {} (bound {bound})", report.peak_threads());
    assert!(report.peak_threads() > 0, "{report}");
    assert!(report.peak_threads() <= bound, "{report}");
}
