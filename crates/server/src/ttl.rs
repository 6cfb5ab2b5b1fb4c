//! Time to live: parsing `?ttl=` values and turning them into the absolute
//! expiry the engine stores.

use crate::error::ApiError;

/// Parses a TTL: `<n>ms`, `<n>s`, `<n>m`, `<n>h`, `<n>d`, or a bare `<n>`
/// (milliseconds). Returns milliseconds, at least 1.
///
/// # Errors
/// 400 `bad_parameter` for anything else, zero, or an overflow.
pub(crate) fn parse_ttl_ms(text: &str) -> Result<u64, ApiError> {
    let bad = |why: &str| {
        ApiError::bad_parameter(format!(
            "ttl {text:?} {why}; use e.g. 30s, 5m, 1h, 2d, 500ms or a number of milliseconds"
        ))
    };
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    if digits.is_empty() {
        return Err(bad("does not start with a number"));
    }
    let n: u64 = digits.parse().map_err(|_| bad("is too large"))?;
    let scale: u64 = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad("has an unknown unit")),
    };
    let ms = n.checked_mul(scale).ok_or_else(|| bad("is too large"))?;
    if ms == 0 {
        return Err(bad("must be positive"));
    }
    Ok(ms)
}

/// The unix-millisecond expiry of a value written at `now_ms` (by the
/// clock the database judges expiry with, `Db::now_millis`) with `ttl_ms`.
pub(crate) fn expiry_from(now_ms: u64, ttl_ms: u64) -> u64 {
    now_ms.saturating_add(ttl_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        for (text, ms) in [
            ("1500", 1500),
            ("250ms", 250),
            ("30s", 30_000),
            ("5m", 300_000),
            ("1h", 3_600_000),
            ("2d", 172_800_000),
        ] {
            assert_eq!(parse_ttl_ms(text).unwrap(), ms, "{text}");
        }
    }

    #[test]
    fn rejects_junk() {
        for text in [
            "",
            "s",
            "0",
            "0s",
            "-5s",
            "5x",
            "1.5s",
            " 5s",
            "5 s",
            "99999999999999999999",
            "18446744073709551615d",
        ] {
            let e = parse_ttl_ms(text).unwrap_err();
            assert_eq!(e.code, "bad_parameter", "{text}");
        }
    }
}
