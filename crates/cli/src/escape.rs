//! Byte strings as text: the escapes the shell reads inside `"..."` (and in
//! bare words, and in one-shot arguments with `--escapes`) and the quoted
//! form the CLI prints for bytes that are not plain text.
//!
//! Escapes: `\\` `\"` `\'` `\n` `\r` `\t` `\0` and `\xHH` (one byte, two hex
//! digits). [`quote`] only produces these, so `unescape` of its inside gives
//! the bytes back.

use std::fmt::Write as _;

/// Why an escaped string does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EscapeError(pub(crate) String);

impl std::fmt::Display for EscapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EscapeError {}

/// Decodes the escape that follows a backslash, from `rest` (the bytes
/// after the backslash). Returns the byte and how many bytes of `rest` it
/// used.
pub(crate) fn decode_escape(rest: &[u8]) -> Result<(u8, usize), EscapeError> {
    let Some(&c) = rest.first() else {
        return Err(EscapeError(
            "a backslash ends the input (write \\\\ for a backslash)".into(),
        ));
    };
    let byte = match c {
        b'\\' => b'\\',
        b'"' => b'"',
        b'\'' => b'\'',
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'0' => 0,
        b'x' => {
            let hex = rest.get(1..3).and_then(|h| std::str::from_utf8(h).ok());
            return match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => Ok((b, 3)),
                None => Err(EscapeError(
                    "\\x needs two hex digits, as in \\x00 or \\xff".into(),
                )),
            };
        }
        other => {
            return Err(EscapeError(format!(
                "unknown escape \\{} (known: \\\\ \\\" \\' \\n \\r \\t \\0 \\xHH)",
                String::from_utf8_lossy(&[other])
            )));
        }
    };
    Ok((byte, 1))
}

/// Decodes every escape of `s` (no quotes around it).
///
/// # Errors
/// An unknown escape, a bad `\x`, or a trailing backslash.
pub(crate) fn unescape(s: &[u8]) -> Result<Vec<u8>, EscapeError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'\\' {
            let (byte, used) = decode_escape(s.get(i + 1..).unwrap_or_default())?;
            out.push(byte);
            i += 1 + used;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(out)
}

/// `bytes` in double quotes with escapes: printable UTF-8 characters as
/// they are, everything else escaped.
pub(crate) fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        let _ = write!(out, "\\x{b:02x}");
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
    out
}

/// How the CLI prints a key or value: the text itself when it is UTF-8
/// without control characters (and does not start with `"`), otherwise
/// [`quote`]d. So printed text never contains a tab or a newline, and a
/// printed string starting with `"` is always the quoted form.
pub(crate) fn display(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.is_empty() && !s.starts_with('"') && !s.chars().any(char::is_control) => {
            s.to_owned()
        }
        _ => quote(bytes),
    }
}

/// [`display`] of at most the first `max` bytes of `bytes` (cut at a
/// character boundary for text), followed by `… (N bytes)` when cut.
pub(crate) fn display_cut(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        return display(bytes);
    }
    let cut = match std::str::from_utf8(bytes) {
        Ok(s) => (0..=max)
            .rev()
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(0),
        Err(_) => max,
    };
    let shown = bytes.get(..cut).unwrap_or_default();
    format!("{}… ({} bytes)", display(shown), bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_decode() {
        assert_eq!(
            unescape(br#"a\x00b\xFF\n\t\r\0\\\"\'"#).unwrap(),
            b"a\x00b\xff\n\t\r\0\\\"'"
        );
        assert!(
            unescape(b"\\q")
                .unwrap_err()
                .0
                .contains("unknown escape \\q")
        );
        assert!(unescape(b"\\x1").unwrap_err().0.contains("two hex digits"));
        assert!(unescape(b"\\xzz").unwrap_err().0.contains("two hex digits"));
        assert!(unescape(b"ab\\").unwrap_err().0.contains("backslash ends"));
    }

    #[test]
    fn display_is_plain_for_text_and_quoted_otherwise() {
        assert_eq!(display(b"hello world"), "hello world");
        assert_eq!(display("héllo".as_bytes()), "héllo");
        assert_eq!(display(b""), "\"\"");
        assert_eq!(display(b"a\x00b"), "\"a\\x00b\"");
        assert_eq!(display(b"\xff\xfe"), "\"\\xff\\xfe\"");
        assert_eq!(display(b"tab\there"), "\"tab\\there\"");
        assert_eq!(display(b"\"quoted\""), "\"\\\"quoted\\\"\"");
        assert_eq!(display("\u{85}".as_bytes()), "\"\\xc2\\x85\"");
    }

    #[test]
    fn long_values_are_cut_with_their_length() {
        assert_eq!(display_cut(b"short", 8), "short");
        assert_eq!(display_cut(b"0123456789", 4), "0123… (10 bytes)");
        assert_eq!(display_cut("ééé".as_bytes(), 3), "é… (6 bytes)");
        assert_eq!(display_cut(b"\x00\x01\x02", 2), "\"\\x00\\x01\"… (3 bytes)");
        assert_eq!(display_cut(b"\xff\xfe\xfd", 1), "\"\\xff\"… (3 bytes)");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn unescape_inverts_quote(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let q = quote(&bytes);
            let inner = &q.as_bytes()[1..q.len() - 1];
            prop_assert_eq!(unescape(inner).unwrap(), bytes);
        }

        #[test]
        fn utf8_text_survives_quote(s in "\\PC*") {
            let q = quote(s.as_bytes());
            prop_assert_eq!(unescape(&q.as_bytes()[1..q.len() - 1]).unwrap(), s.as_bytes());
        }
    }
}
