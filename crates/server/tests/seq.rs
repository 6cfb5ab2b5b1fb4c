//! `/seq/{name}` counters against a real server, and many concurrent
//! clients incrementing one counter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::{client, enc, expect_error, json, start};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_increment_read_and_delete() {
    let server = start().await;
    let c = client();
    let url = server.url("/seq/visits");
    expect_error(c.get(&url).send().await.unwrap(), 404, "not_found").await;

    let r = c.post(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        json(r).await,
        json!({"name": "visits", "name_encoding": "utf8", "value": 1})
    );
    let r = c
        .post(server.url("/seq/visits?by=41"))
        .send()
        .await
        .unwrap();
    assert_eq!(json(r).await["value"], 42);
    let r = c
        .post(server.url("/seq/visits?by=-50"))
        .send()
        .await
        .unwrap();
    assert_eq!(json(r).await["value"], -8);
    assert_eq!(json(c.get(&url).send().await.unwrap()).await["value"], -8);
    // A counter is a plain key holding decimal text.
    let r = c.get(server.url("/kv/visits")).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap(), "-8");

    assert_eq!(c.delete(&url).send().await.unwrap().status(), 204);
    expect_error(c.get(&url).send().await.unwrap(), 404, "not_found").await;
    assert!(server.db.get("visits").unwrap().is_none());

    // Binary names come back base64.
    let r = c
        .post(server.url(&format!("/seq/{}", enc(b"\xffc"))))
        .send()
        .await
        .unwrap();
    let body = json(r).await;
    assert_eq!(body["name_encoding"], "base64");
    assert_eq!(body["name"], "/2M=");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_that_are_not_counters_conflict() {
    let server = start().await;
    let c = client();
    server.db.put("text", "hello").unwrap();
    server.db.put("max", i64::MAX.to_string()).unwrap();
    expect_error(
        c.post(server.url("/seq/text")).send().await.unwrap(),
        409,
        "not_a_counter",
    )
    .await;
    expect_error(
        c.get(server.url("/seq/text")).send().await.unwrap(),
        409,
        "not_a_counter",
    )
    .await;
    let r = c.post(server.url("/seq/max")).send().await.unwrap();
    expect_error(r, 409, "counter_overflow").await;
    // Neither failure wrote anything.
    assert_eq!(server.db.get("text").unwrap().unwrap(), "hello");
    assert_eq!(server.db.get("max").unwrap().unwrap(), i64::MAX.to_string());
    for by in ["x", "1.5", "99999999999999999999", ""] {
        let r = c
            .post(server.url(&format!("/seq/n?by={by}")))
            .send()
            .await
            .unwrap();
        expect_error(r, 400, "bad_parameter").await;
    }
    assert!(server.db.get("n").unwrap().is_none());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_clients_reach_the_exact_sum() {
    const CLIENTS: usize = 16;
    const EACH: usize = 40;
    let server = start().await;
    let url = server.url("/seq/hits?by=3");
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let url = url.clone();
        // One client (connection pool) per task: 16 real concurrent clients.
        tasks.push(tokio::spawn(async move {
            let c = client();
            let mut seen = Vec::new();
            for _ in 0..EACH {
                let r = c.post(&url).send().await.unwrap();
                assert_eq!(r.status(), 200);
                seen.push(json(r).await["value"].as_i64().unwrap());
            }
            seen
        }));
    }
    let mut all = BTreeSet::new();
    for t in tasks {
        for v in t.await.unwrap() {
            // Every increment saw a distinct value: none was lost or doubled.
            assert!(all.insert(v), "value {v} returned twice");
        }
    }
    let n = i64::try_from(CLIENTS * EACH).unwrap();
    assert_eq!(all, (1..=n).map(|i| 3 * i).collect::<BTreeSet<_>>());
    let r = client().get(server.url("/seq/hits")).send().await.unwrap();
    assert_eq!(json(r).await["value"], 3 * n);
    server.stop().await;
}
