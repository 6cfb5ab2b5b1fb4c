//! HTTPS with a self-signed certificate made in the test: a round trip
//! through the API, plain HTTP refused on the TLS port, unusable
//! certificate files reported before serving, and a client that never
//! starts its handshake dropped after the header timeout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{json, start_with, test_options};
use strata_server::{ServerConfig, ServerError, TlsFiles};

/// Writes a fresh self-signed certificate for 127.0.0.1 and localhost;
/// returns the files and the certificate's PEM.
fn self_signed(dir: &Path) -> (TlsFiles, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert_pem = certified.cert.pem();
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&files.cert, &cert_pem).unwrap();
    std::fs::write(&files.key, certified.signing_key.serialize_pem()).unwrap();
    (files, cert_pem)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_round_trip() {
    let certs = tempfile::tempdir().unwrap();
    let (files, cert_pem) = self_signed(certs.path());
    let config = ServerConfig {
        tls: Some(files),
        ..ServerConfig::default()
    };
    let server = start_with(config, test_options()).await;
    assert!(server.base.starts_with("https://127.0.0.1:"));
    let c = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let r = c
        .put(server.url("/kv/secret"))
        .header("content-type", "text/plain")
        .body("over tls")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = c.get(server.url("/kv/secret")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(r.bytes().await.unwrap(), "over tls");
    let r = c.post(server.url("/seq/n")).send().await.unwrap();
    assert_eq!(json(r).await["value"], 1);

    // A client that does not trust the certificate gets no answer.
    let untrusting = reqwest::Client::new();
    assert!(untrusting.get(server.url("/health")).send().await.is_err());
    // Nor does plain HTTP on the TLS port.
    let plain = server.base.replace("https://", "http://");
    let r = reqwest::Client::new()
        .get(format!("{plain}/health"))
        .send()
        .await;
    assert!(r.is_err() || !r.unwrap().status().is_success());
    // The server still serves after both.
    assert_eq!(
        c.get(server.url("/health")).send().await.unwrap().status(),
        200
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_tls_files_are_reported_before_serving() {
    let certs = tempfile::tempdir().unwrap();
    let (good, _) = self_signed(certs.path());
    let other = tempfile::tempdir().unwrap();
    let (other_pair, _) = self_signed(other.path());
    let junk = certs.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let cases = [
        (
            certs.path().join("missing.pem"),
            good.key.clone(),
            "missing.pem",
        ),
        (junk.clone(), good.key.clone(), "junk.pem"),
        (good.cert.clone(), junk.clone(), "junk.pem"),
        (good.cert.clone(), other_pair.key.clone(), "do not form"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let db = strata::Db::open(dir.path(), test_options()).unwrap();
    for (cert, key, says) in cases {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = ServerConfig {
            tls: Some(TlsFiles { cert, key }),
            ..ServerConfig::default()
        };
        let e = strata_server::serve(listener, db.clone(), config, std::future::pending())
            .await
            .unwrap_err();
        assert!(matches!(e, ServerError::Tls(_)), "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }
    db.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_tls_client_is_dropped_after_the_header_timeout() {
    use tokio::io::AsyncReadExt as _;
    const TIMEOUT: std::time::Duration = std::time::Duration::from_millis(600);
    let certs = tempfile::tempdir().unwrap();
    let (files, cert_pem) = self_signed(certs.path());
    let config = ServerConfig {
        tls: Some(files),
        header_timeout: TIMEOUT,
        max_connections: 2,
        ..ServerConfig::default()
    };
    let server = start_with(config, test_options()).await;
    let started = std::time::Instant::now();
    // Never starts its handshake; holds one of the two slots meanwhile.
    let mut silent = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let c = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for _ in 0..3 {
        let r = c.get(server.url("/health")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(TIMEOUT * 10, silent.read(&mut buf))
        .await
        .expect("the silent client is still connected");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(started.elapsed() >= TIMEOUT);
    server.stop().await;
}
