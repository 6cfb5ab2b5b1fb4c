//! Keys as the HTTP API sees them: percent-decoding from URLs, the checks
//! every client key passes, the reserved key space, and the JSON text form
//! of byte strings (UTF-8 as is, anything else base64).

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The prefix of the keys the server keeps for itself (the stored
/// Content-Types). Client keys starting with it are refused with 400
/// `reserved_key`, and listings never show them.
pub const RESERVED_PREFIX: &[u8] = b"\xff\xffstrata/";

/// Where the Content-Type of `key` is kept: `RESERVED_PREFIX + "ct/"`.
const CONTENT_TYPE_PREFIX: &[u8] = b"\xff\xffstrata/ct/";

/// The engine key holding the Content-Type `key` was stored with.
pub(crate) fn content_type_key(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(CONTENT_TYPE_PREFIX.len() + key.len());
    k.extend_from_slice(CONTENT_TYPE_PREFIX);
    k.extend_from_slice(key);
    k
}

/// The longest client key that still leaves room for its Content-Type side
/// key within the engine's key limit (`max_key_size`).
pub(crate) fn engine_key_limit(max_key_size: usize) -> usize {
    max_key_size.saturating_sub(CONTENT_TYPE_PREFIX.len())
}

/// Where a key came from: the limit is a 414 in a URL, a 400 in a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySource {
    Url,
    Body,
}

/// Checks a client key: not empty, not reserved, within `max_len`.
///
/// # Errors
/// 400 `bad_key` (empty), 400 `reserved_key`, and 414 (URL) or 400 (body)
/// `key_too_long`.
pub(crate) fn check_key(key: &[u8], max_len: usize, source: KeySource) -> Result<(), ApiError> {
    if key.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_key",
            "the key is empty",
        ));
    }
    if key.starts_with(RESERVED_PREFIX) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "reserved_key",
            "keys starting with \\xff\\xffstrata/ are reserved for the server",
        ));
    }
    if key.len() > max_len {
        let status = match source {
            KeySource::Url => StatusCode::URI_TOO_LONG,
            KeySource::Body => StatusCode::BAD_REQUEST,
        };
        return Err(ApiError::new(
            status,
            "key_too_long",
            format!(
                "the key has {} bytes, more than the limit of {max_len}",
                key.len()
            ),
        ));
    }
    Ok(())
}

/// Decodes `%XX` escapes of a URL path into bytes; every other byte stands
/// for itself (`+` included).
///
/// # Errors
/// 400 `bad_key` for a `%` not followed by two hex digits.
pub(crate) fn percent_decode_path(s: &str) -> Result<Vec<u8>, ApiError> {
    percent_decode(s).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_key",
            "the key has a '%' that is not followed by two hex digits",
        )
    })
}

/// Decodes `%XX` escapes (no other byte is special). `None` for a bad escape.
pub(crate) fn percent_decode(s: &str) -> Option<Vec<u8>> {
    decode(s, false)
}

/// Decodes one `application/x-www-form-urlencoded` component of a query
/// string: `%XX` escapes and `+` for a space. `None` for a bad escape.
pub(crate) fn percent_decode_query(s: &str) -> Option<Vec<u8>> {
    decode(s, true)
}

fn decode(s: &str, plus_is_space: bool) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = hex_digit(*bytes.get(i + 1)?)?;
                let lo = hex_digit(*bytes.get(i + 2)?)?;
                out.push((hi << 4) | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// How a byte string is written in JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Encoding {
    /// The string is the bytes (valid UTF-8).
    #[default]
    Utf8,
    /// The string is the standard base64 (with padding) of the bytes.
    Base64,
}

/// The JSON text of `bytes`: as is when UTF-8, else base64.
pub(crate) fn to_json_text(bytes: &[u8]) -> (String, Encoding) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), Encoding::Utf8),
        Err(_) => (STANDARD.encode(bytes), Encoding::Base64),
    }
}

/// The bytes a JSON string stands for under `encoding`.
///
/// # Errors
/// 400 `bad_parameter` naming `what` for invalid base64.
pub(crate) fn from_json_text(
    text: &str,
    encoding: Encoding,
    what: &str,
) -> Result<Vec<u8>, ApiError> {
    match encoding {
        Encoding::Utf8 => Ok(text.as_bytes().to_vec()),
        Encoding::Base64 => STANDARD
            .decode(text)
            .map_err(|e| ApiError::bad_parameter(format!("{what} is not valid base64: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_yields_any_bytes() {
        assert_eq!(
            percent_decode_path("a%2Fb%ff%00+").unwrap(),
            b"a/b\xff\x00+"
        );
        assert_eq!(percent_decode_query("a+b%2B").unwrap(), b"a b+");
        for bad in ["%", "%4", "%zz", "a%g0"] {
            assert!(percent_decode_path(bad).is_err(), "{bad}");
            assert!(percent_decode_query(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn key_checks() {
        assert!(check_key(b"k", 1, KeySource::Url).is_ok());
        assert_eq!(
            check_key(b"", 9, KeySource::Url).unwrap_err().code,
            "bad_key"
        );
        let reserved = content_type_key(b"x");
        assert_eq!(
            check_key(&reserved, 99, KeySource::Body).unwrap_err().code,
            "reserved_key"
        );
        let long = check_key(b"abc", 2, KeySource::Url).unwrap_err();
        assert_eq!(
            (long.status, long.code),
            (StatusCode::URI_TOO_LONG, "key_too_long")
        );
        let long = check_key(b"abc", 2, KeySource::Body).unwrap_err();
        assert_eq!(long.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn json_text_round_trips() {
        for bytes in [&b"plain"[..], b"\xff\xfe", b""] {
            let (text, enc) = to_json_text(bytes);
            assert_eq!(from_json_text(&text, enc, "key").unwrap(), bytes);
        }
        assert_eq!(to_json_text(b"\xff").1, Encoding::Base64);
        assert!(from_json_text("!!", Encoding::Base64, "key").is_err());
    }
}
