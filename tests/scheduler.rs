//! The token-importance and scheduling layer (`pam::sched`, spec §7, §9): invariants of every
//! policy under random arrivals and drifting importance, termination of the scheduler on the
//! edge cases the spec lists (at 1, 2, 3 and 4 tiers), convergence of the importance split to
//! the target, the N-tier scheduler against the spec's three-tier loops, and the lazy EMA
//! against its eager definition.

use std::collections::HashSet;

use pam::sched::{
    ImportanceTable, LPim, Lru, Move, NoSchedule, Policy, Pool, SchedError, Scheduler, SchedulerConfig, ScoreSource,
    Swap, SyntheticDrift, Target, Tier, TokenId, EMA_DECAY, EMA_SCORE, MAX_TIERS,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The reference configuration's tiers.
const HBM: Tier = Tier(0);
const DDR: Tier = Tier(1);
const SSD: Tier = Tier(2);
/// A fourth tier, slowest.
const T3: Tier = Tier(3);

/// A pool fed by random arrivals and a drifting synthetic important set.
struct Run {
    pool: Pool,
    tokens: Vec<TokenId>,
    source: SyntheticDrift,
}

impl Run {
    fn new(capacity: &[usize], seed: u64, rate: f64) -> Self {
        Run { pool: Pool::new(capacity), tokens: Vec::new(), source: SyntheticDrift::new(seed, rate).unwrap() }
    }

    /// One decode step with `arrivals` new tokens; returns the step's report.
    fn step(&mut self, policy: &mut dyn Policy, arrivals: usize) -> pam::sched::StepReport {
        let first = self.tokens.len() as TokenId;
        let new: Vec<TokenId> = (first..first + arrivals as TokenId).collect();
        self.tokens.extend(&new);
        let scores = self.source.scores(&self.tokens).unwrap();
        self.pool.step(policy, &new, &scores).unwrap()
    }

    fn total_capacity(&self) -> usize {
        self.pool.tiers().map(|t| self.pool.capacity(t)).sum()
    }
}

fn occupancy(p: &Pool) -> Vec<usize> {
    p.tiers().map(|t| p.table().count(t)).collect()
}

fn sums(p: &Pool) -> Vec<f64> {
    p.tiers().map(|t| p.table().sum(t)).collect()
}

/// Every token stored once, in the tier the table says; no tier over capacity; tier sums equal
/// the sums of their tokens' importance.
fn check_placement(p: &Pool, tokens: &[TokenId]) {
    let t = p.table();
    let mut seen = HashSet::new();
    for tier in p.tiers() {
        assert!(t.count(tier) <= p.capacity(tier), "{tier} over capacity");
        let mut sum = 0.0;
        for token in t.tokens(tier) {
            assert!(seen.insert(token), "token {token} stored twice");
            assert_eq!(t.tier(token), Some(tier));
            sum += t.importance(token).unwrap();
        }
        assert!((t.sum(tier) - sum).abs() <= 1e-9 * (1.0 + sum), "{tier} sum {} vs {sum}", t.sum(tier));
    }
    assert_eq!(seen.len(), tokens.len(), "tokens lost");
    assert!(tokens.iter().all(|x| seen.contains(x)));
    assert_eq!(t.len(), tokens.len());
}

/// The moves of a PAM step are swaps: (promoted up, demoted down) pairs between adjacent
/// tiers, each moving the strictly more important token up.
fn check_swaps(p: &Pool, moves: &[Move]) {
    assert_eq!(moves.len() % 2, 0);
    for pair in moves.chunks(2) {
        let (up, down) = (pair[0], pair[1]);
        assert!(up.to < up.from && up.to.index() + 1 == up.from.index(), "{up:?} is one tier up");
        assert!(up.from.index() < p.tier_count(), "{up:?} is within the pool");
        assert_eq!((down.from, down.to), (up.to, up.from), "{down:?} is the other half of {up:?}");
        let (iu, id) = (p.table().importance(up.token).unwrap(), p.table().importance(down.token).unwrap());
        assert!(iu > id, "promoted {} ({iu}) is not more important than demoted {} ({id})", up.token, down.token);
    }
}

/// Random arrivals and drifting importance under every policy over pools of `capacity`'s
/// shape; PAM towards `target`. Returns PAM's swaps.
fn policies_keep_tokens_and_capacities(
    rng: &mut ChaCha8Rng,
    seed: u64,
    capacity: &[usize],
    rate: f64,
    config: SchedulerConfig,
) -> usize {
    let policies: Vec<Box<dyn Policy>> =
        vec![Box::new(Scheduler::new(config)), Box::new(NoSchedule), Box::new(LPim), Box::new(Lru::new())];
    let mut pam_swaps = 0;
    for mut policy in policies {
        let mut run = Run::new(capacity, seed, rate);
        let mut swaps = 0;
        for _ in 0..200 {
            let room = run.total_capacity() - run.tokens.len();
            let arrivals = rng.random_range(0..4).min(room);
            let before = occupancy(&run.pool);
            let report = run.step(policy.as_mut(), arrivals);
            check_placement(&run.pool, &run.tokens);
            assert_eq!(report.admitted.len(), arrivals);
            match policy.name() {
                "PAM" => {
                    let mut expect = before;
                    for &(_, tier) in &report.admitted {
                        expect[tier.index()] += 1;
                    }
                    assert_eq!(occupancy(&run.pool), expect, "swaps changed an occupancy");
                    check_swaps(&run.pool, &report.moves);
                    if let Some(cap) = config.max_swaps {
                        assert!(report.moves.len() <= 2 * cap);
                    }
                    swaps += report.moves.len() / 2;
                }
                "LRU" => {}
                _ => assert!(report.moves.is_empty(), "{} is static", policy.name()),
            }
        }
        if policy.name() == "PAM" {
            println!("seed {seed} capacity {capacity:?} rate {rate:.2} {config:?}: {swaps} swaps in 200 steps");
            pam_swaps = swaps;
        }
    }
    pam_swaps
}

#[test]
fn every_policy_keeps_tokens_and_capacities_and_pam_only_swaps_upward() {
    for seed in 0..6u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let capacity = [rng.random_range(0..40), rng.random_range(0..120), rng.random_range(150..400)];
        let rate = rng.random_range(0.0..0.4);
        let target = Target::new(rng.random_range(0.5..10.0), rng.random_range(0.5..5.0)).unwrap();
        let config =
            SchedulerConfig { target, max_swaps: [None, Some(3)][seed as usize % 2], grace: rng.random_range(0..6) };
        let swaps = policies_keep_tokens_and_capacities(&mut rng, seed, &capacity, rate, config);
        assert!(capacity[1] == 0 || swaps > 0, "the scheduler did something");
    }
}

#[test]
fn every_policy_keeps_tokens_and_capacities_at_one_two_and_four_tiers() {
    for n in [1, 2, 4] {
        for seed in 0..4u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(100 * n as u64 + seed);
            // Fast tiers small (some of capacity 0), the slowest large.
            let mut capacity: Vec<usize> = (0..n - 1).map(|i| rng.random_range(0..40 * (i + 1))).collect();
            capacity.push(rng.random_range(150..400));
            let rate = rng.random_range(0.0..0.4);
            let weights: Vec<f64> = (0..n).map(|i| rng.random_range(0.5..10.0) / (i + 1) as f64).collect();
            let config = SchedulerConfig {
                target: Target::from_weights(weights).unwrap(),
                max_swaps: [None, Some(3)][seed as usize % 2],
                grace: rng.random_range(0..6),
            };
            let swaps = policies_keep_tokens_and_capacities(&mut rng, seed, &capacity, rate, config);
            if n == 1 {
                assert_eq!(swaps, 0, "one tier: nothing to swap with");
            } else if capacity[n - 2] > 0 {
                assert!(swaps > 0, "{n} tiers {capacity:?}: the scheduler did something");
            }
        }
    }
}

/// A pool of tiers of `capacity` whose token i sits in `tokens[i].0` with importance
/// `EMA_SCORE * tokens[i].1`.
fn pool_with(capacity: &[usize], tokens: &[(Tier, f64)]) -> Pool {
    let mut p = Pool::new(capacity);
    for (i, &(tier, _)) in tokens.iter().enumerate() {
        p.insert(i as TokenId, tier).unwrap();
    }
    let scores: Vec<(TokenId, f64)> = tokens.iter().enumerate().map(|(i, &(_, s))| (i as TokenId, s)).collect();
    p.step(&mut NoSchedule, &[], &scores).unwrap();
    p
}

fn scheduler(x: f64, y: f64) -> Scheduler {
    Scheduler::new(SchedulerConfig { grace: 0, ..SchedulerConfig::new(Target::new(x, y).unwrap()) })
}

/// A scheduler towards `weights`, no grace window, unlimited swaps.
fn scheduler_w(weights: &[f64]) -> Scheduler {
    Scheduler::new(SchedulerConfig {
        grace: 0,
        ..SchedulerConfig::new(Target::from_weights(weights.to_vec()).unwrap())
    })
}

/// Weights strongly favouring the fast tiers: `2^(n-1) : ... : 2 : 1`.
fn halving(n: usize) -> Vec<f64> {
    (0..n).map(|i| (1u32 << (n - 1 - i)) as f64).collect()
}

fn tier_of(p: &Pool, token: TokenId) -> Tier {
    p.table().tier(token).unwrap()
}

/// Whether the scheduler's condition for the pair (k, k+1) holds: the tiers above the boundary
/// hold too little relative to tier k+1.
fn wants_up(p: &Pool, weights: &[f64], k: usize) -> bool {
    let s = sums(p);
    let above: f64 = s[..=k].iter().sum();
    let w_above: f64 = weights[..=k].iter().sum();
    above * weights[k + 1] < w_above * s[k + 1]
}

#[test]
fn edge_case_empty_tiers_terminate() {
    // Nothing at all.
    assert!(scheduler(4.0, 2.0).schedule(&mut Pool::new([4, 4, 4])).unwrap().is_empty());
    // DDR of capacity 0: the SSD's importance cannot pass through it (adjacent swaps only).
    let mut p = pool_with(&[2, 0, 4], &[(HBM, 0.0), (HBM, 0.0), (SSD, 1.0), (SSD, 1.0)]);
    assert!(scheduler(4.0, 2.0).schedule(&mut p).unwrap().is_empty());
    // Empty HBM: the first loop runs, the second has nothing to demote.
    let mut p = pool_with(&[2, 2, 4], &[(DDR, 0.0), (DDR, 0.0), (SSD, 1.0), (SSD, 0.5)]);
    let swaps = scheduler(4.0, 2.0).schedule(&mut p).unwrap();
    assert_eq!(swaps.len(), 2);
    assert!(swaps.iter().all(|s| (s.upper, s.lower) == (DDR, SSD)));
    assert_eq!((tier_of(&p, 2), tier_of(&p, 3)), (DDR, DDR));
    // Empty SSD: IS_SSD = 0; HBM and DDR still balance.
    let mut p = pool_with(&[1, 2, 4], &[(HBM, 0.1), (DDR, 1.0), (DDR, 0.0)]);
    let swaps = scheduler(4.0, 2.0).schedule(&mut p).unwrap();
    assert_eq!(swaps.len(), 1);
    assert_eq!((tier_of(&p, 0), tier_of(&p, 1)), (DDR, HBM));
}

#[test]
fn edge_case_empty_tiers_terminate_at_every_tier_count() {
    // An empty pool schedules nothing at any tier count.
    for n in 1..=MAX_TIERS {
        assert!(scheduler_w(&halving(n)).schedule(&mut Pool::new(vec![4; n])).unwrap().is_empty(), "{n} tiers");
    }
    // One tier: nothing to swap with, however the importance lies.
    let mut p = pool_with(&[4], &[(HBM, 0.0), (HBM, 1.0), (HBM, 0.3)]);
    assert!(scheduler_w(&[1.0]).schedule(&mut p).unwrap().is_empty());

    // Two tiers, the fast one empty: importance sits below but nothing can be demoted.
    let mut p = pool_with(&[2, 4], &[(DDR, 1.0), (DDR, 0.5)]);
    assert!(wants_up(&p, &[4.0, 1.0], 0), "the condition holds");
    assert!(scheduler_w(&[4.0, 1.0]).schedule(&mut p).unwrap().is_empty());
    // Two tiers, the slow one empty: I_1 = 0, the loop does not run.
    let mut p = pool_with(&[2, 4], &[(HBM, 0.0), (HBM, 0.0)]);
    assert!(scheduler_w(&[4.0, 1.0]).schedule(&mut p).unwrap().is_empty());
    // Two tiers, both holding tokens: the single loop k = 0 balances them.
    let mut p = pool_with(&[1, 4], &[(HBM, 0.0), (DDR, 1.0), (DDR, 0.5)]);
    let swaps = scheduler_w(&[4.0, 1.0]).schedule(&mut p).unwrap();
    assert_eq!(swaps.len(), 1);
    assert_eq!((swaps[0].promoted, swaps[0].demoted, swaps[0].upper, swaps[0].lower), (1, 0, HBM, DDR));

    // Three tiers with an empty middle tier: nothing passes between HBM and SSD.
    let mut p = pool_with(&[2, 3, 4], &[(HBM, 0.0), (HBM, 0.0), (SSD, 1.0), (SSD, 0.5)]);
    assert!(wants_up(&p, &[4.0, 2.0, 1.0], 1));
    assert!(scheduler(4.0, 2.0).schedule(&mut p).unwrap().is_empty());
    assert_eq!(occupancy(&p), [2, 0, 2]);

    // Four tiers, tier 1 empty: only the bottom pair swaps, the top tier keeps its tokens.
    let tokens = [(HBM, 0.0), (HBM, 0.0), (SSD, 0.0), (SSD, 0.0), (T3, 1.0), (T3, 0.5), (T3, 0.0)];
    let mut p = pool_with(&[2, 2, 2, 4], &tokens);
    let swaps = scheduler_w(&halving(4)).schedule(&mut p).unwrap();
    assert_eq!(swaps.len(), 2);
    assert!(swaps.iter().all(|s| (s.upper, s.lower) == (SSD, T3)), "{swaps:?}");
    assert_eq!((tier_of(&p, 4), tier_of(&p, 5)), (SSD, SSD));
    assert_eq!((tier_of(&p, 0), tier_of(&p, 1)), (HBM, HBM));
    assert_eq!(occupancy(&p), [2, 0, 2, 3]);
    // Four tiers, tier 2 empty: the important tokens of tier 3 are stuck below it, and
    // the zero-importance tiers above never churn.
    let tokens = [(HBM, 0.0), (DDR, 0.0), (DDR, 0.0), (T3, 1.0), (T3, 0.5)];
    let mut p = pool_with(&[2, 2, 2, 4], &tokens);
    assert!(wants_up(&p, &halving(4), 2));
    assert!(scheduler_w(&halving(4)).schedule(&mut p).unwrap().is_empty());
    // Four tiers, the slowest empty: the pairs above still balance, bottom pair first.
    let tokens = [(HBM, 0.0), (DDR, 0.0), (SSD, 1.0), (SSD, 0.9)];
    let mut p = pool_with(&[1, 1, 2, 4], &tokens);
    let swaps = scheduler_w(&halving(4)).schedule(&mut p).unwrap();
    let pairs: Vec<(Tier, Tier)> = swaps.iter().map(|s| (s.upper, s.lower)).collect();
    assert_eq!(pairs, [(DDR, SSD), (HBM, DDR)]);
    // Token 3 cannot follow into DDR (of one token) past token 2, which is more important.
    assert_eq!((tier_of(&p, 2), tier_of(&p, 3)), (HBM, SSD), "the most important token ends on top");
    assert_eq!(occupancy(&p), [1, 1, 2, 0]);
}

#[test]
fn edge_case_zero_importance_in_the_ssd_terminates() {
    // IS_SSD = 0 (SSD tokens never scored): x_now and y_now would be infinite; the first loop
    // does not run, the second compares HBM with DDR.
    let mut p = pool_with(&[1, 1, 3], &[(HBM, 0.2), (DDR, 0.9), (SSD, 0.0), (SSD, 0.0), (SSD, 0.0)]);
    let swaps = scheduler(4.0, 2.0).schedule(&mut p).unwrap();
    assert_eq!(swaps.len(), 1);
    assert_eq!((swaps[0].upper, swaps[0].lower), (HBM, DDR));
    // Every importance zero: nothing to gain anywhere.
    let mut p = pool_with(&[2, 2, 2], &[(HBM, 0.0), (DDR, 0.0), (SSD, 0.0), (SSD, 0.0)]);
    assert!(scheduler(4.0, 2.0).schedule(&mut p).unwrap().is_empty());
}

#[test]
fn edge_case_all_zero_scores_terminate_at_every_tier_count() {
    for n in 1..=4 {
        let tokens: Vec<(Tier, f64)> = (0..n).flat_map(|t| [(Tier::new(t), 0.0); 3]).collect();
        let mut p = pool_with(&vec![3; n], &tokens);
        assert_eq!(p.table().split(), None);
        assert!(scheduler_w(&halving(n)).schedule(&mut p).unwrap().is_empty(), "{n} tiers");
        // The same pool with the bottom tier's importance does move (the test can fail).
        if n > 1 {
            let mut tokens = tokens;
            tokens.last_mut().unwrap().1 = 1.0;
            let mut p = pool_with(&vec![3; n], &tokens);
            assert_eq!(scheduler_w(&halving(n)).schedule(&mut p).unwrap().len(), n - 1, "{n} tiers");
            assert_eq!(tier_of(&p, tokens.len() as TokenId - 1), HBM, "bubbled up one tier per loop");
        }
    }
}

#[test]
fn edge_case_ties_and_non_improving_swaps_terminate() {
    // All equal: the SSD holds too much (1 + 1 < 6 * 2) but no swap moves a more important
    // token up.
    let mut p = pool_with(&[1, 1, 2], &[(HBM, 0.5), (DDR, 0.5), (SSD, 0.5), (SSD, 0.5)]);
    assert!(scheduler(4.0, 2.0).schedule(&mut p).unwrap().is_empty());
    // The SSD holds too much in total, but each SSD token is less important than DDR's least.
    let ssd = [(SSD, 0.4); 6];
    let mut tokens = vec![(HBM, 2.0), (DDR, 0.5), (DDR, 0.5)];
    tokens.extend(ssd);
    let mut p = pool_with(&[1, 2, 6], &tokens);
    let sums = sums(&p);
    assert!(sums[0] + sums[1] < 6.0 * sums[2], "the first loop's condition holds");
    assert!(scheduler(4.0, 2.0).schedule(&mut p).unwrap().is_empty());
}

#[test]
fn edge_case_ties_terminate_at_every_tier_count() {
    for n in 1..=4 {
        // Every token equally important, more of them in the slower tiers: every pair's
        // condition holds, no swap improves.
        let tokens: Vec<(Tier, f64)> = (0..n).flat_map(|t| vec![(Tier::new(t), 0.5); t + 1]).collect();
        let mut p = pool_with(&vec![n; n], &tokens);
        let weights = halving(n);
        for k in 0..n - 1 {
            assert!(wants_up(&p, &weights, k), "{n} tiers: pair {k} wants to move importance up");
        }
        let before = occupancy(&p);
        assert!(scheduler_w(&weights).schedule(&mut p).unwrap().is_empty(), "{n} tiers");
        assert_eq!(occupancy(&p), before);
    }
}

#[test]
fn edge_case_every_upper_token_pinned_terminates_at_every_tier_count() {
    for n in 1..=4 {
        // Zero-importance tokens above, the importance in the slowest tier.
        let mut tokens: Vec<(Tier, f64)> = (0..n - 1).flat_map(|t| [(Tier::new(t), 0.0); 2]).collect();
        tokens.extend([(Tier::new(n - 1), 1.0), (Tier::new(n - 1), 0.8)]);
        let mut p = pool_with(&vec![2; n], &tokens);
        let upper = 2 * (n - 1);
        for t in 0..upper {
            p.set_pinned(t as TokenId, true).unwrap();
        }
        // The slowest tier's tokens are pinned too: pinned tokens may still move up, but with
        // every upper token pinned nothing can make room for them.
        for t in upper..tokens.len() {
            p.set_pinned(t as TokenId, true).unwrap();
        }
        let mut pam = scheduler_w(&halving(n));
        assert!(pam.schedule(&mut p).unwrap().is_empty(), "{n} tiers");
        // Released, the upper tokens make room: the pinned important tokens move up.
        if n > 1 {
            for t in 0..upper {
                p.set_pinned(t as TokenId, false).unwrap();
            }
            let swaps = pam.schedule(&mut p).unwrap();
            assert!(!swaps.is_empty(), "{n} tiers");
            assert!(swaps.iter().all(|s| (s.demoted as usize) < upper), "a pinned token was demoted: {swaps:?}");
            assert_eq!(tier_of(&p, upper as TokenId), HBM, "{n} tiers");
        }
    }
}

#[test]
fn edge_case_already_at_target_moves_nothing() {
    // Split 5 : 2 : 1 against 4 : 2 : 1: both conditions false, although an SSD token is more
    // important than a DDR one.
    let mut p = pool_with(&[2, 2, 2], &[(HBM, 5.0), (HBM, 0.0), (DDR, 1.8), (DDR, 0.2), (SSD, 0.6), (SSD, 0.4)]);
    assert!(scheduler(4.0, 2.0).schedule(&mut p).unwrap().is_empty());
    // The same at four tiers: 5 : 2 : 1 : 0.5 against 4 : 2 : 1 : 0.5.
    let tokens = [(HBM, 5.0), (HBM, 0.0), (DDR, 1.8), (DDR, 0.2), (SSD, 0.6), (SSD, 0.4), (T3, 0.3), (T3, 0.2)];
    let mut p = pool_with(&[2, 2, 2, 2], &tokens);
    assert!(scheduler_w(&[4.0, 2.0, 1.0, 0.5]).schedule(&mut p).unwrap().is_empty());
    // With a target asking less of DDR relative to HBM (and the lower boundaries still
    // satisfied), only DDR's most important token moves up.
    let swaps = scheduler_w(&[4.0, 1.5, 1.0, 0.5]).schedule(&mut p).unwrap();
    assert_eq!(swaps.iter().map(|s| (s.promoted, s.demoted)).collect::<Vec<_>>(), [(2, 1)]);
}

#[test]
fn grace_window_and_swap_cap_hold_tokens_back() {
    // Two HBM tokens arrive pinned for 3 steps; DDR then holds all the importance.
    let mut p = Pool::new([2, 4, 4]);
    let mut pam = Scheduler::new(SchedulerConfig { grace: 3, ..SchedulerConfig::new(Target::new(4.0, 2.0).unwrap()) });
    let scores = [(2, 0.5), (3, 0.5)];
    let r = p.step(&mut pam, &[0, 1, 2, 3], &scores).unwrap();
    assert_eq!(r.admitted.iter().map(|a| a.1).collect::<Vec<_>>(), [HBM, HBM, DDR, DDR]);
    assert!(r.moves.is_empty(), "step 1: the HBM arrivals are pinned");
    assert!((0..4).all(|t| p.table().is_pinned(t) == Some(true)));
    assert!(p.step(&mut pam, &[], &scores).unwrap().moves.is_empty(), "step 2: still pinned");
    assert!(p.step(&mut pam, &[], &scores).unwrap().moves.is_empty(), "step 3: still pinned");
    let r = p.step(&mut pam, &[], &scores).unwrap();
    assert_eq!(r.moves.len(), 4, "step 4: grace over, both DDR tokens swap up");
    assert!((0..4).all(|t| p.table().is_pinned(t) == Some(false)));
    assert_eq!((tier_of(&p, 2), tier_of(&p, 3)), (HBM, HBM));

    // A cap of one swap per step spreads the same migration over two steps.
    let tokens = [(HBM, 0.0), (HBM, 0.0), (DDR, 1.0), (DDR, 1.0)];
    let mut p = pool_with(&[2, 2, 2], &tokens);
    let mut capped = Scheduler::new(SchedulerConfig { max_swaps: Some(1), ..*scheduler(4.0, 2.0).config() });
    assert_eq!(capped.schedule(&mut p).unwrap().len(), 1);
    assert_eq!(capped.schedule(&mut p).unwrap().len(), 1);
    assert!(capped.schedule(&mut p).unwrap().is_empty());
}

#[test]
fn max_swaps_caps_every_call_at_every_tier_count() {
    for n in 1..=4 {
        // Zero tokens above, important ones in the slowest tier: every pair has work.
        let mut tokens: Vec<(Tier, f64)> = (0..n - 1).flat_map(|t| [(Tier::new(t), 0.0); 3]).collect();
        tokens.extend([1.0, 0.9, 0.8].map(|s| (Tier::new(n - 1), s)));
        let base = pool_with(&vec![3; n], &tokens);
        // Ten times the weight per tier up: the important tokens climb as far as they can.
        let weights: Vec<f64> = (0..n).map(|i| 10f64.powi((n - 1 - i) as i32)).collect();
        let unlimited = scheduler_w(&weights).schedule(&mut base.clone()).unwrap();
        if n > 1 {
            assert!(unlimited.len() > 2, "{n} tiers: {} swaps unlimited", unlimited.len());
        }
        let zero = Scheduler::new(SchedulerConfig { max_swaps: Some(0), ..*scheduler_w(&weights).config() });
        assert!(zero.clone().schedule(&mut base.clone()).unwrap().is_empty(), "a budget of 0 swaps nothing");
        for cap in [1, 2] {
            let mut p = base.clone();
            let mut capped = Scheduler::new(SchedulerConfig { max_swaps: Some(cap), ..*zero.config() });
            let first = capped.schedule(&mut p).unwrap();
            // The budget stops the same sequence early.
            assert_eq!(first, unlimited[..cap.min(unlimited.len())], "{n} tiers, cap {cap}");
            let mut calls = 1;
            let mut total = first.len();
            loop {
                let swaps = capped.schedule(&mut p).unwrap();
                assert!(swaps.len() <= cap);
                if swaps.is_empty() {
                    break;
                }
                total += swaps.len();
                calls += 1;
                assert!(calls < 100, "{n} tiers, cap {cap}: the capped scheduler does not settle");
            }
            assert_eq!(total > 0, n > 1, "{n} tiers, cap {cap}: {total} swaps");
            assert_eq!(occupancy(&p), occupancy(&base));
        }
    }
}

/// A random pool of `n` tiers: random capacities and fill, random scores over a few steps
/// (some zero, some tied), some tokens pinned.
fn random_pool(rng: &mut ChaCha8Rng, n: usize) -> Pool {
    let capacity: Vec<usize> = (0..n).map(|_| rng.random_range(0..12)).collect();
    let mut p = Pool::new(capacity.clone());
    let mut id = 0;
    for (t, &cap) in capacity.iter().enumerate() {
        for _ in 0..rng.random_range(0..=cap) {
            p.insert(id, Tier::new(t)).unwrap();
            id += 1;
        }
    }
    for _ in 0..rng.random_range(1..4) {
        let scores: Vec<(TokenId, f64)> = (0..id)
            .filter_map(|t| match rng.random_range(0..4) {
                0 => None,
                1 => Some((t, 0.25)),
                _ => Some((t, rng.random_range(0.0..1.0))),
            })
            .collect();
        p.step(&mut NoSchedule, &[], &scores).unwrap();
    }
    for t in 0..id {
        if rng.random_range(0..5) == 0 {
            p.set_pinned(t, true).unwrap();
        }
    }
    p
}

fn random_weights(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| if rng.random_range(0..4) == 0 { rng.random_range(1e-3..1e3) } else { rng.random_range(0.1..10.0) })
        .collect()
}

#[test]
fn random_pools_keep_occupancy_swap_upward_and_terminate() {
    let mut total = Vec::new();
    for n in 1..=4 {
        let mut made = 0;
        for seed in 0..300u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed * 10 + n as u64);
            let mut p = random_pool(&mut rng, n);
            let weights = random_weights(&mut rng, n);
            let max_swaps = [None, Some(rng.random_range(0..6))][rng.random_range(0..2)];
            let mut pam = Scheduler::new(SchedulerConfig { max_swaps, ..*scheduler_w(&weights).config() });
            let before = p.clone();
            let prefix = |p: &Pool| {
                let s = sums(p);
                (0..n).map(|k| s[..=k].iter().sum::<f64>()).collect::<Vec<f64>>()
            };
            let swaps = pam.schedule(&mut p).unwrap();
            made += swaps.len();
            // Termination: each loop at most min of its two tiers' tokens; the budget.
            let occ = occupancy(&before);
            let bound: usize = (0..n.saturating_sub(1)).map(|k| occ[k].min(occ[k + 1])).sum();
            assert!(swaps.len() <= bound, "seed {seed}, {n} tiers: {} swaps > {bound}", swaps.len());
            assert!(swaps.len() <= max_swaps.unwrap_or(usize::MAX));
            // Occupancy kept.
            assert_eq!(occupancy(&p), occ, "seed {seed}, {n} tiers");
            check_placement(&p, &(0..before.table().len() as TokenId).collect::<Vec<_>>());
            // Loops run bottom pair first; each swap is between adjacent tiers, moves a strictly
            // more important token up and never demotes a pinned one.
            let mut last_upper = n;
            for s in &swaps {
                assert_eq!(s.upper.index() + 1, s.lower.index());
                assert!(s.lower.index() < n);
                assert!(s.upper.index() <= last_upper, "seed {seed}: loops out of order: {swaps:?}");
                last_upper = s.upper.index();
                let (iu, id) = (p.table().importance(s.promoted).unwrap(), p.table().importance(s.demoted).unwrap());
                assert!(iu > id, "seed {seed}, {n} tiers: {s:?} promotes {iu} over {id}");
                assert_eq!(before.table().is_pinned(s.demoted), Some(false), "seed {seed}: pinned {s:?}");
            }
            // Importance only moves up: no boundary's share above it shrinks.
            for (a, b) in prefix(&before).iter().zip(prefix(&p)) {
                assert!(b >= a - 1e-12 * (1.0 + a), "seed {seed}, {n} tiers: {a} -> {b}");
            }
            // The last loop (tiers 0 and 1) stopped for a reason: its condition is false or
            // no improving swap is left (or the budget ran out).
            if n > 1 && swaps.len() < max_swaps.unwrap_or(usize::MAX) && wants_up(&p, &weights, 0) {
                let t = p.table();
                if let (Some((_, down)), Some((_, up))) = (t.least_unpinned(HBM), t.most(DDR)) {
                    assert!(up <= down, "seed {seed}, {n} tiers: an improving swap was left");
                }
            }
        }
        total.push(made);
    }
    println!("swaps over 300 random pools by tier count 1..=4: {total:?}");
    assert_eq!(total[0], 0);
    assert!(total[1..].iter().all(|&s| s > 0), "the random pools exercise the scheduler: {total:?}");
}

/// The spec's two loops for three tiers, as the scheduler ran them before it was generalised
/// to N tiers.
fn spec_three_tier(pool: &mut Pool, x: f64, y: f64, budget: usize) -> Vec<Swap> {
    fn improving(pool: &mut Pool, upper: Tier, lower: Tier) -> Option<Swap> {
        let t = pool.table();
        let (Some((demoted, down)), Some((promoted, up))) = (t.least_unpinned(upper), t.most(lower)) else {
            return None;
        };
        if up <= down {
            return None;
        }
        pool.swap(promoted, demoted).unwrap();
        Some(Swap { promoted, demoted, upper, lower })
    }
    let sums = |p: &Pool| [HBM, DDR, SSD].map(|t| p.table().sum(t));
    let mut swaps = Vec::new();
    while swaps.len() < budget && {
        let [h, d, s] = sums(pool);
        h + d < (x + y) * s
    } {
        let Some(swap) = improving(pool, DDR, SSD) else { break };
        swaps.push(swap);
    }
    while swaps.len() < budget && {
        let [h, d, _] = sums(pool);
        y * h < x * d
    } {
        let Some(swap) = improving(pool, HBM, DDR) else { break };
        swaps.push(swap);
    }
    swaps
}

/// The spec's loops as a policy (spec §7 admission, no grace window).
struct SpecPam {
    x: f64,
    y: f64,
}

impl Policy for SpecPam {
    fn name(&self) -> &'static str {
        "spec"
    }

    fn migrate(&mut self, pool: &mut Pool, _: &[TokenId]) -> Result<Vec<Move>, SchedError> {
        Ok(spec_three_tier(pool, self.x, self.y, usize::MAX).iter().flat_map(Swap::moves).collect())
    }
}

#[test]
fn three_tiers_decide_exactly_as_the_spec_loops() {
    // Random pools, one schedule each.
    for seed in 0..400u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let p = random_pool(&mut rng, 3);
        let (x, y) = (rng.random_range(0.1..20.0), rng.random_range(0.1..10.0));
        let budget = [usize::MAX, rng.random_range(0..5)][rng.random_range(0..2)];
        let mut pam = Scheduler::new(SchedulerConfig { max_swaps: Some(budget), ..*scheduler(x, y).config() });
        let (mut a, mut b) = (p.clone(), p);
        assert_eq!(pam.schedule(&mut a).unwrap(), spec_three_tier(&mut b, x, y, budget), "seed {seed}");
        assert_eq!(sums(&a), sums(&b));
    }
    // Whole drifting runs, step for step.
    for (seed, capacity, x, y) in
        [(3, [40, 100, 600], 6.0, 3.0), (4, [10, 0, 300], 4.0, 2.0), (5, [64, 64, 64], 1.5, 0.7)]
    {
        let mut pam = scheduler(x, y);
        let mut spec = SpecPam { x, y };
        let (mut a, mut b) = (Run::new(&capacity, seed, 0.1), Run::new(&capacity, seed, 0.1));
        let mut moved = 0;
        for step in 0..150 {
            let room = capacity.iter().sum::<usize>() - a.tokens.len();
            let arrivals = if step == 0 { room / 2 } else { room.min(1) };
            let (ra, rb) = (a.step(&mut pam, arrivals), b.step(&mut spec, arrivals));
            assert_eq!(ra, rb, "seed {seed} step {step}");
            assert_eq!(sums(&a.pool), sums(&b.pool), "seed {seed} step {step}");
            moved += ra.moves.len();
        }
        assert!(capacity[1] == 0 || moved > 0, "seed {seed}: the runs compared swaps");
    }
}

#[test]
fn target_weights_are_checked() {
    let t = Target::new(4.0, 2.0).unwrap();
    assert_eq!(t.weights(), [4.0, 2.0, 1.0]);
    assert_eq!(t, Target::from_weights(vec![4.0, 2.0, 1.0]).unwrap());
    let shares = t.shares();
    assert_eq!(shares, [4.0 / 7.0, 2.0 / 7.0, 1.0 / 7.0]);
    for n in 1..=MAX_TIERS {
        let t = Target::from_weights(halving(n)).unwrap();
        assert_eq!(t.weights(), halving(n));
        assert_eq!(t.shares().len(), n);
        assert!((t.shares().iter().sum::<f64>() - 1.0).abs() < 1e-15);
    }
    let bad = |w: Vec<f64>| matches!(Target::from_weights(w), Err(SchedError::Config(_)));
    assert!(bad(vec![]), "no weights");
    assert!(bad(vec![1.0; MAX_TIERS + 1]), "more weights than tiers");
    assert!(bad(vec![1.0, 0.0, 1.0]), "a zero weight");
    assert!(bad(vec![1.0, -1.0]), "a negative weight");
    assert!(bad(vec![f64::NAN, 1.0]), "NaN");
    assert!(bad(vec![1.0, f64::INFINITY]), "infinite");
    assert!(bad(vec![-0.0]), "negative zero");
    for (x, y) in [(0.0, 1.0), (1.0, -2.0), (f64::NAN, 1.0), (1.0, f64::INFINITY)] {
        assert!(matches!(Target::new(x, y), Err(SchedError::Config(_))), "{x} : {y} : 1");
    }
}

#[test]
fn a_target_for_another_tier_count_is_rejected() {
    for n in 1..=4 {
        for m in 1..=4 {
            let tokens: Vec<(Tier, f64)> = (0..n).map(|t| (Tier::new(t), (n - t) as f64)).collect();
            let mut p = pool_with(&vec![2; n], &tokens);
            let before = p.clone();
            let r = scheduler_w(&halving(m)).schedule(&mut p);
            if m == n {
                assert!(r.is_ok(), "{n} tiers, {m} weights");
            } else {
                assert!(matches!(r, Err(SchedError::Config(_))), "{n} tiers, {m} weights: {r:?}");
                assert_eq!(occupancy(&p), occupancy(&before));
                assert_eq!(sums(&p), sums(&before));
            }
        }
    }
    // Through a decode step too.
    let mut p = Pool::new([2, 2]);
    let mut pam = Scheduler::new(SchedulerConfig::new(Target::new(4.0, 2.0).unwrap()));
    assert!(matches!(p.step(&mut pam, &[0], &[]), Err(SchedError::Config(_))));
}

#[test]
fn lazy_ema_equals_the_eager_definition() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut lazy = ImportanceTable::new(3);
    let (mut eager, mut tier): (Vec<f64>, Vec<Tier>) = (Vec::new(), Vec::new());
    let mut worst = 0.0f64;
    for _ in 0..400 {
        lazy.advance();
        for v in &mut eager {
            *v *= EMA_DECAY;
        }
        for _ in 0..rng.random_range(0..3) {
            let t = Tier::new(rng.random_range(0..3));
            lazy.insert(eager.len() as TokenId, t).unwrap();
            eager.push(0.0);
            tier.push(t);
        }
        // A sparse step: a few tokens scored, some twice; a few tokens move.
        for _ in 0..eager.len() / 8 {
            let (i, s) = (rng.random_range(0..eager.len()), rng.random_range(0.0..1.0));
            lazy.score(i as TokenId, s).unwrap();
            eager[i] += EMA_SCORE * s;
        }
        for _ in 0..eager.len().min(2) {
            let (i, t) = (rng.random_range(0..eager.len()), Tier::new(rng.random_range(0..3)));
            lazy.move_to(i as TokenId, t).unwrap();
            tier[i] = t;
        }
        for (i, &e) in eager.iter().enumerate() {
            let l = lazy.importance(i as TokenId).unwrap();
            let rel = if e == 0.0 { l } else { (l - e).abs() / e };
            worst = worst.max(rel);
            assert!(rel <= 1e-12, "token {i}: lazy {l} eager {e}");
        }
        for t in lazy.tiers() {
            let e: f64 = eager.iter().zip(&tier).filter(|(_, &x)| x == t).map(|(v, _)| v).sum();
            assert!((lazy.sum(t) - e).abs() <= 1e-12 * (1.0 + e), "{t} sum {} vs {e}", lazy.sum(t));
        }
    }
    println!("lazy vs eager EMA over 400 steps, {} tokens: worst relative difference {worst:.2e}", eager.len());
}

/// Largest distance of the importance split from the target's shares (1 when nothing is
/// important yet).
fn split_error(p: &Pool, target: Target) -> f64 {
    let Some(split) = p.table().split() else { return 1.0 };
    assert_eq!(split.len(), target.shares().len());
    split.iter().zip(target.shares()).map(|(s, t)| (s - t).abs()).fold(0.0, f64::max)
}

/// Runs `policies` on the same drifting workload; returns per policy (mean error of steps
/// 1-10, mean and max error of the last 100 steps, tokens moved per step per token).
fn converge(policies: &mut [Box<dyn Policy>], capacity: &[usize], target: Target) -> Vec<(f64, f64, f64, f64)> {
    let (steps, start) = (300, 2000);
    let mut finals = Vec::new();
    for policy in policies {
        let mut run = Run::new(capacity, 42, 0.05);
        let mut errors = Vec::new();
        let mut moved = 0;
        for step in 0..steps {
            let report = run.step(policy.as_mut(), if step == 0 { start } else { 2 });
            moved += report.moves.len();
            errors.push(split_error(&run.pool, target));
        }
        let mean = |r: std::ops::Range<usize>| errors[r.clone()].iter().sum::<f64>() / r.len() as f64;
        let (early, late) = (mean(0..10), mean(steps - 100..steps));
        let max_late = errors[steps - 100..].iter().copied().fold(0.0, f64::max);
        let per_step = moved as f64 / steps as f64 / run.tokens.len() as f64;
        let trace: Vec<String> =
            [1, 2, 5, 10, 20, 50, 100, 200, 300].map(|s| format!("{s}:{:.4}", errors[s - 1])).into();
        println!(
            "{:12} split error by step {}; steps 1-10 mean {early:.4}, last 100 mean {late:.4} max {max_late:.4}; \
             tokens moved per step {:.3}% of {}; final split {:?}",
            policy.name(),
            trace.join(" "),
            100.0 * per_step,
            run.tokens.len(),
            run.pool.table().split().unwrap().iter().map(|s| (s * 1000.0).round() / 1000.0).collect::<Vec<_>>(),
        );
        finals.push((early, late, max_late, per_step));
    }
    finals
}

#[test]
fn pam_converges_to_the_target_split_and_no_schedule_does_not() {
    let target = Target::new(6.0, 3.0).unwrap();
    let mut policies: Vec<Box<dyn Policy>> =
        vec![Box::new(Scheduler::new(SchedulerConfig::new(target))), Box::new(NoSchedule), Box::new(Lru::new())];
    let finals = converge(&mut policies, &[512, 1024, 4096], target);
    let (early, late, max_late, per_step) = finals[0];
    assert!(late < early / 10.0, "PAM's error shrinks: {early:.4} -> {late:.4}");
    assert!(max_late < 0.02, "PAM ends within 0.02 of the target shares: {max_late:.4}");
    assert!(per_step < 0.02, "PAM moves under 2% of the tokens per step: {per_step:.4}");
    let (ns_early, ns_late, ..) = finals[1];
    assert!(ns_late > 0.3 && ns_late > early / 2.0, "no-schedule stays far off: {ns_early:.4} -> {ns_late:.4}");
}

#[test]
fn pam_converges_to_the_target_split_over_four_tiers() {
    let target = Target::from_weights(vec![8.0, 4.0, 2.0, 1.0]).unwrap();
    let mut policies: Vec<Box<dyn Policy>> =
        vec![Box::new(Scheduler::new(SchedulerConfig::new(target))), Box::new(NoSchedule)];
    let finals = converge(&mut policies, &[256, 512, 1024, 4096], target);
    let (early, late, max_late, per_step) = finals[0];
    assert!(late < early / 10.0, "PAM's error shrinks: {early:.4} -> {late:.4}");
    assert!(max_late < 0.02, "PAM ends within 0.02 of the target shares: {max_late:.4}");
    assert!(per_step < 0.02, "PAM moves under 2% of the tokens per step: {per_step:.4}");
    let (ns_early, ns_late, ..) = finals[1];
    assert!(ns_late > 0.2 && ns_late > early / 2.0, "no-schedule stays far off: {ns_early:.4} -> {ns_late:.4}");
}
