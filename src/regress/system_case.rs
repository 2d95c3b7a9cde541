//! The `system` suite: random decode runs over 1 to 4 tiers (Verilated presets in the order of
//! `presets/tiers.yaml`, fastest first) with random arrivals, drifting importance, random
//! capacities, merging tier and each policy, then invariant checks on what is stored.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Verdict;
use crate::device::tier::TierPreset;
use crate::error::SimError;
use crate::migration::MigrationPath;
use crate::sched::{LPim, Lru, NoSchedule, Policy, Scheduler, SchedulerConfig, Target};
use crate::system::decode::{DecodeConfig, ModelShape, PamSystem};
use crate::system::pamattention::TierConfig;
use crate::system::scores::ScoreKind;

const POLICIES: [&str; 4] = ["pam", "none", "lpim", "lru"];

/// Most tiers a case draws.
const MAX_CASE_TIERS: usize = 4;

/// The policy and the number of tiers a case seed runs.
pub fn shape_of(seed: u64) -> (&'static str, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5157);
    let policy = POLICIES[rng.random_range(0..POLICIES.len())];
    (policy, rng.random_range(1..=MAX_CASE_TIERS.min(tier_kinds().len())))
}

/// The Verilated presets grouped by the tier they stand for (their reference), in the file's
/// order: a tier may have several Verilated geometries (the full-size model's check uses a
/// second one), but two geometries of one tier are no hierarchy, and two DDR tiers would
/// need a migration interface between 8-byte beats, which is not built.
fn tier_kinds() -> Vec<Vec<&'static TierPreset>> {
    let mut kinds: Vec<Vec<&'static TierPreset>> = Vec::new();
    for p in TierPreset::verilated() {
        match kinds.iter_mut().find(|k| k[0].reference == p.reference) {
            Some(k) => k.push(p),
            None => kinds.push(vec![p]),
        }
    }
    kinds
}

pub fn run(seed: u64, inject_fault: bool) -> Result<Verdict, SimError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let kv_heads = rng.random_range(1..=2);
    let model = ModelShape {
        layers: rng.random_range(1..=2),
        q_heads: kv_heads * rng.random_range(1..=2),
        kv_heads,
        head_dim: [16, 40, 64][rng.random_range(0..3)],
    };
    let contexts: Vec<usize> = (0..rng.random_range(1..=3)).map(|_| rng.random_range(1..=40)).collect();
    let steps = rng.random_range(2..=6);
    let total = (contexts.iter().sum::<usize>() + steps * contexts.len()) * model.layers * model.kv_heads;
    let (name, n) = shape_of(seed);
    // The tiers: n of the tiers, in the file's order (fastest first), each one of its
    // Verilated geometries.
    let kinds = tier_kinds();
    let mut chosen = rand::seq::index::sample(&mut rng, kinds.len(), n).into_vec();
    chosen.sort_unstable();
    let verilated: Vec<&TierPreset> = chosen.iter().map(|&k| kinds[k][rng.random_range(0..kinds[k].len())]).collect();
    let tiers: Vec<TierConfig> = chosen
        .iter()
        .enumerate()
        .map(|(i, _)| TierConfig {
            preset: verilated[i].clone(),
            // Now and then two devices in a tier.
            devices: 1 + rng.random_bool(0.2) as usize,
            // Edge cases on purpose: upper tiers of zero tokens, tiers that fill up; the last
            // tier holds everything.
            capacity: if i + 1 == n { total } else { [0, 1, 2, total / 8, total / 3][rng.random_range(0..5)] },
            // Calibrating costs dozens of RTL runs: the calibrated model has its own tests.
            model: crate::device::attention::DeviceModel::Rtl,
        })
        .collect();
    let merge_tier = rng.random_range(0..n);
    let cfg = DecodeConfig {
        model,
        contexts,
        steps,
        scores: [ScoreKind::Synthetic, ScoreKind::Exact, ScoreKind::Label][rng.random_range(0..3)],
        drift: rng.random_range(0.0..0.3),
        fraction: [1.0, 0.5, 0.125][rng.random_range(0..3)],
        tiers,
        merge_tier,
        // Both paths; the interface moves whole 32-byte beats.
        migration: if model.head_dim.is_multiple_of(16) && rng.random_bool(0.7) {
            MigrationPath::Interface
        } else {
            MigrationPath::Host
        },
        seed,
    };
    let policy: Box<dyn Policy> = match name {
        "pam" => {
            // Weights falling from the fastest tier to the slowest, the last 1.
            let mut w: Vec<f64> = (0..n).map(|_| rng.random_range(1.0..4.0)).collect();
            for i in (0..n.saturating_sub(1)).rev() {
                w[i] *= w[i + 1];
            }
            w[n - 1] = 1.0;
            let t = Target::from_weights(w).map_err(|e| SimError::Input(e.to_string()))?;
            Box::new(Scheduler::new(SchedulerConfig::new(t)))
        }
        "none" => Box::new(NoSchedule),
        "lpim" => Box::new(LPim),
        _ => Box::new(Lru::new()),
    };
    let label = format!(
        "{name} {model:?} contexts {:?} steps {steps} tiers {:?} merging in {merge_tier}",
        cfg.contexts,
        cfg.tiers.iter().map(|t| (t.preset.name(), t.devices, t.capacity)).collect::<Vec<_>>()
    );
    let mut sys = PamSystem::new(cfg, policy)?;
    let out = sys.run()?;
    let mut problems = out.mismatches.clone();
    if let Err(e) = sys.verify_storage() {
        problems.push(e);
    }
    // The scheduler only swaps: past admission, no tier's occupancy changes.
    if name == "pam" {
        for (i, w) in out.steps.windows(2).enumerate() {
            if (0..n).any(|t| w[1].tokens[t] != w[0].tokens[t] + w[1].admitted[t]) {
                problems.push(format!(
                    "step {}: occupancy {:?} -> {:?} with {:?} admitted: a swap changed a tier's occupancy",
                    i + 1,
                    w[0].tokens,
                    w[1].tokens,
                    w[1].admitted
                ));
            }
        }
    }
    if sys.stored() != total {
        problems.push(format!("{} tokens stored, {total} expected", sys.stored()));
    }
    if inject_fault {
        problems.push("injected fault".into());
    }
    let moved: usize = out.steps.iter().map(|s| s.tokens_migrated).sum();
    Ok(Verdict {
        problems,
        rel_err: Some(out.max_rel_err_f64),
        properties: vec![
            ("label".into(), label),
            ("queries".into(), out.queries.to_string()),
            ("tokens_migrated".into(), moved.to_string()),
        ],
    })
}
