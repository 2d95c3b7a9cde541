//! Token importance and tier scheduling on the host (spec §7, §9): which tier every token of
//! the KV cache lives in, and which tokens migrate between HBM, DDR and SSD as the set of
//! tokens attention uses drifts. Pure Rust: nothing here touches the RTL.
//!
//! One decode step ([`Pool::step`]):
//!
//! 1. the [`ImportanceTable`] advances one step: every token's importance decays by
//!    [`EMA_DECAY`] (lazily, so untouched tokens cost nothing);
//! 2. newly arrived tokens are admitted by the [`Policy`] (spec §7 Decision: HBM when it has
//!    room, else the next tier with room);
//! 3. a [`ScoreSource`] selects the tokens attention reads this step (sparse mode attends only
//!    those) with their scores, which enter the EMA `I(j) = 0.6 S(j) + 0.4 I(j-1)`;
//! 4. the policy migrates tokens: PAM's [`Scheduler`] swaps tokens one for one so that the
//!    importance held by HBM : DDR : SSD approaches the target x : y : 1; the baselines keep
//!    their placement ([`NoSchedule`], [`LPim`]) or cache by recency ([`Lru`]).
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
//! * [`scheduler`]: the online scheduler of spec §9 and its edge-case decisions.
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

/// A memory tier, fastest first. The index matches `PhysLoc::tier` (HBM 0, DDR 1, SSD 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    Hbm,
    Ddr,
    Ssd,
}

impl Tier {
    /// Every tier, fastest first.
    pub const ALL: [Tier; 3] = [Tier::Hbm, Tier::Ddr, Tier::Ssd];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The next slower tier.
    pub fn below(self) -> Option<Tier> {
        Tier::ALL.get(self.index() + 1).copied()
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
    #[error("{tier:?} is full ({capacity} tokens)")]
    TierFull { tier: Tier, capacity: usize },
    #[error("token {token}: score {score} is not a finite non-negative number")]
    BadScore { token: TokenId, score: f64 },
    #[error("{0}")]
    Config(String),
}
