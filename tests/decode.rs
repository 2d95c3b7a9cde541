//! Decode steps over the three-tier hierarchy with every tier's RTL in the loop.

use pam::sched::{NoSchedule, Scheduler, SchedulerConfig, Target};
use pam::system::decode::{DecodeConfig, ModelShape, PamSystem};

fn config(steps: usize) -> DecodeConfig {
    DecodeConfig {
        model: ModelShape { layers: 1, q_heads: 2, kv_heads: 1, head_dim: 64 },
        contexts: vec![48, 32],
        steps,
        drift: 0.1,
        fraction: 0.25,
        // Small HBM and DDR so that every tier holds tokens.
        capacity: [24, 24, 400],
        seed: 9,
    }
}

#[test]
fn decode_steps_match_the_golden_chain_and_keep_every_token() {
    let sched = Scheduler::new(SchedulerConfig::new(Target::new(6.0, 3.0).unwrap()));
    let mut sys = PamSystem::new(config(8), Box::new(sched)).unwrap();
    let out = sys.run().unwrap();
    assert!(out.mismatches.is_empty(), "{:?}", &out.mismatches[..out.mismatches.len().min(3)]);
    assert_eq!(out.steps.len(), 8);
    assert!(out.queries > 0);
    let moved: usize = out.steps.iter().map(|s| s.tokens_migrated).sum();
    let last = out.steps.last().unwrap();
    println!(
        "tokens per tier {:?}, migrated {moved}, max rel err {:.2e}, splits {:?}",
        last.tokens,
        out.max_rel_err_f64,
        out.splits.last()
    );
    // 80 prompt tokens + 8 steps x 2 requests, none lost or duplicated, capacities kept.
    assert_eq!(last.tokens.iter().sum::<usize>(), 80 + 16);
    assert!(last.tokens[0] <= 24 && last.tokens[1] <= 24);
    assert!(last.tokens.iter().all(|&n| n > 0), "every tier holds tokens: {:?}", last.tokens);
    assert!(moved > 0, "the scheduler moved tokens");
}

#[test]
fn without_scheduling_nothing_moves() {
    let mut sys = PamSystem::new(config(4), Box::new(NoSchedule)).unwrap();
    let out = sys.run().unwrap();
    assert!(out.mismatches.is_empty(), "{:?}", out.mismatches);
    assert_eq!(out.steps.iter().map(|s| s.tokens_migrated).sum::<usize>(), 0);
}
