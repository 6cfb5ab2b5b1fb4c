//! `GET /`: the web page, and its script and style sheet under `/assets/`.
//!
//! The three files live in `crates/server/assets/` and are compiled into the
//! binary (`include_str!`): no build step, nothing fetched from elsewhere.
//! The page is plain HTML, CSS and JavaScript that talks to the JSON API
//! with `fetch`; the Content-Security-Policy lets it load only its own
//! script and style sheet and talk only to this server, so even a key or
//! value that slipped into the markup could not run as a script.
//!
//! Like every route these need the token when one is configured; `GET /`
//! without it answers the login form instead (see `auth.rs`), which keeps
//! the token in the `strata_token` cookie that the page's requests then
//! carry.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &str = include_str!("../../assets/index.html");
const APP_JS: &str = include_str!("../../assets/app.js");
const APP_CSS: &str = include_str!("../../assets/app.css");

/// Own script and style sheet only (no inline code), requests to this
/// server only, no framing, no form posts elsewhere. `img-src data:` is
/// for the empty favicon, so browsers do not ask for `/favicon.ico`.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// `GET /`: the page.
pub(crate) async fn index() -> Response {
    let mut response = asset(INDEX_HTML, "text/html; charset=utf-8");
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `GET /assets/app.js`: the page's script.
pub(crate) async fn script() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

/// `GET /assets/app.css`: the page's style sheet.
pub(crate) async fn style() -> Response {
    asset(APP_CSS, "text/css; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    // `no-cache`: revalidate each time, so a new server version's page is
    // never mixed with an old cached script.
    let headers: [(HeaderName, HeaderValue); 3] = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    (headers, body).into_response()
}
