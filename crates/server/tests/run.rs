//! `run`, the whole life of `strata serve`: start-up errors name their
//! cause, and SIGTERM stops the server gracefully and closes the database
//! (its own test binary, since the signal goes to the whole process).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use strata_server::{ServerConfig, ServerError, run};

fn config(dir: &std::path::Path, addr: SocketAddr) -> ServerConfig {
    ServerConfig {
        data_dir: dir.to_path_buf(),
        addr,
        ..ServerConfig::default()
    }
}

#[test]
fn start_up_errors_name_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let e = run(config(dir.path(), addr)).unwrap_err();
    assert!(matches!(e, ServerError::Bind { .. }), "{e}");
    assert!(e.to_string().contains(&addr.to_string()), "{e}");

    // The failed start closed the database again: opening it works.
    let db = strata::Db::open(dir.path(), strata::Options::default()).unwrap();
    let e = run(config(dir.path(), "127.0.0.1:0".parse().unwrap())).unwrap_err();
    assert!(matches!(e, ServerError::Open { .. }), "{e}");
    assert!(e.to_string().contains("already in use"), "{e}");
    db.close().unwrap();

    // Limits that could never serve are refused before anything opens.
    for bad in [
        ServerConfig {
            engine_threads: 0,
            ..config(dir.path(), addr)
        },
        ServerConfig {
            max_connections: 0,
            ..config(dir.path(), addr)
        },
    ] {
        let e = run(bad).unwrap_err();
        assert!(matches!(e, ServerError::Config(_)), "{e}");
    }
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_and_closes_the_database() {
    let dir = tempfile::tempdir().unwrap();
    // A free port: bound and released (run binds it again at once).
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let server = std::thread::spawn({
        let config = config(dir.path(), addr);
        move || run(config)
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let c = reqwest::Client::new();
        let base = format!("http://{addr}");
        // Serving (so the signal handlers are installed) once /health answers.
        let mut up = false;
        for _ in 0..500 {
            if let Ok(r) = c.get(format!("{base}/health")).send().await {
                up = r.status() == 200;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(up, "the server did not come up");
        let r = c
            .put(format!("{base}/kv/k"))
            .body("kept")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    });

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    server.join().unwrap().unwrap();

    // Closed: the directory lock is free, and the write is there.
    let db = strata::Db::open(dir.path(), strata::Options::default()).unwrap();
    assert_eq!(db.get("k").unwrap().unwrap(), "kept");
    db.close().unwrap();
}
