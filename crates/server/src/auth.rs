//! Bearer-token authentication.
//!
//! When a token is configured, every request but `GET /health` must carry
//! it, as `Authorization: Bearer <token>` or as the cookie
//! `strata_token=<token>` (percent-encoded, as the login form sets it), so
//! that a browser can use the web page. The comparison takes the same time
//! wherever the presented token differs (`subtle`), so response times do
//! not reveal a prefix of the token.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use subtle::ConstantTimeEq as _;

use crate::error::ApiError;
use crate::keys::percent_decode;
use crate::state::AppState;

/// The cookie the web page's login form sets.
const COOKIE: &str = "strata_token";

/// Middleware: lets a request through when no token is configured, for
/// `GET /health`, or when it carries the token; else 401.
pub(crate) async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = state.token() else {
        return next.run(request).await;
    };
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    if reading && request.uri().path() == "/health" {
        return next.run(request).await;
    }
    let presented = presented_tokens(request.headers());
    // Check every presented token, so timing does not tell which one failed.
    let accepted = presented
        .iter()
        .fold(0u8, |ok, p| ok | p.as_slice().ct_eq(token).unwrap_u8());
    if accepted == 1 {
        return next.run(request).await;
    }
    if reading && request.uri().path() == "/" {
        return (StatusCode::UNAUTHORIZED, Html(LOGIN_PAGE)).into_response();
    }
    let message = if presented.is_empty() {
        "this server requires a token: send Authorization: Bearer <token>"
    } else {
        "the token is wrong"
    };
    let mut response =
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// The non-empty tokens a request presents: the bearer credential and
/// every `strata_token` cookie. (Empty ones are dropped so that an empty
/// configured token can never match.)
fn presented_tokens(headers: &HeaderMap) -> Vec<Vec<u8>> {
    let mut tokens = Vec::new();
    for value in headers.get_all(header::AUTHORIZATION) {
        let v = value.as_bytes();
        // The scheme name is case-insensitive (RFC 9110, 11.1).
        if let (Some(scheme), Some(rest)) = (v.get(..7), v.get(7..))
            && scheme.eq_ignore_ascii_case(b"bearer ")
        {
            let token = rest.trim_ascii();
            if !token.is_empty() {
                tokens.push(token.to_vec());
            }
        }
    }
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((name, v)) = pair.trim().split_once('=')
                && name == COOKIE
                && let Some(decoded) = percent_decode(v.trim_matches('"'))
                && !decoded.is_empty()
            {
                tokens.push(decoded);
            }
        }
    }
    tokens
}

/// `GET /` without a token: asks for it and keeps it in a cookie
/// (`SameSite=Strict`, so other sites cannot send it), then reloads.
const LOGIN_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>strata: token required</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}
input,button{font:inherit;padding:.4rem}input{width:100%;box-sizing:border-box;margin:.5rem 0}</style>
</head><body>
<h1>strata</h1>
<p>This server requires a token.</p>
<form id="login"><label for="token">Token</label>
<input id="token" type="password" autocomplete="current-password" autofocus required>
<button type="submit">Sign in</button></form>
<script>
document.getElementById("login").addEventListener("submit", function (e) {
  e.preventDefault();
  var secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "strata_token=" + encodeURIComponent(document.getElementById("token").value) +
    "; Path=/; SameSite=Strict" + secure;
  location.reload();
});
</script>
</body></html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_bearer_and_cookie() {
        let mut h = HeaderMap::new();
        h.append(
            header::AUTHORIZATION,
            HeaderValue::from_static("bEaReR  abc "),
        );
        h.append(header::AUTHORIZATION, HeaderValue::from_static("Basic xyz"));
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; strata_token=p%40ss; b=2"),
        );
        assert_eq!(
            presented_tokens(&h),
            vec![b"abc".to_vec(), b"p@ss".to_vec()]
        );
        assert!(presented_tokens(&HeaderMap::new()).is_empty());
    }
}
