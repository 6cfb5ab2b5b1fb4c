//! The server's life: a restart over the same directory keeps the data, and
//! a graceful shutdown stops accepting but lets an in-flight request finish.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{client, json, start, start_in, test_options};
use strata_server::ServerConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), ServerConfig::default(), test_options()).await;
    let c = client();
    let r = c
        .put(server.url("/kv/doc"))
        .header("content-type", "text/markdown")
        .body("# title")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    for _ in 0..5 {
        c.post(server.url("/seq/n")).send().await.unwrap();
    }
    let batch = r#"{"ops": [{"op": "put", "key": "a", "value": "1"}, {"op": "put", "key": "b", "value": "2"}]}"#;
    assert_eq!(
        c.post(server.url("/batch"))
            .body(batch)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    c.post(server.url("/admin/flush")).send().await.unwrap();
    // Written after the flush: only in the WAL when the server stops.
    c.put(server.url("/kv/late"))
        .body("wal")
        .send()
        .await
        .unwrap();
    c.delete(server.url("/kv/b")).send().await.unwrap();

    let (db, _) = server.stop().await;
    db.close().unwrap();

    let server = start_in(dir.path(), ServerConfig::default(), test_options()).await;
    let r = c.get(server.url("/kv/doc")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/markdown");
    assert_eq!(r.bytes().await.unwrap(), "# title");
    assert_eq!(
        json(c.get(server.url("/seq/n")).send().await.unwrap()).await["value"],
        5
    );
    assert_eq!(
        c.get(server.url("/kv/late"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        "wal"
    );
    assert_eq!(
        c.get(server.url("/kv/b")).send().await.unwrap().status(),
        404
    );
    let page = json(c.get(server.url("/kv")).send().await.unwrap()).await;
    let keys: Vec<_> = page["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].clone())
        .collect();
    assert_eq!(keys, ["a", "doc", "late", "n"]);
    let (db, _) = server.stop().await;
    db.close().unwrap();
}

/// Polls `check` every few milliseconds until it holds (at most 10 s).
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..1000 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("gave up waiting for: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_request_in_flight() {
    let mut server = start().await;
    let (mut sender, body) = http_body_util::channel::Channel::<strata::Bytes>::new(1);
    sender.send_data("first half, ".into()).await.unwrap();
    let url = server.url("/kv/upload");
    let upload = tokio::spawn(async move {
        client()
            .put(url)
            .header("content-type", "text/plain")
            .body(reqwest::Body::wrap(body))
            .send()
            .await
    });
    // Wait until the server is inside the PUT handler (reading the body):
    // the metrics request itself plus the upload are in flight.
    let metrics_url = server.url("/metrics");
    eventually("the upload to be in flight", async || {
        let text = client()
            .get(&metrics_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.contains("strata_http_requests_in_flight 2\n")
    })
    .await;

    server.trigger_shutdown();
    // New connections are refused once the listener is gone...
    let addr = server.addr;
    eventually("new connections to be refused", async || {
        tokio::net::TcpStream::connect(addr).await.is_err()
    })
    .await;
    // ...but the upload in flight completes, and serve waits for it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        server.is_serving(),
        "serve returned with a request in flight"
    );
    sender.send_data("second half".into()).await.unwrap();
    drop(sender);
    let response = upload.await.unwrap().unwrap();
    assert_eq!(response.status(), 204);
    server.join().await.unwrap();
    assert_eq!(
        server.db.get("upload").unwrap().unwrap(),
        "first half, second half"
    );
    server.db.close().unwrap();
}
