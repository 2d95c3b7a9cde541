//! The tiers' token capacities on top of the [`ImportanceTable`], and one decode step of the
//! host's KV manager ([`Pool::step`]).
//!
//! Policies change placement only through the pool, so no tier ever holds more tokens than its
//! capacity: an insert or a move into a full tier (or one the pool does not have) is an error,
//! and a swap exchanges two tokens' tiers, leaving every occupancy as it was.

use super::importance::ImportanceTable;
use super::policy::{Move, Policy};
use super::{SchedError, Tier, TokenId, MAX_TIERS};

/// What one decode step did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepReport {
    /// The arrivals and the tier each entered.
    pub admitted: Vec<(TokenId, Tier)>,
    /// Migrations of tokens already stored, in the order they were made.
    pub moves: Vec<Move>,
}

#[derive(Clone, Debug)]
pub struct Pool {
    /// Per tier, fastest first.
    capacity: Vec<usize>,
    table: ImportanceTable,
}

impl Pool {
    /// An empty pool; `capacity` in tokens per tier, fastest first: one tier per element, 1 to
    /// [`MAX_TIERS`] of them (panics otherwise). A tier may have capacity 0.
    pub fn new(capacity: impl Into<Vec<usize>>) -> Self {
        let capacity = capacity.into();
        assert!((1..=MAX_TIERS).contains(&capacity.len()), "a pool has 1 to {MAX_TIERS} tiers, not {}", capacity.len());
        Pool { table: ImportanceTable::new(capacity.len()), capacity }
    }

    pub fn table(&self) -> &ImportanceTable {
        &self.table
    }

    /// The number of tiers.
    pub fn tier_count(&self) -> usize {
        self.capacity.len()
    }

    /// The tiers, fastest first.
    pub fn tiers(&self) -> impl Iterator<Item = Tier> {
        (0..self.capacity.len()).map(Tier::new)
    }

    /// A tier's capacity in tokens (0 for a tier the pool does not have).
    pub fn capacity(&self, tier: Tier) -> usize {
        self.capacity.get(tier.index()).copied().unwrap_or(0)
    }

    pub fn has_room(&self, tier: Tier) -> bool {
        self.table.count(tier) < self.capacity(tier)
    }

    /// Spec §7 Decision: the fastest tier with room.
    pub fn first_fit(&self) -> Option<Tier> {
        self.tiers().find(|&t| self.has_room(t))
    }

    fn check_tier(&self, tier: Tier) -> Result<(), SchedError> {
        if tier.index() < self.capacity.len() {
            Ok(())
        } else {
            Err(SchedError::NoTier { tier, tiers: self.capacity.len() })
        }
    }

    /// Stores a new token in `tier`.
    pub fn insert(&mut self, token: TokenId, tier: Tier) -> Result<(), SchedError> {
        self.check_tier(tier)?;
        if !self.has_room(tier) {
            return Err(SchedError::TierFull { tier, capacity: self.capacity(tier) });
        }
        self.table.insert(token, tier)
    }

    /// Stores a new token in the fastest tier with room; returns that tier.
    pub fn admit_first_fit(&mut self, token: TokenId) -> Result<Tier, SchedError> {
        let tier = self.first_fit().ok_or(SchedError::Full(token))?;
        self.insert(token, tier)?;
        Ok(tier)
    }

    /// Moves a token to `to`, which must have room (a no-op when it is already there).
    pub fn move_to(&mut self, token: TokenId, to: Tier) -> Result<Tier, SchedError> {
        self.check_tier(to)?;
        if self.table.tier(token) != Some(to) && !self.has_room(to) {
            return Err(SchedError::TierFull { tier: to, capacity: self.capacity(to) });
        }
        self.table.move_to(token, to)
    }

    /// Exchanges the tiers of two tokens: no occupancy changes.
    pub fn swap(&mut self, a: TokenId, b: TokenId) -> Result<(), SchedError> {
        let ta = self.table.tier(a).ok_or(SchedError::UnknownToken(a))?;
        let tb = self.table.tier(b).ok_or(SchedError::UnknownToken(b))?;
        self.table.move_to(a, tb)?;
        self.table.move_to(b, ta)?;
        Ok(())
    }

    pub fn set_pinned(&mut self, token: TokenId, pinned: bool) -> Result<(), SchedError> {
        self.table.set_pinned(token, pinned)
    }

    /// One decode step: the importance of every token decays, `arrivals` are admitted by the
    /// policy, the step's sparse `scores` (the tokens attention reads, see
    /// [`ScoreSource`](super::ScoreSource)) enter the EMA, and the policy migrates. An error
    /// stops the step where it happened.
    pub fn step(
        &mut self,
        policy: &mut dyn Policy,
        arrivals: &[TokenId],
        scores: &[(TokenId, f64)],
    ) -> Result<StepReport, SchedError> {
        self.table.advance();
        let mut report = StepReport::default();
        for &token in arrivals {
            report.moves.extend(policy.admit(self, token)?);
            report.admitted.push((token, self.table.tier(token).ok_or(SchedError::UnknownToken(token))?));
        }
        for &(token, s) in scores {
            self.table.score(token, s)?;
        }
        let used: Vec<TokenId> = scores.iter().map(|&(token, _)| token).collect();
        report.moves.extend(policy.migrate(self, &used)?);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HBM: Tier = Tier::new(0);
    const SSD: Tier = Tier::new(2);

    #[test]
    fn capacity_is_enforced_and_swaps_keep_occupancy() {
        let mut p = Pool::new([1, 0, 2]);
        assert_eq!(p.admit_first_fit(0), Ok(HBM));
        assert_eq!(p.admit_first_fit(1), Ok(SSD), "tier 1 has no room at all");
        assert_eq!(p.admit_first_fit(2), Ok(SSD));
        assert_eq!(p.admit_first_fit(3), Err(SchedError::Full(3)));
        assert!(matches!(p.move_to(1, HBM), Err(SchedError::TierFull { tier: HBM, .. })));
        p.swap(0, 1).unwrap();
        assert_eq!((p.table().tier(0), p.table().tier(1)), (Some(SSD), Some(HBM)));
        assert_eq!(p.tiers().map(|t| p.table().count(t)).collect::<Vec<_>>(), [1, 0, 2]);
        assert_eq!(p.move_to(0, Tier::new(3)), Err(SchedError::NoTier { tier: Tier::new(3), tiers: 3 }));
        assert_eq!(p.insert(9, Tier::new(3)), Err(SchedError::NoTier { tier: Tier::new(3), tiers: 3 }));
    }

    #[test]
    fn any_number_of_tiers_fills_fastest_first() {
        for n in 1..=MAX_TIERS {
            let mut p = Pool::new(vec![1; n]);
            assert_eq!(p.tier_count(), n);
            assert_eq!(p.tiers().collect::<Vec<_>>(), (0..n).map(Tier::new).collect::<Vec<_>>());
            for i in 0..n {
                assert_eq!(p.admit_first_fit(i as TokenId), Ok(Tier::new(i)));
            }
            assert_eq!(p.admit_first_fit(n as TokenId), Err(SchedError::Full(n as TokenId)));
        }
    }

    #[test]
    #[should_panic(expected = "1 to 8 tiers")]
    fn a_pool_without_tiers_is_refused() {
        Pool::new(Vec::new());
    }

    #[test]
    #[should_panic(expected = "1 to 8 tiers")]
    fn a_pool_of_more_than_max_tiers_is_refused() {
        Pool::new([1; MAX_TIERS + 1]);
    }
}
