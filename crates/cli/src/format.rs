//! Plain-text output helpers: byte sizes, times and aligned tables.

/// `bytes` in binary units with one decimal (`512 B`, `1.5 KiB`, `3.0 GiB`).
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// `bytes` exactly, with the binary-unit form after it from 1 KiB on
/// (`512 B`, `1536 B (1.5 KiB)`): for inspection output, where the exact
/// number matters.
pub(crate) fn exact_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else {
        format!("{bytes} B ({})", human_bytes(bytes))
    }
}

/// Unix milliseconds as an ISO 8601 UTC time, `2023-11-14T22:13:20.000Z`.
pub(crate) fn utc(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's `civil_from_days`, for days on or after 1970-01-01.
    // u64::MAX ms is about 2.1e11 days: every step fits in a u64.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60,
        unix_ms % 1000
    )
}

/// A table: a header row and data rows, columns two spaces apart, the
/// first column and those in `left` left-aligned, the others (numbers)
/// right-aligned.
pub(crate) fn table(header: &[&str], left: &[usize], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(width) => *width = (*width).max(w),
                None => widths.push(w),
            }
        }
    }
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, &w))| {
                if i == 0 || left.contains(&i) {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(64 << 20), "64.0 MiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }

    #[test]
    fn exact_sizes_keep_the_number() {
        assert_eq!(exact_bytes(1023), "1023 B");
        assert_eq!(exact_bytes(1536), "1536 B (1.5 KiB)");
    }

    #[test]
    fn times_are_utc_calendar_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(utc(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(utc(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
        assert_eq!(utc(253_402_300_800_000), "10000-01-01T00:00:00.000Z");
        // The largest input does not overflow.
        assert!(utc(u64::MAX).ends_with(".615Z"));
    }

    #[test]
    fn tables_align_their_columns() {
        let t = table(
            &["level", "files"],
            &[],
            &[
                vec!["L0".into(), "3".into()],
                vec!["total".into(), "120".into()],
            ],
        );
        assert_eq!(t, "level  files\nL0         3\ntotal    120\n");
        let t = table(
            &["a", "b", "note"],
            &[2],
            &[vec!["x".into(), "1".into(), "y".into()]],
        );
        assert_eq!(t, "a  b  note\nx  1  y\n");
    }
}
