//! `POST /admin/flush`, `POST /admin/compact`, `GET /admin/stats`, `GET
//! /metrics` and `GET /health` against a real server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, expect_error, json, start};
use serde_json::Value;

async fn stats(server: &common::TestServer) -> Value {
    let r = client()
        .get(server.url("/admin/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    json(r).await
}

fn level_files(stats: &Value) -> Vec<u64> {
    stats["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["files"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_and_compact_move_data_down_the_levels() {
    let server = start().await;
    let c = client();
    for round in 0..3 {
        for i in 0..50 {
            server
                .db
                .put(format!("k{i:03}"), format!("round {round}"))
                .unwrap();
        }
        let r = c.post(server.url("/admin/flush")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body = json(r).await;
        assert_eq!(body["status"], "ok");
        assert!(body["elapsed_ms"].is_u64());
    }
    let before = stats(&server).await;
    assert_eq!(before["memtables"]["immutable_count"], 0);
    assert!(before["flushes"].as_u64().unwrap() >= 3);
    assert!(level_files(&before).iter().sum::<u64>() >= 1);

    let r = c
        .post(server.url("/admin/compact?start=k000&end=k010"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c.post(server.url("/admin/compact")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let after = stats(&server).await;
    let files = level_files(&after);
    // After a full compaction everything sits in one level.
    assert_eq!(files.iter().filter(|&&n| n > 0).count(), 1, "{after}");
    assert_eq!(files[0], 0, "{after}");
    assert!(
        after["compactions"]["total"].as_u64().unwrap() >= 1,
        "{after}"
    );
    assert!(
        after["writes"]["compaction_bytes_written"]
            .as_u64()
            .unwrap()
            > 0
    );
    // Data survived it.
    let r = c.get(server.url("/kv/k007")).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap(), "round 2");

    let r = c
        .post(server.url("/admin/compact?begin=a"))
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "bad_parameter").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_json_has_every_section() {
    let server = start().await;
    server.db.put("a", "1").unwrap();
    server.db.flush().unwrap();
    server.db.get("a").unwrap();
    let s = stats(&server).await;
    let level0 = &s["levels"][0];
    for field in ["level", "files", "bytes", "entries", "tombstones"] {
        assert!(level0[field].is_u64(), "{field} in {s}");
    }
    assert!(level0["score"].is_f64() || level0["score"].is_null());
    assert!(level0["bytes"].as_u64().unwrap() > 0);
    for field in ["active_bytes", "immutable_count", "immutable_bytes"] {
        assert!(s["memtables"][field].is_u64(), "{field} in {s}");
    }
    for field in ["hits", "misses", "bytes"] {
        assert!(s["cache"][field].is_u64(), "{field} in {s}");
    }
    for field in [
        "user_bytes",
        "wal_bytes",
        "wal_syncs",
        "flush_bytes",
        "compaction_bytes_read",
        "compaction_bytes_written",
    ] {
        assert!(s["writes"][field].is_u64(), "{field} in {s}");
    }
    assert!(s["amplification"]["write"].as_f64().unwrap() > 0.0);
    assert!(s["amplification"]["space"].as_f64().unwrap() >= 1.0);
    assert!(s["compactions"]["by_reason"].is_object());
    assert!(s["stalls"]["count"].is_u64() && s["stalls"]["time_ms"].is_u64());
    assert!(s["last_seqno"].as_u64().unwrap() >= 1);
    assert!(s["live_snapshots"].is_u64());
    assert_eq!(s["flushes"], 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text() {
    let server = start().await;
    let c = client();
    server.db.put("a", "1").unwrap();
    server.db.flush().unwrap();
    let _ = c.get(server.url("/kv/absent")).send().await.unwrap();
    let r = c.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text().await.unwrap();
    let mut typed = std::collections::HashSet::new();
    let mut helped = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            typed.insert(parts.next().unwrap().to_owned());
            assert!(matches!(parts.next(), Some("gauge" | "counter")), "{line}");
        } else if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.insert(rest.split(' ').next().unwrap().to_owned());
        } else {
            // name{labels} value
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(name.starts_with("strata_"), "{line}");
            assert!(typed.contains(name) && helped.contains(name), "{line}");
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
    assert!(
        text.contains("strata_level_files{level=\"0\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("strata_flushes_total 1\n"), "{text}");
    assert!(
        text.contains("strata_http_responses_total{code=\"404\"} 1\n"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_ok() {
    let server = start().await;
    let r = client().get(server.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await, serde_json::json!({"status": "ok"}));
    server.stop().await;
}
