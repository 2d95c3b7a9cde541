//! The least-activated-bank-group rule (spec §6) against round robin on a skewed workload
//! (`pam::kv::workload`); `pam bench mapping` prints the same figures.

use pam::kv::placement::{DramShape, GroupPolicy};
use pam::kv::workload::{imbalance, SkewedWorkload};

#[test]
fn least_activated_groups_balance_a_skewed_workload_round_robin_does_not() {
    let shape = DramShape { bank_groups: 4, banks_per_group: 4, banks_per_pu: 2, rows: 512, cols: 32, token_beats: 16 };
    let w = SkewedWorkload::default();
    for seed in [1, 2, 3] {
        let rule = w.run(shape, GroupPolicy::LeastActivated, seed).unwrap();
        let rr = w.run(shape, GroupPolicy::RoundRobin, seed).unwrap();
        let (ri, rri) = (imbalance(&rule), imbalance(&rr));
        println!("seed {seed}: least-activated busiest/mean {ri:.3} {rule:?}; round robin {rri:.3} {rr:?}");
        assert!(ri <= 1.10, "the rule keeps the busiest group within 10% of the mean: {ri:.3}");
        assert!(rri > ri + 0.2, "round robin is measurably worse: {rri:.3} vs {ri:.3}");
    }
}
