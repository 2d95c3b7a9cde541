//! The token-importance and scheduling layer (`pam::sched`, spec §7, §9): invariants of every
//! policy under random arrivals and drifting importance, termination of the scheduler on the
//! edge cases the spec lists, convergence of the importance split to the target, and the lazy
//! EMA against its eager definition.

use std::collections::HashSet;

use pam::sched::{
    ImportanceTable, LPim, Lru, Move, NoSchedule, Policy, Pool, Scheduler, SchedulerConfig, ScoreSource,
    SyntheticDrift, Target, Tier, TokenId, EMA_DECAY, EMA_SCORE,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A pool fed by random arrivals and a drifting synthetic important set.
struct Run {
    pool: Pool,
    tokens: Vec<TokenId>,
    source: SyntheticDrift,
}

impl Run {
    fn new(capacity: [usize; 3], seed: u64, rate: f64) -> Self {
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
        Tier::ALL.iter().map(|&t| self.pool.capacity(t)).sum()
    }
}

fn occupancy(p: &Pool) -> [usize; 3] {
    Tier::ALL.map(|t| p.table().count(t))
}

/// Every token stored once, in the tier the table says; no tier over capacity; tier sums equal
/// the sums of their tokens' importance.
fn check_placement(p: &Pool, tokens: &[TokenId]) {
    let t = p.table();
    let mut seen = HashSet::new();
    for tier in Tier::ALL {
        assert!(t.count(tier) <= p.capacity(tier), "{tier:?} over capacity");
        let mut sum = 0.0;
        for token in t.tokens(tier) {
            assert!(seen.insert(token), "token {token} stored twice");
            assert_eq!(t.tier(token), Some(tier));
            sum += t.importance(token).unwrap();
        }
        assert!((t.sum(tier) - sum).abs() <= 1e-9 * (1.0 + sum), "{tier:?} sum {} vs {sum}", t.sum(tier));
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
        assert!(up.to < up.from && up.to.below() == Some(up.from), "{up:?} is one tier up");
        assert_eq!((down.from, down.to), (up.to, up.from), "{down:?} is the other half of {up:?}");
        let (iu, id) = (p.table().importance(up.token).unwrap(), p.table().importance(down.token).unwrap());
        assert!(iu > id, "promoted {} ({iu}) is not more important than demoted {} ({id})", up.token, down.token);
    }
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
        let policies: Vec<Box<dyn Policy>> =
            vec![Box::new(Scheduler::new(config)), Box::new(NoSchedule), Box::new(LPim), Box::new(Lru::new())];
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
                assert!(capacity[1] == 0 || swaps > 0, "the scheduler did something");
            }
        }
    }
}

/// A pool whose token i sits in `tiers[i].0` with importance `EMA_SCORE * tiers[i].1`.
fn pool_with(capacity: [usize; 3], tokens: &[(Tier, f64)]) -> Pool {
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

fn tier_of(p: &Pool, token: TokenId) -> Tier {
    p.table().tier(token).unwrap()
}

#[test]
fn edge_case_empty_tiers_terminate() {
    use Tier::*;
    // Nothing at all.
    assert!(scheduler(4.0, 2.0).schedule(&mut Pool::new([4, 4, 4])).unwrap().is_empty());
    // DDR of capacity 0: the SSD's importance cannot pass through it (adjacent swaps only).
    let mut p = pool_with([2, 0, 4], &[(Hbm, 0.0), (Hbm, 0.0), (Ssd, 1.0), (Ssd, 1.0)]);
    assert!(scheduler(4.0, 2.0).schedule(&mut p).unwrap().is_empty());
    // Empty HBM: the first loop runs, the second has nothing to demote.
    let mut p = pool_with([2, 2, 4], &[(Ddr, 0.0), (Ddr, 0.0), (Ssd, 1.0), (Ssd, 0.5)]);
    let swaps = scheduler(4.0, 2.0).schedule(&mut p).unwrap();
    assert_eq!(swaps.len(), 2);
    assert!(swaps.iter().all(|s| (s.upper, s.lower) == (Ddr, Ssd)));
    assert_eq!((tier_of(&p, 2), tier_of(&p, 3)), (Ddr, Ddr));
    // Empty SSD: IS_SSD = 0; HBM and DDR still balance.
    let mut p = pool_with([1, 2, 4], &[(Hbm, 0.1), (Ddr, 1.0), (Ddr, 0.0)]);
    let swaps = scheduler(4.0, 2.0).schedule(&mut p).unwrap();
    assert_eq!(swaps.len(), 1);
    assert_eq!((tier_of(&p, 0), tier_of(&p, 1)), (Ddr, Hbm));
}

#[test]
fn edge_case_zero_importance_in_the_ssd_terminates() {
    use Tier::*;
    // IS_SSD = 0 (SSD tokens never scored): x_now and y_now would be infinite; the first loop
    // does not run, the second compares HBM with DDR.
    let mut p = pool_with([1, 1, 3], &[(Hbm, 0.2), (Ddr, 0.9), (Ssd, 0.0), (Ssd, 0.0), (Ssd, 0.0)]);
    let swaps = scheduler(4.0, 2.0).schedule(&mut p).unwrap();
    assert_eq!(swaps.len(), 1);
    assert_eq!((swaps[0].upper, swaps[0].lower), (Hbm, Ddr));
    // Every importance zero: nothing to gain anywhere.
    let mut p = pool_with([2, 2, 2], &[(Hbm, 0.0), (Ddr, 0.0), (Ssd, 0.0), (Ssd, 0.0)]);
    assert!(scheduler(4.0, 2.0).schedule(&mut p).unwrap().is_empty());
}

#[test]
fn edge_case_ties_and_non_improving_swaps_terminate() {
    use Tier::*;
    // All equal: the SSD holds too much (1 + 1 < 6 * 2) but no swap moves a more important
    // token up.
    let mut p = pool_with([1, 1, 2], &[(Hbm, 0.5), (Ddr, 0.5), (Ssd, 0.5), (Ssd, 0.5)]);
    assert!(scheduler(4.0, 2.0).schedule(&mut p).unwrap().is_empty());
    // The SSD holds too much in total, but each SSD token is less important than DDR's least.
    let ssd = [(Ssd, 0.4); 6];
    let mut tokens = vec![(Hbm, 2.0), (Ddr, 0.5), (Ddr, 0.5)];
    tokens.extend(ssd);
    let mut p = pool_with([1, 2, 6], &tokens);
    let sums = Tier::ALL.map(|t| p.table().sum(t));
    assert!(sums[0] + sums[1] < 6.0 * sums[2], "the first loop's condition holds");
    assert!(scheduler(4.0, 2.0).schedule(&mut p).unwrap().is_empty());
}

#[test]
fn edge_case_already_at_target_moves_nothing() {
    use Tier::*;
    // Split 5 : 2 : 1 against 4 : 2 : 1: both conditions false, although an SSD token is more
    // important than a DDR one.
    let mut p = pool_with([2, 2, 2], &[(Hbm, 5.0), (Hbm, 0.0), (Ddr, 1.8), (Ddr, 0.2), (Ssd, 0.6), (Ssd, 0.4)]);
    assert!(scheduler(4.0, 2.0).schedule(&mut p).unwrap().is_empty());
}

#[test]
fn grace_window_and_swap_cap_hold_tokens_back() {
    use Tier::*;
    // Two HBM tokens arrive pinned for 3 steps; DDR then holds all the importance.
    let mut p = Pool::new([2, 4, 4]);
    let mut pam = Scheduler::new(SchedulerConfig { grace: 3, ..SchedulerConfig::new(Target::new(4.0, 2.0).unwrap()) });
    let scores = [(2, 0.5), (3, 0.5)];
    let r = p.step(&mut pam, &[0, 1, 2, 3], &scores).unwrap();
    assert_eq!(r.admitted.iter().map(|a| a.1).collect::<Vec<_>>(), [Hbm, Hbm, Ddr, Ddr]);
    assert!(r.moves.is_empty(), "step 1: the HBM arrivals are pinned");
    assert!((0..4).all(|t| p.table().is_pinned(t) == Some(true)));
    assert!(p.step(&mut pam, &[], &scores).unwrap().moves.is_empty(), "step 2: still pinned");
    assert!(p.step(&mut pam, &[], &scores).unwrap().moves.is_empty(), "step 3: still pinned");
    let r = p.step(&mut pam, &[], &scores).unwrap();
    assert_eq!(r.moves.len(), 4, "step 4: grace over, both DDR tokens swap up");
    assert!((0..4).all(|t| p.table().is_pinned(t) == Some(false)));
    assert_eq!((tier_of(&p, 2), tier_of(&p, 3)), (Hbm, Hbm));

    // A cap of one swap per step spreads the same migration over two steps.
    let tokens = [(Hbm, 0.0), (Hbm, 0.0), (Ddr, 1.0), (Ddr, 1.0)];
    let mut p = pool_with([2, 2, 2], &tokens);
    let mut capped = Scheduler::new(SchedulerConfig { max_swaps: Some(1), ..*scheduler(4.0, 2.0).config() });
    assert_eq!(capped.schedule(&mut p).unwrap().len(), 1);
    assert_eq!(capped.schedule(&mut p).unwrap().len(), 1);
    assert!(capped.schedule(&mut p).unwrap().is_empty());
}

#[test]
fn lazy_ema_equals_the_eager_definition() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut lazy = ImportanceTable::new();
    let (mut eager, mut tier): (Vec<f64>, Vec<Tier>) = (Vec::new(), Vec::new());
    let mut worst = 0.0f64;
    for _ in 0..400 {
        lazy.advance();
        for v in &mut eager {
            *v *= EMA_DECAY;
        }
        for _ in 0..rng.random_range(0..3) {
            let t = Tier::ALL[rng.random_range(0..3)];
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
            let (i, t) = (rng.random_range(0..eager.len()), Tier::ALL[rng.random_range(0..3)]);
            lazy.move_to(i as TokenId, t).unwrap();
            tier[i] = t;
        }
        for (i, &e) in eager.iter().enumerate() {
            let l = lazy.importance(i as TokenId).unwrap();
            let rel = if e == 0.0 { l } else { (l - e).abs() / e };
            worst = worst.max(rel);
            assert!(rel <= 1e-12, "token {i}: lazy {l} eager {e}");
        }
        for t in Tier::ALL {
            let e: f64 = eager.iter().zip(&tier).filter(|(_, &x)| x == t).map(|(v, _)| v).sum();
            assert!((lazy.sum(t) - e).abs() <= 1e-12 * (1.0 + e), "{t:?} sum {} vs {e}", lazy.sum(t));
        }
    }
    println!("lazy vs eager EMA over 400 steps, {} tokens: worst relative difference {worst:.2e}", eager.len());
}

/// Largest distance of the importance split from the target's shares (1 when nothing is
/// important yet).
fn split_error(p: &Pool, target: Target) -> f64 {
    let Some(split) = p.table().split() else { return 1.0 };
    split.iter().zip(target.shares()).map(|(s, t)| (s - t).abs()).fold(0.0, f64::max)
}

#[test]
fn pam_converges_to_the_target_split_and_no_schedule_does_not() {
    let target = Target::new(6.0, 3.0).unwrap();
    let (steps, start) = (300, 2000);
    let capacity = [512, 1024, 4096];
    let mut policies: Vec<Box<dyn Policy>> =
        vec![Box::new(Scheduler::new(SchedulerConfig::new(target))), Box::new(NoSchedule), Box::new(Lru::new())];
    let mut finals = Vec::new();
    for policy in &mut policies {
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
            run.pool.table().split().unwrap().map(|s| (s * 1000.0).round() / 1000.0),
        );
        finals.push((early, late, max_late, per_step));
    }
    let (early, late, max_late, per_step) = finals[0];
    assert!(late < early / 10.0, "PAM's error shrinks: {early:.4} -> {late:.4}");
    assert!(max_late < 0.02, "PAM ends within 0.02 of the target shares: {max_late:.4}");
    assert!(per_step < 0.02, "PAM moves under 2% of the tokens per step: {per_step:.4}");
    let (ns_early, ns_late, ..) = finals[1];
    assert!(ns_late > 0.3 && ns_late > early / 2.0, "no-schedule stays far off: {ns_early:.4} -> {ns_late:.4}");
}
