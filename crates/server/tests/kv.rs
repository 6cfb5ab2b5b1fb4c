//! `GET/PUT/POST/DELETE /kv/{key}` against a real server: values with
//! their Content-Type, binary keys, TTL expiry, the reserved key space and
//! the key and body limits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, enc, expect_error, manual_clock_at_now, start, start_with, test_options};
use strata_server::{RESERVED_PREFIX, ServerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_delete_keep_the_content_type() {
    let server = start().await;
    let c = client();
    let url = server.url("/kv/greeting");

    let r = c
        .put(&url)
        .header("content-type", "text/plain; charset=utf-8")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(r.bytes().await.unwrap(), "hello");
    // The engine holds exactly the body, under exactly the key.
    assert_eq!(server.db.get("greeting").unwrap().unwrap(), "hello");

    // A PUT without a Content-Type forgets the stored one.
    let r = c.put(&url).body(vec![0u8, 1, 2]).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.bytes().await.unwrap().as_ref(), [0u8, 1, 2]);

    // POST is a put too.
    let r = c
        .post(&url)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");

    let r = c.delete(&url).send().await.unwrap();
    assert_eq!(r.status(), 204);
    expect_error(c.get(&url).send().await.unwrap(), 404, "not_found").await;
    // The side key went with it: nothing but the engine's own state is left.
    let left: Vec<_> = server.db.scan::<&[u8], _>(..).collect();
    assert!(left.is_empty(), "{left:?}");
    // Deleting an absent key is fine.
    assert_eq!(c.delete(&url).send().await.unwrap().status(), 204);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_keys_are_percent_decoded_bytes() {
    let server = start().await;
    let c = client();
    let keys: [&[u8]; 5] = [
        b"\x00\xff\xfe binary",
        b"a/b/c",
        b"plus+sign",
        b"percent%25",
        "caf\u{e9}".as_bytes(),
    ];
    for (i, key) in keys.iter().enumerate() {
        let r = c
            .put(server.url(&format!("/kv/{}", enc(key))))
            .body(format!("v{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "{key:?}");
        assert_eq!(server.db.get(key).unwrap().unwrap(), format!("v{i}"));
        let r = c
            .get(server.url(&format!("/kv/{}", enc(key))))
            .send()
            .await
            .unwrap();
        assert_eq!(r.bytes().await.unwrap(), format!("v{i}"));
    }
    // Unescaped slashes and '+' are part of the key as written.
    let r = c.get(server.url("/kv/a/b/c")).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap(), "v1");
    let r = c.get(server.url("/kv/plus+sign")).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap(), "v2");
    // A broken escape is a bad key, not a different key.
    expect_error(
        c.get(server.url("/kv/bad%zz")).send().await.unwrap(),
        400,
        "bad_key",
    )
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_values_expire_with_their_content_type() {
    let clock = manual_clock_at_now();
    let server = start_with(ServerConfig::default(), test_options().clock(clock.clone())).await;
    let c = client();
    for ttl in ["1h", "3600s", "60m", "3600000"] {
        let r = c
            .put(server.url(&format!("/kv/session-{ttl}?ttl={ttl}")))
            .header("content-type", "text/plain")
            .body("token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "{ttl}");
    }
    let r = c
        .put(server.url("/kv/forever"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    clock.advance(59 * 60 * 1000); // 59 minutes: all still live
    for ttl in ["1h", "3600s", "60m", "3600000"] {
        let r = c
            .get(server.url(&format!("/kv/session-{ttl}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{ttl}");
        assert_eq!(r.headers()["content-type"], "text/plain");
    }
    clock.advance(2 * 60 * 1000); // 61 minutes: expired
    for ttl in ["1h", "3600s", "60m", "3600000"] {
        let r = c
            .get(server.url(&format!("/kv/session-{ttl}")))
            .send()
            .await
            .unwrap();
        expect_error(r, 404, "not_found").await;
    }
    // The Content-Type side keys expired with their values.
    assert_eq!(server.db.scan::<&[u8], _>(..).count(), 1);
    assert_eq!(
        c.get(server.url("/kv/forever"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    for bad in ["0", "5x", "-1s", "1.5h", "99999999999999999999d"] {
        let r = c
            .put(server.url(&format!("/kv/k?ttl={bad}")))
            .body("v")
            .send()
            .await
            .unwrap();
        expect_error(r, 400, "bad_parameter").await;
    }
    assert!(server.db.get("k").unwrap().is_none());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_keys_are_refused_everywhere() {
    let server = start().await;
    let c = client();
    let mut reserved = RESERVED_PREFIX.to_vec();
    reserved.extend_from_slice(b"ct/x");
    let path = enc(&reserved);
    for r in [
        c.get(server.url(&format!("/kv/{path}")))
            .send()
            .await
            .unwrap(),
        c.put(server.url(&format!("/kv/{path}")))
            .body("v")
            .send()
            .await
            .unwrap(),
        c.delete(server.url(&format!("/kv/{path}")))
            .send()
            .await
            .unwrap(),
        c.post(server.url(&format!("/seq/{path}")))
            .send()
            .await
            .unwrap(),
        c.get(server.url(&format!("/seq/{path}")))
            .send()
            .await
            .unwrap(),
        c.delete(server.url(&format!("/seq/{path}")))
            .send()
            .await
            .unwrap(),
    ] {
        expect_error(r, 400, "reserved_key").await;
    }
    let batch = serde_json::json!({"ops": [
        {"op": "put", "key": base64_of(&reserved), "key_encoding": "base64", "value": "v"}
    ]});
    let r = c
        .post(server.url("/batch"))
        .body(batch.to_string())
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "reserved_key").await;
    assert_eq!(server.db.scan::<&[u8], _>(..).count(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_and_body_limits() {
    let config = ServerConfig {
        max_key_bytes: 16,
        max_body_bytes: 1024,
        ..ServerConfig::default()
    };
    let server = start_with(config, test_options()).await;
    let c = client();
    let long = "k".repeat(17);
    for r in [
        c.put(server.url(&format!("/kv/{long}")))
            .body("v")
            .send()
            .await
            .unwrap(),
        c.get(server.url(&format!("/kv/{long}")))
            .send()
            .await
            .unwrap(),
        c.post(server.url(&format!("/seq/{long}")))
            .send()
            .await
            .unwrap(),
    ] {
        expect_error(r, 414, "key_too_long").await;
    }
    // The limit counts decoded bytes: 16 escaped bytes are fine.
    let r = c
        .put(server.url(&format!("/kv/{}", enc(&[0xff; 16]))))
        .body("v")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // In a batch body the same limit is a 400.
    let batch = serde_json::json!({"ops": [{"op": "delete", "key": long}]});
    let r = c
        .post(server.url("/batch"))
        .body(batch.to_string())
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "key_too_long").await;

    let r = c
        .put(server.url("/kv/big"))
        .body(vec![7u8; 1025])
        .send()
        .await
        .unwrap();
    expect_error(r, 413, "body_too_large").await;
    // A body without a declared length is cut off at the limit too.
    let (mut sender, body) = http_body_util::channel::Channel::<strata::Bytes>::new(4);
    let feeder = tokio::spawn(async move {
        for byte in [1u8, 2] {
            // The server may stop reading once the limit is passed.
            let _ = sender.send_data(vec![byte; 600].into()).await;
        }
    });
    let r = c
        .put(server.url("/kv/big"))
        .body(reqwest::Body::wrap(body))
        .send()
        .await
        .unwrap();
    feeder.await.unwrap();
    expect_error(r, 413, "body_too_large").await;
    let r = c
        .put(server.url("/kv/big"))
        .body(vec![7u8; 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(server.db.get("big").unwrap().unwrap().len(), 1024);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_failures_are_500_naming_the_cause() {
    let fs = strata_core::FaultFs::new();
    let options = test_options().file_system(std::sync::Arc::new(fs.clone()));
    let server = start_with(ServerConfig::default(), options).await;
    let c = client();
    fs.fail_from(strata_core::FsOp::Append, 0);
    let r = c.put(server.url("/kv/k")).body("v").send().await.unwrap();
    let message = expect_error(r, 500, "io_error").await;
    assert!(message.contains("injected fault"), "{message}");
    fs.clear_faults();
    server.stop().await;
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
