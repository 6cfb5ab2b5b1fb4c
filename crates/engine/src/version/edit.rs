//! [`VersionEdit`]: one atomic change to the set of live files, as stored in
//! one manifest record.
//!
//! Encoding: a sequence of tagged fields, each `varint32 tag ‖ payload`, until
//! the record ends. Scalar fields appear at most once; file removals and
//! additions any number of times. An unknown tag is [`Error::Corruption`]:
//! the payload's length is unknown, so it cannot be skipped. (A future format
//! could reserve a tag bit for length-prefixed, safe-to-ignore fields.)

use std::path::Path;

use strata_core::coding::{put_varint32, put_varint64};
use strata_core::{Error, MAX_SEQNO, Result, SeqNo, SliceReader};

use super::{FileMetadata, MAX_LEVELS};

/// Field tags. On disk: never renumber, only add. 0 is never a tag, so a
/// zero-filled record cannot decode as an edit.
mod tag {
    pub(super) const LOG_NUMBER: u32 = 1;
    pub(super) const NEXT_FILE_NUMBER: u32 = 2;
    pub(super) const LAST_SEQNO: u32 = 3;
    pub(super) const REMOVED_FILE: u32 = 4;
    /// An added file whose shadowed-version count is unknown (written by an
    /// older version for every addition; now only for such files).
    pub(super) const ADDED_FILE: u32 = 5;
    /// An added file: tag 5's payload plus its shadowed-version count.
    pub(super) const ADDED_FILE_V2: u32 = 6;
}

/// A change to the live files and counters, applied atomically.
///
/// Applied (by [`ManifestState::apply`](crate::manifest::ManifestState::apply))
/// removals first, then additions, so a file can move between levels in one
/// edit (a trivial move) by being removed from one and added to another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionEdit {
    /// The oldest live WAL: WALs numbered `>= log_number` hold writes not yet
    /// flushed to an SST; older ones may be deleted.
    pub log_number: Option<u64>,
    /// The next unused file number (tables, WALs and manifests share the space).
    pub next_file_number: Option<u64>,
    /// The largest sequence number whose write is in a flushed table or a live WAL.
    pub last_seqno: Option<SeqNo>,
    /// Files removed: `(level, file number)`.
    pub removed_files: Vec<(u8, u64)>,
    /// Files added: `(level, metadata)`.
    pub added_files: Vec<(u8, FileMetadata)>,
}

impl VersionEdit {
    /// An edit that changes nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `meta` is added at `level`.
    pub fn add_file(&mut self, level: u8, meta: FileMetadata) {
        self.added_files.push((level, meta));
    }

    /// Records that file `number` is removed from `level`.
    pub fn remove_file(&mut self, level: u8, number: u64) {
        self.removed_files.push((level, number));
    }

    /// Appends the encoding: the scalar fields that are set, then removals,
    /// then additions, each in order.
    pub fn encode_into(&self, dst: &mut Vec<u8>) {
        let scalars = [
            (tag::LOG_NUMBER, self.log_number),
            (tag::NEXT_FILE_NUMBER, self.next_file_number),
            (tag::LAST_SEQNO, self.last_seqno),
        ];
        for (t, value) in scalars {
            if let Some(v) = value {
                put_varint32(dst, t);
                put_varint64(dst, v);
            }
        }
        for &(level, number) in &self.removed_files {
            put_varint32(dst, tag::REMOVED_FILE);
            put_varint32(dst, u32::from(level));
            put_varint64(dst, number);
        }
        for (level, meta) in &self.added_files {
            let t = match meta.num_shadowed {
                Some(_) => tag::ADDED_FILE_V2,
                None => tag::ADDED_FILE,
            };
            put_varint32(dst, t);
            put_varint32(dst, u32::from(*level));
            meta.encode_into(dst);
        }
    }

    /// The encoding as a new vector.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode_into(&mut v);
        v
    }

    /// Decodes a whole manifest record. `file` and `offset` (the record's
    /// offset in the manifest) name it in errors.
    ///
    /// Validates every field: levels below [`MAX_LEVELS`], `last_seqno <=
    /// MAX_SEQNO`, no scalar field twice, each [`FileMetadata`]'s invariants.
    /// Consistency with the current state is checked when the edit is applied.
    ///
    /// # Errors
    /// [`Error::Corruption`] for any malformed or out-of-range field, an
    /// unknown tag, or a record that ends inside a field.
    pub fn decode_from(record: &[u8], file: &Path, offset: u64) -> Result<Self> {
        let mut edit = Self::new();
        let mut r = SliceReader::new(record);
        while !r.is_empty() {
            let at = r.position();
            let bad = |what: String| {
                Error::corruption(
                    file,
                    offset,
                    format!("version edit, field at byte {at}: {what}"),
                )
            };
            let t = r.varint32().ok_or_else(|| bad("truncated tag".into()))?;
            match t {
                tag::LOG_NUMBER | tag::NEXT_FILE_NUMBER | tag::LAST_SEQNO => {
                    let v = r
                        .varint64()
                        .ok_or_else(|| bad(format!("truncated value of tag {t}")))?;
                    let slot = match t {
                        tag::LOG_NUMBER => &mut edit.log_number,
                        tag::NEXT_FILE_NUMBER => &mut edit.next_file_number,
                        _ => &mut edit.last_seqno,
                    };
                    if slot.replace(v).is_some() {
                        return Err(bad(format!("tag {t} appears twice")));
                    }
                    if t == tag::LAST_SEQNO && v > MAX_SEQNO {
                        return Err(bad(format!("last seqno {v} above the maximum")));
                    }
                }
                tag::REMOVED_FILE => {
                    let level = decode_level(&mut r).map_err(bad)?;
                    let number = r
                        .varint64()
                        .ok_or_else(|| bad("truncated removed file number".into()))?;
                    edit.removed_files.push((level, number));
                }
                tag::ADDED_FILE | tag::ADDED_FILE_V2 => {
                    let level = decode_level(&mut r).map_err(bad)?;
                    let with_shadowed = t == tag::ADDED_FILE_V2;
                    let meta = FileMetadata::decode_from(&mut r, with_shadowed, file, offset)?;
                    edit.added_files.push((level, meta));
                }
                unknown => return Err(bad(format!("unknown tag {unknown}"))),
            }
        }
        Ok(edit)
    }
}

fn decode_level(r: &mut SliceReader<'_>) -> std::result::Result<u8, String> {
    let level = r.varint32().ok_or_else(|| "truncated level".to_string())?;
    match u8::try_from(level) {
        Ok(l) if usize::from(l) < MAX_LEVELS => Ok(l),
        _ => Err(format!("level {level} is not below {MAX_LEVELS}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::{InternalKey, ValueKind};

    fn meta(number: u64) -> FileMetadata {
        FileMetadata {
            number,
            size: 100,
            smallest: InternalKey::new(&b"a"[..], 5, ValueKind::Put),
            largest: InternalKey::new(&b"z"[..], 1, ValueKind::Delete),
            min_seqno: 1,
            max_seqno: 5,
            min_time_ms: 10,
            max_time_ms: 20,
            num_entries: 3,
            num_tombstones: 1,
            num_expiring: 0,
            max_expiry_ms: 0,
            num_shadowed: Some(1),
        }
    }

    fn decode(bytes: &[u8]) -> Result<VersionEdit> {
        VersionEdit::decode_from(bytes, Path::new("MANIFEST-000001"), 77)
    }

    #[test]
    fn empty_edit_is_empty_record() {
        assert!(VersionEdit::new().encode().is_empty());
        assert_eq!(decode(&[]).unwrap(), VersionEdit::new());
    }

    #[test]
    fn every_field_round_trips() {
        let mut e = VersionEdit::new();
        e.log_number = Some(4);
        e.next_file_number = Some(9);
        e.last_seqno = Some(MAX_SEQNO);
        e.remove_file(1, 3);
        e.add_file(6, meta(8));
        assert_eq!(decode(&e.encode()).unwrap(), e);
    }

    #[test]
    fn rejects_unknown_tag_duplicate_scalar_and_bad_level() {
        for bytes in [
            vec![0u8],              // tag 0 is never used
            vec![7, 0],             // unknown tag
            vec![1, 1, 1, 2],       // log number twice
            vec![4, 7, 1],          // removed from level 7
            vec![4, 0x80, 0x02, 1], // level 256 does not fit u8
            vec![2],                // value missing
        ] {
            let err = decode(&bytes).unwrap_err();
            match err {
                Error::Corruption { offset, .. } => assert_eq!(offset, 77, "{bytes:?}"),
                other => panic!("{bytes:?}: {other}"),
            }
        }
    }

    #[test]
    fn a_file_with_an_unknown_shadowed_count_round_trips_as_tag_5() {
        let mut known = VersionEdit::new();
        known.add_file(1, meta(8));
        let mut unknown = VersionEdit::new();
        unknown.add_file(
            1,
            FileMetadata {
                num_shadowed: None,
                ..meta(8)
            },
        );
        let (known_bytes, unknown_bytes) = (known.encode(), unknown.encode());
        assert_eq!(known_bytes[0], 6);
        assert_eq!(unknown_bytes[0], 5);
        // Tag 6 is tag 5's payload plus the count (one byte here).
        assert_eq!(known_bytes[1..known_bytes.len() - 1], unknown_bytes[1..]);
        assert_eq!(known_bytes.last(), Some(&1));
        assert_eq!(decode(&known_bytes).unwrap(), known);
        assert_eq!(decode(&unknown_bytes).unwrap(), unknown);
    }

    #[test]
    fn rejects_metadata_breaking_invariants() {
        let mut bad = meta(2);
        bad.num_tombstones = 4;
        let mut e = VersionEdit::new();
        e.add_file(0, bad);
        assert!(decode(&e.encode()).unwrap_err().is_corruption());

        let mut swapped = meta(2);
        std::mem::swap(&mut swapped.smallest, &mut swapped.largest);
        let mut e = VersionEdit::new();
        e.add_file(0, swapped);
        assert!(decode(&e.encode()).unwrap_err().is_corruption());

        // 3 entries: at most 2 can sit below a newer version of their key.
        let mut e = VersionEdit::new();
        e.add_file(
            0,
            FileMetadata {
                num_shadowed: Some(2),
                ..meta(2)
            },
        );
        assert!(decode(&e.encode()).is_ok());
        e.added_files[0].1.num_shadowed = Some(3);
        assert!(decode(&e.encode()).unwrap_err().is_corruption());
    }

    #[test]
    fn every_truncation_of_an_edit_fails_or_is_a_field_prefix() {
        let mut e = VersionEdit::new();
        e.log_number = Some(300);
        e.add_file(2, meta(1234));
        let bytes = e.encode();
        for cut in 0..bytes.len() {
            if let Ok(d) = decode(&bytes[..cut]) {
                // Only a cut between fields decodes, and yields fewer fields.
                assert!(d.added_files.is_empty(), "cut {cut}");
            }
        }
    }
}

/// The worked example of `docs/format.md` ("Manifest and CURRENT"), byte for
/// byte: a format change that breaks it fails here.
#[cfg(test)]
mod golden {
    use super::*;
    use strata_core::{InternalKey, ValueKind};

    pub(crate) fn example_edit() -> VersionEdit {
        let mut e = VersionEdit::new();
        e.log_number = Some(4);
        e.next_file_number = Some(5);
        e.last_seqno = Some(10);
        e.remove_file(0, 2);
        e.add_file(
            1,
            FileMetadata {
                number: 3,
                size: 4096,
                smallest: InternalKey::new(&b"a"[..], 7, ValueKind::Put),
                largest: InternalKey::new(&b"c"[..], 9, ValueKind::Delete),
                min_seqno: 1,
                max_seqno: 10,
                min_time_ms: 1000,
                max_time_ms: 2000,
                num_entries: 10,
                num_tombstones: 1,
                num_expiring: 2,
                max_expiry_ms: 3000,
                num_shadowed: Some(3),
            },
        );
        e
    }

    const EXAMPLE_HEX: &str = concat!(
        "0104",
        "0205",
        "030a",
        "040002",
        "0601",
        "03",
        "8020",
        "09",
        "61",
        "0107000000000000",
        "09",
        "63",
        "0009000000000000",
        "010a",
        "e807d00f",
        "0a01",
        "02b817",
        "03",
    );

    /// The same edit as an older writer recorded it: tag 5, no shadowed count.
    const EXAMPLE_TAG_5_HEX: &str = concat!(
        "0104",
        "0205",
        "030a",
        "040002",
        "0501",
        "03",
        "8020",
        "09",
        "61",
        "0107000000000000",
        "09",
        "63",
        "0009000000000000",
        "010a",
        "e807d00f",
        "0a01",
        "02b817",
    );

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn worked_example_encodes_as_documented() {
        let bytes = example_edit().encode();
        assert_eq!(hex(&bytes), EXAMPLE_HEX);
        let decoded = VersionEdit::decode_from(&bytes, Path::new("M"), 0).unwrap();
        assert_eq!(decoded, example_edit());
    }

    #[test]
    fn tag_5_example_decodes_with_an_unknown_count_and_re_encodes_as_tag_5() {
        let bytes: Vec<u8> = (0..EXAMPLE_TAG_5_HEX.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&EXAMPLE_TAG_5_HEX[i..i + 2], 16).unwrap())
            .collect();
        let decoded = VersionEdit::decode_from(&bytes, Path::new("M"), 0).unwrap();
        let mut expected = example_edit();
        expected.added_files[0].1.num_shadowed = None;
        assert_eq!(decoded, expected);
        assert_eq!(hex(&decoded.encode()), EXAMPLE_TAG_5_HEX);
    }
}
