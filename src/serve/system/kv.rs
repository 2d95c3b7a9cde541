//! The full-size KV manager (SERVING-SPEC §8, §9; PAM-SPEC §6, §7, §9): one entry per token
//! position of every running request, its tier, whether sparse attention selects it, and the
//! online scheduler's swaps, in work proportional to the positions a step touches.
//!
//! # What a step touches
//!
//! * the positions it appends (prefill chunks, decodes), each placed in the fastest tier with
//!   room (PAM-SPEC §7 Decision: new tokens enter the top tier when it has room);
//! * the positions that leave the recent window (one per decode);
//! * the positions the important set drifts to and from (`drift` x its size per decode, rounded
//!   stochastically);
//! * the scheduler's swaps (at most `swap_budget` x the positions stored, per step);
//! * a preempted or finished request's positions, once, when they are freed.
//!
//! Nothing scans the positions stored: the selected and unselected positions of each tier are
//! kept in bags (vectors with O(1) insert, remove and uniform draw), each position knowing its
//! index in its bag.
//!
//! # Selection and importance (§9)
//!
//! A position is selected when it is an attention sink (the first `sinks` positions), recent
//! (the last `recent`), or in the request's drifting important set, which holds
//! `sparsity x context - sinks - recent` positions of the middle drawn uniformly; each decode
//! replaces `drift` of it with fresh positions. Importance (PAM-SPEC §7, an exponential
//! moving average of the selection, 0.6 S + 0.4 I) is taken as the selection itself: a position
//! dropped from the set falls to 0.4, 0.16, ... of a selected one within steps, so the
//! scheduler's sums differ from the exact average only by those tails (a documented
//! approximation that keeps the work per step independent of the positions stored).
//! Without sparsity every position is attended and none is more important than another.
//!
//! # The scheduler (PAM-SPEC §9, for N tiers as `crate::sched`)
//!
//! For k = N-2 down to 0, while the importance of tiers 0..=k, times w_{k+1}, is below their
//! weight times the importance of tier k+1, a selected position of tier k+1 swaps places with
//! an unselected one of tier k (both drawn uniformly, so every swap moves a more important
//! position up). Swaps keep each tier's occupancy. New positions are selected (recent) and so
//! never demoted before they leave the recent window: the grace window of PAM-SPEC §7.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::serve::engine::Step;

/// The most tiers a node has (as `crate::sched::MAX_TIERS`).
pub const MAX_TIERS: usize = 8;

/// Context locality of sparse attention (SERVING-SPEC §9): modelling assumptions, reported with
/// every result.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Locality {
    /// Fraction of a request's positions attended per step (Double Sparsity at 8x: 0.125).
    pub sparsity: f64,
    /// First positions always attended (attention sinks).
    pub sinks: u32,
    /// Last positions always attended.
    pub recent: u32,
    /// Fraction of the drifting important set replaced per decode step.
    pub drift: f64,
}

impl Default for Locality {
    fn default() -> Self {
        Locality { sparsity: 0.125, sinks: 4, recent: 32, drift: 0.02 }
    }
}

impl Locality {
    /// Rejects values outside their ranges; the message names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(self.sparsity > 0.0 && self.sparsity <= 1.0) {
            return Err(("sparsity", format!("{}; allowed: (0, 1]", self.sparsity)));
        }
        if !(0.0..=1.0).contains(&self.drift) {
            return Err(("drift", format!("{}; allowed: [0, 1]", self.drift)));
        }
        Ok(())
    }
}

/// How the manager places and moves positions.
#[derive(Clone, Debug, PartialEq)]
pub struct KvPolicy {
    /// Positions each tier holds (the node's whole tier).
    pub capacity: Vec<u64>,
    /// Sparse attention with this locality; `None` attends every position.
    pub sparse: Option<Locality>,
    /// The scheduler's target importance weights per tier (fastest first); `None`: no
    /// scheduler, placement is static.
    pub target: Option<Vec<f64>>,
    /// Most swaps per step, as a fraction of the positions stored (at least one swap).
    pub swap_budget: f64,
}

/// A (request slot, position) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TokenRef {
    slot: u32,
    pos: u32,
}

/// A set of positions with O(1) insert, remove by index and uniform draw.
#[derive(Clone, Debug, Default)]
struct Bag(Vec<TokenRef>);

/// One request's positions.
#[derive(Clone, Debug, Default)]
struct Positions {
    tier: Vec<u8>,
    /// Index in the bag the position is in.
    index: Vec<u32>,
    selected: Vec<bool>,
    /// Index in `drifting`, or `NONE`.
    drift_index: Vec<u32>,
    drifting: Vec<u32>,
    count: [u64; MAX_TIERS],
    attended: [u64; MAX_TIERS],
}

const NONE: u32 = u32::MAX;

/// What a step did to the KV.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepKv {
    /// Per decoding request of the step (in step order), positions attended in each tier.
    pub attended: Vec<[u64; MAX_TIERS]>,
    /// Positions appended per tier.
    pub written: [u64; MAX_TIERS],
    /// Scheduler swaps between tiers k and k + 1 (each moves two positions).
    pub swaps: [u64; MAX_TIERS],
    /// Positions whose selection changed (drift and the recent window).
    pub reselected: u64,
}

impl StepKv {
    /// Positions migrated (two per swap).
    pub fn migrated(&self) -> u64 {
        2 * self.swaps.iter().sum::<u64>()
    }
}

/// The node's KV positions, their tiers and selection.
pub struct KvManager {
    policy: KvPolicy,
    tiers: usize,
    used: [u64; MAX_TIERS],
    /// `bags[tier][selected]`.
    bags: Vec<[Bag; 2]>,
    slots: Vec<Positions>,
    free_slots: Vec<u32>,
    slot_of: HashMap<u64, u32>,
    rng: ChaCha8Rng,
}

impl KvManager {
    pub fn new(policy: KvPolicy, seed: u64) -> KvManager {
        let tiers = policy.capacity.len().min(MAX_TIERS);
        KvManager {
            tiers,
            used: [0; MAX_TIERS],
            bags: vec![[Bag::default(), Bag::default()]; tiers],
            slots: Vec::new(),
            free_slots: Vec::new(),
            slot_of: HashMap::new(),
            policy,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    pub fn tiers(&self) -> usize {
        self.tiers
    }

    /// Positions stored per tier.
    pub fn used(&self) -> &[u64] {
        &self.used[..self.tiers]
    }

    /// Selected positions per tier (the importance each holds).
    pub fn importance(&self) -> Vec<u64> {
        self.bags.iter().map(|b| b[1].0.len() as u64).collect()
    }

    /// The slot a request's positions live in (a stable small integer while it holds KV).
    pub fn slot(&self, request: u64) -> Option<u32> {
        self.slot_of.get(&request).copied()
    }

    /// The positions attended for `request` and the tier of each, in position order (empty
    /// for a request holding no KV). Walks that request's positions: for a sample
    /// (`crate::serve::numerics`), never per step.
    pub fn attended(&self, request: u64) -> Vec<(u32, u8)> {
        let Some(&slot) = self.slot_of.get(&request) else { return Vec::new() };
        let p = &self.slots[slot as usize];
        // Dense attention attends every position; every position is then selected too.
        (0..p.tier.len()).filter(|&i| p.selected[i]).map(|i| (i as u32, p.tier[i])).collect()
    }

    /// Applies a scheduled step: frees what it preempted, brings each scheduled request's
    /// positions to its context (a prefix cache hit after a preemption restores positions) and
    /// appends the step's tokens, drifts the important sets of decoding requests, then runs the
    /// scheduler. Fails only when no tier has room (the engine's pool is sized to the tiers, so
    /// that is a bug, reported rather than hidden).
    pub fn apply(&mut self, step: &Step) -> Result<StepKv, String> {
        for &id in &step.preempted {
            self.free(id);
        }
        let mut out = StepKv::default();
        for item in &step.items {
            let slot = self.slot_for(item.request);
            self.truncate(slot, item.context);
            while (self.slots[slot as usize].tier.len() as u64) < item.context + item.tokens {
                let t = self.append(slot)?;
                out.written[t] += 1;
            }
            out.reselected += self.slide_recent(slot);
            if item.decode {
                out.reselected += self.drift(slot);
            }
        }
        for item in step.items.iter().filter(|i| i.decode) {
            let p = &self.slots[self.slot_of[&item.request] as usize];
            out.attended.push(if self.policy.sparse.is_some() { p.attended } else { p.count });
        }
        out.swaps = self.schedule();
        Ok(out)
    }

    /// Frees every position of `request` (finished or preempted).
    pub fn free(&mut self, request: u64) {
        let Some(slot) = self.slot_of.remove(&request) else { return };
        self.truncate(slot, 0);
        self.slots[slot as usize] = Positions::default();
        self.free_slots.push(slot);
    }

    fn slot_for(&mut self, request: u64) -> u32 {
        if let Some(&s) = self.slot_of.get(&request) {
            return s;
        }
        let s = self.free_slots.pop().unwrap_or_else(|| {
            self.slots.push(Positions::default());
            (self.slots.len() - 1) as u32
        });
        self.slot_of.insert(request, s);
        s
    }

    fn bag_insert(&mut self, tier: usize, sel: bool, r: TokenRef) {
        let bag = &mut self.bags[tier][usize::from(sel)].0;
        self.slots[r.slot as usize].index[r.pos as usize] = bag.len() as u32;
        bag.push(r);
    }

    fn bag_remove(&mut self, tier: usize, sel: bool, r: TokenRef) {
        let i = self.slots[r.slot as usize].index[r.pos as usize] as usize;
        let bag = &mut self.bags[tier][usize::from(sel)].0;
        bag.swap_remove(i);
        if let Some(&moved) = bag.get(i) {
            self.slots[moved.slot as usize].index[moved.pos as usize] = i as u32;
        }
    }

    /// Appends one position in the fastest tier with room; returns the tier.
    fn append(&mut self, slot: u32) -> Result<usize, String> {
        let tier = (0..self.tiers)
            .find(|&t| self.used[t] < self.policy.capacity[t])
            .ok_or_else(|| format!("every KV tier is full ({:?} positions)", self.used()))?;
        self.used[tier] += 1;
        let p = &mut self.slots[slot as usize];
        let pos = p.tier.len() as u32;
        p.tier.push(tier as u8);
        p.index.push(0);
        p.selected.push(true);
        p.drift_index.push(NONE);
        p.count[tier] += 1;
        p.attended[tier] += 1;
        self.bag_insert(tier, true, TokenRef { slot, pos });
        Ok(tier)
    }

    /// Drops the positions of `slot` from `len` on.
    fn truncate(&mut self, slot: u32, len: u64) {
        while self.slots[slot as usize].tier.len() as u64 > len {
            let p = &mut self.slots[slot as usize];
            let pos = (p.tier.len() - 1) as u32;
            let (tier, sel) = (p.tier[pos as usize] as usize, p.selected[pos as usize]);
            if p.drift_index[pos as usize] != NONE {
                self.drift_remove(slot, pos);
            }
            self.bag_remove(tier, sel, TokenRef { slot, pos });
            let p = &mut self.slots[slot as usize];
            p.count[tier] -= 1;
            if sel {
                p.attended[tier] -= 1;
            }
            p.tier.pop();
            p.index.pop();
            p.selected.pop();
            p.drift_index.pop();
            self.used[tier] -= 1;
        }
    }

    fn set_selected(&mut self, slot: u32, pos: u32, sel: bool) -> bool {
        let p = &self.slots[slot as usize];
        let (tier, was) = (p.tier[pos as usize] as usize, p.selected[pos as usize]);
        if was == sel {
            return false;
        }
        self.bag_remove(tier, was, TokenRef { slot, pos });
        let p = &mut self.slots[slot as usize];
        p.selected[pos as usize] = sel;
        if sel {
            p.attended[tier] += 1;
        } else {
            p.attended[tier] -= 1;
        }
        self.bag_insert(tier, sel, TokenRef { slot, pos });
        true
    }

    /// The middle positions `[sinks, len - recent)` of a slot.
    fn middle(&self, slot: u32) -> (u32, u32) {
        let Some(loc) = self.policy.sparse else { return (0, 0) };
        let len = self.slots[slot as usize].tier.len() as u32;
        let lo = loc.sinks.min(len);
        (lo, len.saturating_sub(loc.recent).max(lo))
    }

    /// Positions that left the recent window lose their selection unless sinks or drifting;
    /// the drifting set grows to its share of the context.
    fn slide_recent(&mut self, slot: u32) -> u64 {
        let Some(loc) = self.policy.sparse else { return 0 };
        let (lo, hi) = self.middle(slot);
        let mut changed = 0;
        // The positions that just left the window are the selected, non-drifting ones at the
        // top of the middle: walk down until one is already settled.
        let mut pos = hi;
        while pos > lo {
            pos -= 1;
            let p = &self.slots[slot as usize];
            if !p.selected[pos as usize] {
                break;
            }
            if p.drift_index[pos as usize] == NONE {
                changed += u64::from(self.set_selected(slot, pos, false));
            }
        }
        let len = self.slots[slot as usize].tier.len() as f64;
        let want = ((loc.sparsity * len).round() as u64)
            .saturating_sub(u64::from(loc.sinks) + u64::from(loc.recent))
            .min(u64::from(hi - lo));
        while (self.slots[slot as usize].drifting.len() as u64) < want {
            if !self.drift_add(slot) {
                break;
            }
            changed += 1;
        }
        changed
    }

    /// Replaces `drift` of the drifting set (stochastically rounded) with fresh positions.
    fn drift(&mut self, slot: u32) -> u64 {
        let Some(loc) = self.policy.sparse else { return 0 };
        let n = self.slots[slot as usize].drifting.len();
        let x = loc.drift * n as f64;
        let k = x.floor() as usize + usize::from(self.rng.random::<f64>() < x.fract());
        let mut changed = 0;
        for _ in 0..k {
            let d = &self.slots[slot as usize].drifting;
            if d.is_empty() {
                break;
            }
            let pos = d[self.rng.random_range(0..d.len())];
            if self.drift_add(slot) {
                self.drift_remove(slot, pos);
                self.set_selected(slot, pos, false);
                changed += 2;
            }
        }
        changed
    }

    /// Adds a uniformly drawn unselected middle position to the drifting set.
    fn drift_add(&mut self, slot: u32) -> bool {
        let (lo, hi) = self.middle(slot);
        if hi <= lo {
            return false;
        }
        // The set is at most `sparsity` of the middle, so a few draws find a free position.
        for _ in 0..32 {
            let pos = self.rng.random_range(lo..hi);
            if !self.slots[slot as usize].selected[pos as usize] {
                self.set_selected(slot, pos, true);
                let p = &mut self.slots[slot as usize];
                p.drift_index[pos as usize] = p.drifting.len() as u32;
                p.drifting.push(pos);
                return true;
            }
        }
        false
    }

    fn drift_remove(&mut self, slot: u32, pos: u32) {
        let p = &mut self.slots[slot as usize];
        let i = p.drift_index[pos as usize] as usize;
        p.drifting.swap_remove(i);
        if let Some(&moved) = p.drifting.get(i) {
            p.drift_index[moved as usize] = i as u32;
        }
        p.drift_index[pos as usize] = NONE;
    }

    /// The online scheduler's swaps this step, per tier boundary.
    fn schedule(&mut self) -> [u64; MAX_TIERS] {
        let mut swaps = [0; MAX_TIERS];
        let (Some(w), Some(_)) = (self.policy.target.clone(), self.policy.sparse) else { return swaps };
        let stored: u64 = self.used().iter().sum();
        let mut budget = ((self.policy.swap_budget * stored as f64).ceil() as u64).max(1);
        for k in (0..self.tiers.saturating_sub(1)).rev() {
            let imp = |m: &Self, t: usize| m.bags[t][1].0.len() as f64;
            let w_up: f64 = w[..=k].iter().sum();
            loop {
                let i_up: f64 = (0..=k).map(|t| imp(self, t)).sum();
                let i_next = imp(self, k + 1);
                if budget == 0 || i_up * w[k + 1] >= w_up * i_next {
                    break;
                }
                let (hot, cold) = (&self.bags[k + 1][1].0, &self.bags[k][0].0);
                if hot.is_empty() || cold.is_empty() {
                    break;
                }
                let up = hot[self.rng.random_range(0..hot.len())];
                let down = cold[self.rng.random_range(0..cold.len())];
                self.move_to(up, k + 1, k, true);
                self.move_to(down, k, k + 1, false);
                swaps[k] += 1;
                budget -= 1;
            }
        }
        swaps
    }

    fn move_to(&mut self, r: TokenRef, from: usize, to: usize, sel: bool) {
        self.bag_remove(from, sel, r);
        let p = &mut self.slots[r.slot as usize];
        p.tier[r.pos as usize] = to as u8;
        p.count[from] -= 1;
        p.count[to] += 1;
        if sel {
            p.attended[from] -= 1;
            p.attended[to] += 1;
        }
        self.bag_insert(to, sel, r);
    }

    /// Checks every count against the positions (tests; touches every position).
    pub fn check(&self) -> Result<(), String> {
        let mut used = [0u64; MAX_TIERS];
        let mut sel = vec![0u64; self.tiers];
        for (s, p) in self.slots.iter().enumerate() {
            let mut count = [0u64; MAX_TIERS];
            let mut att = [0u64; MAX_TIERS];
            for (pos, &t) in p.tier.iter().enumerate() {
                let t = t as usize;
                count[t] += 1;
                used[t] += 1;
                let on = p.selected[pos];
                if on {
                    att[t] += 1;
                    sel[t] += 1;
                }
                let bag = &self.bags[t][usize::from(on)].0;
                if bag.get(p.index[pos] as usize) != Some(&TokenRef { slot: s as u32, pos: pos as u32 }) {
                    return Err(format!("slot {s} position {pos}: not at its bag index"));
                }
                if (p.drift_index[pos] != NONE) != p.drifting.contains(&(pos as u32)) {
                    return Err(format!("slot {s} position {pos}: drifting index out of step"));
                }
            }
            if count != p.count || att != p.attended {
                return Err(format!(
                    "slot {s}: counts {:?}/{:?}, positions say {count:?}/{att:?}",
                    p.count, p.attended
                ));
            }
        }
        if used != self.used {
            return Err(format!("tier use {:?}, positions say {used:?}", self.used));
        }
        for t in 0..self.tiers {
            if used[t] > self.policy.capacity[t] {
                return Err(format!("tier {t} holds {} positions, capacity {}", used[t], self.policy.capacity[t]));
            }
            if sel[t] != self.bags[t][1].0.len() as u64 {
                return Err(format!("tier {t}: selected bag out of step"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::engine::Scheduled;

    fn step(index: u64, items: Vec<Scheduled>, preempted: Vec<u64>) -> Step {
        Step { index, at_ns: 0, items, preempted, blocks_used: 0, running: 0, waiting: 0 }
    }

    fn prefill(request: u64, tokens: u64) -> Scheduled {
        Scheduled { request, context: 0, tokens, samples: true, decode: false }
    }

    fn decode(request: u64, context: u64) -> Scheduled {
        Scheduled { request, context, tokens: 1, samples: true, decode: true }
    }

    fn policy(capacity: Vec<u64>, target: Option<Vec<f64>>) -> KvPolicy {
        KvPolicy { capacity, sparse: Some(Locality::default()), target, swap_budget: 0.01 }
    }

    #[test]
    fn fills_the_top_tier_first_and_frees_what_it_preempts() {
        let mut kv = KvManager::new(policy(vec![100, 1000], None), 1);
        let s = kv.apply(&step(0, vec![prefill(0, 80), prefill(1, 60)], vec![])).expect("fits");
        assert_eq!((s.written[0], s.written[1]), (100, 40));
        assert_eq!(kv.used(), [100, 40]);
        kv.check().expect("consistent");
        kv.apply(&step(1, vec![decode(0, 80)], vec![1])).expect("fits");
        assert_eq!(kv.used(), [81, 0]);
        kv.free(0);
        assert_eq!(kv.used(), [0, 0]);
        kv.check().expect("consistent");
        assert!(KvManager::new(policy(vec![10], None), 1).apply(&step(0, vec![prefill(0, 11)], vec![])).is_err());
    }

    #[test]
    fn sparse_selection_holds_its_share_and_drifts() {
        let mut kv = KvManager::new(policy(vec![100_000], None), 3);
        kv.apply(&step(0, vec![prefill(0, 4000)], vec![])).expect("fits");
        let mut ctx = 4000;
        let mut reselected = 0;
        for i in 1..=50 {
            let s = kv.apply(&step(i, vec![decode(0, ctx)], vec![])).expect("fits");
            ctx += 1;
            reselected += s.reselected;
            let att = s.attended[0][0];
            let want = (0.125 * ctx as f64).round() as u64;
            assert!(att.abs_diff(want) <= 1, "attended {att}, want {want}");
        }
        // 2% of ~460 drifting positions a step, two changes each, plus the window's one.
        assert!((500..=2500).contains(&reselected), "{reselected}");
        kv.check().expect("consistent");
    }

    #[test]
    fn the_scheduler_moves_selected_positions_up_and_keeps_occupancy() {
        let mut kv = KvManager::new(policy(vec![2000, 100_000], Some(vec![9.0, 1.0])), 5);
        kv.apply(&step(0, vec![prefill(0, 2000), prefill(1, 6000)], vec![])).expect("fits");
        let before = kv.used().to_vec();
        let mut moved = 0;
        let mut ctx = [2000, 6000];
        for i in 1..=200 {
            let s = kv.apply(&step(i, vec![decode(0, ctx[0]), decode(1, ctx[1])], vec![])).expect("fits");
            ctx = [ctx[0] + 1, ctx[1] + 1];
            moved += s.migrated();
        }
        kv.check().expect("consistent");
        let imp = kv.importance();
        assert!(moved > 0);
        // Tier 0 holds ~90% of the importance (9:1) while its occupancy stayed full.
        let share = imp[0] as f64 / (imp[0] + imp[1]) as f64;
        assert!((0.85..=0.95).contains(&share), "{imp:?}");
        assert_eq!(kv.used()[0], before[0]);
        // Without a target nothing moves.
        let mut still = KvManager::new(policy(vec![2000, 100_000], None), 5);
        still.apply(&step(0, vec![prefill(0, 2000), prefill(1, 6000)], vec![])).expect("fits");
        let s = still.apply(&step(1, vec![decode(0, 2000), decode(1, 6000)], vec![])).expect("fits");
        assert_eq!(s.migrated(), 0);
    }

    #[test]
    fn dense_attends_every_position() {
        let mut kv = KvManager::new(KvPolicy { sparse: None, ..policy(vec![50, 500], Some(vec![9.0, 1.0])) }, 1);
        kv.apply(&step(0, vec![prefill(7, 120)], vec![])).expect("fits");
        let s = kv.apply(&step(1, vec![decode(7, 120)], vec![])).expect("fits");
        assert_eq!((s.attended[0][0], s.attended[0][1], s.migrated()), (50, 71, 0));
        kv.check().expect("consistent");
    }
}
