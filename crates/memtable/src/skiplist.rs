//! A lock-free, insert-only skiplist whose nodes live in the word [`Arena`].
//!
//! Node layout, in 64-bit words from the node's [`NodeRef`]:
//!
//! | word | contents |
//! | --- | --- |
//! | 0 | key length (low 32 bits), value length (high 32 bits) |
//! | 1 | seqno (high 56 bits), height (bits 4..8), kind (bits 0..4) |
//! | 2 .. 2+h | links: the next node at levels 0 .. h-1 ([`NULL`] at the end) |
//! | then | the user key, 8 bytes per word, big-endian, zero-padded |
//! | then | the value, 8 bytes per word, little-endian, zero-padded |
//!
//! Keys are big-endian so that comparing words as integers compares bytes
//! in order: a search compares a 16-byte key in two integer comparisons,
//! and the header, the links a search follows and a short key share a
//! cache line.
//!
//! Order: user key ascending (bytewise), then seqno descending, then kind
//! descending, core's `InternalKey` order. Probes carry a seqno of up to 64
//! bits and a tag of up to 255 (see [`Probe`]), so bounds can sort before or
//! after every stored version of a key.
//!
//! Insert (after RocksDB's `InlineSkipList`): the node is written in full,
//! then linked bottom-up, one compare-and-swap per level; a failed CAS (a
//! concurrent insert next to it) re-searches that level from the same
//! predecessor. A node is reachable at level 0 before any higher level, so
//! a reader that found it at some level finds it at level 0 too. Nodes are
//! never unlinked.
//!
//! Invariant: following level-`i` links from the head visits nodes in
//! strictly ascending order, except that exact duplicates (which the
//! memtable's contract forbids) sit next to each other in any order.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as Atomic};

use strata_core::{SeqNo, ValueKind};

use crate::arena::{Arena, ChunkList, NodeRef, split_ref};

/// Tallest tower; with a branching factor of 4 it indexes 4^12 entries.
pub(crate) const MAX_HEIGHT: usize = 12;

/// The head node's ref; as a link target it means "no next node" (the head
/// is never anyone's successor).
pub(crate) const NULL: NodeRef = 0;
const HEAD: NodeRef = 0;

/// Words before the links.
const HEADER_WORDS: usize = 2;

/// A search key: a user key and a trailer `(seqno << 8) | tag` that orders
/// descending, as 72 bits so `SeqNo::MAX` and tags above every kind fit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Probe<'a> {
    pub(crate) user_key: &'a [u8],
    trailer: u128,
}

/// Tag that sorts before every real kind at the same (user key, seqno).
pub(crate) const TAG_FIRST: u8 = u8::MAX;
/// Tag that sorts after every real kind at the same (user key, seqno).
pub(crate) const TAG_LAST: u8 = 0;

impl<'a> Probe<'a> {
    pub(crate) fn new(user_key: &'a [u8], seqno: SeqNo, tag: u8) -> Self {
        Self {
            user_key,
            trailer: (u128::from(seqno) << 8) | u128::from(tag),
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
}

/// The 8 bytes of `key` from `at`, zero-padded, as a big-endian word.
#[inline]
fn key_word(key: &[u8], at: usize) -> u64 {
    match key.get(at..at + 8) {
        Some(w) => {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            u64::from_be_bytes(b)
        }
        None => {
            let mut b = [0u8; 8];
            let tail = key.get(at..).unwrap_or_default();
            if let Some(dst) = b.get_mut(..tail.len()) {
                dst.copy_from_slice(tail);
            }
            u64::from_be_bytes(b)
        }
    }
}

/// A node's decoded header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub(crate) key_len: usize,
    pub(crate) value_len: usize,
    pub(crate) seqno: SeqNo,
    pub(crate) kind: ValueKind,
    height: usize,
}

impl Header {
    fn key_start(&self) -> usize {
        HEADER_WORDS + self.height
    }

    fn value_start(&self) -> usize {
        self.key_start() + self.key_len.div_ceil(8)
    }
}

/// The chunk words of the node at `r`, starting at the node.
#[inline]
fn node_words(chunks: &ChunkList, r: NodeRef) -> &[AtomicU64] {
    let (c, o) = split_ref(r);
    &chunks[c][o..]
}

#[inline]
fn header(words: &[AtomicU64]) -> Header {
    let lens = words[0].load(Atomic::Relaxed);
    let trailer = words[1].load(Atomic::Relaxed);
    Header {
        key_len: (lens & u64::from(u32::MAX)) as usize,
        value_len: (lens >> 32) as usize,
        seqno: trailer >> 8,
        // Only this module writes nodes, with a real kind.
        kind: ValueKind::from_u8((trailer & 0xf) as u8).unwrap_or(ValueKind::Put),
        height: ((trailer >> 4) & 0xf) as usize,
    }
}

/// How the node in `words` compares with `probe`.
#[inline]
fn cmp_node(words: &[AtomicU64], probe: &Probe<'_>) -> Ordering {
    let lens = words[0].load(Atomic::Relaxed);
    let trailer = words[1].load(Atomic::Relaxed);
    let key_len = (lens & u64::from(u32::MAX)) as usize;
    let height = ((trailer >> 4) & 0xf) as usize;
    let key = &words[HEADER_WORDS + height..];
    // Zero padding is sound: if all words covering the shorter key are
    // equal, that key is a prefix of the other and the lengths decide.
    let common = key_len.min(probe.user_key.len()).div_ceil(8);
    for (i, w) in key.iter().take(common).enumerate() {
        let ours = w.load(Atomic::Relaxed);
        let theirs = key_word(probe.user_key, i * 8);
        if ours != theirs {
            return ours.cmp(&theirs);
        }
    }
    let node_trailer = (u128::from(trailer >> 8) << 8) | u128::from(trailer & 0xf);
    key_len
        .cmp(&probe.user_key.len())
        .then_with(|| probe.trailer.cmp(&node_trailer))
}

#[inline]
fn next_at(chunks: &ChunkList, node: NodeRef, level: usize) -> NodeRef {
    node_words(chunks, node)[HEADER_WORDS + level].load(Atomic::Acquire)
}

/// The skiplist. Nodes are in `arena`; see the module docs.
pub(crate) struct SkipList {
    arena: Arena,
    /// Height of the tallest tower linked so far (at least 1).
    height: AtomicUsize,
    len: AtomicUsize,
}

/// Loads a chunk list that holds `node`'s chunk into `chunks` if it does
/// not already (the node was published after `chunks` was loaded).
#[inline]
fn cover(arena: &Arena, chunks: &mut ChunkList, node: NodeRef) {
    if split_ref(node).0 >= chunks.len() {
        *chunks = arena.chunks();
    }
}

impl SkipList {
    pub(crate) fn new() -> Self {
        // The head: a header with the full height and an empty key.
        let arena = Arena::new(HEADER_WORDS + MAX_HEIGHT);
        let chunks = arena.chunks();
        node_words(&chunks, HEAD)[1].store((MAX_HEIGHT as u64) << 4, Atomic::Relaxed);
        Self {
            arena,
            height: AtomicUsize::new(1),
            len: AtomicUsize::new(0),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Atomic::Relaxed)
    }

    /// Bytes of arena handed out to nodes.
    pub(crate) fn memory_usage(&self) -> usize {
        self.arena.used_words() * 8
    }

    pub(crate) fn chunks(&self) -> ChunkList {
        self.arena.chunks()
    }

    /// The successor of `node` at level 0 (`NULL` past the end).
    pub(crate) fn next(&self, chunks: &mut ChunkList, node: NodeRef) -> NodeRef {
        let n = next_at(chunks, node, 0);
        cover(&self.arena, chunks, n);
        n
    }

    /// Walks down from the head; at each level advances while `go_right`
    /// holds for the next node. Returns the last node passed (maybe the head)
    /// and the first one refused at level 0 (maybe `NULL`).
    #[inline]
    fn descend(
        &self,
        chunks: &mut ChunkList,
        mut go_right: impl FnMut(&[AtomicU64]) -> bool,
    ) -> (NodeRef, NodeRef) {
        let mut x = HEAD;
        let mut level = self.height.load(Atomic::Acquire) - 1;
        loop {
            let next = next_at(chunks, x, level);
            if next != NULL {
                cover(&self.arena, chunks, next);
                if go_right(node_words(chunks, next)) {
                    x = next;
                    continue;
                }
            }
            if level == 0 {
                return (x, next);
            }
            level -= 1;
        }
    }

    /// First node `>= probe`, or `NULL`.
    pub(crate) fn find_ge(&self, chunks: &mut ChunkList, probe: &Probe<'_>) -> NodeRef {
        self.descend(chunks, |n| cmp_node(n, probe) == Ordering::Less)
            .1
    }

    /// First node `> probe`, or `NULL`.
    pub(crate) fn find_gt(&self, chunks: &mut ChunkList, probe: &Probe<'_>) -> NodeRef {
        self.descend(chunks, |n| cmp_node(n, probe) != Ordering::Greater)
            .1
    }

    /// Last node `< probe`, or `NULL`.
    pub(crate) fn find_lt(&self, chunks: &mut ChunkList, probe: &Probe<'_>) -> NodeRef {
        self.descend(chunks, |n| cmp_node(n, probe) == Ordering::Less)
            .0
    }

    /// Last node `<= probe`, or `NULL`.
    pub(crate) fn find_le(&self, chunks: &mut ChunkList, probe: &Probe<'_>) -> NodeRef {
        self.descend(chunks, |n| cmp_node(n, probe) != Ordering::Greater)
            .0
    }

    /// First node, or `NULL`.
    pub(crate) fn first(&self, chunks: &mut ChunkList) -> NodeRef {
        self.next(chunks, HEAD)
    }

    /// Last node, or `NULL`.
    pub(crate) fn last(&self, chunks: &mut ChunkList) -> NodeRef {
        self.descend(chunks, |_| true).0
    }

    /// The header of `node` (not `NULL`).
    pub(crate) fn header(&self, chunks: &ChunkList, node: NodeRef) -> Header {
        header(node_words(chunks, node))
    }

    /// True if `node`'s user key equals `user_key`.
    pub(crate) fn has_user_key(&self, chunks: &ChunkList, node: NodeRef, user_key: &[u8]) -> bool {
        let words = node_words(chunks, node);
        let h = header(words);
        h.key_len == user_key.len()
            && words[h.key_start()..]
                .iter()
                .take(h.key_len.div_ceil(8))
                .enumerate()
                .all(|(i, w)| w.load(Atomic::Relaxed) == key_word(user_key, i * 8))
    }

    /// Replaces `out` with `node`'s user key.
    pub(crate) fn read_key(
        &self,
        chunks: &ChunkList,
        node: NodeRef,
        h: &Header,
        out: &mut Vec<u8>,
    ) {
        out.clear();
        let words = &node_words(chunks, node)[h.key_start()..];
        read_bytes(words, h.key_len, u64::to_be_bytes, out);
    }

    /// Appends `node`'s value to `out`.
    pub(crate) fn read_value(
        &self,
        chunks: &ChunkList,
        node: NodeRef,
        h: &Header,
        out: &mut Vec<u8>,
    ) {
        let words = &node_words(chunks, node)[h.value_start()..];
        read_bytes(words, h.value_len, u64::to_le_bytes, out);
    }

    /// Inserts one entry. `key_len` and `value_len` must fit in 32 bits
    /// (checked by the caller); `seqno` in 56.
    pub(crate) fn insert(&self, user_key: &[u8], seqno: SeqNo, kind: ValueKind, value: &[u8]) {
        let height = random_height(seqno, user_key);
        let key_words = user_key.len().div_ceil(8);
        let words = HEADER_WORDS + height + key_words + value.len().div_ceil(8);
        let (node, mut chunks) = self.arena.alloc(words);
        {
            let w = node_words(&chunks, node);
            w[0].store(
                user_key.len() as u64 | ((value.len() as u64) << 32),
                Atomic::Relaxed,
            );
            w[1].store(
                (seqno << 8) | ((height as u64) << 4) | kind as u64,
                Atomic::Relaxed,
            );
            let key_at = HEADER_WORDS + height;
            for (i, slot) in w[key_at..key_at + key_words].iter().enumerate() {
                slot.store(key_word(user_key, i * 8), Atomic::Relaxed);
            }
            let value_at = key_at + key_words;
            for (slot, bytes) in w[value_at..].iter().zip(value.chunks(8)) {
                let mut b = [0u8; 8];
                if let Some(dst) = b.get_mut(..bytes.len()) {
                    dst.copy_from_slice(bytes);
                }
                slot.store(u64::from_le_bytes(b), Atomic::Relaxed);
            }
        }
        self.height.fetch_max(height, Atomic::AcqRel);

        // Predecessor and successor at every level, from one descent.
        let probe = Probe::new(user_key, seqno, kind as u8);
        let mut prev = [HEAD; MAX_HEIGHT];
        let mut next = [NULL; MAX_HEIGHT];
        let mut x = HEAD;
        let top = self.height.load(Atomic::Acquire);
        for level in (0..top).rev() {
            let (p, n) = self.splice_at(&mut chunks, x, level, &probe);
            if let (Some(ps), Some(ns)) = (prev.get_mut(level), next.get_mut(level)) {
                *ps = p;
                *ns = n;
            }
            x = p;
        }
        for level in 0..height {
            loop {
                node_words(&chunks, node)[HEADER_WORDS + level].store(next[level], Atomic::Relaxed);
                let link = &node_words(&chunks, prev[level])[HEADER_WORDS + level];
                // Release publishes the node's words with the link.
                match link.compare_exchange(next[level], node, Atomic::AcqRel, Atomic::Acquire) {
                    Ok(_) => break,
                    Err(_) => {
                        let (p, n) = self.splice_at(&mut chunks, prev[level], level, &probe);
                        prev[level] = p;
                        next[level] = n;
                    }
                }
            }
        }
        self.len.fetch_add(1, Atomic::Relaxed);
    }

    /// From `start` (`< probe`), the last node `< probe` at `level` and its
    /// successor there.
    fn splice_at(
        &self,
        chunks: &mut ChunkList,
        start: NodeRef,
        level: usize,
        probe: &Probe<'_>,
    ) -> (NodeRef, NodeRef) {
        let mut x = start;
        loop {
            let next = next_at(chunks, x, level);
            if next == NULL {
                return (x, next);
            }
            cover(&self.arena, chunks, next);
            if cmp_node(node_words(chunks, next), probe) != Ordering::Less {
                return (x, next);
            }
            x = next;
        }
    }
}

/// Appends `len` bytes packed 8 per word (by `to_bytes`) to `out`.
fn read_bytes(words: &[AtomicU64], len: usize, to_bytes: fn(u64) -> [u8; 8], out: &mut Vec<u8>) {
    out.reserve(len);
    let mut left = len;
    for w in words {
        if left == 0 {
            break;
        }
        let b = to_bytes(w.load(Atomic::Relaxed));
        let n = left.min(8);
        out.extend_from_slice(b.get(..n).unwrap_or_default());
        left -= n;
    }
}

/// A tower height in `1..=MAX_HEIGHT`, each level a quarter as likely as
/// the one below, drawn from a hash of the entry (its seqno is unique).
fn random_height(seqno: SeqNo, user_key: &[u8]) -> usize {
    let mut z = seqno ^ key_word(user_key, 0).rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (1 + z.trailing_zeros() as usize / 2).min(MAX_HEIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_are_geometric_with_ratio_four() {
        let mut counts = [0usize; MAX_HEIGHT + 1];
        for s in 0..100_000u64 {
            counts[random_height(s, b"key")] += 1;
        }
        assert_eq!(counts[0], 0);
        // Expected 75 000 / 18 750 / 4 688 for heights 1, 2, 3.
        assert!((73_000..77_000).contains(&counts[1]), "{counts:?}");
        assert!((17_500..20_000).contains(&counts[2]), "{counts:?}");
        assert!((4_000..5_400).contains(&counts[3]), "{counts:?}");
    }

    #[test]
    fn key_words_order_like_bytes() {
        let keys: [&[u8]; 7] = [b"", b"\0", b"a", b"a\0", b"ab", b"abcdefgh", b"abcdefgh\0"];
        let list = SkipList::new();
        for (i, k) in keys.iter().enumerate() {
            list.insert(k, i as u64 + 1, ValueKind::Put, b"v");
        }
        let mut chunks = list.chunks();
        let mut n = list.first(&mut chunks);
        let mut seen = Vec::new();
        let mut buf = Vec::new();
        while n != NULL {
            let h = list.header(&chunks, n);
            list.read_key(&chunks, n, &h, &mut buf);
            seen.push(buf.clone());
            n = list.next(&mut chunks, n);
        }
        let mut want: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        want.sort();
        assert_eq!(seen, want);
    }
}
