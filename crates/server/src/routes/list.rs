//! `GET /kv?prefix=&start=&end=&limit=&reverse=&cursor=&values=`: one page
//! of keys (and optionally values) in key order, and a cursor for the next.
//!
//! The listed range is `[start, end)` within `prefix`; a page holds at most
//! `limit` keys (default 100, at most 1000). The cursor names the last key
//! of the page and the direction; the next page starts just after it (before
//! it, in reverse), so paging visits every key of the range exactly once even
//! while keys are written, as long as the client repeats the same `prefix`,
//! `start`, `end` and `reverse` with it.

use std::cmp::Ordering;
use std::ops::Bound;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use strata::Db;

use crate::error::{ApiError, json_response};
use crate::keys::{Encoding, RESERVED_PREFIX, to_json_text};
use crate::query::QueryParams;
use crate::state::AppState;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// Cursor direction tags (the first byte of a decoded cursor).
const FORWARD: u8 = b'f';
const REVERSE: u8 = b'r';

#[derive(Serialize)]
struct Page {
    keys: Vec<Entry>,
    /// `None` (JSON null) on the last page.
    next_cursor: Option<String>,
}

#[derive(Serialize)]
struct Entry {
    key: String,
    key_encoding: Encoding,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_encoding: Option<Encoding>,
}

type Range = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// `GET /kv`: 200 with a [`Page`]; 400 `bad_parameter` for a bad limit,
/// flag or cursor.
pub(crate) async fn list(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let params = QueryParams::parse(
        &uri,
        &[
            "prefix", "start", "end", "limit", "reverse", "cursor", "values",
        ],
    )?;
    let limit = params.number::<usize>("limit")?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_parameter(format!(
            "limit must be within 1..={MAX_LIMIT}, not {limit}"
        )));
    }
    let reverse = params.flag("reverse")?;
    let with_values = params.flag("values")?;

    let mut range: Range = (Bound::Unbounded, Bound::Unbounded);
    if let Some(prefix) = params.bytes("prefix") {
        range.0 = tighter_lower(range.0, Bound::Included(prefix.to_vec()));
        range.1 = tighter_upper(
            range.1,
            successor(prefix).map_or(Bound::Unbounded, Bound::Excluded),
        );
    }
    if let Some(start) = params.bytes("start") {
        range.0 = tighter_lower(range.0, Bound::Included(start.to_vec()));
    }
    if let Some(end) = params.bytes("end") {
        range.1 = tighter_upper(range.1, Bound::Excluded(end.to_vec()));
    }
    if let Some(cursor) = params.text("cursor")? {
        let after = decode_cursor(cursor, reverse)?;
        if reverse {
            range.1 = tighter_upper(range.1, Bound::Excluded(after));
        } else {
            range.0 = tighter_lower(range.0, Bound::Excluded(after));
        }
    }

    let mut rows = state
        .blocking_open(move |db| read_page(db, range, limit + 1, reverse))
        .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = match (more, rows.last()) {
        (true, Some((last, _))) => Some(encode_cursor(last, reverse)),
        _ => None,
    };
    let keys = rows
        .into_iter()
        .map(|(k, v)| {
            let (key, key_encoding) = to_json_text(&k);
            let (value, value_encoding) = match with_values {
                true => {
                    let (text, enc) = to_json_text(&v);
                    (Some(text), Some(enc))
                }
                false => (None, None),
            };
            Entry {
                key,
                key_encoding,
                value,
                value_encoding,
            }
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Page { keys, next_cursor }))
}

/// Up to `count` live entries of `range`, skipping the reserved key space,
/// in key order (descending if `reverse`), from one snapshot.
fn read_page(
    db: &Db,
    range: Range,
    count: usize,
    reverse: bool,
) -> strata::Result<Vec<(strata::Bytes, strata::Bytes)>> {
    // The range minus the reserved keys is at most two pieces: below the
    // reserved prefix, and above every key starting with it.
    let below = (
        range.0.clone(),
        tighter_upper(range.1.clone(), Bound::Excluded(RESERVED_PREFIX.to_vec())),
    );
    let above = match successor(RESERVED_PREFIX) {
        Some(s) => Some((tighter_lower(range.0, Bound::Included(s)), range.1)),
        None => None,
    };
    let mut pieces: Vec<Range> = [Some(below), above]
        .into_iter()
        .flatten()
        .filter(|r| !is_empty(r))
        .collect();
    if reverse {
        pieces.reverse();
    }
    let snapshot = db.snapshot();
    let mut out = Vec::with_capacity(count.min(MAX_LIMIT + 1));
    for piece in pieces {
        let iter = snapshot.scan(piece);
        let iter: Box<dyn Iterator<Item = _>> = if reverse {
            Box::new(iter.rev())
        } else {
            Box::new(iter)
        };
        for entry in iter.take(count.saturating_sub(out.len())) {
            out.push(entry?);
        }
        if out.len() >= count {
            break;
        }
    }
    Ok(out)
}

/// The smallest key above every key starting with `prefix`; `None` if
/// there is none (the prefix is all `0xff`).
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|&b| b != 0xff)?;
    let mut s = prefix.get(..=last)?.to_vec();
    if let Some(b) = s.last_mut() {
        *b += 1;
    }
    Some(s)
}

/// The larger (more restrictive) of two lower bounds.
fn tighter_lower(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    match (&a, &b) {
        (Bound::Unbounded, _) => b,
        (_, Bound::Unbounded) => a,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            match x.cmp(y) {
                Ordering::Less => b,
                Ordering::Greater => a,
                Ordering::Equal if matches!(a, Bound::Excluded(_)) => a,
                Ordering::Equal => b,
            }
        }
    }
}

/// The smaller (more restrictive) of two upper bounds.
fn tighter_upper(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>) -> Bound<Vec<u8>> {
    match (&a, &b) {
        (Bound::Unbounded, _) => b,
        (_, Bound::Unbounded) => a,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            match x.cmp(y) {
                Ordering::Less => a,
                Ordering::Greater => b,
                Ordering::Equal if matches!(a, Bound::Excluded(_)) => a,
                Ordering::Equal => b,
            }
        }
    }
}

/// True if no key can lie in `range` (for the bounds built here).
fn is_empty(range: &Range) -> bool {
    match range {
        (Bound::Included(lo), Bound::Included(hi)) => lo > hi,
        (Bound::Included(lo) | Bound::Excluded(lo), Bound::Included(hi) | Bound::Excluded(hi)) => {
            lo >= hi
        }
        _ => false,
    }
}

fn encode_cursor(last_key: &[u8], reverse: bool) -> String {
    let mut raw = Vec::with_capacity(1 + last_key.len());
    raw.push(if reverse { REVERSE } else { FORWARD });
    raw.extend_from_slice(last_key);
    URL_SAFE_NO_PAD.encode(raw)
}

/// The last key of the previous page.
///
/// # Errors
/// 400 `bad_parameter` for a cursor that is not one of ours or was made
/// for the other direction.
fn decode_cursor(cursor: &str, reverse: bool) -> Result<Vec<u8>, ApiError> {
    let bad = |why: &str| ApiError::bad_parameter(format!("cursor {cursor:?} {why}"));
    let raw = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad("is not a cursor this server made"))?;
    match raw.split_first() {
        Some((&tag, key)) if tag == (if reverse { REVERSE } else { FORWARD }) => Ok(key.to_vec()),
        Some((&(FORWARD | REVERSE), _)) => Err(bad("was made for the other direction (reverse)")),
        _ => Err(bad("is not a cursor this server made")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inc(k: &[u8]) -> Bound<Vec<u8>> {
        Bound::Included(k.to_vec())
    }
    fn exc(k: &[u8]) -> Bound<Vec<u8>> {
        Bound::Excluded(k.to_vec())
    }

    #[test]
    fn successor_of_prefixes() {
        assert_eq!(successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(successor(b"a\xff\xff"), Some(b"b".to_vec()));
        assert_eq!(successor(b"\xff"), None);
        assert_eq!(successor(b""), None);
    }

    #[test]
    fn bounds_combine_to_the_tighter() {
        assert_eq!(tighter_lower(Bound::Unbounded, inc(b"a")), inc(b"a"));
        assert_eq!(tighter_lower(inc(b"b"), inc(b"a")), inc(b"b"));
        assert_eq!(tighter_lower(inc(b"a"), exc(b"a")), exc(b"a"));
        assert_eq!(tighter_upper(exc(b"b"), Bound::Unbounded), exc(b"b"));
        assert_eq!(tighter_upper(exc(b"b"), exc(b"a")), exc(b"a"));
        assert_eq!(tighter_upper(inc(b"a"), exc(b"a")), exc(b"a"));
        assert!(is_empty(&(inc(b"b"), exc(b"a"))));
        assert!(is_empty(&(inc(b"a"), exc(b"a"))));
        assert!(!is_empty(&(inc(b"a"), inc(b"a"))));
        assert!(!is_empty(&(Bound::Unbounded, exc(b""))));
    }

    #[test]
    fn cursors_round_trip_and_keep_their_direction() {
        let c = encode_cursor(b"k\xff", true);
        assert_eq!(decode_cursor(&c, true).unwrap(), b"k\xff");
        assert!(decode_cursor(&c, false).is_err());
        assert!(decode_cursor("", false).is_err());
        assert!(decode_cursor("***", false).is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode(b"xkey"), false).is_err());
    }
}
