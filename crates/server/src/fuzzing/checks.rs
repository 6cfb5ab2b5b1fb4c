//! What every answer must satisfy, and what a request leads the checks to
//! expect.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri, header};
use axum::response::Response;
use http_body_util::BodyExt as _;
use serde_json::Value;
use strata::Db;

use super::decoders::ROUTE_PARAMS;
use super::{Flags, TOKEN};
use crate::keys::{RESERVED_PREFIX, percent_decode, percent_decode_path};
use crate::query::QueryParams;

/// The error codes each status may carry.
const CODES: &[(u16, &[&str])] = &[
    (
        400,
        &[
            "bad_key",
            "reserved_key",
            "key_too_long",
            "bad_parameter",
            "bad_json",
            "bad_body",
            "invalid_argument",
        ],
    ),
    (401, &["unauthorized"]),
    (404, &["not_found", "no_route"]),
    (405, &["method_not_allowed"]),
    (409, &["not_a_counter", "counter_overflow"]),
    (413, &["body_too_large"]),
    (414, &["key_too_long"]),
    (503, &["shutting_down"]),
];
/// What a request leads the checks to expect, worked out before it runs.
pub(super) struct Expect {
    what: String,
    method: Method,
    path: String,
    /// The route's key, percent-decoded, for `/kv/{key}` and `/seq/{name}`.
    kv_key: Option<Vec<u8>>,
    body: Vec<u8>,
    /// The token presented as a bearer credential, exactly.
    token_presented: bool,
    token_required: bool,
    stopped: bool,
    query: Option<String>,
}

impl Expect {
    pub(super) fn new(request: &Request<Body>, body: &[u8], flags: Flags, stopped: bool) -> Self {
        let path = request.uri().path().to_string();
        let kv_key = path
            .strip_prefix("/kv/")
            .and_then(|k| percent_decode_path(k).ok());
        let token_presented = presents_token(request.headers());
        Self {
            what: format!("{} {}", request.method(), request.uri()),
            method: request.method().clone(),
            path,
            kv_key,
            body: body.to_vec(),
            token_presented,
            token_required: flags.token,
            stopped,
            query: request.uri().query().map(str::to_string),
        }
    }
}

/// Whether `headers` carry [`TOKEN`] the documented ways: `Authorization:
/// Bearer <token>` (scheme in any case, spaces around the token) or the
/// cookie `strata_token=<token, percent-encoded>`.
fn presents_token(headers: &HeaderMap) -> bool {
    let bearer = headers.get_all(header::AUTHORIZATION).iter().any(|v| {
        let v = v.as_bytes();
        v.len() >= 7
            && v.get(..7)
                .is_some_and(|s| s.eq_ignore_ascii_case(b"bearer "))
            && v.get(7..).map(<[u8]>::trim_ascii) == Some(TOKEN.as_bytes())
    });
    let cookie = headers.get_all(header::COOKIE).iter().any(|v| {
        v.to_str().is_ok_and(|text| {
            text.split(';').any(|pair| {
                pair.trim().split_once('=').is_some_and(|(name, value)| {
                    name == "strata_token"
                        && percent_decode(value.trim_matches('"')).as_deref()
                            == Some(TOKEN.as_bytes())
                })
            })
        })
    });
    bearer || cookie
}

/// The value the database holds for `key` now (`None` if closed).
fn stored(db: &Db, key: &[u8]) -> Option<Option<Vec<u8>>> {
    db.get(key).ok().map(|v| v.map(|b| b.to_vec()))
}

pub(super) async fn check_response(response: Response, expect: &Expect, db: &Db, what: &str) {
    let what = format!("{what} {}", expect.what);
    let status = response.status();
    let headers = response.headers().clone();
    let body = match response.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => panic!("{what}: reading the response body failed: {e}"),
    };
    let code = status.as_u16();
    let documented = matches!(code, 200 | 204) || CODES.iter().any(|(s, _)| *s == code);
    assert!(documented, "{what}: undocumented status {status}: {body:?}");
    if code == 401 {
        assert!(
            expect.token_required && !expect.token_presented,
            "{what}: 401 although no token is required or the right one was sent"
        );
    }
    if code == 503 {
        assert!(expect.stopped, "{what}: 503 while running");
    }
    if expect.token_required && !expect.token_presented && !expect.stopped {
        let open = expect.path == "/health" && matches!(expect.method, Method::GET | Method::HEAD);
        assert!(
            code == 401 || open,
            "{what}: {status} without the token (must be 401)"
        );
    }
    if code == 405 {
        assert!(
            headers.contains_key(header::ALLOW),
            "{what}: 405 without an Allow header"
        );
    }
    if status.is_client_error() || status.is_server_error() {
        check_error_body(&what, status, &headers, &body, &expect.method);
        return;
    }
    check_success(&what, status, &body, expect, db);
}

/// An error answer: JSON `{"error": "...", "code": "..."}` with a code
/// documented for its status (the login page aside).
fn check_error_body(
    what: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    method: &Method,
) {
    if *method == Method::HEAD {
        return; // no body
    }
    let html = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"text/html"));
    if status == StatusCode::UNAUTHORIZED && html {
        return; // the login page of `GET /`
    }
    let json: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => panic!(
            "{what}: {status} body is not JSON ({e}): {}",
            body.escape_ascii()
        ),
    };
    let code = json.get("code").and_then(Value::as_str);
    let message = json.get("error").and_then(Value::as_str);
    assert!(
        message.is_some(),
        "{what}: {status} without an error: {json}"
    );
    let allowed = CODES
        .iter()
        .find(|(s, _)| *s == status.as_u16())
        .map_or(&[][..], |(_, codes)| *codes);
    assert!(
        code.is_some_and(|c| allowed.contains(&c)),
        "{what}: {status} with code {code:?}, not one of {allowed:?}"
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        assert_eq!(
            headers.get(header::CONNECTION).map(HeaderValue::as_bytes),
            Some(&b"close"[..]),
            "{what}: 503 without Connection: close"
        );
    }
}

/// A 2xx answer agrees with the database.
fn check_success(what: &str, status: StatusCode, body: &[u8], expect: &Expect, db: &Db) {
    let head = expect.method == Method::HEAD;
    match (&expect.method, expect.kv_key.as_deref(), status.as_u16()) {
        (&Method::PUT | &Method::POST, Some(key), 204) => {
            if let Some(now) = stored(db, key) {
                assert_eq!(
                    now.as_deref(),
                    Some(expect.body.as_slice()),
                    "{what}: the database holds other bytes than the body"
                );
            }
        }
        (&Method::DELETE, Some(key), 204) => {
            if let Some(now) = stored(db, key) {
                assert_eq!(now, None, "{what}: the key is still there");
            }
        }
        (&Method::GET, Some(key), 200) => {
            if let Some(now) = stored(db, key) {
                assert_eq!(
                    now.as_deref(),
                    Some(body),
                    "{what}: GET answered other bytes"
                );
            }
        }
        (&Method::GET, None, 200) if expect.path == "/kv" => check_listing(what, body, expect),
        // Text answers: Prometheus metrics, the web page and its assets.
        _ if head
            || status == StatusCode::NO_CONTENT
            || expect.path == "/metrics"
            || expect.path == "/"
            || expect.path.starts_with("/assets/") => {}
        _ => {
            if let Err(e) = serde_json::from_slice::<Value>(body) {
                panic!("{what}: {status} body is not JSON ({e})");
            }
        }
    }
}

/// A page of `GET /kv`: sorted in the requested direction, within the
/// limit, no reserved key.
fn check_listing(what: &str, body: &[u8], expect: &Expect) {
    let page: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => panic!("{what}: the listing is not JSON ({e})"),
    };
    let Some(keys) = page.get("keys").and_then(Value::as_array) else {
        panic!("{what}: the listing has no keys array: {page}");
    };
    let uri = format!("/kv?{}", expect.query.as_deref().unwrap_or(""));
    let params = uri
        .parse::<Uri>()
        .ok()
        .and_then(|u| QueryParams::parse(&u, ROUTE_PARAMS.get(4).copied().unwrap_or(&[])).ok());
    let limit = params
        .as_ref()
        .and_then(|p| p.number::<usize>("limit").ok().flatten())
        .unwrap_or(100);
    let reverse = params
        .as_ref()
        .and_then(|p| p.flag("reverse").ok())
        .unwrap_or(false);
    assert!(
        keys.len() <= limit,
        "{what}: {} keys over the limit",
        keys.len()
    );
    let decoded: Vec<Vec<u8>> = keys.iter().map(|k| entry_key(what, k)).collect();
    for pair in decoded.windows(2) {
        if let [a, b] = pair {
            let ordered = if reverse { a > b } else { a < b };
            assert!(ordered, "{what}: keys out of order: {a:?}, {b:?}");
        }
    }
    assert!(
        !decoded.iter().any(|k| k.starts_with(RESERVED_PREFIX)),
        "{what}: a reserved key is listed"
    );
    let cursor = page.get("next_cursor");
    assert!(
        cursor.is_some_and(|c| c.is_null() || c.is_string()),
        "{what}: bad next_cursor {cursor:?}"
    );
}

fn entry_key(what: &str, entry: &Value) -> Vec<u8> {
    use base64::Engine as _;
    let text = entry.get("key").and_then(Value::as_str).unwrap_or_default();
    match entry.get("key_encoding").and_then(Value::as_str) {
        Some("utf8") => text.as_bytes().to_vec(),
        Some("base64") => match base64::engine::general_purpose::STANDARD.decode(text) {
            Ok(k) => k,
            Err(e) => panic!("{what}: a listed key is not base64 ({e}): {entry}"),
        },
        other => panic!("{what}: a listed key has encoding {other:?}"),
    }
}
