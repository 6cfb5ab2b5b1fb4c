//! Splitting a shell line into words.
//!
//! Words are separated by ASCII whitespace. Within a word, `"..."` quotes
//! text with escapes (`\x00`, `\n`, `\"`, ... see [`crate::escape`]),
//! `'...'` quotes text literally, and a bare backslash escapes as inside
//! double quotes; quoted and bare parts join into one word (`a"b c"d` is
//! `ab cd`). A `#` where a word would start comments out the rest of the
//! line. Words are bytes: keys and values need not be UTF-8.
//!
//! [`render_word`] writes a word back so that [`split`] reads the same
//! word: the shell prints keys that way, ready to paste into `get` or `del`.

use crate::escape::{EscapeError, decode_escape, quote};

/// Why a line does not split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(pub(crate) String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<EscapeError> for ParseError {
    fn from(e: EscapeError) -> Self {
        ParseError(e.0)
    }
}

/// The words of `line` (no words for a blank or comment line).
///
/// # Errors
/// An unterminated quote or a bad escape.
pub(crate) fn split(line: &[u8]) -> Result<Vec<Vec<u8>>, ParseError> {
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while line.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        match line.get(i) {
            None | Some(b'#') => return Ok(words),
            Some(_) => {}
        }
        let mut word = Vec::new();
        while let Some(&b) = line.get(i) {
            match b {
                b if b.is_ascii_whitespace() => break,
                b'"' => {
                    i += 1;
                    loop {
                        match line.get(i) {
                            None => {
                                return Err(ParseError(
                                    "unterminated \" quote (close it with \")".into(),
                                ));
                            }
                            Some(b'"') => break,
                            Some(b'\\') => {
                                let (byte, used) =
                                    decode_escape(line.get(i + 1..).unwrap_or_default())?;
                                word.push(byte);
                                i += used;
                            }
                            Some(&c) => word.push(c),
                        }
                        i += 1;
                    }
                }
                b'\'' => {
                    i += 1;
                    loop {
                        match line.get(i) {
                            None => {
                                return Err(ParseError(
                                    "unterminated ' quote (close it with ')".into(),
                                ));
                            }
                            Some(b'\'') => break,
                            Some(&c) => word.push(c),
                        }
                        i += 1;
                    }
                }
                b'\\' => {
                    let (byte, used) = decode_escape(line.get(i + 1..).unwrap_or_default())?;
                    word.push(byte);
                    i += used;
                }
                c => word.push(c),
            }
            i += 1;
        }
        words.push(word);
    }
}

/// `word` as [`split`] reads it back: bare when it is printable UTF-8 text
/// with no whitespace, quotes or backslashes (and no leading `#`),
/// otherwise double-quoted with escapes.
pub(crate) fn render_word(word: &[u8]) -> String {
    let plain = match std::str::from_utf8(word) {
        Ok(s) => {
            !s.is_empty()
                && !s.starts_with('#')
                && !s.chars().any(|c| {
                    c.is_control() || c.is_ascii_whitespace() || matches!(c, '"' | '\'' | '\\')
                })
        }
        Err(_) => false,
    };
    if plain {
        String::from_utf8_lossy(word).into_owned()
    } else {
        quote(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `words` rendered and joined by spaces: a line `split` reads back.
    fn render_line<W: AsRef<[u8]>>(words: &[W]) -> String {
        words
            .iter()
            .map(|w| render_word(w.as_ref()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn words(line: &str) -> Vec<Vec<u8>> {
        split(line.as_bytes()).unwrap()
    }

    fn err(line: &str) -> String {
        split(line.as_bytes()).unwrap_err().0
    }

    #[test]
    fn whitespace_separates_words() {
        assert_eq!(words("  set  k\tv  "), [&b"set"[..], b"k", b"v"]);
        assert!(words("").is_empty());
        assert!(words("   \t ").is_empty());
    }

    #[test]
    fn double_quotes_keep_spaces_and_decode_escapes() {
        assert_eq!(
            words(r#"set "my key" "a\x00b\n\"q\"""#),
            [&b"set"[..], b"my key", b"a\x00b\n\"q\""]
        );
        assert_eq!(words(r#"get """#), [&b"get"[..], b""]);
    }

    #[test]
    fn single_quotes_are_literal() {
        assert_eq!(
            words(r#"set 'C:\dir\x00' 'say \"hi'"#),
            [&b"set"[..], br"C:\dir\x00", br#"say \"hi"#]
        );
    }

    #[test]
    fn bare_backslashes_escape_and_parts_join() {
        assert_eq!(words(r"get a\x00b"), [&b"get"[..], b"a\x00b"]);
        assert_eq!(words(r#"get a"b c"'d e'f"#), [&b"get"[..], b"ab cd ef"]);
    }

    #[test]
    fn hash_comments_out_the_rest_only_where_a_word_starts() {
        assert!(words("# a comment").is_empty());
        assert_eq!(words("set k v # note"), [&b"set"[..], b"k", b"v"]);
        assert_eq!(words("set k a#b"), [&b"set"[..], b"k", b"a#b"]);
        assert_eq!(words("set k \"#v\""), [&b"set"[..], b"k", b"#v"]);
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        assert!(err(r#"set "k v"#).contains("unterminated \" quote"));
        assert!(err("set 'k v").contains("unterminated ' quote"));
        assert!(err(r#"get "a\qb""#).contains("unknown escape \\q"));
        assert!(err(r#"get "\x4""#).contains("two hex digits"));
        assert!(err(r"get abc\").contains("backslash ends"));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_words_too() {
        assert_eq!(split(b"get \xff\xfe").unwrap(), [&b"get"[..], b"\xff\xfe"]);
    }

    #[test]
    fn rendering_quotes_only_what_needs_it() {
        assert_eq!(render_line(&[&b"set"[..], b"k", b"v w"]), r#"set k "v w""#);
        assert_eq!(render_word(b""), r#""""#);
        assert_eq!(render_word(b"#x"), r##""#x""##);
        assert_eq!(render_word(b"a\\b"), r#""a\\b""#);
        assert_eq!(render_word("é".as_bytes()), "é");
        assert_eq!(render_word(b"\x00"), r#""\x00""#);
    }

    fn word() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..12),
            "[a-z #'\"\\\\]{0,8}".prop_map(String::into_bytes),
            "\\PC{0,6}".prop_map(String::into_bytes),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn split_reads_back_what_render_wrote(args in proptest::collection::vec(word(), 0..6)) {
            prop_assert_eq!(split(render_line(&args).as_bytes()).unwrap(), args);
        }

        #[test]
        fn split_never_panics(line in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = split(&line);
        }
    }
}
