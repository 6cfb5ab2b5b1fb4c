//! `GET /kv` listings against a real server: paging through 10 000 keys in
//! both directions with the cursor, prefix/start/end ranges, values, the
//! JSON encodings, and bad parameters.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{TestServer, client, enc, expect_error, json, start};
use serde_json::Value;
use strata::WriteBatch;

/// The bytes a listed key or value stands for.
fn decode(entry: &Value, field: &str) -> Vec<u8> {
    let text = entry[field].as_str().unwrap();
    match entry[format!("{field}_encoding")].as_str().unwrap() {
        "utf8" => text.as_bytes().to_vec(),
        "base64" => STANDARD.decode(text).unwrap(),
        other => panic!("unknown encoding {other}"),
    }
}

/// Follows the cursor from the first page to the last; returns every key
/// in the order listed.
async fn page_through(server: &TestServer, query: &str, limit: usize) -> Vec<Vec<u8>> {
    let c = client();
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = server.url(&format!("/kv?limit={limit}&{query}"));
        if let Some(cur) = &cursor {
            url.push_str(&format!("&cursor={cur}"));
        }
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let page = json(r).await;
        let entries = page["keys"].as_array().unwrap();
        assert!(entries.len() <= limit);
        keys.extend(entries.iter().map(|e| decode(e, "key")));
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(entries.len(), limit, "only a full page has a next page");
                cursor = Some(next.to_owned());
            }
            None => return keys,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_visits_10k_keys_once_in_order_both_ways() {
    let server = start().await;
    let mut expected: Vec<Vec<u8>> = Vec::new();
    let mut batch = WriteBatch::new();
    for i in 0..10_000u32 {
        // Mixed text and binary keys, and some beyond the reserved prefix.
        let key = match i % 10 {
            0 => [b"\xff\xff\xff".as_slice(), &i.to_be_bytes()].concat(),
            1 => [b"\x00bin".as_slice(), &i.to_be_bytes()].concat(),
            _ => format!("key:{i:05}").into_bytes(),
        };
        batch.put(&key, b"v").unwrap();
        expected.push(key);
    }
    server.db.write(batch).unwrap();
    expected.sort();
    // Content-Type side keys exist but are never listed.
    let r = client()
        .put(server.url("/kv/key%3A00002"))
        .header("content-type", "text/plain")
        .body("v")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    server.db.flush().unwrap(); // part on disk, part in the memtable
    let r = client()
        .put(server.url("/kv/key%3A00003"))
        .header("content-type", "text/plain")
        .body("v")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    let forward = page_through(&server, "", 1000).await;
    assert_eq!(forward.len(), 10_000);
    assert!(forward == expected, "forward listing differs");

    let backward = page_through(&server, "reverse=true", 337).await;
    let mut reversed = expected.clone();
    reversed.reverse();
    assert!(backward == reversed, "reverse listing differs");

    // The default limit is 100.
    let page = json(client().get(server.url("/kv")).send().await.unwrap()).await;
    assert_eq!(page["keys"].as_array().unwrap().len(), 100);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefix_start_end_and_values() {
    let server = start().await;
    for (k, v) in [
        (&b"a"[..], &b"1"[..]),
        (b"app:1", b"one"),
        (b"app:2", b"\xff\x00"),
        (b"app:3", b"three"),
        (b"apq", b"x"),
        (b"b\xff", b"y"),
    ] {
        server.db.put(k, v).unwrap();
    }
    let c = client();
    let list = |query: &str| {
        let url = server.url(&format!("/kv?{query}"));
        let c = c.clone();
        async move {
            let page = json(c.get(url).send().await.unwrap()).await;
            page["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| decode(e, "key"))
                .collect::<Vec<_>>()
        }
    };
    let keys = |ks: &[&[u8]]| ks.iter().map(|k| k.to_vec()).collect::<Vec<_>>();
    assert_eq!(
        list("prefix=app%3A").await,
        keys(&[b"app:1", b"app:2", b"app:3"])
    );
    assert_eq!(
        list("prefix=app:&start=app:2").await,
        keys(&[b"app:2", b"app:3"])
    );
    assert_eq!(
        list("prefix=app:&end=app:3").await,
        keys(&[b"app:1", b"app:2"])
    );
    assert_eq!(list("start=apq").await, keys(&[b"apq", b"b\xff"]));
    assert_eq!(list("start=b&end=a").await, keys(&[]));
    assert_eq!(
        list(&format!("prefix={}", enc(b"b\xff"))).await,
        keys(&[b"b\xff"])
    );
    assert_eq!(
        list("prefix=app:&reverse=true").await,
        keys(&[b"app:3", b"app:2", b"app:1"])
    );

    let page = json(
        c.get(server.url("/kv?prefix=app:&values=true&limit=2"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let entries = page["keys"].as_array().unwrap();
    assert_eq!(entries[0]["key"], "app:1");
    assert_eq!(entries[0]["key_encoding"], "utf8");
    assert_eq!(entries[0]["value"], "one");
    assert_eq!(entries[0]["value_encoding"], "utf8");
    assert_eq!(entries[1]["value_encoding"], "base64");
    assert_eq!(decode(&entries[1], "value"), b"\xff\x00");
    assert!(page["next_cursor"].is_string());
    // Without values=true no value fields appear.
    let page = json(c.get(server.url("/kv?prefix=b")).send().await.unwrap()).await;
    assert_eq!(page["keys"][0]["key_encoding"], "base64");
    assert!(page["keys"][0].get("value").is_none());
    assert!(page["next_cursor"].is_null());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_listing_parameters_are_400() {
    let server = start().await;
    server.db.put("a", "1").unwrap();
    server.db.put("b", "2").unwrap();
    let c = client();
    let page = json(c.get(server.url("/kv?limit=1")).send().await.unwrap()).await;
    let forward_cursor = page["next_cursor"].as_str().unwrap().to_owned();
    for query in [
        "limit=0".to_owned(),
        "limit=1001".to_owned(),
        "limit=-1".to_owned(),
        "limit=ten".to_owned(),
        "reverse=maybe".to_owned(),
        "values=2".to_owned(),
        "cursor=%2A%2A%2A".to_owned(),
        format!("reverse=true&cursor={forward_cursor}"),
        "prefix=a&prefix=b".to_owned(),
        "prefx=a".to_owned(),
        "start=%G1".to_owned(),
    ] {
        let r = c
            .get(server.url(&format!("/kv?{query}")))
            .send()
            .await
            .unwrap();
        expect_error(r, 400, "bad_parameter").await;
    }
    let r = c.get(server.url("/kv?limit=1000")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    server.stop().await;
}
