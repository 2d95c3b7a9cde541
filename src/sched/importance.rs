//! Per-token importance (spec §7): the exponential moving average
//! `I(j) = EMA_SCORE * S(j) + EMA_DECAY * I(j-1)`, the tier every token lives in, and the
//! device scores `IS_D = (sum of I over tokens on D) / (total tokens)`.
//!
//! Why lazy: in sparse attention only about 1/8 of the tokens get a non-zero score in a step,
//! but the definition decays every token every step. Decaying eagerly would cost O(tokens) per
//! step. Instead a token stores `(value, at)`, its importance as of step `at`; its importance
//! at step `t >= at` is `value * EMA_DECAY^(t - at)` until it is scored again. A step then
//! costs O(scored tokens * log tokens):
//!
//! * [`ImportanceTable::advance`] decays every tier's sum by `EMA_DECAY` (every token of a
//!   tier decays by the same factor, so the sum does too) and nothing else;
//! * [`ImportanceTable::score`] folds `EMA_SCORE * S` into one token and its tier's sum;
//! * a move subtracts the token's current importance from one tier sum and adds it to the other.
//!
//! The lazy value equals the eager recurrence up to rounding (`EMA_DECAY^k` is one `powi`
//! instead of k multiplications): tests hold them within 1e-12. Errors in the incremental sums
//! do not accumulate: they decay by `EMA_DECAY` every step like the sums themselves.
//!
//! Ordering for the scheduler: tokens of a tier are kept in ordered sets by the key
//! `ln(value) + at * ln(1 / EMA_DECAY)`, which is `ln I(t) + t ln(1 / EMA_DECAY)` for every `t`:
//! it does not change while a token decays, so only scored or moved tokens are re-indexed.
//! Never-scored tokens have key -inf (ties broken by token id). The key is rounded, so two
//! importances within about 1e-10 relative of each other (at a million steps) may be ordered
//! either way; the scheduler compares the actual importances before it swaps.
//!
//! Each tier keeps two sets: tokens that may be demoted, and pinned ones (new tokens inside
//! their grace window, spec §7), which may only move up.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use super::{SchedError, Tier, TokenId, MAX_TIERS};

/// Weight of the step's score in the EMA.
pub const EMA_SCORE: f64 = 0.6;
/// Weight of the previous importance in the EMA: the per-step decay of an unused token.
pub const EMA_DECAY: f64 = 0.4;

/// `EMA_DECAY^steps`.
fn decay(steps: u64) -> f64 {
    // 0.4^1100 is already below the smallest subnormal, so clamping the exponent changes nothing.
    EMA_DECAY.powi(steps.min(i32::MAX as u64) as i32)
}

/// The step-invariant order key of an importance (see the module doc).
#[derive(Clone, Copy, Debug)]
struct Key(f64);

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// Importance as of step `at`.
    value: f64,
    at: u64,
    tier: Tier,
    pinned: bool,
}

impl Entry {
    fn value_at(&self, step: u64) -> f64 {
        self.value * decay(step - self.at)
    }

    fn key(&self) -> Key {
        Key(self.value.ln() - self.at as f64 * EMA_DECAY.ln())
    }
}

#[derive(Clone, Debug, Default)]
struct TierIndex {
    /// Sum of the current importance of the tier's tokens.
    sum: f64,
    free: BTreeSet<(Key, TokenId)>,
    pinned: BTreeSet<(Key, TokenId)>,
}

impl TierIndex {
    fn set(&mut self, pinned: bool) -> &mut BTreeSet<(Key, TokenId)> {
        if pinned {
            &mut self.pinned
        } else {
            &mut self.free
        }
    }

    fn count(&self) -> usize {
        self.free.len() + self.pinned.len()
    }
}

/// Importance, tier and order of every token (see the module doc).
#[derive(Clone, Debug)]
pub struct ImportanceTable {
    step: u64,
    entries: Vec<Option<Entry>>,
    /// Per tier, fastest first.
    tiers: Vec<TierIndex>,
    len: usize,
}

impl ImportanceTable {
    /// An empty table over `tiers` tiers (1 to [`MAX_TIERS`]; panics otherwise).
    pub fn new(tiers: usize) -> Self {
        assert!((1..=MAX_TIERS).contains(&tiers), "a table has 1 to {MAX_TIERS} tiers, not {tiers}");
        ImportanceTable { step: 0, entries: Vec::new(), tiers: vec![TierIndex::default(); tiers], len: 0 }
    }

    /// The number of tiers.
    pub fn tier_count(&self) -> usize {
        self.tiers.len()
    }

    /// The tiers, fastest first.
    pub fn tiers(&self) -> impl Iterator<Item = Tier> {
        (0..self.tiers.len()).map(Tier::new)
    }

    /// A tier's index, or `None` for a tier the table does not have.
    fn tier_index(&self, tier: Tier) -> Option<&TierIndex> {
        self.tiers.get(tier.index())
    }

    fn check_tier(&self, tier: Tier) -> Result<(), SchedError> {
        match self.tier_index(tier) {
            Some(_) => Ok(()),
            None => Err(SchedError::NoTier { tier, tiers: self.tiers.len() }),
        }
    }

    /// The current decode step (0 before the first [`advance`](Self::advance)).
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Starts the next decode step: every importance decays by `EMA_DECAY`. O(1).
    pub fn advance(&mut self) {
        self.step += 1;
        for t in &mut self.tiers {
            t.sum *= EMA_DECAY;
        }
    }

    fn entry(&self, token: TokenId) -> Result<Entry, SchedError> {
        self.entries.get(token as usize).copied().flatten().ok_or(SchedError::UnknownToken(token))
    }

    fn put(&mut self, token: TokenId, e: Entry) {
        self.entries[token as usize] = Some(e);
    }

    /// Adds a token to `tier` with importance 0, unpinned.
    pub fn insert(&mut self, token: TokenId, tier: Tier) -> Result<(), SchedError> {
        self.check_tier(tier)?;
        if self.entry(token).is_ok() {
            return Err(SchedError::DuplicateToken(token));
        }
        let i = token as usize;
        if self.entries.len() <= i {
            self.entries.resize(i + 1, None);
        }
        let e = Entry { value: 0.0, at: self.step, tier, pinned: false };
        self.tiers[tier.index()].free.insert((e.key(), token));
        self.put(token, e);
        self.len += 1;
        Ok(())
    }

    /// Folds this step's score `s` of a token into its importance: `I += EMA_SCORE * s` (the
    /// decay was applied by [`advance`](Self::advance)). Several scores of one token in one
    /// step add up. A zero score changes nothing and costs nothing.
    pub fn score(&mut self, token: TokenId, s: f64) -> Result<(), SchedError> {
        if !(s.is_finite() && s >= 0.0) {
            return Err(SchedError::BadScore { token, score: s });
        }
        let mut e = self.entry(token)?;
        if s == 0.0 {
            return Ok(());
        }
        let tier = &mut self.tiers[e.tier.index()];
        tier.set(e.pinned).remove(&(e.key(), token));
        e.value = e.value_at(self.step) + EMA_SCORE * s;
        e.at = self.step;
        tier.set(e.pinned).insert((e.key(), token));
        tier.sum += EMA_SCORE * s;
        self.put(token, e);
        Ok(())
    }

    /// Moves a token to `to`; returns the tier it left. Both tier sums follow.
    pub fn move_to(&mut self, token: TokenId, to: Tier) -> Result<Tier, SchedError> {
        self.check_tier(to)?;
        let mut e = self.entry(token)?;
        let from = e.tier;
        if from == to {
            return Ok(from);
        }
        let v = e.value_at(self.step);
        let old = &mut self.tiers[from.index()];
        old.set(e.pinned).remove(&(e.key(), token));
        // Rounding can leave a residue; an empty tier holds exactly nothing.
        old.sum = if old.count() == 0 { 0.0 } else { (old.sum - v).max(0.0) };
        let new = &mut self.tiers[to.index()];
        new.set(e.pinned).insert((e.key(), token));
        new.sum += v;
        e.tier = to;
        self.put(token, e);
        Ok(from)
    }

    /// Pins a token (it may not be demoted) or releases it.
    pub fn set_pinned(&mut self, token: TokenId, pinned: bool) -> Result<(), SchedError> {
        let mut e = self.entry(token)?;
        if e.pinned != pinned {
            let tier = &mut self.tiers[e.tier.index()];
            tier.set(e.pinned).remove(&(e.key(), token));
            tier.set(pinned).insert((e.key(), token));
            e.pinned = pinned;
            self.put(token, e);
        }
        Ok(())
    }

    /// A token's importance at the current step.
    pub fn importance(&self, token: TokenId) -> Option<f64> {
        self.entry(token).ok().map(|e| e.value_at(self.step))
    }

    pub fn tier(&self, token: TokenId) -> Option<Tier> {
        self.entry(token).ok().map(|e| e.tier)
    }

    pub fn is_pinned(&self, token: TokenId) -> Option<bool> {
        self.entry(token).ok().map(|e| e.pinned)
    }

    /// Tokens in all tiers.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Tokens in `tier` (0 for a tier the table does not have).
    pub fn count(&self, tier: Tier) -> usize {
        self.tier_index(tier).map_or(0, TierIndex::count)
    }

    /// Sum of the importance of the tokens in `tier` (0 for a tier the table does not have).
    pub fn sum(&self, tier: Tier) -> f64 {
        self.tier_index(tier).map_or(0.0, |t| t.sum)
    }

    /// `IS_D`: the tier's importance sum over the total number of tokens (0 when empty).
    pub fn device_score(&self, tier: Tier) -> f64 {
        if self.len == 0 {
            0.0
        } else {
            self.sum(tier) / self.len as f64
        }
    }

    /// Each tier's share of the total importance, fastest first, or `None` while no token
    /// has any.
    pub fn split(&self) -> Option<Vec<f64>> {
        let total: f64 = self.tiers.iter().map(|t| t.sum).sum();
        (total > 0.0).then(|| self.tiers.iter().map(|t| t.sum / total).collect())
    }

    /// The most important token of `tier` (pinned or not) and its importance.
    pub fn most(&self, tier: Tier) -> Option<(TokenId, f64)> {
        let t = self.tier_index(tier)?;
        let top = t.free.last().max(t.pinned.last())?;
        Some((top.1, self.importance(top.1).expect("indexed tokens are in the table")))
    }

    /// The least important token of `tier` that may be demoted, and its importance.
    pub fn least_unpinned(&self, tier: Tier) -> Option<(TokenId, f64)> {
        let &(_, token) = self.tier_index(tier)?.free.first()?;
        Some((token, self.importance(token).expect("indexed tokens are in the table")))
    }

    /// The tokens of `tier`, in no particular order (none for a tier the table does not have).
    pub fn tokens(&self, tier: Tier) -> impl Iterator<Item = TokenId> + '_ {
        self.tier_index(tier).into_iter().flat_map(|t| t.free.iter().chain(&t.pinned)).map(|&(_, token)| token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HBM: Tier = Tier::new(0);
    const DDR: Tier = Tier::new(1);
    const SSD: Tier = Tier::new(2);

    #[test]
    fn scores_decay_lazily_and_moves_carry_importance_between_tier_sums() {
        let mut t = ImportanceTable::new(3);
        t.insert(0, HBM).unwrap();
        t.insert(1, DDR).unwrap();
        t.advance();
        t.score(0, 1.0).unwrap();
        t.score(1, 0.5).unwrap();
        t.advance();
        t.advance();
        assert!((t.importance(0).unwrap() - 0.6 * 0.16).abs() < 1e-15);
        assert!((t.sum(HBM) - 0.6 * 0.16).abs() < 1e-15);
        assert_eq!(t.move_to(0, DDR).unwrap(), HBM);
        assert_eq!(t.sum(HBM), 0.0);
        assert!((t.sum(DDR) - 0.9 * 0.16).abs() < 1e-15);
        assert!((t.device_score(DDR) - 0.45 * 0.16).abs() < 1e-15);
        assert_eq!(t.most(DDR).map(|m| m.0), Some(0));
        assert_eq!(t.least_unpinned(DDR).map(|m| m.0), Some(1));
    }

    #[test]
    fn order_survives_decay_and_pinned_tokens_are_never_least() {
        let mut t = ImportanceTable::new(3);
        for i in 0..3 {
            t.insert(i, SSD).unwrap();
        }
        t.advance();
        t.score(0, 1.0).unwrap();
        // Token 1 scored 5 steps later with a smaller score is still more important now.
        for _ in 0..5 {
            t.advance();
        }
        t.score(1, 0.02).unwrap();
        assert!(t.importance(1).unwrap() > t.importance(0).unwrap());
        assert_eq!(t.most(SSD).map(|m| m.0), Some(1));
        assert_eq!(t.least_unpinned(SSD).map(|m| m.0), Some(2));
        t.set_pinned(2, true).unwrap();
        assert_eq!(t.least_unpinned(SSD).map(|m| m.0), Some(0));
        t.set_pinned(1, true).unwrap();
        assert_eq!(t.most(SSD).map(|m| m.0), Some(1), "pinned tokens may still move up");
        assert_eq!(t.tokens(SSD).count(), 3);
    }

    #[test]
    fn bad_input_is_rejected() {
        let mut t = ImportanceTable::new(3);
        t.insert(4, HBM).unwrap();
        assert_eq!(t.insert(4, SSD), Err(SchedError::DuplicateToken(4)));
        assert_eq!(t.score(3, 1.0), Err(SchedError::UnknownToken(3)));
        assert!(matches!(t.score(4, -1.0), Err(SchedError::BadScore { .. })));
        assert!(matches!(t.score(4, f64::NAN), Err(SchedError::BadScore { .. })));
        assert_eq!(t.len(), 1);
        assert_eq!(t.insert(5, Tier::new(3)), Err(SchedError::NoTier { tier: Tier::new(3), tiers: 3 }));
        assert_eq!(t.move_to(4, Tier::new(7)), Err(SchedError::NoTier { tier: Tier::new(7), tiers: 3 }));
        assert_eq!(t.tier(4), Some(HBM));
        assert_eq!((t.count(Tier::new(5)), t.sum(Tier::new(5)), t.most(Tier::new(5))), (0, 0.0, None));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn split_has_one_share_per_tier() {
        for n in 1..=MAX_TIERS {
            let mut t = ImportanceTable::new(n);
            assert_eq!(t.tier_count(), n);
            assert_eq!(t.tiers().collect::<Vec<_>>(), (0..n).map(Tier::new).collect::<Vec<_>>());
            assert_eq!(t.split(), None);
            for i in 0..n {
                t.insert(i as TokenId, Tier::new(i)).unwrap();
                t.score(i as TokenId, (i + 1) as f64).unwrap();
            }
            let split = t.split().unwrap();
            let total = (n * (n + 1) / 2) as f64;
            assert_eq!(split.len(), n);
            for (i, s) in split.iter().enumerate() {
                assert!((s - (i + 1) as f64 / total).abs() < 1e-15, "{n} tiers, tier {i}: {s}");
            }
        }
    }
}
