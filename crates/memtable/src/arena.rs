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
//! Invariants:
//! 1. Chunks are never freed or moved while the arena lives, and a word is
//!    handed out at most once; a handed-out word is zero until its owner
//!    writes it.
//! 2. A [`NodeRef`] names chunk and word offset; the record it starts is
//!    wholly inside that chunk.
//! 3. The chunk list only grows, and a chunk is in the published list before
//!    any word of it is handed out, so a reader that reached a node through a
//!    link finds its chunk in a list loaded after that link.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use arc_swap::{ArcSwap, Guard};
use parking_lot::Mutex;

/// One chunk of words.
pub(crate) type Chunk = Arc<[AtomicU64]>;

/// A loaded chunk list: cheap to take, valid as long as it is held.
pub(crate) type ChunkList = Guard<Arc<Vec<Chunk>>>;

/// A word position: chunk index in the high 32 bits, word offset in the low.
pub(crate) type NodeRef = u64;

/// Words in the first ordinary chunk (4 KiB): a small memtable stays small.
const FIRST_CHUNK_WORDS: usize = 1 << 9;

/// Ordinary chunks double up to this many words (1 MiB).
const MAX_CHUNK_WORDS: usize = 1 << 17;

/// Records longer than this get a chunk of their own, so that a large value
/// neither wastes the rest of a shared chunk nor forces a huge one.
const DEDICATED_WORDS: usize = MAX_CHUNK_WORDS / 8;

/// Packs a chunk index and word offset.
#[inline]
pub(crate) fn node_ref(chunk: usize, offset: usize) -> NodeRef {
    ((chunk as u64) << 32) | offset as u64
}

/// The chunk index and word offset of `r`.
#[inline]
pub(crate) fn split_ref(r: NodeRef) -> (usize, usize) {
    ((r >> 32) as usize, (r & u64::from(u32::MAX)) as usize)
}

fn zeroed_chunk(words: usize) -> Chunk {
    (0..words).map(|_| AtomicU64::new(0)).collect()
}

/// The append-only word arena. See the module docs for its invariants.
pub(crate) struct Arena {
    chunks: ArcSwap<Vec<Chunk>>,
    /// The chunk small records are carved from (high 32 bits) and the words
    /// already handed out of it (low 32 bits).
    bump: AtomicU64,
    /// Held while a chunk is added; counts the ordinary chunks made so far.
    grow: Mutex<u32>,
    /// Words handed out, the memory charge.
    used_words: AtomicUsize,
}

impl Arena {
    /// An arena whose first chunk starts with `reserved` words, handed out
    /// at offset 0 of chunk 0 and not charged (the skiplist's head node).
    pub(crate) fn new(reserved: usize) -> Self {
        let first = zeroed_chunk(FIRST_CHUNK_WORDS.max(reserved));
        Self {
            chunks: ArcSwap::from_pointee(vec![first]),
            bump: AtomicU64::new(node_ref(0, reserved)),
            grow: Mutex::new(1),
            used_words: AtomicUsize::new(0),
        }
    }

    /// The current chunk list.
    #[inline]
    pub(crate) fn chunks(&self) -> ChunkList {
        self.chunks.load()
    }

    /// Words handed out so far, excluding the reserved ones.
    pub(crate) fn used_words(&self) -> usize {
        self.used_words.load(Ordering::Relaxed)
    }

    /// Hands out `words` consecutive zeroed words (`words >= 1`); returns
    /// where they start and a chunk list that contains them.
    pub(crate) fn alloc(&self, words: usize) -> (NodeRef, ChunkList) {
        self.used_words.fetch_add(words, Ordering::Relaxed);
        if words > DEDICATED_WORDS {
            return self.alloc_dedicated(words);
        }
        let mut chunks = self.chunks();
        let mut cur = self.bump.load(Ordering::Acquire);
        loop {
            let (index, used) = split_ref(cur);
            let Some(chunk) = chunks.get(index) else {
                // The bump moved to a chunk added after our list was loaded.
                chunks = self.chunks();
                continue;
            };
            if used + words > chunk.len() {
                if let Some(r) = self.alloc_in_new_chunk(cur, words) {
                    return (r, self.chunks());
                }
                chunks = self.chunks();
                cur = self.bump.load(Ordering::Acquire);
                continue;
            }
            match self.bump.compare_exchange_weak(
                cur,
                cur + words as u64,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return (cur, chunks),
                Err(now) => cur = now,
            }
        }
    }

    /// Adds an ordinary chunk and carves `words` from its start, unless the
    /// bump moved on from `seen` meanwhile (`None`: retry).
    fn alloc_in_new_chunk(&self, seen: NodeRef, words: usize) -> Option<NodeRef> {
        let mut ordinary = self.grow.lock();
        if self.bump.load(Ordering::Acquire) != seen {
            return None;
        }
        let size = FIRST_CHUNK_WORDS
            .checked_shl(*ordinary)
            .unwrap_or(MAX_CHUNK_WORDS)
            .min(MAX_CHUNK_WORDS)
            // Early chunks are smaller than the largest shared record.
            .max(words);
        *ordinary += 1;
        let index = self.push_chunk(zeroed_chunk(size));
        // Published before the bump names it (invariant 3).
        self.bump.store(node_ref(index, words), Ordering::Release);
        Some(node_ref(index, 0))
    }

    fn alloc_dedicated(&self, words: usize) -> (NodeRef, ChunkList) {
        let _guard = self.grow.lock();
        let index = self.push_chunk(zeroed_chunk(words));
        (node_ref(index, 0), self.chunks())
    }

    /// Appends `chunk` to the published list; the caller holds `grow`.
    fn push_chunk(&self, chunk: Chunk) -> usize {
        let mut list = Vec::clone(&self.chunks.load());
        list.push(chunk);
        let index = list.len() - 1;
        self.chunks.store(Arc::new(list));
        index
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
        for words in [1, 3, 500, 2000, 511, 2, DEDICATED_WORDS + 1, 7, 5000, 9] {
            let (r, chunks) = arena.alloc(words);
            let (c, o) = split_ref(r);
            let chunk = &chunks[c];
            assert!(o + words <= chunk.len(), "record runs past its chunk");
            for w in &chunk[o..o + words] {
                assert_eq!(w.load(Ordering::Relaxed), 0);
                w.store(1, Ordering::Relaxed);
            }
            for i in o..o + words {
                assert!(seen.insert((c, i)), "word handed out twice");
            }
        }
        assert_eq!(
            arena.used_words(),
            1 + 3 + 500 + 2000 + 511 + 2 + DEDICATED_WORDS + 1 + 7 + 5000 + 9
        );
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
                                let (r, _) = arena.alloc(words);
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
}
