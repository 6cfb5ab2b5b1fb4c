//! A `VersionEdit` and its `FileMetadata` decode to exactly what was encoded,
//! and decoding garbage or a cut edit never panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use proptest::prelude::*;
use strata::manifest::{FileMetadata, VersionEdit};
use strata_core::SliceReader;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn edit_round_trips(edit in common::any_edit()) {
        let bytes = edit.encode();
        let decoded = VersionEdit::decode_from(&bytes, Path::new("M"), 3).unwrap();
        prop_assert_eq!(&decoded, &edit);
        prop_assert_eq!(decoded.encode(), bytes);
    }

    #[test]
    fn file_metadata_round_trips_and_consumes_exactly(meta in common::any_meta(), tail: Vec<u8>) {
        let mut bytes = Vec::new();
        meta.encode_into(&mut bytes);
        let len = bytes.len();
        bytes.extend_from_slice(&tail);
        let mut r = SliceReader::new(&bytes);
        let with_shadowed = meta.num_shadowed.is_some();
        let decoded = FileMetadata::decode_from(&mut r, with_shadowed, Path::new("M"), 0).unwrap();
        prop_assert_eq!(decoded, meta);
        prop_assert_eq!(r.position(), len);
    }

    #[test]
    fn cut_or_garbage_edits_never_panic(edit in common::any_edit(), cut: prop::sample::Index, junk: Vec<u8>) {
        let bytes = edit.encode();
        let cut = cut.index(bytes.len() + 1);
        let _ = VersionEdit::decode_from(&bytes[..cut], Path::new("M"), 0);
        if let Ok(e) = VersionEdit::decode_from(&junk, Path::new("M"), 0) {
            // Whatever decodes is valid and re-encodes to something equal.
            prop_assert_eq!(VersionEdit::decode_from(&e.encode(), Path::new("M"), 0).unwrap(), e);
        }
    }
}
