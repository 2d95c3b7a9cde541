//! The tiers' token capacities on top of the [`ImportanceTable`], and one decode step of the
//! host's KV manager ([`Pool::step`]).
//!
//! Policies change placement only through the pool, so no tier ever holds more tokens than its
//! capacity: an insert or a move into a full tier is an error, and a swap exchanges two tokens'
//! tiers, leaving every occupancy as it was.

use super::importance::ImportanceTable;
use super::policy::{Move, Policy};
use super::{SchedError, Tier, TokenId};

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
    capacity: [usize; 3],
    table: ImportanceTable,
}

impl Pool {
    /// An empty pool; `capacity` in tokens, HBM, DDR, SSD.
    pub fn new(capacity: [usize; 3]) -> Self {
        Pool { capacity, table: ImportanceTable::new() }
    }

    pub fn table(&self) -> &ImportanceTable {
        &self.table
    }

    pub fn capacity(&self, tier: Tier) -> usize {
        self.capacity[tier.index()]
    }

    pub fn has_room(&self, tier: Tier) -> bool {
        self.table.count(tier) < self.capacity(tier)
    }

    /// Spec §7 Decision: the fastest tier with room.
    pub fn first_fit(&self) -> Option<Tier> {
        Tier::ALL.into_iter().find(|&t| self.has_room(t))
    }

    /// Stores a new token in `tier`.
    pub fn insert(&mut self, token: TokenId, tier: Tier) -> Result<(), SchedError> {
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

    #[test]
    fn capacity_is_enforced_and_swaps_keep_occupancy() {
        let mut p = Pool::new([1, 0, 2]);
        assert_eq!(p.admit_first_fit(0), Ok(Tier::Hbm));
        assert_eq!(p.admit_first_fit(1), Ok(Tier::Ssd), "DDR has no room at all");
        assert_eq!(p.admit_first_fit(2), Ok(Tier::Ssd));
        assert_eq!(p.admit_first_fit(3), Err(SchedError::Full(3)));
        assert!(matches!(p.move_to(1, Tier::Hbm), Err(SchedError::TierFull { tier: Tier::Hbm, .. })));
        p.swap(0, 1).unwrap();
        assert_eq!((p.table().tier(0), p.table().tier(1)), (Some(Tier::Ssd), Some(Tier::Hbm)));
        assert_eq!(Tier::ALL.map(|t| p.table().count(t)), [1, 0, 2]);
    }
}
