//! PAM's online scheduler (spec §9), for any number N of tiers (1 to [`MAX_TIERS`], fastest
//! first): once per decode step, one-for-one swaps between adjacent tiers so that the
//! importance the tiers hold approaches the target weights `w_0 : w_1 : ... : w_{N-1}`.
//!
//! With `I_i` the importance tier i holds (its device score `IS_i` times the token count, which
//! cancels), the pairs of adjacent tiers are balanced bottom pair first:
//!
//! ```text
//! for k = N-2 down to 0:
//!     # tier k+1 holds too much relative to all the tiers above it:
//!     # (I_0 + ... + I_k) / I_{k+1} < (w_0 + ... + w_k) / w_{k+1}
//!     while (I_0 + ... + I_k) * w_{k+1} < (w_0 + ... + w_k) * I_{k+1}:
//!         swap(least important token in tier k, most important token in tier k+1)
//! ```
//!
//! For the three tiers of the spec (HBM, DDR, SSD, weights x : y : 1) this is exactly its
//! pseudocode:
//!
//! ```text
//! x_now = IS_HBM / IS_SSD;  y_now = IS_DDR / IS_SSD
//! while x_now + y_now < x + y:      swap(least important in DDR, most important in SSD)
//! while x_now / y_now < x / y:      swap(least important in HBM, most important in DDR)
//! ```
//!
//! and it is evaluated with the same floating-point operations as before the generalisation:
//! `(h + d) * 1.0 < (x + y) * s` and `h * y < x * d` give the same IEEE results as
//! `h + d < (x + y) * s` and `y * h < x * d` (multiplication by 1.0 is exact, products
//! commute, sums are taken left to right starting from the first tier's), so every
//! three-tier run makes the same decisions. With two tiers there is the one loop k = 0
//! (`I_0 * w_1 < w_0 * I_1`); with one tier nothing ever moves.
//!
//! Decisions on what the reference leaves open (the edge cases are tested in
//! `tests/scheduler.rs` for 1 to 4 tiers):
//!
//! * **Ratios without division.** The conditions are evaluated multiplied out by their
//!   (non-negative) denominators, as above. They equal the ratio form whenever its ratios
//!   exist, and define the rest: with `I_{k+1} = 0` tier k+1 cannot hold too much, so loop k
//!   does not run; loop k reads only the tiers 0..=k+1, so tiers below k+1 cancel (for three
//!   tiers: with `IS_SSD = 0` the first loop does not run, and the second compares HBM with
//!   DDR directly; with `IS_DDR = 0` the second loop does not run).
//! * **Only improving swaps.** A swap is made only when the most important token of the lower
//!   tier is strictly more important than the least important demotable token of the upper
//!   tier. If that pair does not qualify, no pair does, so the loop ends: this is the case of
//!   ties (equal importance never swaps, so all-zero tiers never churn) and of a swap that
//!   would not improve the ratio. Every swap made raises the importance the upper tier holds.
//! * **Empty tiers.** A loop ends when either of its tiers has no candidate (empty, or in the
//!   upper tier every token pinned). Swaps are between adjacent tiers only, as in the
//!   pseudocode: importance does not pass through an empty tier (with an empty DDR nothing
//!   moves between HBM and SSD).
//! * **Occupancy.** Swaps are one for one: no tier's token count changes.
//! * **Termination.** Within a loop a demoted token is never promoted back: every token the
//!   upper tier keeps or gains is at least as important as it. So loop k makes at most
//!   min(tokens in tiers k and k+1) swaps, whatever rounding does to the tier sums, and a
//!   step at most the sum of these over its N - 1 loops.
//! * **Overshoot.** As in the pseudocode, the last swap of a loop may carry the split past the
//!   target; there is no loop moving importance down. The split then comes back as the
//!   promoted tokens' importance decays.
//! * **Already at the target.** No condition holds, nothing moves.
//! * **Migration bandwidth.** [`SchedulerConfig::max_swaps`] caps the swaps of one step
//!   (all loops together); the rest wait for the next step.
//! * **Grace window** (spec §7 Decision). An arrival is pinned for
//!   [`SchedulerConfig::grace`] steps, its arrival step included: it may move up but not down.
//! * **Shape.** The target has one weight per tier of the pool; a target of another length is
//!   a configuration error ([`SchedError::Config`]), reported before anything changes.

use std::collections::VecDeque;

use super::policy::{Move, Policy};
use super::pool::Pool;
use super::{SchedError, Tier, TokenId, MAX_TIERS};

/// Default grace window of a new token, in decode steps.
pub const DEFAULT_GRACE: u64 = 4;

/// The target split of importance: one weight per tier, fastest first; tier i should hold
/// `w_i / (w_0 + ... + w_{N-1})` of the importance. Three tiers HBM : DDR : SSD = x : y : 1 are
/// `[x, y, 1]`.
#[derive(Clone, Copy, PartialEq)]
pub struct Target {
    /// The first `len` entries are the weights; the rest are 0.
    weights: [f64; MAX_TIERS],
    len: usize,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("weights", &self.weights()).finish()
    }
}

impl Target {
    /// The three-tier target x : y : 1 (weights `[x, y, 1.0]`).
    pub fn new(x: f64, y: f64) -> Result<Self, SchedError> {
        if !(x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0) {
            return Err(SchedError::Config(format!("target x : y : 1 needs finite x, y > 0, not {x} : {y} : 1")));
        }
        Self::from_weights(vec![x, y, 1.0])
    }

    /// A target of one weight per tier, fastest first: 1 to [`MAX_TIERS`] weights, each finite
    /// and positive.
    pub fn from_weights(weights: Vec<f64>) -> Result<Self, SchedError> {
        if !(1..=MAX_TIERS).contains(&weights.len()) {
            return Err(SchedError::Config(format!(
                "a target needs 1 to {MAX_TIERS} weights, one per tier, not {}: {weights:?}",
                weights.len()
            )));
        }
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
            return Err(SchedError::Config(format!("target weights must be finite and > 0, not {w}: {weights:?}")));
        }
        let mut t = Target { weights: [0.0; MAX_TIERS], len: weights.len() };
        t.weights[..weights.len()].copy_from_slice(&weights);
        Ok(t)
    }

    /// The weights, one per tier, fastest first.
    pub fn weights(&self) -> &[f64] {
        &self.weights[..self.len]
    }

    /// The number of tiers the target is for.
    pub fn tier_count(&self) -> usize {
        self.len
    }

    /// The target's shares of the total importance, one per tier, fastest first.
    pub fn shares(&self) -> Vec<f64> {
        let total = left_sum(self.weights());
        self.weights().iter().map(|w| w / total).collect()
    }
}

/// `v[0] + v[1] + ...`, left to right from `v[0]` (0 when empty).
fn left_sum(v: &[f64]) -> f64 {
    v.iter().copied().reduce(|a, b| a + b).unwrap_or(0.0)
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SchedulerConfig {
    pub target: Target,
    /// Swaps per step at most (`None`: unlimited).
    pub max_swaps: Option<usize>,
    /// Steps a new token is protected from demotion (0: not at all).
    pub grace: u64,
}

impl SchedulerConfig {
    /// Unlimited swaps, the default grace window.
    pub fn new(target: Target) -> Self {
        SchedulerConfig { target, max_swaps: None, grace: DEFAULT_GRACE }
    }
}

/// A one-for-one exchange: `promoted` moves from `lower` to `upper`, `demoted` the other way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Swap {
    pub promoted: TokenId,
    pub demoted: TokenId,
    pub upper: Tier,
    pub lower: Tier,
}

impl Swap {
    pub fn moves(&self) -> [Move; 2] {
        [
            Move { token: self.promoted, from: self.lower, to: self.upper },
            Move { token: self.demoted, from: self.upper, to: self.lower },
        ]
    }
}

/// PAM's scheduler; also a [`Policy`] (spec §7 admission with the grace window).
#[derive(Clone, Debug)]
pub struct Scheduler {
    config: SchedulerConfig,
    /// Pinned arrivals and the step their grace ends, in arrival order.
    pinned: VecDeque<(u64, TokenId)>,
}

impl Scheduler {
    pub fn new(config: SchedulerConfig) -> Self {
        Scheduler { config, pinned: VecDeque::new() }
    }

    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// Runs the loops of spec §9 (generalised, see the module doc) on the pool, bottom pair
    /// of tiers first; returns the swaps made, in order. A target whose length is not the
    /// pool's tier count is a [`SchedError::Config`], and nothing changes.
    pub fn schedule(&mut self, pool: &mut Pool) -> Result<Vec<Swap>, SchedError> {
        let n = pool.tier_count();
        let target = self.config.target;
        let w = target.weights();
        if w.len() != n {
            return Err(SchedError::Config(format!(
                "the scheduler's target has {} weights ({w:?}) but the pool has {n} tiers",
                w.len()
            )));
        }
        let now = pool.table().step();
        while let Some(&(until, token)) = self.pinned.front() {
            if until > now {
                break;
            }
            pool.set_pinned(token, false)?;
            self.pinned.pop_front();
        }
        let budget = self.config.max_swaps.unwrap_or(usize::MAX);
        let mut swaps = Vec::new();
        let mut sums = vec![0.0; n];
        for k in (0..n.saturating_sub(1)).rev() {
            let (upper, lower) = (Tier::new(k), Tier::new(k + 1));
            let (w_above, w_lower) = (left_sum(&w[..=k]), w[k + 1]);
            // Tier k+1 holds too much relative to the tiers above it:
            // (I_0 + ... + I_k) / I_{k+1} < (w_0 + ... + w_k) / w_{k+1}.
            while swaps.len() < budget && {
                for (i, sum) in sums.iter_mut().enumerate().take(k + 2) {
                    *sum = pool.table().sum(Tier::new(i));
                }
                left_sum(&sums[..=k]) * w_lower < w_above * sums[k + 1]
            } {
                let Some(swap) = improving_swap(pool, upper, lower)? else { break };
                swaps.push(swap);
            }
        }
        Ok(swaps)
    }
}

/// Swaps the most important token of `lower` with the least important demotable token of
/// `upper` if that moves a strictly more important token up.
fn improving_swap(pool: &mut Pool, upper: Tier, lower: Tier) -> Result<Option<Swap>, SchedError> {
    let table = pool.table();
    let (Some((demoted, down)), Some((promoted, up))) = (table.least_unpinned(upper), table.most(lower)) else {
        return Ok(None);
    };
    if up <= down {
        return Ok(None);
    }
    pool.swap(promoted, demoted)?;
    Ok(Some(Swap { promoted, demoted, upper, lower }))
}

impl Policy for Scheduler {
    fn name(&self) -> &'static str {
        "PAM"
    }

    fn admit(&mut self, pool: &mut Pool, token: TokenId) -> Result<Vec<Move>, SchedError> {
        pool.admit_first_fit(token)?;
        if self.config.grace > 0 {
            pool.set_pinned(token, true)?;
            self.pinned.push_back((pool.table().step() + self.config.grace, token));
        }
        Ok(Vec::new())
    }

    fn migrate(&mut self, pool: &mut Pool, _: &[TokenId]) -> Result<Vec<Move>, SchedError> {
        Ok(self.schedule(pool)?.iter().flat_map(Swap::moves).collect())
    }
}
