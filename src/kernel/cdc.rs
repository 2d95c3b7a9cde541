//! A dual-clock FIFO: the crossing of a beat from the memory's clock into a PU's.
//!
//! As in hardware with a two-flop synchronizer on the write pointer, an entry written at time
//! `t` becomes visible to the reader [`SYNC_EDGES`] reader periods later; the writer sees free
//! space at once (a conservative model of the read-pointer synchronizer would only delay it).

use std::collections::VecDeque;

use super::Ps;

/// Reader clock periods before a written entry can be read.
pub const SYNC_EDGES: u64 = 2;

#[derive(Clone, Debug)]
pub struct CdcFifo<T> {
    depth: usize,
    sync_ps: Ps,
    q: VecDeque<(Ps, T)>,
}

impl<T> CdcFifo<T> {
    pub fn new(depth: usize, reader_period_ps: Ps) -> Self {
        CdcFifo { depth, sync_ps: SYNC_EDGES * reader_period_ps, q: VecDeque::with_capacity(depth) }
    }

    /// Writes at time `at`; gives the item back when the FIFO is full.
    pub fn push(&mut self, at: Ps, item: T) -> Result<(), T> {
        if self.q.len() >= self.depth {
            return Err(item);
        }
        self.q.push_back((at + self.sync_ps, item));
        Ok(())
    }

    /// The oldest entry, if the reader can see it at time `at`.
    pub fn pop(&mut self, at: Ps) -> Option<T> {
        if self.q.front().is_some_and(|(visible, _)| *visible <= at) {
            self.q.pop_front().map(|(_, x)| x)
        } else {
            None
        }
    }

    pub fn free(&self) -> usize {
        self.depth - self.q.len()
    }

    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_cross_after_two_reader_periods_in_order() {
        let mut f = CdcFifo::new(2, 1000);
        f.push(500, 'a').unwrap();
        f.push(600, 'b').unwrap();
        assert_eq!(f.push(700, 'c'), Err('c'), "full at depth 2");
        assert_eq!(f.pop(2499), None);
        assert_eq!(f.pop(2500), Some('a'));
        assert_eq!(f.pop(2500), None, "b is visible only from 2600");
        assert_eq!(f.pop(3000), Some('b'));
        assert!(f.is_empty() && f.free() == 2);
    }
}
