//! Turning an input's bytes into requests: the HTTP/1.1-like text form of
//! the module docs, then `http::Request`s.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, Uri};

use super::{MAX_REQUESTS, SEPARATOR};

/// Headers taken from one request at most.
const MAX_HEADERS: usize = 8;

/// One request as the input spells it.
pub(super) struct RawRequest<'a> {
    pub(super) method: &'a [u8],
    pub(super) target: &'a [u8],
    pub(super) headers: Vec<(&'a [u8], &'a [u8])>,
    pub(super) body: &'a [u8],
}

/// Splits `data` at the first `\n` (dropping a `\r` before it).
fn line(data: &[u8]) -> (&[u8], &[u8]) {
    let (line, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (
            data.get(..i).unwrap_or(&[]),
            data.get(i + 1..).unwrap_or(&[]),
        ),
        None => (data, &[][..]),
    };
    (line.strip_suffix(b"\r").unwrap_or(line), rest)
}

fn split_once(data: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == sep) {
        Some(i) => (
            data.get(..i).unwrap_or(&[]),
            data.get(i + 1..).unwrap_or(&[]),
        ),
        None => (data, &[]),
    }
}

fn parse_request(chunk: &[u8]) -> RawRequest<'_> {
    let (request_line, mut rest) = line(chunk);
    let (method, target) = split_once(request_line, b' ');
    let mut headers = Vec::new();
    loop {
        let (l, after) = line(rest);
        if l.is_empty() {
            rest = after;
            break;
        }
        rest = after;
        if headers.len() < MAX_HEADERS {
            let (name, value) = split_once(l, b':');
            headers.push((name, value.trim_ascii_start()));
        }
    }
    RawRequest {
        method,
        target,
        headers,
        body: rest,
    }
}

/// The requests of an input (after the flags byte).
pub(super) fn split_requests(mut data: &[u8]) -> Vec<RawRequest<'_>> {
    let mut out = Vec::new();
    while out.len() < MAX_REQUESTS && !data.is_empty() {
        let (chunk, rest) = match data.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(i) => (
                data.get(..i).unwrap_or(&[]),
                data.get(i + SEPARATOR.len()..).unwrap_or(&[]),
            ),
            None => (data, &[][..]),
        };
        out.push(parse_request(chunk));
        data = rest;
    }
    out
}

/// Builds the `http::Request` the HTTP layer would hand the router, or
/// `None` where it would answer a bare 400 itself.
pub(super) fn build(raw: &RawRequest<'_>) -> Option<Request<Body>> {
    let method = Method::from_bytes(raw.method).ok()?;
    let uri = Uri::try_from(raw.target).ok()?;
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::from(raw.body.to_vec()))
        .ok()?;
    for (name, value) in &raw.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            request.headers_mut().append(n, v);
        }
    }
    Some(request)
}
