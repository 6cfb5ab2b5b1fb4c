//! Error answers against a real server: JSON 404 for unknown routes, 405
//! for wrong methods, 400 for unknown parameters, 503 while shutting down
//! or once the database is closed, and malformed requests that must not
//! crash anything.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, expect_error, start, test_options};
use strata_server::{AppState, ServerConfig, router};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_methods_answer_json() {
    let server = start().await;
    let c = client();
    for path in [
        "/nope",
        "/kv/",
        "/seq/",
        "/admin",
        "/admin/stats/extra",
        "/batch/x",
    ] {
        let r = c.get(server.url(path)).send().await.unwrap();
        expect_error(r, 404, "no_route").await;
    }
    for (method, path) in [
        ("DELETE", "/admin/stats"),
        ("GET", "/batch"),
        ("PUT", "/seq/x"),
        ("GET", "/admin/flush"),
        ("GET", "/admin/compact"),
        ("POST", "/metrics"),
        ("POST", "/health"),
        ("DELETE", "/kv"),
        ("PATCH", "/kv/x"),
    ] {
        let r = c
            .request(method.parse().unwrap(), server.url(path))
            .send()
            .await
            .unwrap();
        assert!(r.headers().contains_key("allow"), "{method} {path}");
        expect_error(r, 405, "method_not_allowed").await;
    }
    let r = c.delete(server.url("/admin/stats")).send().await.unwrap();
    assert_eq!(r.headers()["allow"], "GET,HEAD");
    for (method, path) in [
        ("GET", "/kv/x?ttl=5s"),
        ("DELETE", "/kv/x?ttl=5s"),
        ("GET", "/kv?cursr=x"),
        ("POST", "/admin/flush?now=1"),
        ("GET", "/admin/stats?verbose"),
        ("POST", "/batch?x"),
        ("GET", "/seq/x?by=2"),
    ] {
        let r = c
            .request(method.parse().unwrap(), server.url(path))
            .body(r#"{"ops": []}"#)
            .send()
            .await
            .unwrap();
        expect_error(r, 400, "bad_parameter").await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_wire_does_not_hurt_the_server() {
    let server = start().await;
    let garbage: [&[u8]; 5] = [
        b"\x00\x01\x02\xff\r\n\r\n",
        b"GET /kv/%FF%00 HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab",
        b"GET /kv/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /batch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ];
    for bytes in garbage {
        let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        s.write_all(bytes).await.unwrap();
        s.shutdown().await.unwrap();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer).await;
    }
    // The HTTP layer refuses what never reaches a route, without a body.
    let long = format!("GET /kv/{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    for (bytes, status) in [
        (&b"GET /kv/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n"[..], "400"),
        (long.as_bytes(), "414"),
        (b"\x00\x01\x02\xff\r\n\r\n", "400"),
    ] {
        let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        s.write_all(bytes).await.unwrap();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer).await;
        assert!(
            answer.starts_with(format!("HTTP/1.1 {status} ").as_bytes()),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    // Still serving, and nothing was written.
    let r = client().get(server.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(server.db.scan::<&[u8], _>(..).count(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_database_answers_503() {
    let server = start().await;
    let c = client();
    server.db.put("k", "v").unwrap();
    server.db.close().unwrap();
    for r in [
        c.get(server.url("/kv/k")).send().await.unwrap(),
        c.put(server.url("/kv/k")).body("v").send().await.unwrap(),
        c.post(server.url("/seq/n")).send().await.unwrap(),
        c.post(server.url("/admin/flush")).send().await.unwrap(),
        c.get(server.url("/health")).send().await.unwrap(),
    ] {
        expect_error(r, 503, "shutting_down").await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_after_shutdown_began_answer_503() {
    let dir = tempfile::tempdir().unwrap();
    let db = strata::Db::open(dir.path(), test_options()).unwrap();
    let state = AppState::new(db.clone(), &ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(axum::serve(listener, router(state.clone())).into_future());
    let c = client();
    let r = c.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    state.begin_shutdown();
    assert!(state.is_shutting_down());
    for path in ["/health", "/kv/k", "/admin/stats"] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.headers()["connection"], "close");
        expect_error(r, 503, "shutting_down").await;
    }
    task.abort();
    db.close().unwrap();
}
