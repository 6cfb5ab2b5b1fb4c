//! Time-to-live arguments: `30s`, `5m`, `1h`, `2d`, `250ms`, or a bare
//! number of milliseconds (as the HTTP API's `?ttl=`).

use std::time::Duration;

/// Parses a TTL.
///
/// # Errors
/// A message for anything that is not a positive number with a known unit.
pub(crate) fn parse_ttl(s: &str) -> Result<Duration, String> {
    parse_positive(s, "TTL")
}

/// Parses a timeout, written like a TTL.
///
/// # Errors
/// A message for anything that is not a positive number with a known unit.
pub(crate) fn parse_timeout(s: &str) -> Result<Duration, String> {
    parse_positive(s, "timeout")
}

/// A positive duration in the TTL syntax; `what` names it in messages.
fn parse_positive(s: &str, what: &str) -> Result<Duration, String> {
    let s = s.trim();
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(digits_end);
    let bad = || {
        format!("bad {what} `{s}`: write e.g. 30s, 5m, 1h, 2d, 250ms or a number of milliseconds")
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let ms_per_unit: u64 = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    let ms = n
        .checked_mul(ms_per_unit)
        .ok_or_else(|| format!("{what} `{s}` is too long"))?;
    if ms == 0 {
        return Err(format!("{what} `{s}` is zero: a {what} must be positive"));
    }
    Ok(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_bare_milliseconds() {
        let ms = Duration::from_millis;
        assert_eq!(parse_ttl("1500"), Ok(ms(1500)));
        assert_eq!(parse_ttl("250ms"), Ok(ms(250)));
        assert_eq!(parse_ttl("30s"), Ok(ms(30_000)));
        assert_eq!(parse_ttl("5m"), Ok(ms(300_000)));
        assert_eq!(parse_ttl("1h"), Ok(ms(3_600_000)));
        assert_eq!(parse_ttl("2d"), Ok(ms(172_800_000)));
    }

    #[test]
    fn bad_ttls_are_refused_with_a_reason() {
        for bad in ["", "s", "10x", "-5s", "1.5s", "5 m", "m5"] {
            assert!(parse_ttl(bad).unwrap_err().contains("bad TTL"), "{bad}");
        }
        assert!(parse_ttl("0s").unwrap_err().contains("positive"));
        assert!(
            parse_ttl("99999999999999999d")
                .unwrap_err()
                .contains("too long")
        );
    }
}
