//! Decode steps over the three-tier hierarchy with every tier's RTL in the loop.

use pam::migration::MigrationPath;
use pam::sched::{NoSchedule, Scheduler, SchedulerConfig, Target};
use pam::system::decode::{DecodeConfig, ModelShape, PamSystem};
use pam::system::pamattention::TierConfig;
use pam::system::scores::ScoreKind;

fn config(steps: usize) -> DecodeConfig {
    DecodeConfig {
        model: ModelShape { layers: 1, q_heads: 2, kv_heads: 1, head_dim: 64 },
        contexts: vec![48, 32],
        steps,
        scores: ScoreKind::Synthetic,
        drift: 0.1,
        fraction: 0.25,
        // Small HBM and DDR so that every tier holds tokens.
        tiers: TierConfig::scaled(&["hbm-s", "ddr-s", "ssd-s"], &[24, 24, 400]).unwrap(),
        merge_tier: 0,
        migration: MigrationPath::Interface,
        seed: 9,
    }
}

fn with_devices(mut cfg: DecodeConfig, devices: [usize; 3]) -> DecodeConfig {
    for (t, d) in cfg.tiers.iter_mut().zip(devices) {
        t.devices = d;
    }
    cfg
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
fn tiers_of_several_devices_spread_tokens_and_keep_every_byte() {
    let sched = Scheduler::new(SchedulerConfig::new(Target::new(6.0, 3.0).unwrap()));
    let mut sys = PamSystem::new(with_devices(config(4), [2, 2, 3]), Box::new(sched)).unwrap();
    let out = sys.run().unwrap();
    assert!(out.mismatches.is_empty(), "{:?}", out.mismatches);
    sys.verify_storage().unwrap();
    let per = sys.stored_per_device();
    println!("tokens per device {per:?}");
    assert_eq!(per.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 3]);
    for (t, devs) in per.iter().enumerate() {
        assert_eq!(devs.iter().sum::<usize>(), out.steps.last().unwrap().tokens[t]);
        assert!(devs.iter().all(|&n| n > 0), "tier {t}: every device holds tokens: {devs:?}");
    }
}

#[test]
fn without_scheduling_nothing_moves() {
    let mut sys = PamSystem::new(config(4), Box::new(NoSchedule)).unwrap();
    let out = sys.run().unwrap();
    assert!(out.mismatches.is_empty(), "{:?}", out.mismatches);
    assert_eq!(out.steps.iter().map(|s| s.tokens_migrated).sum::<usize>(), 0);
}

/// The same run with migrations through the RTL interface and through the host-CPU path:
/// the same tokens move and every byte arrives (outputs match the golden chain, storage
/// matches the host's copy); only the time differs, the interface's being the shorter.
#[test]
fn migrations_through_the_rtl_interface_keep_every_byte_and_beat_the_host_path() {
    let run = |path| {
        let sched = Scheduler::new(SchedulerConfig::new(Target::new(6.0, 3.0).unwrap()));
        let mut sys = PamSystem::new(DecodeConfig { migration: path, ..config(5) }, Box::new(sched)).unwrap();
        let out = sys.run().unwrap();
        sys.verify_storage().unwrap();
        out
    };
    let (rtl, host) = (run(MigrationPath::Interface), run(MigrationPath::Host));
    assert!(rtl.mismatches.is_empty() && host.mismatches.is_empty(), "{:?} {:?}", rtl.mismatches, host.mismatches);
    assert_eq!(rtl.splits, host.splits);
    let moved = |o: &pam::system::decode::DecodeOutcome| o.steps.iter().map(|s| s.tokens_migrated).collect::<Vec<_>>();
    assert_eq!(moved(&rtl), moved(&host));
    assert!(moved(&rtl).iter().sum::<usize>() > 0);
    let ns = |o: &pam::system::decode::DecodeOutcome| o.steps.iter().map(|s| s.migration_ns).sum::<f64>();
    println!("migration: interface {:.1} us, host path {:.1} us", ns(&rtl) / 1e3, ns(&host) / 1e3);
    assert!(ns(&rtl) > 0.0 && ns(&rtl) < ns(&host), "interface {} ns, host {} ns", ns(&rtl), ns(&host));
}

/// Scores from the golden model (exact q.k) and from label channels drive the same loop;
/// with slowly drifting queries, consecutive steps attend alike, so the scheduler moves fewer
/// tokens than when every step's queries are new (context locality, spec §7).
#[test]
fn exact_and_label_scores_drive_the_scheduler_and_show_context_locality() {
    let run = |scores, drift| {
        let sched = Scheduler::new(SchedulerConfig::new(Target::new(6.0, 3.0).unwrap()));
        let cfg = DecodeConfig { scores, drift, fraction: 0.125, ..config(6) };
        let mut sys = PamSystem::new(cfg, Box::new(sched)).unwrap();
        let out = sys.run().unwrap();
        sys.verify_storage().unwrap();
        assert!(out.mismatches.is_empty(), "{:?}", out.mismatches);
        // Past the first step, which rebalances the prompts.
        out.steps[2..].iter().map(|s| s.tokens_migrated).sum::<usize>()
    };
    for kind in [ScoreKind::Exact, ScoreKind::Label] {
        let (slow, fresh) = (run(kind, 0.02), run(kind, 1.0));
        println!("{kind:?}: tokens migrated in steps 3..6 with slow queries {slow}, with new queries {fresh}");
        assert!(slow < fresh, "{kind:?}: {slow} moved with drifting queries, {fresh} with new ones");
    }
}
