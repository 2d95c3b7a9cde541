//! PAM's online scheduler (spec §9): once per decode step, one-for-one swaps between adjacent
//! tiers so that the importance held by HBM : DDR : SSD approaches the target x : y : 1.
//!
//! ```text
//! x_now = IS_HBM / IS_SSD;  y_now = IS_DDR / IS_SSD
//! while x_now + y_now < x + y:      swap(least important in DDR, most important in SSD)
//! while x_now / y_now < x / y:      swap(least important in HBM, most important in DDR)
//! ```
//!
//! Decisions on what the reference leaves open (the edge cases are tested in
//! `tests/scheduler.rs`):
//!
//! * **Ratios without division.** The conditions are evaluated multiplied out by their
//!   (non-negative) denominators: `IS_HBM + IS_DDR < (x + y) IS_SSD` and
//!   `y IS_HBM < x IS_DDR`. They equal the pseudocode whenever its ratios exist, and define
//!   the rest: with `IS_SSD = 0` the SSD cannot hold too much, so the first loop does not run,
//!   and the second compares HBM with DDR directly (`IS_SSD` cancels); with `IS_DDR = 0` HBM
//!   cannot hold too little relative to DDR, so the second loop does not run.
//! * **Only improving swaps.** A swap is made only when the most important token of the lower
//!   tier is strictly more important than the least important demotable token of the upper
//!   tier. If that pair does not qualify, no pair does, so the loop ends: this is the case of
//!   ties (equal importance never swaps, so all-zero tiers never churn) and of a swap that
//!   would not improve the ratio. Every swap made raises the importance the upper tier holds.
//! * **Empty tiers.** A loop ends when either of its tiers has no candidate (empty, or in the
//!   upper tier every token pinned). Swaps are between adjacent tiers only, as in the
//!   pseudocode: with an empty DDR nothing moves between HBM and SSD.
//! * **Termination.** Within a loop a demoted token is never promoted back: every token the
//!   upper tier keeps or gains is at least as important as it. So each loop makes at most
//!   min(tokens in the two tiers) swaps, whatever rounding does to the tier sums.
//! * **Overshoot.** As in the pseudocode, the last swap of a loop may carry the split past the
//!   target; there is no loop moving importance down. The split then comes back as the
//!   promoted tokens' importance decays.
//! * **Already at the target.** Neither condition holds, nothing moves.
//! * **Migration bandwidth.** [`SchedulerConfig::max_swaps`] caps the swaps of one step
//!   (both loops together); the rest wait for the next step.
//! * **Grace window** (spec §7 Decision). An arrival is pinned for
//!   [`SchedulerConfig::grace`] steps, its arrival step included: it may move up but not down.

use std::collections::VecDeque;

use super::policy::{Move, Policy};
use super::pool::Pool;
use super::{SchedError, Tier, TokenId};

/// Default grace window of a new token, in decode steps.
pub const DEFAULT_GRACE: u64 = 4;

/// The target split of importance HBM : DDR : SSD = x : y : 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target {
    x: f64,
    y: f64,
}

impl Target {
    pub fn new(x: f64, y: f64) -> Result<Self, SchedError> {
        if !(x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0) {
            return Err(SchedError::Config(format!("target x : y : 1 needs finite x, y > 0, not {x} : {y} : 1")));
        }
        Ok(Target { x, y })
    }

    /// The target's shares of the total importance, HBM, DDR, SSD.
    pub fn shares(&self) -> [f64; 3] {
        let total = self.x + self.y + 1.0;
        [self.x / total, self.y / total, 1.0 / total]
    }
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

    /// Runs the two loops of spec §9 on the pool; returns the swaps made, in order.
    pub fn schedule(&mut self, pool: &mut Pool) -> Result<Vec<Swap>, SchedError> {
        let now = pool.table().step();
        while let Some(&(until, token)) = self.pinned.front() {
            if until > now {
                break;
            }
            pool.set_pinned(token, false)?;
            self.pinned.pop_front();
        }
        let Target { x, y } = self.config.target;
        let budget = self.config.max_swaps.unwrap_or(usize::MAX);
        let mut swaps = Vec::new();
        let sums = |pool: &Pool| Tier::ALL.map(|t| pool.table().sum(t));
        // The SSD holds too much: x_now + y_now < x + y.
        while swaps.len() < budget && {
            let [h, d, s] = sums(pool);
            h + d < (x + y) * s
        } {
            let Some(swap) = improving_swap(pool, Tier::Ddr, Tier::Ssd)? else { break };
            swaps.push(swap);
        }
        // DDR holds too much relative to HBM: x_now / y_now < x / y.
        while swaps.len() < budget && {
            let [h, d, _] = sums(pool);
            y * h < x * d
        } {
            let Some(swap) = improving_swap(pool, Tier::Hbm, Tier::Ddr)? else { break };
            swaps.push(swap);
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
