//! Clients that hold connections without finishing requests: half a header
//! line, a trickle, an idle keep-alive connection, a stalled body, a client
//! that never reads its answers, and more connections than allowed. Each is
//! cut off after its (short, test-configured) timeout while other clients
//! are served, and shutdown does not wait for idle connections.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{client, start_with, test_options};
use strata_server::{ServerConfig, ServerError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_millis(600);
/// Scheduling slack on a busy machine: timers fire late, never early.
const SLACK: Duration = Duration::from_secs(5);

fn config() -> ServerConfig {
    ServerConfig {
        header_timeout: TIMEOUT,
        stall_timeout: TIMEOUT,
        ..ServerConfig::default()
    }
}

/// Reads until the server closes the connection (EOF or reset) and returns
/// what arrived; fails if it is still open after `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = [0u8; 64 << 10];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => panic!(
                "the connection is still open after {within:?}; got {:?}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(0) | Err(_)) => return got,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// `GET /health` on a fresh connection answers 200 within `within`;
/// returns how long it took.
async fn health_within(base: &str, within: Duration) -> Duration {
    let started = Instant::now();
    let r = tokio::time::timeout(within, client().get(format!("{base}/health")).send())
        .await
        .unwrap_or_else(|_| panic!("GET /health not answered within {within:?}"))
        .unwrap();
    assert_eq!(r.status(), 200);
    started.elapsed()
}

/// `GET /health` on a fresh connection answers 200 quickly.
async fn health_is_served(base: &str) {
    let took = health_within(base, SLACK).await;
    assert!(
        took < TIMEOUT,
        "health took {took:?}: blocked behind a slow client?"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_header_line_is_closed_after_the_header_timeout_while_others_are_served() {
    let server = start_with(config(), test_options()).await;
    let started = Instant::now();
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(b"GET /health HTTP/1.1\r\nHost: loc")
        .await
        .unwrap();
    // Others are served meanwhile, more than once.
    for _ in 0..3 {
        health_is_served(&server.base).await;
    }
    let got = read_until_closed(&mut stalled, TIMEOUT + SLACK).await;
    let held = started.elapsed();
    assert!(
        got.is_empty(),
        "answered: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(held >= TIMEOUT, "closed after {held:?}, before the timeout");
    health_is_served(&server.base).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickle_of_header_bytes_does_not_extend_the_deadline() {
    let server = start_with(config(), test_options()).await;
    let started = Instant::now();
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    // One header byte every 50 ms would take 3 s to finish the line.
    let trickle = async {
        for &b in b"X-Slow: ".iter().cycle().take(60) {
            if slow.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    trickle.await;
    let got = read_until_closed(&mut slow, SLACK).await;
    assert!(
        got.is_empty(),
        "answered: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        started.elapsed() < TIMEOUT + SLACK,
        "held for {:?}",
        started.elapsed()
    );
    health_is_served(&server.base).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_after_the_header_timeout() {
    let server = start_with(config(), test_options()).await;
    // Never sends a byte.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    // Keep-alive after one answered request.
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = vec![0u8; 4096];
    let n = kept.read(&mut first).await.unwrap();
    assert!(first[..n].starts_with(b"HTTP/1.1 200"), "{first:?}");
    let idle_since = Instant::now();
    let got = read_until_closed(&mut kept, TIMEOUT + SLACK).await;
    assert!(got.is_empty());
    assert!(idle_since.elapsed() >= TIMEOUT - Duration::from_millis(50));
    assert!(read_until_closed(&mut silent, SLACK).await.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_gets_408_and_a_closed_connection() {
    let server = start_with(config(), test_options()).await;
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(b"PUT /kv/half HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        .await
        .unwrap();
    health_is_served(&server.base).await;
    let started = Instant::now();
    let got = read_until_closed(&mut stalled, TIMEOUT + SLACK).await;
    let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 408"), "{text}");
    assert!(text.contains("connection: close"), "{text}");
    assert!(text.contains(r#""code":"body_timeout""#), "{text}");
    assert!(started.elapsed() < TIMEOUT + SLACK);
    assert_eq!(server.db.get("half").unwrap(), None);
    // A slow but steady upload is fine: each piece restarts the clock.
    let mut steady = TcpStream::connect(server.addr).await.unwrap();
    steady
        .write_all(
            b"PUT /kv/steady HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    for piece in [b"ab", b"cd", b"ef"] {
        tokio::time::sleep(TIMEOUT / 2).await;
        steady.write_all(piece).await.unwrap();
    }
    let got = read_until_closed(&mut steady, SLACK).await;
    assert!(got.starts_with(b"HTTP/1.1 204"), "{got:?}");
    assert_eq!(server.db.get("steady").unwrap().unwrap(), "abcdef");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped_and_frees_its_slot() {
    // One connection at a time: while the non-reader holds it, nobody else
    // is served, so the time health waits shows when it was dropped.
    let server = start_with(
        ServerConfig {
            max_connections: 1,
            ..config()
        },
        test_options(),
    )
    .await;
    // Written directly: a client's pooled connection would hold the slot.
    server.db.put("big", vec![b'v'; 4 << 20]).unwrap();
    // Far more answer bytes than the socket buffers hold, never read.
    let mut reader_less = TcpStream::connect(server.addr).await.unwrap();
    let requests = b"GET /kv/big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(32);
    reader_less.write_all(&requests).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let waited = health_within(&server.base, TIMEOUT + SLACK).await;
    assert!(
        waited >= TIMEOUT / 2,
        "served after {waited:?}: the non-reader did not hold the only slot?"
    );
    // What the non-reader finds: some answers, then the end, not all 32.
    let got = read_until_closed(&mut reader_less, SLACK).await;
    assert!(got.len() < 32 * (4 << 20), "got {} bytes", got.len());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_wait_for_a_free_slot() {
    let server = start_with(
        ServerConfig {
            max_connections: 2,
            ..config()
        },
        test_options(),
    )
    .await;
    let started = Instant::now();
    let _a = TcpStream::connect(server.addr).await.unwrap();
    let _b = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    health_within(&server.base, TIMEOUT + SLACK).await;
    let waited = started.elapsed();
    assert!(
        waited >= TIMEOUT,
        "served after {waited:?}, while two idle clients held both slots"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_idle_connections() {
    // The default 30 s header timeout: shutdown must not wait for it.
    let mut server = start_with(ServerConfig::default(), test_options()).await;
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = vec![0u8; 4096];
    let n = kept.read(&mut first).await.unwrap();
    assert!(first[..n].starts_with(b"HTTP/1.1 200"));
    let started = Instant::now();
    server.trigger_shutdown();
    tokio::time::timeout(SLACK, server.join())
        .await
        .expect("serve waited for idle connections")
        .unwrap();
    assert!(started.elapsed() < SLACK);
    assert!(read_until_closed(&mut kept, SLACK).await.is_empty());
    assert!(read_until_closed(&mut idle, SLACK).await.is_empty());
    server.db.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_connections_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = strata::Db::open(dir.path(), test_options()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ServerConfig {
        max_connections: 0,
        ..ServerConfig::default()
    };
    let err = strata_server::serve(listener, db.clone(), config, std::future::pending())
        .await
        .unwrap_err();
    assert!(matches!(err, ServerError::Config(_)), "{err}");
    db.close().unwrap();
}
