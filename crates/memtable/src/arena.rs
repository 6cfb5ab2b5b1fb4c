//! The memtable's storage: an append-only arena of 64-bit words.
//!
//! Every skiplist node, with its key and value bytes, is one run of
//! consecutive words in one chunk, so an entry costs its bytes rounded up to
//! words plus a few words of header and links, with no allocator header, no
//! per-entry allocation and no pointer to a separate key or value buffer.
//!
//! The words are atomics so that the arena can be written by inserting
//! threads and read by any number of readers without `unsafe`: a writer fills
//! its fresh words with relaxed stores and then publishes the node with a
//! release compare-and-swap on a link; a reader that acquires the link sees
//! the words.
//!
//! Chunks are found through a two-level table of [`OnceLock`]s (256
//! directories of 256 chunks), so resolving a [`NodeRef`] is two loads and
//! never a lock or a read-modify-write.
//!
//! Invariants:
//! 1. Chunks are never freed or moved while the arena lives, and a word is
//!    handed out at most once; a handed-out word is zero until its owner
//!    writes it.
//! 2. A [`NodeRef`] names chunk and word offset; the record it starts is
//!    wholly inside that chunk.
//! 3. A chunk's slot is set before any word of it is handed out, so a
//!    reader that reached a node through a link finds its chunk.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;

/// A word position: chunk index in the high 32 bits, word offset in the low.
pub(crate) type NodeRef = u64;

type Chunk = Box<[AtomicU64]>;
type Directory = Box<[OnceLock<Chunk>]>;

/// Chunks per directory, and directories.
const FANOUT_BITS: u32 = 8;
const FANOUT: usize = 1 << FANOUT_BITS;

/// Most chunks an arena can have: 64 Ki, 64 GiB of full-size chunks.
const MAX_CHUNKS: usize = FANOUT * FANOUT;

/// Words in the first ordinary chunk (4 KiB): a small memtable stays small.
const FIRST_CHUNK_WORDS: usize = 1 << 9;

/// Ordinary chunks double up to this many words (1 MiB).
const MAX_CHUNK_WORDS: usize = 1 << 17;

/// Records longer than this get a chunk of their own, so that a large value
/// neither wastes the rest of a shared chunk nor forces a huge one.
const DEDICATED_WORDS: usize = MAX_CHUNK_WORDS / 8;

/// Packs a chunk index and word offset.
#[inline]
fn node_ref(chunk: usize, offset: usize) -> NodeRef {
    ((chunk as u64) << 32) | offset as u64
}

/// The chunk index and word offset of `r`.
#[inline]
fn split_ref(r: NodeRef) -> (usize, usize) {
    ((r >> 32) as usize, (r & u64::from(u32::MAX)) as usize)
}

fn zeroed(words: usize) -> Box<[AtomicU64]> {
    bytemuck::zeroed_slice_box(words)
}

fn empty_directory() -> Directory {
    (0..FANOUT).map(|_| OnceLock::new()).collect()
}

/// Chunk bookkeeping, changed only under the arena's mutex.
struct Growth {
    /// Chunks made so far (the next chunk's index).
    chunks: usize,
    /// Ordinary chunks made so far (sets the next one's size).
    ordinary: u32,
}

/// The append-only word arena. See the module docs for its invariants.
pub(crate) struct Arena {
    directories: Box<[OnceLock<Directory>]>,
    /// The chunk small records are carved from and the words already handed
    /// out of it, as a [`NodeRef`] to the next free word.
    bump: AtomicU64,
    grow: Mutex<Growth>,
    /// Words handed out, the memory charge.
    used_words: AtomicUsize,
}

impl Arena {
    /// An arena whose first chunk starts with `reserved` words, handed out
    /// at offset 0 of chunk 0 and not charged (the skiplist's head node).
    pub(crate) fn new(reserved: usize) -> Self {
        let len = FIRST_CHUNK_WORDS.max(reserved);
        let arena = Self {
            directories: (0..FANOUT).map(|_| OnceLock::new()).collect(),
            bump: AtomicU64::new(node_ref(0, reserved)),
            grow: Mutex::new(Growth {
                chunks: 1,
                ordinary: 1,
            }),
            used_words: AtomicUsize::new(0),
        };
        arena.install(0, zeroed(len));
        arena
    }

    /// Words handed out so far, excluding the reserved ones.
    pub(crate) fn used_words(&self) -> usize {
        self.used_words.load(Ordering::Relaxed)
    }

    /// The words from `r` to the end of its chunk; empty if `r` names no
    /// chunk (never the case for a ref this arena handed out).
    #[inline]
    pub(crate) fn words(&self, r: NodeRef) -> &[AtomicU64] {
        let (c, o) = split_ref(r);
        self.directories
            .get(c >> FANOUT_BITS)
            .and_then(OnceLock::get)
            .and_then(|d| d.get(c & (FANOUT - 1)))
            .and_then(OnceLock::get)
            .and_then(|chunk| chunk.get(o..))
            .unwrap_or_default()
    }

    /// Sets chunk `index`'s slot. The caller holds `grow` (or is `new`), so
    /// the slot is empty.
    fn install(&self, index: usize, chunk: Chunk) {
        let Some(dir) = self.directories.get(index >> FANOUT_BITS) else {
            return;
        };
        let dir = dir.get_or_init(empty_directory);
        if let Some(slot) = dir.get(index & (FANOUT - 1)) {
            let _ = slot.set(chunk);
        }
    }

    /// Hands out `words` consecutive zeroed words (`words >= 1`); `None`
    /// once the arena has made its [`MAX_CHUNKS`] chunks.
    pub(crate) fn alloc(&self, words: usize) -> Option<NodeRef> {
        if words > DEDICATED_WORDS {
            return self.alloc_dedicated(words);
        }
        let mut cur = self.bump.load(Ordering::Acquire);
        loop {
            let (index, used) = split_ref(cur);
            // The length of the chunk `cur` names, read from that chunk (set
            // before the bump named it): a length kept beside the bump could
            // be the next chunk's while the bump still names this one.
            let len = self.words(node_ref(index, 0)).len();
            if used + words > len {
                match self.alloc_in_new_chunk(cur, words) {
                    Some(Some(r)) => return Some(r),
                    Some(None) => return None,
                    None => {
                        cur = self.bump.load(Ordering::Acquire);
                        continue;
                    }
                }
            }
            match self.bump.compare_exchange_weak(
                cur,
                cur + words as u64,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    self.used_words.fetch_add(words, Ordering::Relaxed);
                    return Some(cur);
                }
                Err(now) => cur = now,
            }
        }
    }

    /// Adds an ordinary chunk and carves `words` from its start. `None`
    /// (retry) if the bump moved on from `seen` meanwhile; `Some(None)` if
    /// the arena is full.
    fn alloc_in_new_chunk(&self, seen: NodeRef, words: usize) -> Option<Option<NodeRef>> {
        let mut growth = self.grow.lock();
        if self.bump.load(Ordering::Acquire) != seen {
            return None;
        }
        let index = growth.chunks;
        if index >= MAX_CHUNKS {
            return Some(None);
        }
        let len = FIRST_CHUNK_WORDS
            .checked_shl(growth.ordinary)
            .unwrap_or(MAX_CHUNK_WORDS)
            .min(MAX_CHUNK_WORDS)
            // Early chunks are smaller than the largest shared record.
            .max(words);
        growth.chunks += 1;
        growth.ordinary += 1;
        self.install(index, zeroed(len));
        // The slot, then the bump that names it (invariant 3).
        self.bump.store(node_ref(index, words), Ordering::Release);
        self.used_words.fetch_add(words, Ordering::Relaxed);
        Some(Some(node_ref(index, 0)))
    }

    fn alloc_dedicated(&self, words: usize) -> Option<NodeRef> {
        let mut growth = self.grow.lock();
        let index = growth.chunks;
        if index >= MAX_CHUNKS {
            return None;
        }
        growth.chunks += 1;
        self.install(index, zeroed(words));
        self.used_words.fetch_add(words, Ordering::Relaxed);
        Some(node_ref(index, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_never_overlap_and_start_zeroed() {
        let arena = Arena::new(4);
        let mut seen = std::collections::HashSet::new();
        // 2000 and 5000 words outgrow the ordinary chunk made for them
        // (1024 and 4096 words by the doubling alone).
        let sizes = [1, 3, 500, 2000, 511, 2, DEDICATED_WORDS + 1, 7, 5000, 9];
        for words in sizes {
            let r = arena.alloc(words).unwrap();
            let span = arena.words(r);
            assert!(words <= span.len(), "record runs past its chunk");
            for w in &span[..words] {
                assert_eq!(w.load(Ordering::Relaxed), 0);
                w.store(1, Ordering::Relaxed);
            }
            let (c, o) = split_ref(r);
            for i in o..o + words {
                assert!(seen.insert((c, i)), "word handed out twice");
            }
        }
        assert_eq!(arena.used_words(), sizes.iter().sum::<usize>());
    }

    #[test]
    fn concurrent_allocations_are_disjoint() {
        let arena = Arena::new(0);
        let spans: Vec<Vec<(usize, usize, usize)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let arena = &arena;
                    s.spawn(move || {
                        (0..3000)
                            .map(|i| {
                                let words = 1 + (i * 7 + t) % 40;
                                let r = arena.alloc(words).unwrap();
                                assert!(arena.words(r).len() >= words);
                                let (c, o) = split_ref(r);
                                (c, o, words)
                            })
                            .collect()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all: Vec<_> = spans.into_iter().flatten().collect();
        all.sort_unstable();
        for pair in all.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert!(a.0 != b.0 || a.1 + a.2 <= b.1, "{a:?} overlaps {b:?}");
        }
    }

    /// Another thread growing the arena installs the next chunk before it
    /// moves the bump. A record that no longer fits the current chunk must
    /// not be placed there on the strength of the new chunk's length.
    #[test]
    fn a_chunk_installed_but_not_yet_bumped_to_does_not_stretch_the_current_one() {
        let arena = Arena::new(0);
        assert!(arena.alloc(500).is_some());
        {
            let mut growth = arena.grow.lock();
            arena.install(growth.chunks, zeroed(MAX_CHUNK_WORDS));
            growth.chunks += 1;
        }
        let r = arena.alloc(100).unwrap();
        assert!(arena.words(r).len() >= 100, "record placed past its chunk");
        assert_ne!(split_ref(r).0, 0);
    }

    #[test]
    fn a_full_arena_refuses_instead_of_overflowing() {
        let arena = Arena::new(0);
        // Making 64 Ki real chunks would take 8 GiB: claim the slots.
        arena.grow.lock().chunks = MAX_CHUNKS;
        assert_eq!(arena.alloc(DEDICATED_WORDS + 1), None);
        // The current chunk still serves small records until it is full.
        assert!(arena.alloc(8).is_some());
        assert_eq!(arena.alloc(FIRST_CHUNK_WORDS), None);
    }
}
