//! `POST /batch` against a real server: every op kind and encoding, and
//! atomicity — one bad op anywhere in a batch applies nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, expect_error, json, manual_clock_at_now, start, start_with, test_options};
use serde_json::json;
use strata_server::ServerConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_applies_puts_and_deletes_with_their_options() {
    let clock = manual_clock_at_now();
    let server = start_with(ServerConfig::default(), test_options().clock(clock.clone())).await;
    let c = client();
    server.db.put("old", "x").unwrap();
    let batch = json!({"ops": [
        {"op": "put", "key": "user:1", "value": "ada", "content_type": "text/plain"},
        {"op": "put", "key": "/w==", "key_encoding": "base64", "value": "AAE=", "value_encoding": "base64"},
        {"op": "put", "key": "session", "value": "s", "ttl": "1h"},
        {"op": "put", "key": "flash", "value": "f", "ttl": 1000, "content_type": "text/html"},
        {"op": "delete", "key": "old"},
        {"op": "put", "key": "twice", "value": "first"},
        {"op": "put", "key": "twice", "value": "second"}
    ]});
    let r = c
        .post(server.url("/batch"))
        .body(batch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await, json!({"applied": 7}));

    let r = c.get(server.url("/kv/user:1")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(r.bytes().await.unwrap(), "ada");
    assert_eq!(server.db.get(b"\xff").unwrap().unwrap().as_ref(), [0u8, 1]);
    assert!(server.db.get("old").unwrap().is_none());
    assert_eq!(server.db.get("twice").unwrap().unwrap(), "second");
    let r = c.get(server.url("/kv/flash")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/html");

    clock.advance(2_000);
    assert!(server.db.get("flash").unwrap().is_none());
    assert!(server.db.get("session").unwrap().is_some());
    clock.advance(3_600_000);
    assert!(server.db.get("session").unwrap().is_none());

    let r = c
        .post(server.url("/batch"))
        .body(r#"{"ops": []}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(json(r).await, json!({"applied": 0}));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_op_applies_nothing() {
    let server = start().await;
    let c = client();
    server.db.put("keep", "me").unwrap();
    let good = vec![
        json!({"op": "put", "key": "new:1", "value": "a"}),
        json!({"op": "delete", "key": "keep"}),
        json!({"op": "put", "key": "new:2", "value": "b", "ttl": "5m"}),
    ];
    let bad_ops = [
        (
            json!({"op": "put", "key": "k", "value": "!!", "value_encoding": "base64"}),
            "bad_parameter",
        ),
        (
            json!({"op": "put", "key": "k", "value": "v", "ttl": "soon"}),
            "bad_parameter",
        ),
        (
            json!({"op": "put", "key": "k", "value": "v", "ttl": 0}),
            "bad_parameter",
        ),
        (
            json!({"op": "put", "key": "k", "value": "v", "content_type": "a\nb"}),
            "bad_parameter",
        ),
        (json!({"op": "delete", "key": ""}), "bad_key"),
        (
            json!({"op": "delete", "key": "//9zdHJhdGEvY3QveA==", "key_encoding": "base64"}),
            "reserved_key",
        ),
        (
            json!({"op": "delete", "key": "k".repeat(5000)}),
            "key_too_long",
        ),
        (json!({"op": "merge", "key": "k"}), "bad_json"),
        (json!({"op": "put", "key": "k"}), "bad_json"),
        (
            json!({"op": "put", "key": "k", "value": "v", "colour": "red"}),
            "bad_json",
        ),
        (
            json!({"op": "put", "key": "k", "value": "v", "key_encoding": "hex"}),
            "bad_json",
        ),
        (json!({"op": "put", "key": 5, "value": "v"}), "bad_json"),
    ];
    for (bad, code) in bad_ops {
        // The bad op in every position: first, middle, last.
        for at in 0..=good.len() {
            let mut ops = good.clone();
            ops.insert(at, bad.clone());
            let r = c
                .post(server.url("/batch"))
                .body(json!({ "ops": ops }).to_string())
                .send()
                .await
                .unwrap();
            let message = expect_error(r, 400, code).await;
            if code != "bad_json" {
                assert!(message.starts_with(&format!("op {at}:")), "{message}");
            }
            assert!(server.db.get("new:1").unwrap().is_none(), "{bad} at {at}");
            assert!(server.db.get("new:2").unwrap().is_none(), "{bad} at {at}");
            assert_eq!(
                server.db.get("keep").unwrap().unwrap(),
                "me",
                "{bad} at {at}"
            );
        }
    }
    for body in [
        "",
        "not json",
        "[]",
        r#"{"ops": {}}"#,
        r#"{"ops": [], "extra": 1}"#,
    ] {
        let r = c
            .post(server.url("/batch"))
            .body(body)
            .send()
            .await
            .unwrap();
        expect_error(r, 400, "bad_json").await;
    }
    // And the good ops alone do apply.
    let r = c
        .post(server.url("/batch"))
        .body(json!({ "ops": good }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(server.db.get("keep").unwrap().is_none());
    assert!(server.db.get("new:2").unwrap().is_some());
    server.stop().await;
}
