//! The host's paged block table: token positions of each (request, layer, KV head) sequence,
//! in pages of `page_tokens` positions, each position mapped to a physical location.
//!
//! Pages keep the table's per-step work proportional to the tokens touched: looking up or
//! appending a token touches one page, never the whole sequence.

use std::collections::HashMap;

use super::location::PhysLoc;

/// One attention sequence: a request's layer and KV head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeqKey {
    pub request: u32,
    pub layer: u16,
    pub kv_head: u16,
}

#[derive(Clone, Debug)]
pub struct BlockTable {
    page_tokens: usize,
    seqs: HashMap<SeqKey, Vec<Box<[Option<PhysLoc>]>>>,
    tokens: usize,
}

impl BlockTable {
    pub fn new(page_tokens: usize) -> Self {
        assert!(page_tokens > 0, "a page holds at least one token");
        BlockTable { page_tokens, seqs: HashMap::new(), tokens: 0 }
    }

    /// Records (or moves) the token at `pos` of `seq`; returns its previous location.
    pub fn set(&mut self, seq: SeqKey, pos: usize, loc: PhysLoc) -> Option<PhysLoc> {
        let pages = self.seqs.entry(seq).or_default();
        let (page, slot) = (pos / self.page_tokens, pos % self.page_tokens);
        while pages.len() <= page {
            pages.push(vec![None; self.page_tokens].into_boxed_slice());
        }
        let old = pages[page][slot].replace(loc);
        if old.is_none() {
            self.tokens += 1;
        }
        old
    }

    pub fn get(&self, seq: SeqKey, pos: usize) -> Option<PhysLoc> {
        let pages = self.seqs.get(&seq)?;
        *pages.get(pos / self.page_tokens)?.get(pos % self.page_tokens)?
    }

    /// Tokens recorded in all sequences.
    pub fn len(&self) -> usize {
        self.tokens
    }

    pub fn is_empty(&self) -> bool {
        self.tokens == 0
    }

    /// Every recorded token of `seq`, in position order.
    pub fn seq(&self, seq: SeqKey) -> impl Iterator<Item = (usize, PhysLoc)> + '_ {
        let pt = self.page_tokens;
        self.seqs.get(&seq).into_iter().flat_map(move |pages| {
            pages
                .iter()
                .enumerate()
                .flat_map(move |(p, page)| page.iter().enumerate().filter_map(move |(i, l)| l.map(|l| (p * pt + i, l))))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(row: u32) -> PhysLoc {
        PhysLoc { tier: 0, device: 0, bank_group: 1, bank: 2, row, col: 0 }
    }

    #[test]
    fn records_moves_and_lists_tokens_by_position() {
        let mut t = BlockTable::new(4);
        let s = SeqKey { request: 7, layer: 1, kv_head: 0 };
        assert_eq!(t.set(s, 9, loc(9)), None);
        assert_eq!(t.set(s, 0, loc(0)), None);
        assert_eq!(t.set(s, 9, loc(10)), Some(loc(9)));
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(s, 9), Some(loc(10)));
        assert_eq!(t.get(s, 5), None);
        assert_eq!(t.get(SeqKey { layer: 2, ..s }, 0), None);
        assert_eq!(t.seq(s).collect::<Vec<_>>(), vec![(0, loc(0)), (9, loc(10))]);
    }
}
