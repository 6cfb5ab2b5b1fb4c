//! The server's own decoders, fed directly: percent-decoding of paths and
//! query components, query-parameter parsing for every route, TTL texts.

use axum::http::Uri;

use crate::keys::{percent_decode_path, percent_decode_query};
use crate::query::QueryParams;
use crate::ttl::parse_ttl_ms;

/// The query parameters each route takes (see `docs/http-api.md`).
pub(super) const ROUTE_PARAMS: &[&[&str]] = &[
    &[],
    &["ttl"],
    &["by"],
    &["start", "end"],
    &[
        "prefix", "start", "end", "limit", "reverse", "cursor", "values",
    ],
];

/// Every escape of `bytes`: what decoding must undo.
fn percent_encode_all(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// The path and query decoders on the raw target: what decodes re-encodes
/// (every byte escaped) and decodes to the same bytes; every route's query
/// parameters parse or fail cleanly, and their typed reads too.
pub(super) fn check_decoders(target: &[u8]) {
    let Ok(target) = std::str::from_utf8(target) else {
        return;
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if let Ok(key) = percent_decode_path(path) {
        let again = percent_decode_path(&percent_encode_all(&key)).ok();
        assert_eq!(
            again.as_ref(),
            Some(&key),
            "path {path:?} does not round-trip"
        );
        if !path.contains('%') {
            assert_eq!(
                key,
                path.as_bytes(),
                "path {path:?} without escapes changed"
            );
        }
    }
    for part in query.split('&') {
        if let Some(v) = percent_decode_query(part) {
            let again = percent_decode_query(&percent_encode_all(&v));
            assert_eq!(
                again.as_ref(),
                Some(&v),
                "query part {part:?} does not round-trip"
            );
        }
    }
    let Ok(uri) = format!("/x?{query}").parse::<Uri>() else {
        return;
    };
    for allowed in ROUTE_PARAMS {
        let Ok(params) = QueryParams::parse(&uri, allowed) else {
            continue;
        };
        for name in *allowed {
            let _ = params.flag(name);
            let _ = params.number::<usize>(name);
            let _ = params.number::<i64>(name);
            if let Ok(Some(text)) = params.text(name) {
                check_ttl_text(text.as_bytes());
            }
        }
    }
}

/// `parse_ttl_ms` accepts exactly `<digits>[ms|s|m|h|d]` with a positive
/// value that fits, and returns that value in milliseconds.
pub(super) fn check_ttl_text(text: &[u8]) {
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let scale = match unit {
        "" | "ms" => Some(1u64),
        "s" => Some(1_000),
        "m" => Some(60_000),
        "h" => Some(3_600_000),
        "d" => Some(86_400_000),
        _ => None,
    };
    let want = digits
        .parse::<u64>()
        .ok()
        .zip(scale)
        .and_then(|(n, s)| n.checked_mul(s))
        .filter(|&ms| ms > 0);
    assert_eq!(parse_ttl_ms(text).ok(), want, "ttl {text:?}");
}
