//! Token importance and tier scheduling on the host (spec §7, §9): which tier every token of
//! the KV cache lives in, and which tokens migrate between the memory tiers as the set of
//! tokens attention uses drifts. Pure Rust: nothing here touches the RTL.
//!
//! The tiers are 1 to [`MAX_TIERS`] indices, fastest first ([`Tier`]); the reference
//! configuration has three (HBM, DDR, SSD). Names, devices and capacities come from the
//! configuration elsewhere: this module knows only indices and token capacities.
//!
//! One decode step ([`Pool::step`]):
//!
//! 1. the [`ImportanceTable`] advances one step: every token's importance decays by
//!    [`EMA_DECAY`] (lazily, so untouched tokens cost nothing);
//! 2. newly arrived tokens are admitted by the [`Policy`] (spec §7 Decision: the fastest tier
//!    when it has room, else the next tier with room);
//! 3. a [`ScoreSource`] selects the tokens attention reads this step (sparse mode attends only
//!    those) with their scores, which enter the EMA `I(j) = 0.6 S(j) + 0.4 I(j-1)`;
//! 4. the policy migrates tokens: PAM's [`Scheduler`] swaps tokens one for one so that the
//!    importance held by the tiers approaches the target weights `w_0 : w_1 : ...` (x : y : 1
//!    for three tiers); the baselines keep their placement ([`NoSchedule`], [`LPim`]) or cache
//!    by recency ([`Lru`]).
//!
//! The pieces:
//!
//! * [`importance`]: the lazy EMA per token, the tier of every token, the device scores
//!   `IS_D` kept incrementally, and per-tier orderings by importance.
//! * [`score`]: the pluggable score sources: a synthetic drifting set, exact top-k over scores
//!   the caller supplies (the golden model's q.k), and a Double-Sparsity-style label-channel
//!   approximation.
//! * [`pool`]: tier capacities on top of the table, and the decode-step driver.
//! * [`policy`]: the [`Policy`] interface, the spec §7 admission rule and the baselines.
//! * [`scheduler`]: the online scheduler of spec §9, generalised to N tiers, and its
//!   edge-case decisions.
//!
//! Token ids are dense indices (a sequence's positions): tables are vectors indexed by id.

pub mod importance;
pub mod policy;
pub mod pool;
pub mod scheduler;
pub mod score;

pub use importance::{ImportanceTable, EMA_DECAY, EMA_SCORE};
pub use policy::{LPim, Lru, Move, NoSchedule, Policy};
pub use pool::{Pool, StepReport};
pub use scheduler::{Scheduler, SchedulerConfig, Swap, Target};
pub use score::{ExactTopK, LabelChannel, ScoreSource, SyntheticDrift, DEFAULT_FRACTION};

/// A token of the KV cache: its index in its sequence.
pub type TokenId = u32;

/// Most tiers a pool may have.
pub const MAX_TIERS: usize = 8;

/// A memory tier: its index, fastest first (0 is the fastest). The index matches
/// `PhysLoc::tier`. Displayed as `tier N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tier(pub u8);

impl Tier {
    /// The tier of index `index`, which must be below [`MAX_TIERS`] (panics otherwise).
    pub const fn new(index: usize) -> Tier {
        assert!(index < MAX_TIERS, "a tier index must be below MAX_TIERS");
        Tier(index as u8)
    }

    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tier {}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchedError {
    #[error("token {0} is not in the table")]
    UnknownToken(TokenId),
    #[error("token {0} is already in the table")]
    DuplicateToken(TokenId),
    #[error("no tier has room for token {0}")]
    Full(TokenId),
    #[error("{tier} is full ({capacity} tokens)")]
    TierFull { tier: Tier, capacity: usize },
    #[error("token {token}: score {score} is not a finite non-negative number")]
    BadScore { token: TokenId, score: f64 },
    #[error("{tier} does not exist: there are {tiers} tiers")]
    NoTier { tier: Tier, tiers: usize },
    #[error("{0}")]
    Config(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_indices_fastest_first() {
        assert_eq!(Tier::new(0), Tier(0));
        assert_eq!(Tier::new(7).index(), 7);
        assert!(Tier::new(0) < Tier::new(1));
        assert_eq!(Tier::new(3).to_string(), "tier 3");
        assert_eq!(SchedError::TierFull { tier: Tier::new(1), capacity: 4 }.to_string(), "tier 1 is full (4 tokens)");
    }

    #[test]
    #[should_panic(expected = "below MAX_TIERS")]
    fn no_tier_past_max_tiers() {
        Tier::new(MAX_TIERS);
    }
}
