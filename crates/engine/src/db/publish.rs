//! [`Publisher`]: makes writes visible in sequence-number order.
//!
//! Writers take consecutive seqnos in WAL order, then insert into the
//! memtable concurrently. A write becomes visible (reads use the visible
//! seqno as their snapshot) only once every write before it is inserted, so
//! a reader never sees a later write without an earlier one: a batch is seen
//! whole or not at all, and the visible state is always a prefix of the log.
//!
//! A writer that finishes before an earlier one parks its range and sleeps;
//! the writer that closes the gap makes every parked range it now reaches
//! visible at once and wakes the sleepers. So a group commit of `n` writers
//! costs about one wake-up each, not one per earlier writer (waiting for
//! each predecessor in turn woke every sleeper on every step: `n²` wake-ups,
//! which made 64 synced writers slower than 8).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex};
use strata_core::SeqNo;

#[derive(Debug)]
struct State {
    /// Same value as `Publisher::visible`.
    visible: SeqNo,
    /// Inserted ranges (`first -> last`) waiting for an earlier write.
    parked: BTreeMap<SeqNo, SeqNo>,
}

#[derive(Debug)]
pub(crate) struct Publisher {
    visible: AtomicU64,
    state: Mutex<State>,
    turn: Condvar,
}

impl Publisher {
    pub(crate) fn new(last: SeqNo) -> Self {
        Self {
            visible: AtomicU64::new(last),
            state: Mutex::new(State {
                visible: last,
                parked: BTreeMap::new(),
            }),
            turn: Condvar::new(),
        }
    }

    /// The newest visible seqno: every write up to it is readable.
    pub(crate) fn visible(&self) -> SeqNo {
        self.visible.load(Ordering::Acquire)
    }

    /// Marks the writes `first..=last` inserted and returns once they are
    /// visible, which needs every earlier write inserted too. REQUIRES: each
    /// seqno is published once, and every seqno below `first` is eventually
    /// published (the engine stops taking writes when one cannot be).
    pub(crate) fn publish(&self, first: SeqNo, last: SeqNo) {
        let mut state = self.state.lock();
        if first > state.visible + 1 {
            state.parked.insert(first, last);
            while state.visible < last {
                self.turn.wait(&mut state);
            }
            return;
        }
        let mut visible = state.visible.max(last);
        while let Some(parked) = state.parked.first_entry() {
            if *parked.key() > visible + 1 {
                break;
            }
            visible = visible.max(parked.remove());
        }
        state.visible = visible;
        self.visible.store(visible, Ordering::Release);
        self.turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn later_writes_wait_for_earlier_ones() {
        let p = Arc::new(Publisher::new(10));
        let late = {
            let p = Arc::clone(&p);
            std::thread::spawn(move || p.publish(14, 15))
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(p.visible(), 10, "15 must not be visible before 11..=13");
        p.publish(11, 13);
        late.join().unwrap();
        assert_eq!(p.visible(), 15);
    }

    /// Many writers publishing in scrambled order: each returns only once
    /// its write is visible, and what is visible is always a prefix of the
    /// inserted writes (a watcher checks every value it sees).
    #[test]
    fn visibility_is_always_a_prefix_of_inserted_writes() {
        const WRITERS: u64 = 64;
        const ROUNDS: u64 = 20;
        let total = WRITERS * ROUNDS * 2;
        let p = Arc::new(Publisher::new(0));
        let inserted: Arc<Vec<AtomicBool>> =
            Arc::new((0..=total).map(|_| AtomicBool::new(false)).collect());
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (p, inserted, stop) = (Arc::clone(&p), Arc::clone(&inserted), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut last_seen = 0;
                while !stop.load(Ordering::Acquire) {
                    let v = p.visible();
                    assert!(
                        v >= last_seen,
                        "visibility went back from {last_seen} to {v}"
                    );
                    for s in 1..=v {
                        assert!(
                            inserted[s as usize].load(Ordering::Acquire),
                            "{s} visible, not inserted"
                        );
                    }
                    last_seen = v;
                }
            })
        };
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (p, inserted) = (Arc::clone(&p), Arc::clone(&inserted));
                std::thread::spawn(move || {
                    for round in 0..ROUNDS {
                        // Two seqnos per write; writers of a round in reverse order.
                        let first = round * WRITERS * 2 + (WRITERS - 1 - w) * 2 + 1;
                        for s in first..=first + 1 {
                            inserted[s as usize].store(true, Ordering::Release);
                        }
                        p.publish(first, first + 1);
                        assert!(p.visible() > first, "returned before {first} was visible");
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::Release);
        watcher.join().unwrap();
        assert_eq!(p.visible(), total);
    }
}
