//! The skiplist's key type and allocation-free lookups into it.
//!
//! Nodes are keyed by [`MemKey`]: core's [`InternalKey`] plus the first
//! [`PREFIX_LEN`] bytes of the user key packed into a big-endian `u128`. The
//! prefix lives inline in the skiplist node, so most comparisons during a
//! search never dereference the user key's buffer (one cache miss saved per
//! visited node): keys of up to 16 bytes are decided by the prefix and their
//! lengths, equal ones too, which matters where a key has many versions.
//!
//! Seeking with an owned key would copy the caller's user key into a fresh
//! `Bytes` on every `get` and `seek`, so the map is searched through
//! `dyn KeyView` instead: [`MemKey`], the borrowed [`LookupKey`] and the owned
//! [`BoundKey`] implement [`KeyView`], and `MemKey: Borrow<dyn KeyView>`.
//!
//! Invariants (required by `Borrow` and by the crate's ordering contract):
//! * the order of `dyn KeyView` equals the order of `MemKey`, which equals
//!   `InternalKey`'s `Ord` from core: user key ascending, then sequence number
//!   descending, then kind discriminant descending;
//! * comparing zero-padded prefixes first is sound: if two padded prefixes
//!   differ, they differ at a byte where bytewise order of the full keys is
//!   decided the same way (a zero pad only ever stands for "key ended", and a
//!   key that ended is a prefix of the other, hence smaller); equal prefixes
//!   fall back to the full keys.
//!
//! The kind is compared as a raw `u8` so bounds can use [`TAG_FIRST`] /
//! [`TAG_LAST`], which sort before/after every real kind at the same
//! (user key, seqno).

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::ops::{Bound, RangeBounds};

use bytes::Bytes;
use strata_core::{InternalKey, SeqNo};

/// Kind tag that sorts before every real kind at the same (user key, seqno).
pub(crate) const TAG_FIRST: u8 = u8::MAX;
/// Kind tag that sorts after every real kind at the same (user key, seqno).
pub(crate) const TAG_LAST: u8 = 0;
/// User-key bytes kept inline in each node.
pub(crate) const PREFIX_LEN: usize = 16;

/// The first [`PREFIX_LEN`] bytes of `user_key`, zero-padded, big-endian.
#[inline]
pub(crate) fn key_prefix(user_key: &[u8]) -> u128 {
    let mut buf = [0u8; PREFIX_LEN];
    let n = user_key.len().min(PREFIX_LEN);
    if let (Some(dst), Some(src)) = (buf.get_mut(..n), user_key.get(..n)) {
        dst.copy_from_slice(src);
    }
    u128::from_be_bytes(buf)
}

/// Everything the order looks at, fetched with one (virtual) call.
#[derive(Clone, Copy)]
pub(crate) struct Parts<'a> {
    prefix: u128,
    user_key: &'a [u8],
    seqno: SeqNo,
    tag: u8,
}

impl Parts<'_> {
    #[inline]
    fn cmp(&self, other: &Parts<'_>) -> Ordering {
        self.prefix
            .cmp(&other.prefix)
            .then_with(|| same_prefix_cmp(self.user_key, other.user_key))
            .then_with(|| other.seqno.cmp(&self.seqno))
            .then_with(|| other.tag.cmp(&self.tag))
    }

    /// True if both are versions of the same user key.
    #[inline]
    pub(crate) fn same_user_key(&self, other: &Parts<'_>) -> bool {
        self.prefix == other.prefix
            && same_prefix_cmp(self.user_key, other.user_key) == Ordering::Equal
    }
}

/// Orders two user keys whose zero-padded prefixes are equal. If both fit in
/// the prefix, they agree on their common length and the longer one has
/// only zeros beyond it, so the shorter sorts first and equal lengths mean
/// equal keys: decided without reading the key bytes (a cache miss each
/// when they live in a write batch's buffer, not in the node).
#[inline]
fn same_prefix_cmp(a: &[u8], b: &[u8]) -> Ordering {
    if a.len() <= PREFIX_LEN && b.len() <= PREFIX_LEN {
        a.len().cmp(&b.len())
    } else {
        a.cmp(b)
    }
}

/// A view of an internal key, ordered like [`InternalKey`].
pub(crate) trait KeyView {
    fn parts(&self) -> Parts<'_>;
}

/// A skiplist key: the internal key plus its inline user-key prefix.
///
/// `repr(C)` keeps the prefix at the end of the key, next to the node's
/// reference count and tower that a search touches anyway.
#[repr(C)]
pub(crate) struct MemKey {
    pub(crate) ikey: InternalKey,
    prefix: u128,
}

impl MemKey {
    #[inline]
    pub(crate) fn new(ikey: InternalKey) -> Self {
        Self {
            prefix: key_prefix(&ikey.user_key),
            ikey,
        }
    }
}

impl KeyView for MemKey {
    #[inline]
    fn parts(&self) -> Parts<'_> {
        Parts {
            prefix: self.prefix,
            user_key: &self.ikey.user_key,
            seqno: self.ikey.seqno,
            tag: self.ikey.kind as u8,
        }
    }
}

impl PartialEq for MemKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MemKey {}

impl PartialOrd for MemKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MemKey {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().cmp(&other.parts())
    }
}

impl<'a> Borrow<dyn KeyView + 'a> for MemKey {
    #[inline]
    fn borrow(&self) -> &(dyn KeyView + 'a) {
        self
    }
}

impl PartialEq for dyn KeyView + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for dyn KeyView + '_ {}

impl PartialOrd for dyn KeyView + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn KeyView + '_ {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().cmp(&other.parts())
    }
}

/// A borrowed search key: never stored, only compared against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LookupKey<'a> {
    prefix: u128,
    user_key: &'a [u8],
    seqno: SeqNo,
    tag: u8,
}

impl<'a> LookupKey<'a> {
    /// A search key with an explicit seqno and kind tag.
    pub(crate) fn new(user_key: &'a [u8], seqno: SeqNo, tag: u8) -> Self {
        Self {
            prefix: key_prefix(user_key),
            user_key,
            seqno,
            tag,
        }
    }

    /// Sorts before every version of `user_key`.
    pub(crate) fn first_of(user_key: &'a [u8]) -> Self {
        Self::new(user_key, SeqNo::MAX, TAG_FIRST)
    }

    /// Sorts after every version of `user_key`.
    pub(crate) fn last_of(user_key: &'a [u8]) -> Self {
        Self::new(user_key, 0, TAG_LAST)
    }

    /// Sorts just before the newest version of `user_key` with seqno `<= snapshot`.
    pub(crate) fn visible_at(user_key: &'a [u8], snapshot: SeqNo) -> Self {
        Self::new(user_key, snapshot, TAG_FIRST)
    }

    pub(crate) fn as_dyn(&self) -> &(dyn KeyView + 'a) {
        self
    }
}

impl KeyView for LookupKey<'_> {
    #[inline]
    fn parts(&self) -> Parts<'_> {
        Parts {
            prefix: self.prefix,
            user_key: self.user_key,
            seqno: self.seqno,
            tag: self.tag,
        }
    }
}

/// An owned bound key, held by a range iterator for its whole life.
#[derive(Debug, Clone)]
pub(crate) struct BoundKey {
    prefix: u128,
    user_key: Bytes,
    seqno: SeqNo,
    tag: u8,
}

impl BoundKey {
    fn new(user_key: &Bytes, seqno: SeqNo, tag: u8) -> Self {
        Self {
            prefix: key_prefix(user_key),
            user_key: user_key.clone(),
            seqno,
            tag,
        }
    }
}

impl KeyView for BoundKey {
    #[inline]
    fn parts(&self) -> Parts<'_> {
        Parts {
            prefix: self.prefix,
            user_key: &self.user_key,
            seqno: self.seqno,
            tag: self.tag,
        }
    }
}

/// User-key bounds translated to internal-key bounds that cover every version
/// of the keys in range.
#[derive(Debug, Clone)]
pub(crate) struct UserKeyRange {
    start: Bound<BoundKey>,
    end: Bound<BoundKey>,
}

impl UserKeyRange {
    pub(crate) fn new<R: RangeBounds<Bytes>>(range: &R) -> Self {
        let first = |k: &Bytes| BoundKey::new(k, SeqNo::MAX, TAG_FIRST);
        let last = |k: &Bytes| BoundKey::new(k, 0, TAG_LAST);
        let start = match range.start_bound() {
            Bound::Included(k) => Bound::Included(first(k)),
            Bound::Excluded(k) => Bound::Excluded(last(k)),
            Bound::Unbounded => Bound::Unbounded,
        };
        let end = match range.end_bound() {
            Bound::Included(k) => Bound::Included(last(k)),
            Bound::Excluded(k) => Bound::Excluded(first(k)),
            Bound::Unbounded => Bound::Unbounded,
        };
        Self { start, end }
    }
}

impl RangeBounds<dyn KeyView> for UserKeyRange {
    fn start_bound(&self) -> Bound<&(dyn KeyView + 'static)> {
        self.start.as_ref().map(|k| k as &dyn KeyView)
    }
    fn end_bound(&self) -> Bound<&(dyn KeyView + 'static)> {
        self.end.as_ref().map(|k| k as &dyn KeyView)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use strata_core::ValueKind;

    fn kind() -> impl Strategy<Value = ValueKind> {
        prop_oneof![
            Just(ValueKind::Delete),
            Just(ValueKind::Put),
            Just(ValueKind::PutWithExpiry)
        ]
    }

    /// Short keys over a tiny alphabet that includes 0 (the pad byte), plus
    /// long keys that share the 16-byte prefix and differ after it.
    fn user_key() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(0u8..3, 0..4),
            proptest::collection::vec(0u8..2, 14..20),
        ]
    }

    fn ikey() -> impl Strategy<Value = InternalKey> {
        (user_key(), 0u64..6, kind()).prop_map(|(k, s, kind)| InternalKey::new(k, s, kind))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// `Borrow` demands that the borrowed order equals the owned order,
        /// and both must equal core's `InternalKey` order; the user-key
        /// equality test (decided from the prefix for short keys) must
        /// agree with the bytes.
        #[test]
        fn memkey_and_view_order_match_internal_key_order(a in ikey(), b in ikey()) {
            let (ma, mb) = (MemKey::new(a.clone()), MemKey::new(b.clone()));
            prop_assert_eq!(ma.cmp(&mb), a.cmp(&b));
            prop_assert_eq!(ma.parts().same_user_key(&mb.parts()), a.user_key == b.user_key);
            let (va, vb): (&dyn KeyView, &dyn KeyView) = (&ma, &mb);
            prop_assert_eq!(va.cmp(vb), a.cmp(&b));
        }

        /// Bound keys bracket every version of their user key and nothing else.
        #[test]
        fn first_and_last_bracket_all_versions(a in ikey(), probe in user_key()) {
            let m = MemKey::new(a.clone());
            let (first, last) = (LookupKey::first_of(&probe), LookupKey::last_of(&probe));
            let va: &dyn KeyView = &m;
            let inside = va >= first.as_dyn() && va <= last.as_dyn();
            prop_assert_eq!(inside, a.user_key.as_ref() == probe.as_slice());
        }

        /// The seek key for a snapshot precedes exactly the visible versions.
        #[test]
        fn visible_at_splits_versions(a in ikey(), snapshot in 0u64..6) {
            let user_key = a.user_key.clone();
            let m = MemKey::new(a.clone());
            let seek = LookupKey::visible_at(&user_key, snapshot);
            let va: &dyn KeyView = &m;
            prop_assert_eq!(va >= seek.as_dyn(), a.seqno <= snapshot);
        }
    }

    #[test]
    fn prefix_pads_with_zeros_and_truncates() {
        assert_eq!(key_prefix(b""), 0);
        assert_eq!(key_prefix(b"\x01"), 1u128 << 120);
        assert_eq!(key_prefix(&[0xff; 20]), u128::MAX);
    }
}
