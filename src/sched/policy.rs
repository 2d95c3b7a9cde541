//! Placement policies behind one interface, so that PAM's scheduler and the systems it is
//! compared with (spec §10) run on the same tiers, arrivals and scores.
//!
//! * [`Scheduler`](super::Scheduler) (PAM): spec §7 admission, §9 swaps.
//! * [`NoSchedule`]: PAM without the scheduler (ablation): spec §7 admission, then the initial
//!   placement is kept.
//! * [`LPim`]: L-PIM / LS-PIM: higher tiers first, static. Its placement is the same as
//!   [`NoSchedule`]'s (tokens only arrive at the end of a sequence, so "fill the fastest tier
//!   first" and "HBM when it has room, else the next tier" coincide); the two differ in what
//!   the system attends (every token for L-PIM, the selected ones for the ablation), which is
//!   not a placement matter. Both exist so reports name the system they stand for.
//! * [`Lru`]: recency caching: a new or used token goes to the fastest tier and pushes the
//!   least recently used token of each full tier one tier down.

use std::collections::BTreeSet;

use super::pool::Pool;
use super::{SchedError, Tier, TokenId};

/// One token's migration between tiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    pub token: TokenId,
    pub from: Tier,
    pub to: Tier,
}

pub trait Policy {
    /// The system's name in reports.
    fn name(&self) -> &'static str;

    /// Places a newly arrived token; returns the migrations of stored tokens this caused.
    /// Default: spec §7, the fastest tier with room.
    fn admit(&mut self, pool: &mut Pool, token: TokenId) -> Result<Vec<Move>, SchedError> {
        pool.admit_first_fit(token)?;
        Ok(Vec::new())
    }

    /// Migrates tokens once the step's scores are in the pool's importance table; `used` are
    /// the tokens attention read this step.
    fn migrate(&mut self, pool: &mut Pool, used: &[TokenId]) -> Result<Vec<Move>, SchedError>;
}

/// PAM without the scheduler: the initial placement is kept.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSchedule;

impl Policy for NoSchedule {
    fn name(&self) -> &'static str {
        "no-schedule"
    }

    fn migrate(&mut self, _: &mut Pool, _: &[TokenId]) -> Result<Vec<Move>, SchedError> {
        Ok(Vec::new())
    }
}

/// L-PIM: the fastest tier first, static.
#[derive(Clone, Copy, Debug, Default)]
pub struct LPim;

impl Policy for LPim {
    fn name(&self) -> &'static str {
        "L-PIM"
    }

    fn migrate(&mut self, _: &mut Pool, _: &[TokenId]) -> Result<Vec<Move>, SchedError> {
        Ok(Vec::new())
    }
}

/// Least-recently-used caching over the pool's tiers.
///
/// A touched token (new, or read by attention) goes to the fastest tier. It first jumps to the fastest tier
/// with room (if one is faster than where it is); then, through every full tier above it, it
/// swaps with that tier's least recently used token, which moves one tier down. Occupancy
/// is kept when the tiers are full; the tier the token left gains a free slot otherwise. A
/// tier of capacity 0 is skipped. Recency is a counter per touch, so tokens used in the same
/// step are ordered by the order of `used`.
#[derive(Clone, Debug, Default)]
pub struct Lru {
    clock: u64,
    stamp: Vec<u64>,
    /// Per tier: (last touch, token), oldest first. Sized from the pool on first use.
    order: Vec<BTreeSet<(u64, TokenId)>>,
}

impl Lru {
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives `order` one set per tier of `pool`.
    fn size(&mut self, pool: &Pool) {
        if self.order.len() < pool.tier_count() {
            self.order.resize_with(pool.tier_count(), BTreeSet::new);
        }
    }

    /// Lifts a stored token to the fastest tier (see the type's doc); returns the tier it ends
    /// in. The moves of the tokens it displaces are appended to `moves`.
    fn lift(&mut self, pool: &mut Pool, token: TokenId, moves: &mut Vec<Move>) -> Result<Tier, SchedError> {
        let mut at = pool.table().tier(token).ok_or(SchedError::UnknownToken(token))?;
        if let Some(room) = (0..at.index()).map(Tier::new).find(|&t| pool.has_room(t)) {
            pool.move_to(token, room)?;
            at = room;
        }
        for up in (0..at.index()).rev().map(Tier::new) {
            let Some(&(stamp, victim)) = self.order[up.index()].first() else { continue };
            pool.swap(token, victim)?;
            self.order[up.index()].remove(&(stamp, victim));
            self.order[at.index()].insert((stamp, victim));
            moves.push(Move { token: victim, from: up, to: at });
            at = up;
        }
        Ok(at)
    }

    /// Makes `token`, now in `tier`, the most recently used.
    fn record(&mut self, token: TokenId, tier: Tier) {
        self.clock += 1;
        let i = token as usize;
        if self.stamp.len() <= i {
            self.stamp.resize(i + 1, 0);
        }
        self.stamp[i] = self.clock;
        self.order[tier.index()].insert((self.clock, token));
    }
}

impl Policy for Lru {
    fn name(&self) -> &'static str {
        "LRU"
    }

    fn admit(&mut self, pool: &mut Pool, token: TokenId) -> Result<Vec<Move>, SchedError> {
        self.size(pool);
        pool.admit_first_fit(token)?;
        let mut moves = Vec::new();
        let at = self.lift(pool, token, &mut moves)?;
        self.record(token, at);
        Ok(moves)
    }

    fn migrate(&mut self, pool: &mut Pool, used: &[TokenId]) -> Result<Vec<Move>, SchedError> {
        self.size(pool);
        let mut moves = Vec::new();
        for &token in used {
            let from = pool.table().tier(token).ok_or(SchedError::UnknownToken(token))?;
            let stamp = *self.stamp.get(token as usize).ok_or(SchedError::UnknownToken(token))?;
            self.order[from.index()].remove(&(stamp, token));
            let to = self.lift(pool, token, &mut moves)?;
            if to != from {
                moves.push(Move { token, from, to });
            }
            self.record(token, to);
        }
        Ok(moves)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HBM: Tier = Tier::new(0);
    const DDR: Tier = Tier::new(1);
    const SSD: Tier = Tier::new(2);

    fn tiers(p: &Pool, tokens: std::ops::Range<TokenId>) -> Vec<Tier> {
        tokens.map(|t| p.table().tier(t).unwrap()).collect()
    }

    #[test]
    fn lru_promotes_the_used_token_and_demotes_the_least_recent_of_each_full_tier() {
        let mut p = Pool::new([2, 2, 4]);
        let mut lru = Lru::new();
        for t in 0..6 {
            lru.admit(&mut p, t).unwrap();
        }
        // Arrival order 0..6: the two newest in HBM, the next two in DDR, the oldest in SSD.
        assert_eq!(tiers(&p, 0..6), [SSD, SSD, DDR, DDR, HBM, HBM]);
        let moves = lru.migrate(&mut p, &[0]).unwrap();
        // 0 (SSD) to HBM; HBM's LRU 4 to DDR; DDR's LRU 2 to SSD: occupancy unchanged.
        assert_eq!(tiers(&p, 0..6), [HBM, SSD, SSD, DDR, DDR, HBM]);
        assert_eq!(moves.len(), 3);
        assert!(moves.contains(&Move { token: 0, from: SSD, to: HBM }));
        assert_eq!(p.tiers().map(|t| p.table().count(t)).collect::<Vec<_>>(), [2, 2, 2]);
        // A used token already in HBM only refreshes its recency: 5 is then the most recent,
        // so the next promotion demotes 0.
        assert!(lru.migrate(&mut p, &[5]).unwrap().is_empty());
        lru.migrate(&mut p, &[1]).unwrap();
        assert_eq!(tiers(&p, 0..6), [DDR, HBM, SSD, SSD, DDR, HBM]);
    }

    #[test]
    fn lru_uses_free_room_and_skips_empty_tiers() {
        let mut p = Pool::new([1, 0, 3]);
        let mut lru = Lru::new();
        for t in 0..3 {
            lru.admit(&mut p, t).unwrap();
        }
        assert_eq!(tiers(&p, 0..3), [SSD, SSD, HBM]);
        lru.migrate(&mut p, &[0]).unwrap();
        assert_eq!(tiers(&p, 0..3), [HBM, SSD, SSD]);
        lru.admit(&mut p, 3).unwrap();
        assert_eq!(tiers(&p, 0..4), [SSD, SSD, SSD, HBM]);
        assert_eq!(lru.admit(&mut p, 4), Err(SchedError::Full(4)));
    }

    #[test]
    fn lru_over_one_two_and_four_tiers() {
        // One tier: nothing can move.
        let mut p = Pool::new([3]);
        let mut lru = Lru::new();
        for t in 0..3 {
            assert!(lru.admit(&mut p, t).unwrap().is_empty());
        }
        assert!(lru.migrate(&mut p, &[0, 2, 1]).unwrap().is_empty());
        assert_eq!(lru.admit(&mut p, 3), Err(SchedError::Full(3)));
        // Four tiers of one token each: a use of the slowest token rotates every tier.
        let t3 = Tier::new(3);
        let mut p = Pool::new(vec![1, 1, 1, 1]);
        let mut lru = Lru::new();
        for t in 0..4 {
            lru.admit(&mut p, t).unwrap();
        }
        assert_eq!(tiers(&p, 0..4), [t3, SSD, DDR, HBM]);
        let moves = lru.migrate(&mut p, &[0]).unwrap();
        assert_eq!(tiers(&p, 0..4), [HBM, t3, SSD, DDR]);
        assert_eq!(moves.len(), 4);
        assert!(moves.contains(&Move { token: 0, from: t3, to: HBM }));
        assert!(moves.contains(&Move { token: 1, from: SSD, to: t3 }));
        // Two tiers, the fast one empty of room: the used token swaps with its LRU.
        let mut p = Pool::new([1, 2]);
        let mut lru = Lru::new();
        for t in 0..3 {
            lru.admit(&mut p, t).unwrap();
        }
        assert_eq!(tiers(&p, 0..3), [DDR, DDR, HBM]);
        lru.migrate(&mut p, &[1]).unwrap();
        assert_eq!(tiers(&p, 0..3), [DDR, HBM, DDR]);
    }
}
