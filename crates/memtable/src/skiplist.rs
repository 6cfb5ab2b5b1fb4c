//! A lock-free, insert-only skiplist whose nodes live in the word [`Arena`].
//!
//! Node layout, in 64-bit words from the node's [`NodeRef`]:
//!
//! | word | contents |
//! | --- | --- |
//! | 0 | key length (bits 0..24), tower height (bits 24..32), value length (bits 32..64) |
//! | 1 | seqno (high 56 bits), kind (low 8 bits): the trailer |
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
//! never unlinked. An insert whose key falls right after the previous
//! insert's node (an ascending load) starts from that insert's neighbours
//! instead of descending from the head (see [`Splice`]).
//!
//! Searches are bound by cache misses, one per node compared in the cold
//! lower levels. Before comparing the next node on a level, a search
//! touches the next node one level down, so that when it descends the
//! node it compares is already on its way.
//!
//! Invariant: following level-`i` links from the head visits nodes in
//! strictly ascending order, except that exact duplicates (which the
//! memtable's contract forbids) sit next to each other in any order.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as Atomic};

use parking_lot::Mutex;
use strata_core::{InternalKeyRef, SeqNo, ValueKind};

use crate::arena::{Arena, NodeRef};

/// Tallest tower; with a branching factor of 2 it indexes 2^20 entries
/// (a 64 MiB memtable of 116-byte entries holds about 440 000).
///
/// Branching 2, not RocksDB's 4: a search visits about as many nodes
/// either way, but with 2 more of them sit in the upper levels that stay
/// in cache. Measured on 1 M entries of 16-byte keys and 100-byte values:
/// 2.0 µs per search against 3.0 µs, for 5 more bytes per entry.
pub(crate) const MAX_HEIGHT: usize = 20;

/// Longest key a node can hold (the header keeps its length in 24 bits).
pub(crate) const MAX_NODE_KEY: usize = (1 << 24) - 1;

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
    /// The key's first [`PROBE_WORDS`] words, computed once per search
    /// rather than at every node.
    head: [u64; PROBE_WORDS],
}

/// Key words a probe keeps ready: a 16-byte key needs no others.
const PROBE_WORDS: usize = 2;

/// Tag that sorts before every real kind at the same (user key, seqno).
pub(crate) const TAG_FIRST: u8 = u8::MAX;
/// Tag that sorts after every real kind at the same (user key, seqno).
pub(crate) const TAG_LAST: u8 = 0;

impl<'a> Probe<'a> {
    pub(crate) fn new(user_key: &'a [u8], seqno: SeqNo, tag: u8) -> Self {
        Self {
            user_key,
            trailer: (u128::from(seqno) << 8) | u128::from(tag),
            head: std::array::from_fn(|i| key_word(user_key, i * 8)),
        }
    }

    /// Exactly `target`'s position in the order.
    pub(crate) fn of(target: InternalKeyRef<'a>) -> Self {
        Self::new(target.user_key, target.seqno, target.kind as u8)
    }

    /// Sorts before every version of `user_key`.
    pub(crate) fn first_of(user_key: &'a [u8]) -> Self {
        Self::new(user_key, SeqNo::MAX, TAG_FIRST)
    }

    /// `(user_key, 0, TAG_LAST)`: after every version of `user_key` except
    /// `(user_key, 0, Delete)`, which it equals; hence only for the
    /// inclusive searches (`find_le`, `find_gt`).
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

#[inline]
fn header(words: &[AtomicU64]) -> Header {
    let load = |i: usize| words.get(i).map_or(0, |w| w.load(Atomic::Relaxed));
    let (lens, trailer) = (load(0), load(1));
    Header {
        key_len: (lens & 0xff_ffff) as usize,
        value_len: (lens >> 32) as usize,
        seqno: trailer >> 8,
        // Only this module writes nodes, with a real kind.
        kind: ValueKind::from_u8(trailer as u8).unwrap_or(ValueKind::Put),
        height: ((lens >> 24) & 0xff) as usize,
    }
}

/// How the node in `words` compares with `probe`.
#[inline]
fn cmp_node(words: &[AtomicU64], probe: &Probe<'_>) -> Ordering {
    let [lens, trailer, ..] = words else {
        // Not a node: only a bug could hand one over; end the search.
        return Ordering::Greater;
    };
    let lens = lens.load(Atomic::Relaxed);
    let key_len = (lens & 0xff_ffff) as usize;
    let height = ((lens >> 24) & 0xff) as usize;
    // Zero padding is sound: if all words covering the shorter key are
    // equal, that key is a prefix of the other and the lengths decide.
    let common = key_len.min(probe.user_key.len()).div_ceil(8);
    let key = words.iter().skip(HEADER_WORDS + height).take(common);
    for (i, w) in key.enumerate() {
        let ours = w.load(Atomic::Relaxed);
        let theirs = match probe.head.get(i) {
            Some(&w) => w,
            None => key_word(probe.user_key, i * 8),
        };
        if ours != theirs {
            return ours.cmp(&theirs);
        }
    }
    key_len.cmp(&probe.user_key.len()).then_with(|| {
        probe
            .trailer
            .cmp(&u128::from(trailer.load(Atomic::Relaxed)))
    })
}

/// The node after the one in `words` at `level` (`NULL` at the end).
#[inline]
fn link(words: &[AtomicU64], level: usize) -> NodeRef {
    words
        .get(HEADER_WORDS + level)
        .map_or(NULL, |w| w.load(Atomic::Acquire))
}

/// The skiplist. Nodes are in `arena`; see the module docs.
pub(crate) struct SkipList {
    /// Unique among the skiplists of the process: tells whether a
    /// [`CursorPosition`](crate::CursorPosition) was taken in this list.
    id: u64,
    arena: Arena,
    /// Height of the tallest tower linked so far (at least 1).
    height: AtomicUsize,
    len: AtomicUsize,
    /// Where the last insert that held this lock linked its node.
    last_splice: Mutex<Splice>,
}

/// A node's neighbours at every level: for each level, the last node
/// before it and the first after it (maybe `NULL`) when it was linked.
///
/// After a node is linked, its splice with the node itself as the
/// predecessor on the levels of its tower brackets every key between the
/// node and its level-0 successor. An insert in that gap (the next key of
/// an ascending load) can start from there instead of descending from the
/// head, as long as the level-0 predecessor still links to the level-0
/// successor (see [`SkipList::brackets`]); links changed since at other
/// levels are caught by the linking compare-and-swap, which re-searches
/// the level from the predecessor.
#[derive(Clone, Copy)]
struct Splice {
    prev: [NodeRef; MAX_HEIGHT],
    next: [NodeRef; MAX_HEIGHT],
}

impl Splice {
    /// Head, then nothing, at every level: the splice of any key in an
    /// empty list.
    const EMPTY: Splice = Splice {
        prev: [HEAD; MAX_HEIGHT],
        next: [NULL; MAX_HEIGHT],
    };
}

impl SkipList {
    pub(crate) fn new() -> Self {
        // The head: a header with the full height and an empty key.
        let arena = Arena::new(HEADER_WORDS + MAX_HEIGHT);
        if let Some(w) = arena.words(HEAD).first() {
            w.store((MAX_HEIGHT as u64) << 24, Atomic::Relaxed);
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT_ID.fetch_add(1, Atomic::Relaxed),
            arena,
            height: AtomicUsize::new(1),
            len: AtomicUsize::new(0),
            last_splice: Mutex::new(Splice::EMPTY),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Atomic::Relaxed)
    }

    /// This list's process-wide unique id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Bytes of arena handed out to nodes.
    pub(crate) fn memory_usage(&self) -> usize {
        self.arena.used_words() * 8
    }

    /// Starts loading the header of `node` (if not `NULL`) without waiting
    /// for it. A search about to compare the next node at one level touches
    /// the next node one level down, the one it compares if it descends, so
    /// the two cache misses overlap instead of following each other.
    #[inline]
    fn touch(&self, node: NodeRef) {
        if node != NULL
            && let Some(w) = self.arena.words(node).first()
        {
            std::hint::black_box(w.load(Atomic::Relaxed));
        }
    }

    /// The successor of `node` at level 0 (`NULL` past the end).
    pub(crate) fn next(&self, node: NodeRef) -> NodeRef {
        link(self.arena.words(node), 0)
    }

    /// Walks down from the head; at each level advances while `go_right`
    /// holds for the next node. Returns the last node passed (maybe the head)
    /// and the first one refused at level 0 (maybe `NULL`).
    #[inline]
    fn descend(&self, mut go_right: impl FnMut(&[AtomicU64]) -> bool) -> (NodeRef, NodeRef) {
        let mut x = HEAD;
        let mut x_words = self.arena.words(HEAD);
        let mut level = self.height.load(Atomic::Acquire) - 1;
        loop {
            let next = link(x_words, level);
            if level > 0 {
                self.touch(link(x_words, level - 1));
            }
            if next != NULL {
                let next_words = self.arena.words(next);
                if go_right(next_words) {
                    x = next;
                    x_words = next_words;
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
    pub(crate) fn find_ge(&self, probe: &Probe<'_>) -> NodeRef {
        self.descend(|n| cmp_node(n, probe) == Ordering::Less).1
    }

    /// First node `> probe`, or `NULL`.
    pub(crate) fn find_gt(&self, probe: &Probe<'_>) -> NodeRef {
        self.descend(|n| cmp_node(n, probe) != Ordering::Greater).1
    }

    /// Last node `< probe`, or `NULL`.
    pub(crate) fn find_lt(&self, probe: &Probe<'_>) -> NodeRef {
        self.descend(|n| cmp_node(n, probe) == Ordering::Less).0
    }

    /// Last node `<= probe`, or `NULL`.
    pub(crate) fn find_le(&self, probe: &Probe<'_>) -> NodeRef {
        self.descend(|n| cmp_node(n, probe) != Ordering::Greater).0
    }

    /// First node, or `NULL`.
    pub(crate) fn first(&self) -> NodeRef {
        self.next(HEAD)
    }

    /// Last node, or `NULL`.
    pub(crate) fn last(&self) -> NodeRef {
        self.descend(|_| true).0
    }

    /// The header of `node` (not `NULL`).
    pub(crate) fn header(&self, node: NodeRef) -> Header {
        header(self.arena.words(node))
    }

    /// True if `node`'s user key equals `user_key`.
    pub(crate) fn has_user_key(&self, node: NodeRef, user_key: &[u8]) -> bool {
        let words = self.arena.words(node);
        let h = header(words);
        h.key_len == user_key.len()
            && words
                .iter()
                .skip(h.key_start())
                .take(h.key_len.div_ceil(8))
                .enumerate()
                .all(|(i, w)| w.load(Atomic::Relaxed) == key_word(user_key, i * 8))
    }

    /// Replaces `out` with `node`'s user key.
    pub(crate) fn read_key(&self, node: NodeRef, h: &Header, out: &mut Vec<u8>) {
        out.clear();
        let words = self
            .arena
            .words(node)
            .get(h.key_start()..)
            .unwrap_or_default();
        read_bytes(words, h.key_len, u64::to_be_bytes, out);
    }

    /// Appends `node`'s value to `out`.
    pub(crate) fn read_value(&self, node: NodeRef, h: &Header, out: &mut Vec<u8>) {
        let words = self
            .arena
            .words(node)
            .get(h.value_start()..)
            .unwrap_or_default();
        read_bytes(words, h.value_len, u64::to_le_bytes, out);
    }

    /// Inserts one entry; false, inserting nothing, if the arena is full.
    /// The key must be at most [`MAX_NODE_KEY`] bytes, the value under
    /// 4 GiB and `seqno` within 56 bits (checked by the caller).
    pub(crate) fn insert(
        &self,
        user_key: &[u8],
        seqno: SeqNo,
        kind: ValueKind,
        value: &[u8],
    ) -> bool {
        let height = random_height(seqno, user_key);
        let key_words = user_key.len().div_ceil(8);
        let words = HEADER_WORDS + height + key_words + value.len().div_ceil(8);
        let Some(node) = self.arena.alloc(words) else {
            return false;
        };
        let w = self.arena.words(node);
        if w.len() < words {
            // The arena hands out whole records (its invariant 2); refuse
            // rather than store a cut one.
            debug_assert!(false, "arena handed out {} of {words} words", w.len());
            return false;
        }
        if let [lens, trailer, ..] = w {
            lens.store(
                user_key.len() as u64 | ((height as u64) << 24) | ((value.len() as u64) << 32),
                Atomic::Relaxed,
            );
            trailer.store((seqno << 8) | kind as u64, Atomic::Relaxed);
        }
        let key_at = HEADER_WORDS + height;
        for (i, slot) in w.iter().skip(key_at).take(key_words).enumerate() {
            slot.store(key_word(user_key, i * 8), Atomic::Relaxed);
        }
        for (slot, bytes) in w.iter().skip(key_at + key_words).zip(value.chunks(8)) {
            let mut b = [0u8; 8];
            if let Some(dst) = b.get_mut(..bytes.len()) {
                dst.copy_from_slice(bytes);
            }
            slot.store(u64::from_le_bytes(b), Atomic::Relaxed);
        }
        self.height.fetch_max(height, Atomic::AcqRel);

        let probe = Probe::new(user_key, seqno, kind as u8);
        // Another inserter holding the last splice just means a descent.
        let mut last = self.last_splice.try_lock();
        // Predecessor and successor at every level: the last insert's
        // splice if the key falls right after that node, else one descent.
        let Splice { mut prev, mut next } = match last.as_deref() {
            Some(s) if self.brackets(s, &probe) => *s,
            _ => self.descend_splice(&probe),
        };
        for level in 0..height {
            let Some(own) = w.get(HEADER_WORDS + level) else {
                break;
            };
            loop {
                own.store(next[level], Atomic::Relaxed);
                let Some(link) = self.arena.words(prev[level]).get(HEADER_WORDS + level) else {
                    break;
                };
                // Release publishes the node's words with the link.
                match link.compare_exchange(next[level], node, Atomic::AcqRel, Atomic::Acquire) {
                    Ok(_) => break,
                    Err(_) => {
                        let (p, n) = self.splice_at(prev[level], level, &probe);
                        prev[level] = p;
                        next[level] = n;
                    }
                }
            }
        }
        self.len.fetch_add(1, Atomic::Relaxed);
        if let Some(s) = last.as_deref_mut() {
            s.prev = prev;
            s.next = next;
            for p in s.prev.iter_mut().take(height) {
                *p = node;
            }
        }
        true
    }

    /// True if `probe` falls between the level-0 predecessor and successor
    /// of `splice` (the head is before every key, `NULL` after), and they
    /// are still adjacent.
    ///
    /// Adjacency is what makes the upper levels safe to link from without
    /// comparing: each of the splice's successors above level 0 is a node
    /// after the level-0 predecessor, so with nothing between the two
    /// level-0 nodes it is at or after the level-0 successor, hence after
    /// `probe`. Without it, a node inserted concurrently into the gap (and
    /// recorded as an upper successor while the last insert linked) could
    /// sit before `probe`, and a swap on its unchanged link would place
    /// `probe` before it.
    fn brackets(&self, splice: &Splice, probe: &Probe<'_>) -> bool {
        if link(self.arena.words(splice.prev[0]), 0) != splice.next[0] {
            return false;
        }
        let after_prev = match splice.prev[0] {
            HEAD => true,
            p => cmp_node(self.arena.words(p), probe) == Ordering::Less,
        };
        after_prev
            && match splice.next[0] {
                NULL => true,
                n => cmp_node(self.arena.words(n), probe) == Ordering::Greater,
            }
    }

    /// The splice of `probe`, from one descent from the head.
    fn descend_splice(&self, probe: &Probe<'_>) -> Splice {
        let mut s = Splice::EMPTY;
        let mut x = HEAD;
        let top = self.height.load(Atomic::Acquire);
        for level in (0..top).rev() {
            let (p, n) = self.splice_at(x, level, probe);
            s.prev[level] = p;
            s.next[level] = n;
            x = p;
        }
        s
    }

    /// From `start` (`< probe`), the last node `< probe` at `level` and its
    /// successor there.
    fn splice_at(&self, start: NodeRef, level: usize, probe: &Probe<'_>) -> (NodeRef, NodeRef) {
        let mut x = start;
        let mut x_words = self.arena.words(start);
        loop {
            let next = link(x_words, level);
            if level > 0 {
                self.touch(link(x_words, level - 1));
            }
            if next == NULL {
                return (x, next);
            }
            let next_words = self.arena.words(next);
            if cmp_node(next_words, probe) != Ordering::Less {
                return (x, next);
            }
            x = next;
            x_words = next_words;
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

/// A tower height in `1..=MAX_HEIGHT`, each level half as likely as the
/// one below, drawn from a hash of the entry (its seqno is unique).
fn random_height(seqno: SeqNo, user_key: &[u8]) -> usize {
    let mut z = seqno ^ key_word(user_key, 0).rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (1 + z.trailing_zeros() as usize).min(MAX_HEIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_are_geometric_with_ratio_two() {
        let mut counts = [0usize; MAX_HEIGHT + 2];
        for s in 0..100_000u64 {
            counts[random_height(s, b"key")] += 1;
        }
        assert_eq!(counts[0], 0);
        assert_eq!(counts[MAX_HEIGHT + 1], 0);
        // Expected 50 000 / 25 000 / 12 500 for heights 1, 2, 3.
        assert!((48_500..51_500).contains(&counts[1]), "{counts:?}");
        assert!((23_800..26_200).contains(&counts[2]), "{counts:?}");
        assert!((11_600..13_400).contains(&counts[3]), "{counts:?}");
    }

    /// Walks every level, checks it is strictly ascending and that every
    /// node on it is on level 0 too; returns the entries of level 0.
    fn entries_checking_levels(list: &SkipList) -> Vec<(Vec<u8>, SeqNo)> {
        let entry = |n: NodeRef| {
            let h = list.header(n);
            let mut key = Vec::new();
            list.read_key(n, &h, &mut key);
            (key, h.seqno)
        };
        // Internal-key order: user key ascending, then seqno descending.
        let order = |e: &(Vec<u8>, SeqNo)| (e.0.clone(), std::cmp::Reverse(e.1));
        let mut bottom = Vec::new();
        for level in 0..MAX_HEIGHT {
            let mut seen = Vec::new();
            let mut n = link(list.arena.words(HEAD), level);
            while n != NULL {
                seen.push(entry(n));
                n = link(list.arena.words(n), level);
            }
            assert!(
                seen.windows(2).all(|w| order(&w[0]) < order(&w[1])),
                "level {level} is out of order: {seen:?}"
            );
            if level == 0 {
                bottom = seen;
            } else {
                assert!(seen.iter().all(|e| bottom.contains(e)), "level {level}");
            }
        }
        bottom
    }

    fn key_of(i: u64) -> Vec<u8> {
        format!("{i:016}").into_bytes()
    }

    #[test]
    fn runs_up_and_down_link_every_level_in_order() {
        // Ascending runs start from the last insert's splice, descending
        // ones and jumps fall back to a descent; versions of one key
        // arrive with rising seqnos, so each sorts before the last.
        let list = SkipList::new();
        let mut want = Vec::new();
        let mut seqno = 0;
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for run in 0..200u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let start = x % 5_000;
            let len = 1 + x % 40;
            let keys: Vec<u64> = match run % 3 {
                0 => (start..start + len).collect(),
                1 => (start..start + len).rev().collect(),
                _ => (0..len).map(|i| start + i / 3).collect(),
            };
            for k in keys {
                seqno += 1;
                assert!(list.insert(&key_of(k), seqno, ValueKind::Put, b"v"));
                want.push((key_of(k), seqno));
            }
        }
        want.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        assert_eq!(entries_checking_levels(&list), want);
    }

    /// A seqno at which `key` gets a tower of at least 2.
    fn tall(key: &[u8], from: SeqNo) -> SeqNo {
        (from..)
            .find(|&s| random_height(s, key) >= 2)
            .unwrap_or(from)
    }

    #[test]
    fn a_splice_whose_level_0_gap_was_filled_is_not_linked_from() {
        // The state a race can leave: after linking 20, the splice holds
        // 20 -> 50 at level 0 but 20 -> 30 at level 1, 30 having been
        // inserted into the gap by a writer without the splice. A key
        // between 30 and 50 must not be linked at level 1 before 30.
        let list = SkipList::new();
        let mut seqno = 0;
        let mut put = |list: &SkipList, k: u64| {
            seqno = tall(&key_of(k), seqno + 1);
            assert!(list.insert(&key_of(k), seqno, ValueKind::Put, b"v"));
        };
        put(&list, 10);
        put(&list, 50);
        put(&list, 20);
        {
            // Held, so this insert descends and leaves the splice alone.
            let _held = list.last_splice.lock();
            put(&list, 30);
        }
        let thirty = list.find_ge(&Probe::first_of(&key_of(30)));
        {
            let mut splice = list.last_splice.lock();
            assert_eq!(splice.next[0], list.find_ge(&Probe::first_of(&key_of(50))));
            splice.next[1] = thirty;
        }
        put(&list, 40);
        let keys: Vec<Vec<u8>> = entries_checking_levels(&list)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let want: Vec<Vec<u8>> = [10, 20, 30, 40, 50].map(key_of).into();
        assert_eq!(keys, want);
    }

    #[test]
    fn interleaved_ascending_writers_link_every_level_in_order() {
        // Each writer's keys ascend, but the others insert between them,
        // so a splice taken from the last insert is often stale.
        const WRITERS: u64 = 4;
        const PER_WRITER: u64 = 3_000;
        let list = SkipList::new();
        std::thread::scope(|scope| {
            for t in 0..WRITERS {
                let list = &list;
                scope.spawn(move || {
                    for i in 0..PER_WRITER {
                        let k = i * WRITERS + t;
                        assert!(list.insert(&key_of(k), k + 1, ValueKind::Put, b"v"));
                    }
                });
            }
        });
        let want: Vec<_> = (0..WRITERS * PER_WRITER)
            .map(|k| (key_of(k), k + 1))
            .collect();
        assert_eq!(entries_checking_levels(&list), want);
    }

    #[test]
    fn key_words_order_like_bytes() {
        let keys: [&[u8]; 7] = [b"", b"\0", b"a", b"a\0", b"ab", b"abcdefgh", b"abcdefgh\0"];
        let list = SkipList::new();
        for (i, k) in keys.iter().enumerate() {
            list.insert(k, i as u64 + 1, ValueKind::Put, b"v");
        }
        let mut n = list.first();
        let mut seen = Vec::new();
        let mut buf = Vec::new();
        while n != NULL {
            let h = list.header(n);
            list.read_key(n, &h, &mut buf);
            seen.push(buf.clone());
            n = list.next(n);
        }
        let mut want: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        want.sort();
        assert_eq!(seen, want);
    }
}
