//! Query strings decoded to bytes. axum's `Query` extractor decodes into
//! UTF-8 strings; keys (`prefix`, `start`, `end`) may be any bytes, so the
//! server parses the raw query itself.

use std::collections::BTreeMap;

use axum::http::Uri;

use crate::error::ApiError;
use crate::keys::percent_decode_query;

/// The decoded parameters of one request's query string.
#[derive(Debug, Default)]
pub(crate) struct QueryParams {
    params: BTreeMap<&'static str, Vec<u8>>,
}

impl QueryParams {
    /// Parses the query of `uri`, accepting only the names in `allowed`
    /// (each at most once), so a typo such as `?tll=` is an error rather
    /// than silently ignored.
    ///
    /// # Errors
    /// 400 `bad_parameter` for an unknown or repeated name or a bad `%`
    /// escape.
    pub(crate) fn parse(uri: &Uri, allowed: &[&'static str]) -> Result<Self, ApiError> {
        let mut params = BTreeMap::new();
        for pair in uri.query().unwrap_or("").split('&') {
            if pair.is_empty() {
                continue;
            }
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let name_bytes = percent_decode_query(raw_name).unwrap_or_default();
            let Some(&name) = allowed.iter().find(|a| a.as_bytes() == name_bytes) else {
                let shown = String::from_utf8_lossy(&name_bytes);
                return Err(ApiError::bad_parameter(if allowed.is_empty() {
                    format!("unknown query parameter {shown:?}: this route takes none")
                } else {
                    format!(
                        "unknown query parameter {shown:?}; this route takes {}",
                        allowed.join(", ")
                    )
                }));
            };
            let value = percent_decode_query(raw_value).ok_or_else(|| {
                ApiError::bad_parameter(format!(
                    "parameter {name} has a '%' not followed by two hex digits"
                ))
            })?;
            if params.insert(name, value).is_some() {
                return Err(ApiError::bad_parameter(format!(
                    "parameter {name} is given twice"
                )));
            }
        }
        Ok(Self { params })
    }

    /// The raw bytes of `name`, if given.
    pub(crate) fn bytes(&self, name: &str) -> Option<&[u8]> {
        self.params.get(name).map(Vec::as_slice)
    }

    /// `name` as text, if given.
    ///
    /// # Errors
    /// 400 `bad_parameter` if it is not UTF-8.
    pub(crate) fn text(&self, name: &str) -> Result<Option<&str>, ApiError> {
        self.bytes(name)
            .map(|b| {
                std::str::from_utf8(b)
                    .map_err(|_| ApiError::bad_parameter(format!("parameter {name} is not UTF-8")))
            })
            .transpose()
    }

    /// `name` as a boolean (`true`/`false`/`1`/`0`; a bare `?name` is true);
    /// `false` when absent.
    ///
    /// # Errors
    /// 400 `bad_parameter` for another value.
    pub(crate) fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.text(name)? {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1" | "") => Ok(true),
            Some(other) => Err(ApiError::bad_parameter(format!(
                "parameter {name} must be true or false, not {other:?}"
            ))),
        }
    }

    /// `name` parsed as a number of type `T`, if given.
    ///
    /// # Errors
    /// 400 `bad_parameter` if it does not parse.
    pub(crate) fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.text(name)?
            .map(|t| {
                t.parse().map_err(|_| {
                    ApiError::bad_parameter(format!(
                        "parameter {name} must be an integer, not {t:?}"
                    ))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str, allowed: &[&'static str]) -> Result<QueryParams, ApiError> {
        QueryParams::parse(&format!("/x?{q}").parse::<Uri>().unwrap(), allowed)
    }

    #[test]
    fn decodes_bytes_and_flags() {
        let p = parse(
            "prefix=a%FF+b&reverse&limit=5",
            &["prefix", "reverse", "limit"],
        )
        .unwrap();
        assert_eq!(p.bytes("prefix"), Some(&b"a\xff b"[..]));
        assert!(p.flag("reverse").unwrap());
        assert!(!p.flag("values").unwrap());
        assert_eq!(p.number::<usize>("limit").unwrap(), Some(5));
        assert!(p.text("prefix").is_err());
    }

    #[test]
    fn rejects_unknown_repeated_and_malformed() {
        assert!(parse("tll=5s", &["ttl"]).is_err());
        assert!(parse("ttl=5s&ttl=6s", &["ttl"]).is_err());
        assert!(parse("ttl=%zz", &["ttl"]).is_err());
        assert!(parse("x=1", &[]).is_err());
        assert!(
            parse("limit=ten", &["limit"])
                .unwrap()
                .number::<usize>("limit")
                .is_err()
        );
        assert!(
            parse("reverse=maybe", &["reverse"])
                .unwrap()
                .flag("reverse")
                .is_err()
        );
    }
}
