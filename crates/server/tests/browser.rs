//! The web page at `GET /`: served with a strict Content-Security-Policy,
//! and working in a real browser. Headless Chromium (Debian's `chromium`)
//! drives the page over the DevTools protocol (`cdp/mod.rs`) against a
//! real server, and after each step the test asks the API directly
//! (`reqwest`) whether the page and the API agree.
//!
//! Without Chromium the browser tests fail, saying how to install it —
//! unless `STRATA_SKIP_BROWSER_TEST=1`, which skips them (with a note).
//! `STRATA_CHROMIUM=/path` picks another binary; `STRATA_BROWSER_SCREENSHOTS=DIR`
//! saves screenshots of the steps.
//!
//! The browser calls block the test's own thread; the server runs on the
//! runtime's worker threads meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cdp;
mod common;

use std::path::PathBuf;

use cdp::{Browser, TIMEOUT};
use common::{client, enc, json, start, start_with, test_options};
use serde_json::{Value, json};
use strata_server::ServerConfig;

/// Needs percent-encoding in the cookie (`;`, `=`, space, `+`, `/`).
const TOKEN: &str = "page test; t0ken=+/";

fn chromium_or_skip() -> Option<PathBuf> {
    if std::env::var_os("STRATA_SKIP_BROWSER_TEST").is_some_and(|v| v == "1") {
        eprintln!("browser test skipped: STRATA_SKIP_BROWSER_TEST=1");
        return None;
    }
    match cdp::find_chromium() {
        Some(path) => Some(path),
        None => panic!(
            "the browser test needs Chromium, and none was found (looked for `chromium` and \
             `chromium-browser` on the PATH, and $STRATA_CHROMIUM). Install it with \
             `apt-get install -y chromium`, or set STRATA_SKIP_BROWSER_TEST=1 to skip this test."
        ),
    }
}

/// `GET /kv/{key}` through the API: status, Content-Type and body.
async fn api_get(
    server: &common::TestServer,
    key: &[u8],
    token: Option<&str>,
) -> (u16, String, Vec<u8>) {
    let mut request = client().get(server.url(&format!("/kv/{}", enc(key))));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, r.bytes().await.unwrap().to_vec())
}

/// The keys the page lists, as shown.
const LISTED: &str =
    "Array.from(document.querySelectorAll('[data-testid=key-item] .key-text'), e => e.textContent)";

fn listed_button(key: &str) -> String {
    format!(
        "[data-testid=key-item][data-key=\"{}\"]",
        enc(key.as_bytes())
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_assets_are_served_with_a_strict_policy() {
    let server = start().await;
    let c = client();

    let r = c.get(server.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"<script src="/assets/app.js" defer></script>"#),
        "{html}"
    );
    assert_eq!(
        html.matches("<script").count(),
        1,
        "no inline scripts: {html}"
    );
    assert!(!html.contains(" style="), "no inline styles: {html}");

    for (path, content_type) in [
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/app.css", "text/css; charset=utf-8"),
    ] {
        let r = c.get(server.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], content_type, "{path}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
        let body = r.text().await.unwrap();
        // Nothing is loaded from elsewhere: no CDN, no web fonts.
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path}"
        );
        assert!(
            !body.contains("@import") && !body.contains("url("),
            "{path}"
        );
    }
    // Other methods are still JSON errors.
    let r = c.post(server.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(json(r).await["code"], "method_not_allowed");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_the_page_and_assets_need_it_and_the_cookie_is_enough() {
    let config = ServerConfig {
        token: Some(TOKEN.into()),
        ..ServerConfig::default()
    };
    let server = start_with(config, test_options()).await;
    let c = client();
    let cookie = format!("strata_token={}", enc(TOKEN.as_bytes()));

    let r = c.get(server.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("type=\"password\""));
    let r = c.get(server.url("/assets/app.js")).send().await.unwrap();
    assert_eq!(r.status(), 401);

    for path in ["/", "/assets/app.js", "/assets/app.css", "/kv"] {
        let r = c
            .get(server.url(path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path} with the cookie");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_view_edit_delete_in_a_real_browser() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let config = ServerConfig {
        token: Some(TOKEN.into()),
        ..ServerConfig::default()
    };
    let server = start_with(config, test_options()).await;
    let c = client();
    // A key and a value that are not UTF-8.
    let binary_key: &[u8] = b"\xffbin\x00";
    let r = c
        .put(server.url(&format!("/kv/{}", enc(binary_key))))
        .bearer_auth(TOKEN)
        .body(vec![0u8, 1, 2, 0xfe, 0xff])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    let mut b = Browser::launch(&chromium);

    // Sign in through the login form; the page then uses the cookie.
    b.navigate(&server.url("/"));
    b.wait_for("document.getElementById('token') && document.forms.login");
    b.fill("#token", TOKEN);
    b.click("#login button[type=submit]");
    b.wait_for("document.body && document.body.dataset.ready === 'true'");
    b.wait_for("document.querySelector('#server-state.live')");
    b.wait_for("!document.getElementById('sign-out').hidden");
    b.wait_until("the binary key listed", LISTED, |v| {
        *v == json!(["\\xffbin\\x00"])
    });
    b.screenshot("1-signed-in");

    // Create: a key with characters that must be escaped in a URL.
    let key = "greeting/café +%?#";
    let value = "hello, world\nsecond line";
    b.fill("#edit-key", key);
    b.fill("#edit-value", value);
    b.fill("#edit-type", "text/plain; charset=utf-8");
    b.fill("#edit-ttl", "1h");
    b.click("#save-button");
    b.wait_eq("document.getElementById('view-key').textContent", key);
    b.wait_eq("document.getElementById('view-value').textContent", value);
    let (status, content_type, body) = api_get(&server, key.as_bytes(), Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/plain; charset=utf-8");
    assert_eq!(body, value.as_bytes());
    b.wait_until("both keys listed", LISTED, |v| {
        *v == json!(["greeting/café +%?#", "\\xffbin\\x00"])
    });
    b.wait_for("document.getElementById('message').textContent.startsWith('Saved')");

    // View the binary value as a hex dump, then the text one.
    b.click(&format!(
        "[data-testid=key-item][data-key=\"{}\"]",
        enc(binary_key)
    ));
    b.wait_eq(
        "document.getElementById('view-value').dataset.kind",
        "binary",
    );
    b.wait_for(
        "document.getElementById('view-value').textContent.startsWith('00000000  00 01 02 fe ff')",
    );
    assert_eq!(b.text("#view-key"), "\\xffbin\\x00");
    assert!(b.text("#view-size").contains("5 bytes"));

    // Edit it: key and value are shown as hex bytes, and written back exactly.
    b.click("#edit-button");
    b.wait_eq(
        "document.getElementById('edit-key').value",
        "ff 62 69 6e 00",
    );
    b.wait_eq(
        "document.getElementById('edit-value').value",
        "00 01 02 fe ff",
    );
    assert_eq!(
        b.eval("document.getElementById('edit-key-encoding').value"),
        "hex"
    );
    b.fill("#edit-value", "de ad be ef");
    b.click("#save-button");
    b.wait_for(
        "document.getElementById('view-value').textContent.startsWith('00000000  de ad be ef')",
    );
    let (status, _, body) = api_get(&server, binary_key, Some(TOKEN)).await;
    assert_eq!((status, body), (200, vec![0xde, 0xad, 0xbe, 0xef]));
    // Bytes that are not UTF-8 cannot be switched to text.
    b.select("#edit-value-encoding", "text");
    b.wait_for("document.getElementById('error').textContent.includes('not plain UTF-8')");
    assert_eq!(
        b.eval("document.getElementById('edit-value-encoding').value"),
        "hex"
    );
    assert_eq!(
        b.eval("document.getElementById('edit-value').value"),
        "de ad be ef"
    );

    b.click(&listed_button(key));
    b.wait_eq("document.getElementById('view-value').textContent", value);
    b.wait_eq("document.getElementById('view-value').dataset.kind", "text");
    assert_eq!(b.text("#view-type"), "text/plain; charset=utf-8");
    b.screenshot("2-viewing");

    // Edit: the form is filled from the value shown; the API sees the change.
    b.click("#edit-button");
    b.wait_eq("document.getElementById('edit-key').value", key);
    b.wait_eq("document.getElementById('edit-value').value", value);
    b.fill("#edit-value", "edited ✓");
    b.click("#save-button");
    b.wait_eq(
        "document.getElementById('view-value').textContent",
        "edited ✓",
    );
    let (status, _, body) = api_get(&server, key.as_bytes(), Some(TOKEN)).await;
    assert_eq!((status, body), (200, "edited ✓".as_bytes().to_vec()));

    // An API error is shown, and nothing changes.
    b.fill("#edit-value", "not stored");
    b.fill("#edit-ttl", "soon");
    b.click("#save-button");
    b.wait_for("!document.getElementById('error').hidden");
    let error = b.text("#error");
    assert!(
        error.contains("bad_parameter") && error.contains("HTTP 400"),
        "{error}"
    );
    let (_, _, body) = api_get(&server, key.as_bytes(), Some(TOKEN)).await;
    assert_eq!(body, "edited ✓".as_bytes());
    b.screenshot("3-error");

    // A TTL from the form reaches the server: the value expires.
    b.fill("#edit-key", "short-lived");
    b.fill("#edit-value", "gone soon");
    b.fill("#edit-ttl", "2s");
    b.click("#save-button");
    b.wait_eq(
        "document.getElementById('view-key').textContent",
        "short-lived",
    );
    let deadline = std::time::Instant::now() + TIMEOUT;
    while api_get(&server, b"short-lived", Some(TOKEN)).await.0 != 404 {
        assert!(
            std::time::Instant::now() < deadline,
            "short-lived never expired"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Delete, with a confirmation step: the API answers 404 and the list
    // no longer shows the key.
    b.click(&listed_button(key));
    b.wait_eq("document.getElementById('view-key').textContent", key);
    let confirm_shown = "document.getElementById('delete-confirm').checkVisibility()";
    assert!(
        b.eval(confirm_shown) == false,
        "the confirmation shows too early"
    );
    b.click("#delete-button");
    b.wait_for(confirm_shown);
    b.click("#confirm-delete");
    b.wait_for("document.getElementById('viewer-body').hidden");
    b.wait_for("document.getElementById('message').textContent.startsWith('Deleted')");
    assert_eq!(api_get(&server, key.as_bytes(), Some(TOKEN)).await.0, 404);
    b.wait_until("the key gone from the list", LISTED, |v| {
        v.as_array().is_some_and(|keys| !keys.contains(&json!(key)))
    });
    b.screenshot("4-deleted");

    assert_eq!(b.problems(), Vec::<String>::new(), "errors in the page");
    // The policy is in force: an injected inline script is refused, and
    // that is seen as a problem (so the check above can fail).
    b.eval("document.body.append(Object.assign(document.createElement('script'), {textContent: 'window.injected = 1'}))");
    let deadline = std::time::Instant::now() + TIMEOUT;
    while !b
        .problems()
        .iter()
        .any(|p| p.contains("Content Security Policy"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the inline script was not refused"
        );
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert_eq!(b.eval("window.injected ?? null"), Value::Null);
    drop(b);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_counters_and_levels_in_a_real_browser() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let server = start().await;
    let c = client();
    let ops: Vec<Value> = (0..5)
        .map(|i| json!({"op": "put", "key": format!("page/{i}"), "value": "v"}))
        .chain([json!({"op": "put", "key": "other", "value": "v"})])
        .collect();
    let r = c
        .post(server.url("/batch"))
        .body(json!({ "ops": ops }).to_string())
        .send()
        .await;
    assert_eq!(r.unwrap().status(), 200);

    let mut b = Browser::launch(&chromium);
    b.navigate(&server.url("/"));
    b.wait_for("document.body.dataset.ready === 'true'");
    assert!(b.eval("document.getElementById('sign-out').hidden") == true);

    // Paging forwards with the API's cursor, and back again.
    b.fill("#prefix", "page/");
    b.fill("#limit", "2");
    b.click("#list-button");
    let page = |b: &mut Browser, keys: Value| {
        b.wait_until(&format!("the page {keys}"), LISTED, |v| *v == keys)
    };
    page(&mut b, json!(["page/0", "page/1"]));
    assert!(b.eval("document.getElementById('prev-page').disabled") == true);
    b.click("#next-page");
    page(&mut b, json!(["page/2", "page/3"]));
    b.click("#next-page");
    page(&mut b, json!(["page/4"]));
    b.wait_for("document.getElementById('next-page').disabled");
    assert!(b.text("#page-info").starts_with("page 3"));
    b.click("#prev-page");
    page(&mut b, json!(["page/2", "page/3"]));
    b.click("#prev-page");
    page(&mut b, json!(["page/0", "page/1"]));

    // Counters: the page's increments are the API's.
    let counter = "visits/ü";
    b.fill("#counter-name", counter);
    b.fill("#counter-by", "5");
    b.click("#increment-button");
    b.wait_eq("document.getElementById('counter-value').textContent", "5");
    b.fill("#counter-by", "-2");
    b.click("#increment-button");
    b.wait_eq("document.getElementById('counter-value').textContent", "3");
    let r = c
        .get(server.url(&format!("/seq/{}", enc(counter.as_bytes()))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["value"], 3);

    // The levels: empty while everything is in the memtable...
    let files = "Array.from(document.querySelectorAll('[data-testid=level-row]'), r => Number(r.dataset.files))";
    let levels = b.wait_until("the level rows", files, |v| {
        v.as_array().is_some_and(|a| !a.is_empty())
    });
    assert!(
        levels.as_array().unwrap().iter().all(|f| *f == 0),
        "{levels}"
    );
    // ...and a flush from the page shows a table file as a bar.
    b.click("#flush-button");
    b.wait_for("document.getElementById('message').textContent.startsWith('Flushed')");
    b.wait_for(
        "Array.from(document.querySelectorAll('[data-testid=level-row]')).some(r => \
           Number(r.dataset.files) > 0 && Number(r.dataset.bytes) > 0 && \
           r.querySelector('[data-testid=files-bar]').getBoundingClientRect().width > 0 && \
           r.querySelector('[data-testid=bytes-bar]').getBoundingClientRect().width > 0)",
    );
    b.screenshot("5-flushed");
    let api_files = |stats: &Value| -> Value {
        stats["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["files"].clone())
            .collect()
    };
    let stats = json(c.get(server.url("/admin/stats")).send().await.unwrap()).await;
    b.wait_until("the page's levels to match the API's", files, |v| {
        *v == api_files(&stats)
    });

    // The picture refreshes by itself: a flush behind the page's back shows up.
    let before: u64 = api_files(&stats)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_u64().unwrap())
        .sum();
    server.db.put("more", "data").unwrap();
    let r = c.post(server.url("/admin/flush")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let stats = json(c.get(server.url("/admin/stats")).send().await.unwrap()).await;
    let after: u64 = api_files(&stats)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_u64().unwrap())
        .sum();
    assert!(after > before, "{stats}");
    b.wait_until("the page to refresh the levels", files, |v| {
        *v == api_files(&stats)
    });

    // Compact from the page: everything ends in one level.
    b.click("#compact-button");
    b.wait_for("document.getElementById('message').textContent.startsWith('Compacted')");
    let stats = json(c.get(server.url("/admin/stats")).send().await.unwrap()).await;
    b.wait_until("the levels after compaction", files, |v| {
        *v == api_files(&stats)
    });
    let non_empty = api_files(&stats)
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| **f != 0)
        .count();
    assert_eq!(non_empty, 1, "{stats}");
    b.screenshot("6-compacted");

    assert_eq!(b.problems(), Vec::<String>::new(), "errors in the page");
    drop(b);
    server.stop().await;
}
