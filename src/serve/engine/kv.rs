//! The KV block pool: blocks of `block_size` tokens, never over capacity, with vLLM's
//! least-recently-freed eviction order for the blocks a preempted request leaves cached.
//!
//! With prefix caching, vLLM does not erase a freed block: it goes to the tail of a free queue
//! with its content, and stays a cache hit until an allocation pops it from the head. A request
//! frees its blocks last block first, so its prefix is evicted from its end. The pool keeps that
//! queue as segments: anonymous blocks (a finished request's, or a partial block, which vLLM
//! never caches) and a preempted request's cached full blocks. Only a request's own blocks are
//! ever hits (a workload has no token ids to match prefixes across requests: see [`super`]).

use std::collections::VecDeque;

/// A run of consecutive blocks of the free queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    /// The preempted request whose prefix these blocks cache; `None`: nobody's.
    owner: Option<u64>,
    blocks: u64,
}

/// A pool of KV blocks. Which physical block a request holds does not matter to timing, so the
/// pool counts blocks and keeps the free queue's order by owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockPool {
    capacity: u64,
    used: u64,
    block_size: u32,
    /// The free blocks, head (evicted first) to tail; sums to `capacity - used`.
    free_queue: VecDeque<Segment>,
}

impl BlockPool {
    /// A pool of `capacity` blocks of `block_size` tokens (at least 1, checked by the engine's
    /// configuration).
    pub fn new(capacity: u64, block_size: u32) -> BlockPool {
        let mut free_queue = VecDeque::new();
        if capacity > 0 {
            free_queue.push_back(Segment { owner: None, blocks: capacity });
        }
        BlockPool { capacity, used: 0, block_size: block_size.max(1), free_queue }
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Blocks held by requests.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Blocks free, cached ones included.
    pub fn free(&self) -> u64 {
        self.capacity - self.used
    }

    pub fn block_size(&self) -> u32 {
        self.block_size
    }

    /// Blocks holding `tokens` tokens.
    pub fn blocks_for(&self, tokens: u64) -> u64 {
        tokens.div_ceil(u64::from(self.block_size))
    }

    /// Grows a holding of `held` blocks to cover `tokens` tokens, evicting from the head of the
    /// free queue; false (and nothing taken) when the free blocks do not suffice.
    pub fn grow(&mut self, held: &mut u64, tokens: u64) -> bool {
        let mut need = self.blocks_for(tokens).saturating_sub(*held);
        if need > self.free() {
            return false;
        }
        self.used += need;
        *held += need;
        while need > 0 {
            let Some(head) = self.free_queue.front_mut() else { break };
            let take = need.min(head.blocks);
            head.blocks -= take;
            need -= take;
            if head.blocks == 0 {
                self.free_queue.pop_front();
            }
        }
        true
    }

    /// Returns a holding to the tail of the free queue, nobody's.
    pub fn release(&mut self, held: &mut u64) {
        self.push_free(None, *held);
        *held = 0;
    }

    /// Returns a preempted request's holding: `cached` of its blocks (its full blocks) stay hits
    /// for `owner`; they go to the tail after the others, as vLLM frees a request's blocks
    /// last first.
    pub fn release_cached(&mut self, held: &mut u64, owner: u64, cached: u64) {
        let cached = cached.min(*held);
        self.push_free(None, *held - cached);
        self.push_free(Some(owner), cached);
        *held = 0;
    }

    /// Blocks still cached for `owner`.
    pub fn cached(&self, owner: u64) -> u64 {
        self.free_queue.iter().filter(|s| s.owner == Some(owner)).map(|s| s.blocks).sum()
    }

    /// Takes up to `max` of `owner`'s cached blocks out of the free queue as a holding (cache
    /// hits); the rest of them become nobody's. Returns the blocks taken.
    pub fn take_cached(&mut self, held: &mut u64, owner: u64, max: u64) -> u64 {
        let mut hits = 0;
        for s in self.free_queue.iter_mut().filter(|s| s.owner == Some(owner)) {
            let take = (max - hits).min(s.blocks);
            s.blocks -= take;
            hits += take;
            s.owner = None;
        }
        self.free_queue.retain(|s| s.blocks > 0);
        self.used += hits;
        *held += hits;
        hits
    }

    fn push_free(&mut self, owner: Option<u64>, blocks: u64) {
        let blocks = blocks.min(self.used);
        if blocks == 0 {
            return;
        }
        self.used -= blocks;
        match self.free_queue.back_mut() {
            Some(tail) if tail.owner.is_none() && owner.is_none() => tail.blocks += blocks,
            _ => self.free_queue.push_back(Segment { owner, blocks }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_whole_blocks_and_refuses_past_capacity() {
        let mut pool = BlockPool::new(4, 16);
        let (mut a, mut b) = (0, 0);
        assert!(pool.grow(&mut a, 17));
        assert_eq!((a, pool.used()), (2, 2));
        assert!(pool.grow(&mut a, 32), "still two blocks");
        assert_eq!(pool.used(), 2);
        assert!(!pool.grow(&mut b, 33), "three blocks, two free");
        assert_eq!((b, pool.used()), (0, 2));
        assert!(pool.grow(&mut b, 32));
        assert_eq!(pool.free(), 0);
        pool.release(&mut a);
        assert_eq!((a, pool.used()), (0, 2));
    }

    #[test]
    fn cached_blocks_are_evicted_least_recently_freed_first() {
        let mut pool = BlockPool::new(10, 16);
        let (mut a, mut b, mut c) = (0, 0, 0);
        assert!(pool.grow(&mut a, 16 * 4));
        assert!(pool.grow(&mut b, 16 * 4));
        // 2 anonymous blocks free; a leaves 3 cached blocks (and 1 partial) behind them.
        pool.release_cached(&mut a, 7, 3);
        assert_eq!((pool.free(), pool.cached(7)), (6, 3));
        // 3 blocks: the 2 anonymous, then a's partial block; a's cache intact.
        assert!(pool.grow(&mut c, 16 * 3));
        assert_eq!(pool.cached(7), 3);
        // One more evicts one of a's cached blocks.
        assert!(pool.grow(&mut c, 16 * 4));
        assert_eq!(pool.cached(7), 2);
        let mut again = 0;
        assert_eq!(pool.take_cached(&mut again, 7, 10), 2);
        assert_eq!((again, pool.cached(7), pool.used(), pool.free()), (2, 0, 10, 0));
        pool.release(&mut b);
        pool.release(&mut c);
        pool.release(&mut again);
        assert_eq!(pool.free(), 10);
    }
}
