//! [`Publisher`]: makes writes visible in sequence-number order.
//!
//! Writers take consecutive seqnos in WAL order, then insert into the
//! memtable concurrently. A write becomes visible (reads use the visible
//! seqno as their snapshot) only once every write before it is inserted, so
//! a reader never sees a later write without an earlier one: a batch is seen
//! whole or not at all, and the visible state is always a prefix of the log.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex};
use strata_core::SeqNo;

#[derive(Debug)]
pub(crate) struct Publisher {
    visible: AtomicU64,
    /// Guards publication; holds the same value as `visible`.
    order: Mutex<SeqNo>,
    turn: Condvar,
}

impl Publisher {
    pub(crate) fn new(last: SeqNo) -> Self {
        Self {
            visible: AtomicU64::new(last),
            order: Mutex::new(last),
            turn: Condvar::new(),
        }
    }

    /// The newest visible seqno: every write up to it is readable.
    pub(crate) fn visible(&self) -> SeqNo {
        self.visible.load(Ordering::Acquire)
    }

    /// Publishes the writes `first..=last` once all earlier ones are
    /// published. REQUIRES: every seqno below `first` is eventually published
    /// (the engine stops taking writes when one cannot be).
    pub(crate) fn publish(&self, first: SeqNo, last: SeqNo) {
        let mut visible = self.order.lock();
        while *visible + 1 < first {
            self.turn.wait(&mut visible);
        }
        *visible = (*visible).max(last);
        self.visible.store(*visible, Ordering::Release);
        self.turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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
}
