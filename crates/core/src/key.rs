//! Sequence numbers, value kinds and internal keys.
//!
//! An internal key is a user key tagged with the sequence number of the write
//! that produced it and the kind of that write. Internal keys order by
//!
//! 1. user key, ascending (bytewise, shorter first on a common prefix), then
//! 2. sequence number, **descending** (newest version first), then
//! 3. kind discriminant, descending (only matters for seek keys; real writes
//!    never share a sequence number).
//!
//! So a forward scan meets, for each user key, its newest version first, and a
//! read at snapshot `s` seeks to `(key, s, ValueKind::SEEK)` and takes the first
//! entry with the same user key.
//!
//! Encoded form (used in SST blocks): `user_key ‖ trailer`, where `trailer` is a
//! little-endian `u64` holding `seqno << 8 | kind`. [`compare_internal_keys`]
//! orders encoded keys exactly as [`InternalKey`]'s `Ord` orders decoded ones.

use std::cmp::Ordering;

use bytes::Bytes;

use crate::coding::{decode_fixed64, put_fixed64};

/// A write's sequence number. Strictly increasing across all writes of a
/// database; a snapshot is the sequence number of the newest write it sees.
pub type SeqNo = u64;

/// The largest sequence number: the trailer keeps 56 bits for it.
pub const MAX_SEQNO: SeqNo = (1 << 56) - 1;

/// Bytes of the trailer that follows the user key in an encoded internal key.
pub const TRAILER_LEN: usize = 8;

/// Largest user key strata accepts (64 KiB).
pub const MAX_KEY_SIZE: usize = 64 * 1024;

/// Largest value strata accepts unless configured lower (256 MiB).
pub const MAX_VALUE_SIZE: usize = 256 * 1024 * 1024;

/// What a write did to its key.
///
/// These discriminants are stored on disk (WAL records and SST keys):
/// never renumber them, only add new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum ValueKind {
    /// A tombstone: the key is deleted as of this sequence number.
    Delete = 0,
    /// A plain value.
    Put = 1,
    /// A value with an expiry time. The stored value starts with the expiry as
    /// 8 little-endian bytes of unix milliseconds; see [`ExpiringValue`].
    PutWithExpiry = 2,
}

impl ValueKind {
    /// The kind used in seek keys: the largest discriminant, so that a seek to
    /// `(key, s, SEEK)` lands on the newest entry with sequence number `<= s`.
    pub const SEEK: ValueKind = ValueKind::PutWithExpiry;

    /// Decodes a persisted discriminant; `None` for unknown values.
    pub fn from_u8(b: u8) -> Option<Self> {
        match b {
            0 => Some(ValueKind::Delete),
            1 => Some(ValueKind::Put),
            2 => Some(ValueKind::PutWithExpiry),
            _ => None,
        }
    }

    /// True for the kinds that carry a value.
    pub fn is_put(self) -> bool {
        !matches!(self, ValueKind::Delete)
    }
}

/// Packs a sequence number and kind into the 8-byte trailer value.
///
/// A `seqno` above [`MAX_SEQNO`] saturates to it: for a seek key that means
/// "newest", the only meaning a larger snapshot can have. Writers never get
/// that far: write batches and table builders refuse such sequence numbers.
#[inline]
pub fn pack_trailer(seqno: SeqNo, kind: ValueKind) -> u64 {
    (seqno.min(MAX_SEQNO) << 8) | kind as u64
}

/// Splits a trailer into sequence number and kind; `None` if the kind is unknown.
#[inline]
pub fn unpack_trailer(trailer: u64) -> Option<(SeqNo, ValueKind)> {
    Some((trailer >> 8, ValueKind::from_u8(trailer as u8)?))
}

/// An owned internal key. See the module docs for its order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InternalKey {
    /// The caller's key.
    pub user_key: Bytes,
    /// Sequence number of the write.
    pub seqno: SeqNo,
    /// What the write did.
    pub kind: ValueKind,
}

impl InternalKey {
    /// Builds an internal key.
    pub fn new(user_key: impl Into<Bytes>, seqno: SeqNo, kind: ValueKind) -> Self {
        Self {
            user_key: user_key.into(),
            seqno,
            kind,
        }
    }

    /// The key that sorts just before every version of `user_key` visible at
    /// snapshot `seqno`.
    pub fn seek_key(user_key: impl Into<Bytes>, seqno: SeqNo) -> Self {
        Self::new(user_key, seqno, ValueKind::SEEK)
    }

    /// Bytes of the encoded form.
    pub fn encoded_len(&self) -> usize {
        self.user_key.len() + TRAILER_LEN
    }

    /// Appends the encoded form (`user_key ‖ trailer`) to `dst`.
    pub fn encode_into(&self, dst: &mut Vec<u8>) {
        dst.extend_from_slice(&self.user_key);
        put_fixed64(dst, pack_trailer(self.seqno, self.kind));
    }

    /// The encoded form as a new vector.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut v);
        v
    }

    /// Decodes an encoded internal key; `None` if it is shorter than the trailer
    /// or its kind is unknown.
    pub fn decode_from(encoded: &[u8]) -> Option<Self> {
        let r = InternalKeyRef::decode_from(encoded)?;
        Some(Self::new(
            Bytes::copy_from_slice(r.user_key),
            r.seqno,
            r.kind,
        ))
    }

    /// A borrowed view of this key.
    pub fn as_ref(&self) -> InternalKeyRef<'_> {
        InternalKeyRef {
            user_key: &self.user_key,
            seqno: self.seqno,
            kind: self.kind,
        }
    }
}

impl Ord for InternalKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_ref().cmp(&other.as_ref())
    }
}

impl PartialOrd for InternalKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A borrowed internal key, as decoded in place from a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InternalKeyRef<'a> {
    /// The caller's key.
    pub user_key: &'a [u8],
    /// Sequence number of the write.
    pub seqno: SeqNo,
    /// What the write did.
    pub kind: ValueKind,
}

impl<'a> InternalKeyRef<'a> {
    /// Decodes `user_key ‖ trailer`; `None` if too short or the kind is unknown.
    pub fn decode_from(encoded: &'a [u8]) -> Option<Self> {
        let split = encoded.len().checked_sub(TRAILER_LEN)?;
        let (user_key, trailer) = encoded.split_at(split);
        let (seqno, kind) = unpack_trailer(decode_fixed64(trailer)?)?;
        Some(Self {
            user_key,
            seqno,
            kind,
        })
    }

    /// Appends the encoded form (`user_key ‖ trailer`) to `dst`.
    pub fn encode_into(&self, dst: &mut Vec<u8>) {
        dst.extend_from_slice(self.user_key);
        put_fixed64(dst, pack_trailer(self.seqno, self.kind));
    }

    /// An owned copy.
    pub fn to_owned(&self) -> InternalKey {
        InternalKey::new(Bytes::copy_from_slice(self.user_key), self.seqno, self.kind)
    }
}

impl Ord for InternalKeyRef<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_user_keys(self.user_key, other.user_key)
            .then_with(|| other.seqno.cmp(&self.seqno))
            .then_with(|| (other.kind as u8).cmp(&(self.kind as u8)))
    }
}

impl PartialOrd for InternalKeyRef<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders two user keys bytewise, exactly as `a.cmp(b)` on slices does.
///
/// Keys of a few words (the common case: 8 to 32 bytes) compare as
/// big-endian 8-byte words inline, which is cheaper than the `memcmp` call
/// the slice comparison makes; long keys still take `memcmp`.
#[inline]
pub fn compare_user_keys(a: &[u8], b: &[u8]) -> Ordering {
    if a.len() > 32 && b.len() > 32 {
        return a.cmp(b);
    }
    let (mut a, mut b) = (a, b);
    while let (Some((wa, ra)), Some((wb, rb))) =
        (a.split_first_chunk::<8>(), b.split_first_chunk::<8>())
    {
        let (x, y) = (u64::from_be_bytes(*wa), u64::from_be_bytes(*wb));
        if x != y {
            return x.cmp(&y);
        }
        (a, b) = (ra, rb);
    }
    a.cmp(b)
}

/// Orders two encoded internal keys as [`InternalKey`]'s `Ord` does.
///
/// Never panics: an input shorter than the trailer (only possible with corrupt
/// data) is treated as a user key with trailer 0.
#[inline]
pub fn compare_internal_keys(a: &[u8], b: &[u8]) -> Ordering {
    let (ua, ta) = split_encoded(a);
    let (ub, tb) = split_encoded(b);
    compare_user_keys(ua, ub).then_with(|| tb.cmp(&ta))
}

/// Splits an encoded internal key into its user key and raw trailer value.
#[inline]
pub fn split_encoded(encoded: &[u8]) -> (&[u8], u64) {
    match encoded.len().checked_sub(TRAILER_LEN) {
        Some(split) => {
            let (user_key, trailer) = encoded.split_at(split);
            (user_key, decode_fixed64(trailer).unwrap_or(0))
        }
        None => (encoded, 0),
    }
}

/// Helpers for the value layout of [`ValueKind::PutWithExpiry`]:
/// `expires_at_ms: u64 LE ‖ user value`.
#[derive(Debug, Clone, Copy)]
pub struct ExpiringValue;

impl ExpiringValue {
    /// Bytes of the expiry prefix.
    pub const PREFIX_LEN: usize = 8;

    /// Encodes a value that expires at `expires_at_ms` (unix milliseconds).
    pub fn encode(expires_at_ms: u64, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(Self::PREFIX_LEN + value.len());
        put_fixed64(&mut v, expires_at_ms);
        v.extend_from_slice(value);
        v
    }

    /// Splits a stored value into `(expires_at_ms, user value)`; `None` if it is
    /// shorter than the prefix (corrupt).
    pub fn decode(stored: &[u8]) -> Option<(u64, &[u8])> {
        let expires = decode_fixed64(stored)?;
        Some((expires, stored.get(Self::PREFIX_LEN..)?))
    }

    /// Like [`ExpiringValue::decode`] on shared bytes, without copying.
    pub fn decode_bytes(stored: &Bytes) -> Option<(u64, Bytes)> {
        let expires = decode_fixed64(stored)?;
        Some((expires, stored.slice(Self::PREFIX_LEN..)))
    }

    /// True if a value expiring at `expires_at_ms` is expired at `now_ms`.
    /// A value is live up to, but not including, its expiry instant.
    pub fn is_expired(expires_at_ms: u64, now_ms: u64) -> bool {
        now_ms >= expires_at_ms
    }
}

/// The current wall-clock time in unix milliseconds (0 if the clock is before 1970).
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kind_strategy() -> impl Strategy<Value = ValueKind> {
        prop_oneof![
            Just(ValueKind::Delete),
            Just(ValueKind::Put),
            Just(ValueKind::PutWithExpiry)
        ]
    }

    fn key_strategy() -> impl Strategy<Value = InternalKey> {
        (
            proptest::collection::vec(0u8..4, 0..4),
            0..=MAX_SEQNO,
            kind_strategy(),
        )
            .prop_map(|(k, s, kind)| InternalKey::new(k, s, kind))
    }

    #[test]
    fn newest_version_sorts_first() {
        let old = InternalKey::new(&b"a"[..], 5, ValueKind::Put);
        let new = InternalKey::new(&b"a"[..], 9, ValueKind::Delete);
        let next = InternalKey::new(&b"b"[..], 1, ValueKind::Put);
        let prefix = InternalKey::new(&b""[..], 1, ValueKind::Put);
        let mut keys = vec![next.clone(), old.clone(), new.clone(), prefix.clone()];
        keys.sort();
        assert_eq!(keys, vec![prefix, new, old, next]);
    }

    #[test]
    fn seek_key_precedes_visible_versions_only() {
        let seek = InternalKey::seek_key(&b"k"[..], 7);
        assert!(seek <= InternalKey::new(&b"k"[..], 7, ValueKind::PutWithExpiry));
        assert!(seek < InternalKey::new(&b"k"[..], 7, ValueKind::Put));
        assert!(seek < InternalKey::new(&b"k"[..], 6, ValueKind::Delete));
        assert!(seek > InternalKey::new(&b"k"[..], 8, ValueKind::Put));
    }

    #[test]
    fn oversized_seqno_saturates_instead_of_wrapping() {
        let newest = InternalKey::seek_key(&b"k"[..], u64::MAX).encode();
        let real = InternalKey::new(&b"k"[..], MAX_SEQNO - 1, ValueKind::Put).encode();
        assert_eq!(
            compare_internal_keys(&newest, &real),
            std::cmp::Ordering::Less
        );
        assert_eq!(
            unpack_trailer(pack_trailer(u64::MAX, ValueKind::Put)),
            Some((MAX_SEQNO, ValueKind::Put))
        );
    }

    #[test]
    fn decode_rejects_short_and_unknown_kind() {
        assert!(InternalKey::decode_from(&[1, 2, 3]).is_none());
        let mut enc = InternalKey::new(&b"x"[..], 3, ValueKind::Put).encode();
        let last = enc.len() - TRAILER_LEN;
        enc[last] = 77; // kind byte is the low byte of the trailer
        assert!(InternalKey::decode_from(&enc).is_none());
    }

    #[test]
    fn expiring_value_layout() {
        let stored = ExpiringValue::encode(1_700_000_000_000, b"v");
        assert_eq!(stored.len(), 9);
        assert_eq!(
            ExpiringValue::decode(&stored),
            Some((1_700_000_000_000, &b"v"[..]))
        );
        assert!(ExpiringValue::decode(&stored[..7]).is_none());
        assert!(ExpiringValue::is_expired(10, 10));
        assert!(!ExpiringValue::is_expired(10, 9));
    }

    proptest! {
        #[test]
        fn encoded_order_matches_struct_order(a in key_strategy(), b in key_strategy()) {
            let (ea, eb) = (a.encode(), b.encode());
            prop_assert_eq!(compare_internal_keys(&ea, &eb), a.cmp(&b));
            let mut borrowed = vec![7u8];
            a.as_ref().encode_into(&mut borrowed);
            prop_assert_eq!(&borrowed[1..], &ea[..], "the borrowed key encodes alike, appended");
            prop_assert_eq!(InternalKey::decode_from(&ea), Some(a));
        }

        #[test]
        fn user_key_order_is_bytewise_order(
            prefix in proptest::collection::vec(0u8..3, 0..40),
            a in proptest::collection::vec(0u8..3, 0..20),
            b in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            // Shared prefixes of every length, so words tie and the tail decides.
            let a = [prefix.clone(), a].concat();
            let b = [prefix, b].concat();
            prop_assert_eq!(compare_user_keys(&a, &b), a.cmp(&b));
            prop_assert_eq!(compare_user_keys(&b, &a), b.cmp(&a));
            prop_assert_eq!(compare_user_keys(&a, &a), Ordering::Equal);
        }

        #[test]
        fn compare_never_panics(a: Vec<u8>, b: Vec<u8>) {
            let _ = compare_internal_keys(&a, &b);
        }
    }
}
