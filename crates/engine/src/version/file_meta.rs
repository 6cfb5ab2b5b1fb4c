//! [`FileMetadata`]: what the manifest records about one SST file.
//!
//! Compaction strategies plan from this alone (level, size, key range, seqno
//! range, time range, tombstone and shadowed-version counts), without
//! opening the table.

use std::path::Path;

use strata_core::coding::{put_length_prefixed, put_varint64};
use strata_core::{Error, InternalKey, MAX_KEY_SIZE, MAX_SEQNO, Result, SeqNo, SliceReader};

/// Metadata of one SST file, as recorded in the manifest.
///
/// Invariants (checked by [`FileMetadata::validate`] and on decode):
/// `smallest <= largest` (internal-key order), `min_seqno <= max_seqno <=
/// MAX_SEQNO`, `min_time_ms <= max_time_ms`, `num_tombstones + num_expiring
/// <= num_entries`, `num_shadowed < num_entries` (when known and
/// `num_entries > 0`), user keys at most [`MAX_KEY_SIZE`] bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMetadata {
    /// The file number: the table lives in `NNNNNN.sst`.
    pub number: u64,
    /// File size in bytes.
    pub size: u64,
    /// Smallest internal key in the table.
    pub smallest: InternalKey,
    /// Largest internal key in the table.
    pub largest: InternalKey,
    /// Smallest sequence number in the table.
    pub min_seqno: SeqNo,
    /// Largest sequence number in the table.
    pub max_seqno: SeqNo,
    /// Start of the write-time range of the data, unix milliseconds.
    pub min_time_ms: u64,
    /// End of the write-time range of the data, unix milliseconds.
    pub max_time_ms: u64,
    /// Entries of all kinds.
    pub num_entries: u64,
    /// Entries that are tombstones (`ValueKind::Delete`).
    pub num_tombstones: u64,
    /// Entries that carry an expiry (`ValueKind::PutWithExpiry`).
    pub num_expiring: u64,
    /// The latest expiry among them, unix milliseconds (0 if none): once it
    /// has passed and every entry is expiring, the whole file is dead.
    pub max_expiry_ms: u64,
    /// Entries whose user key equals the previous entry's: older versions
    /// below a newer one of the same key. `None` when unknown: a file
    /// recorded by a manifest edit older than this field (tag 5).
    pub num_shadowed: Option<u64>,
}

impl FileMetadata {
    /// Checks the invariants listed on the type; `Err` names the first broken one.
    ///
    /// # Errors
    /// A description of the violated invariant.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let n = self.number;
        if self.smallest > self.largest {
            return Err(format!("file {n}: smallest key is above largest key"));
        }
        if self.min_seqno > self.max_seqno || self.max_seqno > MAX_SEQNO {
            return Err(format!(
                "file {n}: bad seqno range {}..={}",
                self.min_seqno, self.max_seqno
            ));
        }
        if self.min_time_ms > self.max_time_ms {
            return Err(format!(
                "file {n}: bad time range {}..={}",
                self.min_time_ms, self.max_time_ms
            ));
        }
        if self
            .num_tombstones
            .checked_add(self.num_expiring)
            .is_none_or(|counted| counted > self.num_entries)
        {
            return Err(format!(
                "file {n}: {} tombstones and {} expiring entries but {} entries",
                self.num_tombstones, self.num_expiring, self.num_entries
            ));
        }
        // The first entry has no predecessor to shadow it.
        if let Some(shadowed) = self.num_shadowed
            && shadowed >= self.num_entries.max(1)
        {
            return Err(format!(
                "file {n}: {shadowed} shadowed versions but {} entries",
                self.num_entries
            ));
        }
        if self.smallest.user_key.len() > MAX_KEY_SIZE || self.largest.user_key.len() > MAX_KEY_SIZE
        {
            return Err(format!(
                "file {n}: user key longer than {MAX_KEY_SIZE} bytes"
            ));
        }
        Ok(())
    }

    /// Appends the encoding (see `docs/format.md`, "Manifest and CURRENT"):
    /// the fields of a tag-5 addition, then `num_shadowed` if it is known
    /// (the caller writes tag 6 then, tag 5 otherwise).
    pub fn encode_into(&self, dst: &mut Vec<u8>) {
        put_varint64(dst, self.number);
        put_varint64(dst, self.size);
        put_length_prefixed(dst, &self.smallest.encode());
        put_length_prefixed(dst, &self.largest.encode());
        for v in [
            self.min_seqno,
            self.max_seqno,
            self.min_time_ms,
            self.max_time_ms,
            self.num_entries,
            self.num_tombstones,
            self.num_expiring,
            self.max_expiry_ms,
        ] {
            put_varint64(dst, v);
        }
        if let Some(shadowed) = self.num_shadowed {
            put_varint64(dst, shadowed);
        }
    }

    /// Decodes one `FileMetadata` from `r` and validates it: with
    /// `num_shadowed` (the payload of tag 6) if `with_shadowed`, else (tag 5)
    /// with the count unknown.
    ///
    /// `file` and `offset` (the manifest record's offset) name the record in errors.
    ///
    /// # Errors
    /// [`Error::Corruption`] if the bytes are short, a key does not decode, or
    /// an invariant is broken.
    pub fn decode_from(
        r: &mut SliceReader<'_>,
        with_shadowed: bool,
        file: &Path,
        offset: u64,
    ) -> Result<Self> {
        let at = r.position();
        let bad = |what: &str| {
            Error::corruption(
                file,
                offset,
                format!("file metadata at byte {at} of the edit: {what}"),
            )
        };
        let number = r.varint64().ok_or_else(|| bad("truncated file number"))?;
        let size = r.varint64().ok_or_else(|| bad("truncated size"))?;
        let mut key = |name: &str| {
            let raw = r
                .length_prefixed()
                .ok_or_else(|| bad(&format!("truncated {name} key")))?;
            InternalKey::decode_from(raw).ok_or_else(|| bad(&format!("{name} key does not decode")))
        };
        let smallest = key("smallest")?;
        let largest = key("largest")?;
        let mut nums = [0u64; 8];
        for v in &mut nums {
            *v = r
                .varint64()
                .ok_or_else(|| bad("truncated ranges or counts"))?;
        }
        let [
            min_seqno,
            max_seqno,
            min_time_ms,
            max_time_ms,
            num_entries,
            num_tombstones,
            num_expiring,
            max_expiry_ms,
        ] = nums;
        let num_shadowed = if with_shadowed {
            Some(
                r.varint64()
                    .ok_or_else(|| bad("truncated shadowed count"))?,
            )
        } else {
            None
        };
        let meta = Self {
            number,
            size,
            smallest,
            largest,
            min_seqno,
            max_seqno,
            min_time_ms,
            max_time_ms,
            num_entries,
            num_tombstones,
            num_expiring,
            max_expiry_ms,
            num_shadowed,
        };
        meta.validate().map_err(|reason| bad(&reason))?;
        Ok(meta)
    }
}
