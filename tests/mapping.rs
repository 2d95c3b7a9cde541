//! The least-activated-bank-group rule (spec §6) against round robin on a skewed workload.
//!
//! Workload: one token arrives per decode step; every step attends a sparse set of tokens. Use
//! is skewed: the most recent tokens, and "structural" tokens (every 4th position, like the
//! separators of a fixed-width format) that keep being attended long after they arrived, plus
//! a random sprinkle of the rest. With 4 bank groups, round robin puts every structural token
//! in the same group; the rule sees that group's activations and sends new tokens elsewhere.

use pam::kv::location::PhysLoc;
use pam::kv::placement::{DramPlacer, DramShape, GroupPolicy};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const GROUPS: usize = 4;
const STEPS: usize = 3000;
const PERIOD: usize = 4;
const RECENT: usize = 16;

/// Activations per bank group over the whole run.
fn run(policy: GroupPolicy, seed: u64) -> Vec<u64> {
    let shape =
        DramShape { bank_groups: GROUPS, banks_per_group: 4, banks_per_pu: 2, rows: 512, cols: 32, token_beats: 16 };
    let mut placer = DramPlacer::new(shape, policy, 0, 0).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut locs: Vec<PhysLoc> = Vec::new();
    let mut total = vec![0u64; GROUPS];
    for _ in 0..STEPS {
        locs.push(placer.place().unwrap());
        let n = locs.len();
        for (pos, loc) in locs.iter().enumerate() {
            let used = pos + RECENT >= n || (pos % PERIOD == 0 && rng.random_bool(0.5)) || rng.random_bool(0.01);
            if used {
                let g = loc.bank_group as usize;
                placer.window().record(g, 1);
                total[g] += 1;
            }
        }
        placer.window().end_step();
    }
    total
}

/// Busiest group's activations relative to the mean (1.0 = perfectly balanced).
fn imbalance(total: &[u64]) -> f64 {
    let mean = total.iter().sum::<u64>() as f64 / total.len() as f64;
    *total.iter().max().unwrap() as f64 / mean
}

#[test]
fn least_activated_groups_balance_a_skewed_workload_round_robin_does_not() {
    for seed in [1, 2, 3] {
        let rule = run(GroupPolicy::LeastActivated, seed);
        let rr = run(GroupPolicy::RoundRobin, seed);
        let (ri, rri) = (imbalance(&rule), imbalance(&rr));
        println!("seed {seed}: least-activated busiest/mean {ri:.3} {rule:?}; round robin {rri:.3} {rr:?}");
        assert!(ri <= 1.10, "the rule keeps the busiest group within 10% of the mean: {ri:.3}");
        assert!(rri > ri + 0.2, "round robin is measurably worse: {rri:.3} vs {ri:.3}");
    }
}
