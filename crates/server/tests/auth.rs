//! Bearer-token authentication against a real server: required on every
//! route but `GET /health`, accepted as a header or the `strata_token`
//! cookie, refused when wrong; `GET /` offers a login form.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, expect_error, start_with, test_options};
use strata_server::ServerConfig;

const TOKEN: &str = "s3cret-t0ken";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_but_health_requires_the_token() {
    let config = ServerConfig {
        token: Some(TOKEN.into()),
        ..ServerConfig::default()
    };
    let server = start_with(config, test_options()).await;
    let c = client();
    let routes = [
        ("GET", "/kv/k"),
        ("PUT", "/kv/k"),
        ("DELETE", "/kv/k"),
        ("GET", "/kv"),
        ("POST", "/batch"),
        ("POST", "/seq/n"),
        ("GET", "/seq/n"),
        ("POST", "/admin/flush"),
        ("POST", "/admin/compact"),
        ("GET", "/admin/stats"),
        ("GET", "/metrics"),
        ("GET", "/no/such/route"),
        ("POST", "/health"),
    ];
    for (method, path) in routes {
        let send = |auth: Option<String>, cookie: Option<String>| {
            let mut req = c.request(method.parse().unwrap(), server.url(path));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            if let Some(k) = cookie {
                req = req.header("cookie", k);
            }
            req.body(r#"{"ops": []}"#).send()
        };
        // Missing, wrong, almost right, and in the wrong scheme: 401.
        for (auth, cookie) in [
            (None, None),
            (Some("Bearer wrong".to_owned()), None),
            (Some(format!("Bearer {TOKEN}x")), None),
            (Some(format!("Bearer {}", &TOKEN[..TOKEN.len() - 1])), None),
            (Some(format!("Basic {TOKEN}")), None),
            (None, Some("strata_token=wrong".to_owned())),
            (None, Some(format!("other={TOKEN}"))),
        ] {
            let r = send(auth.clone(), cookie.clone()).await.unwrap();
            assert_eq!(r.headers()["www-authenticate"], "Bearer");
            expect_error(r, 401, "unauthorized").await;
        }
        // Right, as a header (any case of the scheme) or as the cookie:
        // the request gets past authentication.
        for (auth, cookie) in [
            (Some(format!("Bearer {TOKEN}")), None),
            (Some(format!("bearer {TOKEN}")), None),
            (None, Some(format!("theme=dark; strata_token={TOKEN}"))),
            (
                Some("Bearer wrong".to_owned()),
                Some(format!("strata_token={TOKEN}")),
            ),
        ] {
            let r = send(auth, cookie).await.unwrap();
            assert_ne!(r.status(), 401, "{method} {path}");
        }
    }
    // Health is open to probes.
    assert_eq!(
        c.get(server.url("/health")).send().await.unwrap().status(),
        200
    );
    // The token really guards data: a wrong one wrote nothing.
    assert_eq!(
        c.get(server.url("/kv/k"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let r = c
        .put(server.url("/kv/k"))
        .bearer_auth(TOKEN)
        .body("v")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(server.db.get("k").unwrap().unwrap(), "v");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_without_a_token_is_a_login_form() {
    let config = ServerConfig {
        token: Some(TOKEN.into()),
        ..ServerConfig::default()
    };
    let server = start_with(config, test_options()).await;
    let r = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = r.text().await.unwrap();
    assert!(page.contains("strata_token="), "{page}");
    assert!(page.contains("SameSite=Strict"), "{page}");
    assert!(page.contains("type=\"password\""), "{page}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_configured_nothing_is_asked() {
    let server = common::start().await;
    let r = client()
        .get(server.url("/admin/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_token_is_refused_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let db = strata::Db::open(dir.path(), test_options()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ServerConfig {
        token: Some(String::new()),
        ..ServerConfig::default()
    };
    let e = strata_server::serve(listener, db.clone(), config.clone(), async {})
        .await
        .unwrap_err();
    assert!(matches!(e, strata_server::ServerError::Config(_)), "{e}");
    assert!(e.to_string().contains("token is empty"), "{e}");
    // An AppState built with one fails closed: nothing is let through, not
    // even a request with an empty bearer token.
    let state = strata_server::AppState::new(db.clone(), &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(axum::serve(listener, strata_server::router(state)).into_future());
    for auth in [None, Some("Bearer "), Some("Bearer")] {
        let mut req = client().get(format!("{base}/admin/stats"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        expect_error(req.send().await.unwrap(), 401, "unauthorized").await;
    }
    let r = client()
        .get(format!("{base}/admin/stats"))
        .header("cookie", "strata_token=")
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "unauthorized").await;
    task.abort();
    db.close().unwrap();
}
